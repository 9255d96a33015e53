"""The HTTP + database baseline: bare FastAPI + an asyncpg pool reading one row by primary key.

Nothing of privops is in the request path (no auth, ORM, middleware, audit), so its figures are
the limit of this machine's HTTP + PostgreSQL stack. Run under uvicorn, one worker:
``BENCH_BASELINE_DSN=postgresql://… uvicorn bench.baseline_app:app``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI, HTTPException, Request

TABLE = "bench_item"
ROWS = 100_000
POOL_SIZE = 10  # the services' default db_pool_size

SEED_SQL = f"""
DROP TABLE IF EXISTS {TABLE};
CREATE TABLE {TABLE} (id integer PRIMARY KEY, name text NOT NULL, value text NOT NULL);
INSERT INTO {TABLE} SELECT g, 'item-' || g, md5(g::text) FROM generate_series(1, {ROWS}) AS g;
ANALYZE {TABLE};
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the pool at start-up (never at import), close it at shutdown."""
    dsn = os.environ["BENCH_BASELINE_DSN"]
    app.state.pool = await asyncpg.create_pool(dsn, min_size=POOL_SIZE, max_size=POOL_SIZE)
    try:
        yield
    finally:
        await app.state.pool.close()


app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)


@app.get("/items/{item_id}")
async def read_item(item_id: int, request: Request) -> dict[str, Any]:
    """One row by primary key."""
    row = await request.app.state.pool.fetchrow(f"SELECT id, name, value FROM {TABLE} WHERE id = $1", item_id)
    if row is None:
        raise HTTPException(status_code=404, detail="no such item")
    return dict(row)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness, for the harness to know it is up."""
    return {"status": "ok"}
