"""``python -m examples.crm``: the demo CRM store.

Environment: CRM_DATABASE_URL (postgresql://user@host:port/crm; the database is created if missing) or,
when unset, PRIVOPS_POSTGRES_URL (any database URL of the cluster; the CRM uses the database ``crm``),
CRM_LEDGER (default .privops/stores/crm.sqlite3), plus the SDK's PRIVOPS_KAFKA_BOOTSTRAP_SERVERS,
PRIVOPS_DSAR_URL, the store's client credentials (PRIVOPS_IDENTITY_URL, PRIVOPS_CLIENT_ID,
PRIVOPS_CLIENT_SECRET; PRIVOPS_JWT_SECRET in development), PRIVOPS_TENANTS (default demo), PRIVOPS_TOPIC_PREFIX and
PRIVOPS_SUBJECT_HASH_KEY (the services' *_SUBJECT_HASH_KEY: without it, sweeps naming held subjects are refused).
"""

from __future__ import annotations

import asyncio
import os

from examples.common import configure_logging, serve
from examples.crm.store import REGISTRATION, SYSTEM, CrmStore
from sdk import WorkerConfig


def crm_url_in(cluster_url: str) -> str | None:
    """The ``crm`` database in the cluster of ``cluster_url``."""
    if not cluster_url:
        return None
    base, _, _ = cluster_url.partition("?")[0].rpartition("/")
    return f"{base}/crm"


async def main() -> None:
    """Open the database, register, answer tasks until stopped."""
    url = os.environ.get("CRM_DATABASE_URL") or crm_url_in(os.environ.get("PRIVOPS_POSTGRES_URL", ""))
    if not url:
        raise SystemExit("crm: set CRM_DATABASE_URL (postgresql://postgres@127.0.0.1:5432/crm) or PRIVOPS_POSTGRES_URL")
    config = WorkerConfig.from_env(SYSTEM, ledger_path=os.environ.get("CRM_LEDGER", ".privops/stores/crm.sqlite3"))
    store = await CrmStore.open(url, subject_key=config.subject_key)
    try:
        await serve(store, config, REGISTRATION)
    finally:
        await store.close()


if __name__ == "__main__":
    configure_logging()
    asyncio.run(main())
