"""Session fixtures: one real PostgreSQL cluster and one real broker for the whole run."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.stack import SERVICES, Infra, unique_prefix


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    """Start embedded PostgreSQL and the Tansu broker on free loopback ports; stop both at the end."""
    from deploy.local.infra import start_broker, start_postgres
    from shared.migrations import upgrade

    root = Path(tempfile.mkdtemp(prefix="privops-test-", dir=os.environ.get("PRIVOPS_TEST_TMP", "/tmp")))
    postgres = start_postgres(root / "pgdata")
    broker = start_broker()
    try:
        infra = Infra(postgres, broker)
        for service in SERVICES:
            template = f"template_{service}"
            postgres.drop_database(template)
            postgres.create_databases([template])
            upgrade(service, postgres.url(template))
            infra.templates[service] = template
        yield infra
    finally:
        broker.stop()
        postgres.stop()


@pytest.fixture
def topic_prefix() -> str:
    """A topic prefix unique to the test."""
    return unique_prefix()
