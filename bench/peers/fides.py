"""The open-source Fides server (``ethyca-fides`` from PyPI), run beside privops for a same-run comparison.

``python -m bench --peer fides`` installs Fides into a virtualenv of its own (``bench/.peers/``,
git-ignored; several minutes the first time), then, inside the benchmark run, starts a local
``redis-server`` (Debian's package) and ``uvicorn`` serving Fides' ASGI app on 127.0.0.1, with its
database on the run's PostgreSQL. Fides asks for the ``pgcrypto`` extension, which the embedded
PostgreSQL is built without (no OpenSSL): a placeholder extension of that name, visible to the
Fides database alone (``extension_control_path``, PostgreSQL 18), provides the two functions Fides
calls, as plain UTF-8 encoding. Fides uses them only for three columns of its organisation table,
which none of the loads touches; the figures are unaffected, but the organisation's contact fields
are not encrypted at rest in this database, so it is dropped with the run's cluster.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.stack import LocalStack, Proc, StackError
from deploy.local.infra import LOOPBACK, free_port, wait_for_port

VERSION = "2.78.2"
PEERS_DIR = Path(__file__).resolve().parent.parent / ".peers"
VENV = PEERS_DIR / f"fides-{VERSION}"
DATABASE = "fides"
READY_TIMEOUT_S = 240.0
ROOT_CLIENT_ID = "benchroot"

# Serves Fides' app exactly as `fides webserver` does, but on the loopback interface only, from the run's
# folder (its migrations write backup CSV files into the working directory).
SERVE = (
    "import os, sys, uvicorn; os.chdir(sys.argv[3]); from fides.api.main import app; "
    "uvicorn.Server(uvicorn.Config(app, host=sys.argv[1], port=int(sys.argv[2]), log_level='warning')).run()"
)
PGCRYPTO_CONTROL = """\
comment = 'placeholder: the two pgcrypto functions Fides calls, as plain UTF-8 encoding (no OpenSSL in this build)'
default_version = '1.3'
relocatable = true
"""
PGCRYPTO_SQL = """\
CREATE FUNCTION pgp_sym_encrypt(text, text) RETURNS bytea LANGUAGE sql IMMUTABLE
    AS $$ SELECT convert_to($1, 'UTF8') $$;
CREATE FUNCTION pgp_sym_decrypt(bytea, text) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT convert_from($1, 'UTF8') $$;
"""


def python() -> Path:
    """The interpreter of Fides' own virtualenv."""
    return VENV / "bin" / "python"


def ensure_installed(log: object = print) -> Path:
    """Install ``ethyca-fides`` into its own virtualenv unless it is there; return its interpreter."""
    if python().exists() and (VENV / ".complete").exists():
        return python()
    shutil.rmtree(VENV, ignore_errors=True)
    PEERS_DIR.mkdir(parents=True, exist_ok=True)
    log(f"installing ethyca-fides {VERSION} into {VENV} (several minutes, once)")  # type: ignore[operator]
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(python()), "-m", "pip", "install", "--disable-pip-version-check", f"ethyca-fides=={VERSION}"]
    record = PEERS_DIR / f"fides-{VERSION}-install.log"
    with record.open("wb") as out:
        done = subprocess.run(pip, stdout=out, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        tail = "\n".join(record.read_text(errors="replace").splitlines()[-15:])
        raise StackError(f"pip could not install ethyca-fides {VERSION} (log: {record}):\n{tail}")
    (VENV / ".complete").write_text(VERSION + "\n")
    return python()


def ensure_redis() -> str:
    """``redis-server``, installed with apt-get when missing and running as root."""
    found = shutil.which("redis-server")
    if found:
        return found
    if os.geteuid() != 0:
        raise StackError("the Fides peer needs redis-server: sudo apt-get install -y redis-server")
    subprocess.run(["apt-get", "install", "-y", "-qq", "redis-server"], check=True, stdout=subprocess.DEVNULL)
    found = shutil.which("redis-server")
    if not found:
        raise StackError("apt-get installed redis-server but it is not on PATH")
    return found


@dataclass
class Fides:
    """A running Fides server and a token of its root client."""

    proc: Proc
    token: str

    @property
    def url(self) -> str:
        """Base URL of its API."""
        return self.proc.url + "/api/v1"


def _placeholder_pgcrypto(stack: LocalStack) -> Path:
    """The folder (``<dir>/extension/pgcrypto.control``) that ``extension_control_path`` points at."""
    root = stack.work_dir / "fides-pg-extensions"
    ext = root / "extension"
    ext.mkdir(parents=True, exist_ok=True)
    (ext / "pgcrypto.control").write_text(PGCRYPTO_CONTROL)
    (ext / "pgcrypto--1.3.sql").write_text(PGCRYPTO_SQL)
    return root


def _environment(stack: LocalStack, redis_port: int, client_secret: str) -> dict[str, str]:
    """Fides' settings: this run's PostgreSQL and Redis, no identity verification, eager execution."""
    return {
        "FIDES__DATABASE__SERVER": LOOPBACK,
        "FIDES__DATABASE__PORT": str(stack.pg.port),
        "FIDES__DATABASE__USER": "postgres",
        "FIDES__DATABASE__PASSWORD": "unused-trust-auth",
        "FIDES__DATABASE__DB": DATABASE,
        "FIDES__DATABASE__AUTOMIGRATE": "true",
        # Its defaults (up to 100 connections per engine) would exhaust the cluster the seven services share;
        # 20 covers the 16 connections of every load (sync routes run on a 40-thread pool).
        "FIDES__DATABASE__API_ENGINE_POOL_SIZE": "20",
        "FIDES__DATABASE__API_ENGINE_MAX_OVERFLOW": "0",
        "FIDES__DATABASE__API_ASYNC_ENGINE_POOL_SIZE": "5",
        "FIDES__DATABASE__API_ASYNC_ENGINE_MAX_OVERFLOW": "0",
        "FIDES__DATABASE__TASK_ENGINE_POOL_SIZE": "10",
        "FIDES__DATABASE__TASK_ENGINE_MAX_OVERFLOW": "0",
        "FIDES__REDIS__HOST": LOOPBACK,
        "FIDES__REDIS__PORT": str(redis_port),
        "FIDES__REDIS__PASSWORD": "",
        "FIDES__REDIS__ENABLED": "true",
        "FIDES__REDIS__SSL": "false",
        "FIDES__SECURITY__APP_ENCRYPTION_KEY": secrets.token_hex(16),
        "FIDES__SECURITY__OAUTH_ROOT_CLIENT_ID": ROOT_CLIENT_ID,
        "FIDES__SECURITY__OAUTH_ROOT_CLIENT_SECRET": client_secret,
        "FIDES__SECURITY__ENV": "dev",
        "FIDES__EXECUTION__DISABLE_CONSENT_IDENTITY_VERIFICATION": "true",
        "FIDES__EXECUTION__SUBJECT_IDENTITY_VERIFICATION_REQUIRED": "false",
        "FIDES__EXECUTION__REQUIRE_MANUAL_REQUEST_APPROVAL": "false",
        "FIDES__CELERY__TASK_ALWAYS_EAGER": "true",
        "FIDES__LOGGING__LEVEL": "WARNING",
        "FIDES__USER__ANALYTICS_OPT_OUT": "true",
    }


async def start(stack: LocalStack) -> Fides:
    """Redis, the Fides database (with the placeholder extension) and the server; wait for /health."""
    redis_port = free_port()
    redis = stack.spawn(
        "fides-redis",
        [ensure_redis(), "--bind", LOOPBACK, "--port", str(redis_port), "--save", "", "--appendonly", "no"],
        {},
        redis_port,
    )
    wait_for_port(redis_port, timeout=15)
    if not redis.alive():
        raise StackError(f"redis-server exited; end of its log:\n{redis.log_tail()}")
    stack.pg.create_databases([DATABASE])
    ext_root = _placeholder_pgcrypto(stack)
    stack.pg.psql(f"ALTER DATABASE {DATABASE} SET extension_control_path = '$system:{ext_root}'")
    client_secret = secrets.token_urlsafe(24)
    port = free_port()
    proc = stack.spawn(
        "fides",
        [str(python()), "-c", SERVE, LOOPBACK, str(port), str(stack.work_dir)],
        _environment(stack, redis_port, client_secret),
        port,
    )
    await _wait_healthy(proc)
    async with httpx.AsyncClient(base_url=proc.url + "/api/v1", timeout=30.0) as client:
        response = await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "client_id": ROOT_CLIENT_ID, "client_secret": client_secret},
        )
        response.raise_for_status()
        return Fides(proc, str(response.json()["access_token"]))


async def _wait_healthy(proc: Proc) -> None:
    deadline = asyncio.get_running_loop().time() + READY_TIMEOUT_S
    async with httpx.AsyncClient(timeout=5.0) as client:
        while True:
            if not proc.alive():
                raise StackError(f"Fides exited while starting; end of its log:\n{proc.log_tail()}")
            try:
                if (await client.get(proc.url + "/health")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise StackError(f"Fides did not answer /health in {READY_TIMEOUT_S:.0f} s:\n{proc.log_tail()}")
            await asyncio.sleep(1.0)


async def seed_consents(fides: Fides, count: int, tag: str) -> list[tuple[str, str]]:
    """``count`` people with a saved consent preference; each ``(consent request id, email)``."""
    limit = asyncio.Semaphore(8)
    async with httpx.AsyncClient(base_url=fides.url, timeout=30.0) as client:

        async def one(i: int) -> tuple[str, str]:
            email = f"peer-{tag}-{i}@example.com"
            async with limit:
                created = await client.post("/consent-request", json={"identity": {"email": email}})
                created.raise_for_status()
                request_id = str(created.json()["consent_request_id"])
                saved = await client.patch(
                    f"/consent-request/{request_id}/preferences",
                    json={"consent": [{"data_use": "marketing.advertising", "opt_in": True}]},
                )
                saved.raise_for_status()
            return request_id, email

        return list(await asyncio.gather(*(one(i) for i in range(count))))
