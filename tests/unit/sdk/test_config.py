"""A store's consumer group: shared by the replicas of one system and tenant, never across tenants."""

from __future__ import annotations

from sdk import WorkerConfig


def config(tenants: tuple[str, ...], prefix: str = "") -> WorkerConfig:
    return WorkerConfig("crm", "localhost:9092", token="t", tenants=tenants, topic_prefix=prefix)


def test_processes_of_one_system_serving_different_tenants_read_in_different_groups() -> None:
    assert config(("demo",)).group_id != config(("acme",)).group_id


def test_replicas_of_one_tenant_share_their_group() -> None:
    assert config(("demo",), "x.").group_id == config(("demo",), "x.").group_id == "x.privops.store.crm.demo"
