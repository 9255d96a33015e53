"""What a scenario gets: where the services are, a token, wrk, the local stack, and earlier results."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bench.results import Metric, ScenarioResult, Target
from bench.stack import LocalStack, Proc
from bench.wrk import Wrk, WrkResult

# Keys of the baseline figures other scenarios compare with: (scenario, metric).
HTTP_RPS = ("baseline_http", "rps_c16")
HTTP_P50_C16 = ("baseline_http", "p50_c16")
HTTP_P99_C16 = ("baseline_http", "p99_c16")
HTTP_P99_C50 = ("baseline_http", "p99_c50")
HTTP_RSS_LOAD = ("baseline_http", "rss_load")
BROKER_PRODUCE = ("baseline_broker", "produce_rate")

BASELINE_LABELS = {
    HTTP_RPS: "bare FastAPI+asyncpg req/s (16 conns)",
    HTTP_P50_C16: "bare FastAPI+asyncpg p50 (16 conns)",
    HTTP_P99_C16: "bare FastAPI+asyncpg p99 (16 conns)",
    HTTP_P99_C50: "bare FastAPI+asyncpg p99 (50 conns)",
    HTTP_RSS_LOAD: "bare FastAPI+asyncpg RSS under load",
    BROKER_PRODUCE: "raw aiokafka produce msg/s (acks=all)",
}


@dataclass
class BenchContext:
    """Shared by every scenario of one run."""

    run_id: str
    out_dir: Path
    wrk: Wrk
    targets: dict[str, str]
    token: str
    tenant: str
    stack: LocalStack | None
    services: dict[str, Proc] = field(default_factory=dict)
    kafka_bootstrap: str | None = None
    topic_prefix: str = ""
    quick: bool = False
    full: bool = False
    results: dict[str, ScenarioResult] = field(default_factory=dict)
    idle_rss: dict[str, int] = field(default_factory=dict)
    idle_cores: float | None = None  # CPU use of the whole local stack at rest
    prepared: set[str] = field(default_factory=set)

    @property
    def local(self) -> bool:
        """True when the services are the ones this run started (PIDs known, database reachable)."""
        return bool(self.services)

    def size(self, default: int, *, full: int, quick: int | None = None) -> int:
        """A data size: ``full`` with ``--full``, ``quick`` (else ``default``) with ``--quick``, else ``default``."""
        if self.full:
            return full
        return quick if self.quick and quick is not None else default

    def seconds(self, full: float) -> float:
        """A load duration: ``full`` seconds, or a shorter one in ``--quick`` mode."""
        return max(2.0, round(full * 0.4)) if self.quick else full

    def url(self, service: str) -> str | None:
        """Base URL of ``service``, or None when this run has none for it."""
        return self.targets.get(service)

    def auth_headers(self, json_body: bool = False) -> dict[str, str]:
        """Authorization (and content type) headers for the services."""
        headers = {"Authorization": f"Bearer {self.token}"}
        if json_body:
            headers["Content-Type"] = "application/json"
        return headers

    def baseline(self, key: tuple[str, str]) -> float | None:
        """A baseline figure measured earlier in this run, or None if it failed or did not run."""
        result = self.results.get(key[0])
        return result.value(key[1]) if result and result.status == "ok" else None

    def compared(
        self,
        key: str,
        label: str,
        value: float | None,
        unit: str,
        baseline: tuple[str, str] | None,
        *,
        higher_is_better: bool = True,
        target: Target | None = None,
        headline: bool | None = None,
    ) -> Metric:
        """A metric carrying the baseline figure of this run it is compared with."""
        return Metric(
            key=key,
            label=label,
            value=value,
            unit=unit,
            baseline_label=BASELINE_LABELS.get(baseline) if baseline else None,
            baseline_value=self.baseline(baseline) if baseline else None,
            higher_is_better=higher_is_better,
            target=target,
            headline=headline,
        )


def record_latency(result: ScenarioResult, run: WrkResult) -> None:
    """Keep a wrk run's latency percentiles (ms) in the result, for the report and the plots."""
    keep = ("p50", "p75", "p90", "p99", "p99.9", "max")
    result.latency_ms[run.label] = {k: round(run.latency_ms[k], 3) for k in keep if k in run.latency_ms}
