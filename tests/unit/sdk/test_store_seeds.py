"""A demo store restarted after its tenant's purge does not seed its sample people again."""

from __future__ import annotations

from pathlib import Path

from examples.analytics.store import AnalyticsStore
from sdk import TenantScope


async def test_the_analytics_store_seeds_nothing_after_its_tenant_was_purged(tmp_path: Path) -> None:
    path = str(tmp_path / "analytics.sqlite3")
    store = AnalyticsStore(path)
    assert store.seed()
    await store.purge_tenant(TenantScope(tenant_id="ended", task_id="t-1", contract_end_id="c-1"))
    restarted = AnalyticsStore(path)  # the process killed after the purge and started again
    assert restarted.seed() == 0
    assert await restarted.query("SELECT * FROM profiles") == []
    assert await restarted.query("SELECT * FROM events") == []
