"""Audit tampering is detected for every service: a real write through the API, sealed, then edited, deleted
or reordered behind the append-only trigger's back (``session_replication_role = replica``, what a superuser
could do). ``shared.runtime.audit.verify`` reports each, and ``privops audit-verify <service>`` exits 1 on a tampered
chain and 0 on an intact one.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from shared.runtime import audit
from shared.runtime.db import Database
from tests.hardening.factories import FACTORIES
from tests.hardening.support import TENANT_A, service
from tests.support.stack import JWT_SECRET, KEY_ENCRYPTION_KEY, SERVICES, SIGNING_KEY, SUBJECT_KEY, Infra

pytestmark = pytest.mark.integration

TAMPERING = {
    "edited": ("UPDATE audit_log SET detail = '{\"forged\": true}' WHERE seq = 2", "seq 2: content does not match"),
    "deleted": ("DELETE FROM audit_log WHERE seq = 2", "rows with seq 2..2 are missing"),
    "reordered": (
        "UPDATE audit_log SET seq = -1 WHERE seq = 1; UPDATE audit_log SET seq = 1 WHERE seq = 2;"
        "UPDATE audit_log SET seq = 2 WHERE seq = -1",
        "link to the previous row is broken",
    ),
}


async def tamper(url: str, sql: str) -> None:
    """Change sealed rows with the trigger bypassed."""
    database = Database(url, pool_size=1)
    try:
        async with database.session() as session:
            await session.exec(text("SET LOCAL session_replication_role = replica"))  # type: ignore[call-overload]
            for statement in sql.split(";"):
                await session.exec(text(statement))  # type: ignore[call-overload]
    finally:
        await database.dispose()


async def verify(url: str) -> audit.VerifyReport:
    """``shared.runtime.audit.verify`` on the database at ``url``."""
    database = Database(url, pool_size=1)
    try:
        async with database.session() as session:
            return await audit.verify(session)
    finally:
        await database.dispose()


async def cli_verify(name: str, url: str, bootstrap: str) -> tuple[int, dict[str, object]]:
    """Run ``privops audit-verify <name>`` with the service's environment pointing at ``url``."""
    prefix = name.upper()
    env = os.environ | {
        f"{prefix}_DATABASE_URL": url,
        f"{prefix}_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        f"{prefix}_JWT_SECRET": JWT_SECRET,
        f"{prefix}_SUBJECT_HASH_KEY": SUBJECT_KEY,
        f"{prefix}_SIGNING_KEY": SIGNING_KEY,
        f"{prefix}_KEY_ENCRYPTION_KEY": KEY_ENCRYPTION_KEY,
        f"{prefix}_ENVIRONMENT": "test",
    }
    cli = Path(sys.executable).with_name("privops")
    process = await asyncio.create_subprocess_exec(
        str(cli), "audit-verify", name, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    try:
        return process.returncode, json.loads(out)
    except ValueError:
        raise AssertionError(
            f"audit-verify {name}: exit {process.returncode}\n{out.decode()}\n{err.decode()}"
        ) from None


@pytest.mark.parametrize("name", SERVICES)
async def test_tampering_with_the_audit_log_is_detected(
    infra: Infra, topic_prefix: str, tmp_path: Path, name: str
) -> None:
    async with service(infra, name, topic_prefix, tmp_path) as svc:
        await FACTORIES[name](svc, TENANT_A)
        sealed = await svc.runtime.jobs.run_once("audit.seal")
        url = svc.settings.database_url
    assert sealed >= 3, f"{name}: the API writes left only {sealed} audit rows"
    intact = await verify(url)
    assert intact.ok and intact.checked == sealed, intact.problems

    source = url.rsplit("/", 1)[1]
    copies = {kind: f"{source}_{kind}" for kind in TAMPERING}
    infra.postgres.create_databases(list(copies.values()), template=source)
    for kind, (sql, _) in TAMPERING.items():
        await tamper(infra.postgres.url(copies[kind]), sql)
    for kind, (_, expected) in TAMPERING.items():
        report = await verify(infra.postgres.url(copies[kind]))
        assert not report.ok and any(expected in p for p in report.problems), (kind, report.problems)

    # The command as an operator runs it: 0 on the intact chain, 1 on a tampered copy (every kind is checked above).
    (intact_code, intact_body), (tampered_code, tampered_body) = await asyncio.gather(
        cli_verify(name, url, infra.broker.bootstrap),
        cli_verify(name, infra.postgres.url(copies["reordered"]), infra.broker.bootstrap),
    )
    assert (intact_code, intact_body["ok"], intact_body["checked"]) == (0, True, sealed), intact_body
    assert (tampered_code, tampered_body["ok"]) == (1, False), tampered_body
    assert any(TAMPERING["reordered"][1] in p for p in tampered_body["problems"]), tampered_body  # type: ignore[attr-defined]
