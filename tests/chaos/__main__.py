"""``python -m tests.chaos``: the fault-injection run against the local stack (real processes).

Sizes come from the environment so that a quick run is one variable away:
CHAOS_CONSENTS (default 10000), CHAOS_ERASURES (1000), CHAOS_CONCURRENCY (16),
CHAOS_RESULTS_DIR (tests/chaos/results). The counts are a minimum: until the last fault the load
goes on with CHAOS_EXTRA_CONSENT_WORKERS (4) and CHAOS_EXTRA_ERASURE_WORKERS (1) workers, each
pausing CHAOS_EXTRA_CONSENT_PAUSE_S (0.2) or CHAOS_EXTRA_ERASURE_PAUSE_S (1.5) between two items.
Exit code 0 when every check passed.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.chaos.runner import ChaosConfig, run


def main() -> int:
    """Run once and print where the report is."""
    config = ChaosConfig(
        consents=int(os.environ.get("CHAOS_CONSENTS", "10000")),
        erasures=int(os.environ.get("CHAOS_ERASURES", "1000")),
        concurrency=int(os.environ.get("CHAOS_CONCURRENCY", "16")),
        extra_consent_workers=int(os.environ.get("CHAOS_EXTRA_CONSENT_WORKERS", "4")),
        extra_erasure_workers=int(os.environ.get("CHAOS_EXTRA_ERASURE_WORKERS", "1")),
        extra_consent_pause_s=float(os.environ.get("CHAOS_EXTRA_CONSENT_PAUSE_S", "0.2")),
        extra_erasure_pause_s=float(os.environ.get("CHAOS_EXTRA_ERASURE_PAUSE_S", "1.5")),
        results_dir=Path(os.environ.get("CHAOS_RESULTS_DIR", "tests/chaos/results")),
    )
    report = asyncio.run(run(config))
    print(
        f"chaos: {'PASSED' if report.ok else 'FAILED'} in {report.duration_s} s; "
        f"report: {config.results_dir / 'latest.md'}",
        flush=True,
    )
    if report.error:
        print(f"chaos: error: {report.error}", file=sys.stderr)
    for check in report.checks:
        if not check.ok:
            print(f"chaos: FAILED {check.name}: expected {check.expected}, got {check.actual}", file=sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
