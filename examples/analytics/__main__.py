"""``python -m examples.analytics``: the demo analytics store (SQLite).

Environment: ANALYTICS_DB_PATH (default .privops/stores/analytics.sqlite3), ANALYTICS_LEDGER
(default .privops/stores/analytics-ledger.sqlite3), plus the SDK's PRIVOPS_KAFKA_BOOTSTRAP_SERVERS,
PRIVOPS_DSAR_URL, the store's client credentials (PRIVOPS_IDENTITY_URL, PRIVOPS_CLIENT_ID,
PRIVOPS_CLIENT_SECRET; PRIVOPS_JWT_SECRET in development), PRIVOPS_TENANTS (default demo), PRIVOPS_TOPIC_PREFIX and
PRIVOPS_SUBJECT_HASH_KEY (the services' *_SUBJECT_HASH_KEY: without it, sweeps naming held subjects are refused).
"""

from __future__ import annotations

import asyncio
import os

from examples.analytics.store import REGISTRATION, SYSTEM, AnalyticsStore
from examples.common import configure_logging, serve
from sdk import WorkerConfig


async def main() -> None:
    """Open the file, seed it, register, answer tasks until stopped."""
    ledger = os.environ.get("ANALYTICS_LEDGER", ".privops/stores/analytics-ledger.sqlite3")
    config = WorkerConfig.from_env(SYSTEM, ledger_path=ledger)
    store = AnalyticsStore(os.environ.get("ANALYTICS_DB_PATH", ".privops/stores/analytics.sqlite3"), config.subject_key)
    store.seed()
    try:
        await serve(store, config, REGISTRATION)
    finally:
        store.close()


if __name__ == "__main__":
    configure_logging()
    asyncio.run(main())
