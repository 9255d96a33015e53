"""What the consent scenarios share: the purpose they use, the write request, and seeding over HTTP.

(A module starting with ``_`` is not a scenario.)
"""

from __future__ import annotations

import asyncio

import httpx

from bench.context import BenchContext
from bench.wrk import Load

PURPOSE = "bench"
PURPOSE_ACCEPTED = (201, 409)  # created, or already there
NO_CATALOGUE = (404, 405)  # a consent API without a purpose catalogue accepts any purpose


async def ensure_purpose(ctx: BenchContext, key: str) -> None:
    """Add ``key`` to the tenant's purpose catalogue (once per run); consents to unknown purposes are refused."""
    if key in ctx.prepared:
        return
    base = ctx.url("consent")
    assert base is not None
    body = {"key": key, "name": f"Benchmark {key}", "lawful_basis": "consent", "validity": "P3Y"}
    async with httpx.AsyncClient(base_url=base, timeout=10.0) as client:
        response = await client.post("/v1/purposes", json=body, headers=ctx.auth_headers())
    if response.status_code not in PURPOSE_ACCEPTED + NO_CATALOGUE:
        raise RuntimeError(
            f"could not add the purpose {key!r} (POST /v1/purposes answered {response.status_code}; "
            f"the token needs consent:admin): {response.text[:300]}"
        )
    ctx.prepared.add(key)


def consent_load(ctx: BenchContext, purpose: str = PURPOSE) -> Load:
    """POST /v1/consents granting ``purpose``, a new subject per request."""
    body = (
        '{"subject": {"kind": "email", "value": "bench-{n}-' + ctx.run_id + '@example.com"}, '
        '"purpose": "' + purpose + '", "decision": "granted", "channel": "bench"}'
    )
    return Load("POST", "/v1/consents", body=body, headers=ctx.auth_headers(json_body=True))


async def seed(ctx: BenchContext, count: int, purpose: str = PURPOSE) -> list[tuple[str, str]]:
    """Record ``count`` consents over HTTP (not timed); return each record's ``(id, subject_ref)``."""
    base = ctx.url("consent")
    assert base is not None
    await ensure_purpose(ctx, purpose)
    load = consent_load(ctx, purpose)
    limit = asyncio.Semaphore(16)
    async with httpx.AsyncClient(base_url=base, timeout=15.0) as client:

        async def one(i: int) -> tuple[str, str]:
            body = (load.body or "").replace("{n}", f"seed-{purpose}-{i}")
            async with limit:
                response = await client.post(load.path, content=body, headers=dict(load.headers))
            if response.status_code != 201:
                raise RuntimeError(f"seeding: POST /v1/consents answered {response.status_code}: {response.text[:300]}")
            data = response.json()
            return str(data["id"]), str(data["subject_ref"])

        return list(await asyncio.gather(*(one(i) for i in range(count))))
