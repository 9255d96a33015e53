"""Direct reads answer exactly as FastAPI's path does, and leave to it every route they cannot plan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from shared.rules.errors import NotFound
from shared.runtime.auth import Principal, TokenVerifier, issue_token, require
from shared.runtime.direct import DirectReads
from shared.runtime.hotpath import HotPathMiddleware
from shared.runtime.problems import install_problem_handlers, refuse_nul

SECRET = "s" * 32


class ItemOut(BaseModel):
    id: int
    tenant: str
    detail: bool
    tags: list[str]


async def trace(request: Request) -> str:
    return request.headers.get("x-trace", "none")


async def held() -> AsyncIterator[str]:
    yield "held"


def build(direct: bool) -> FastAPI:
    """The same routes, served with or without direct reads."""
    router = APIRouter(prefix="/v1")

    @router.get("/items/special")
    async def special() -> dict[str, str]:
        return {"kind": "static route, declared before the template"}

    @router.get("/items/{item_id}", response_model=ItemOut)
    async def item(
        item_id: int,
        principal: Annotated[Principal, Depends(require("items:read"))],
        traced: Annotated[str, Depends(trace)],
        detail: bool = False,
        tags: Annotated[list[str] | None, Query()] = None,
    ) -> dict[str, Any]:
        if item_id == 404:
            raise NotFound(f"No item {item_id} for this tenant.")
        return {"id": item_id, "tenant": principal.tenant_id, "detail": detail, "tags": tags or [traced], "x": 1}

    @router.get("/held")
    async def with_yield(value: Annotated[str, Depends(held)]) -> dict[str, str]:
        return {"value": value}

    @router.get("/text", response_class=PlainTextResponse)
    async def text() -> str:
        return "plain"

    app = FastAPI()
    install_problem_handlers(app)
    app.state.token_verifier = TokenVerifier(SECRET)
    app.include_router(router, dependencies=[Depends(refuse_nul)])
    app.add_middleware(HotPathMiddleware, paths=(), service="test", direct=direct)
    return app


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each GET was answered directly."""
    outcomes: list[bool] = []
    original = DirectReads.serve

    async def spy(self: DirectReads, scope: Any, receive: Any, send: Any) -> bool:
        outcomes.append(await original(self, scope, receive, send))
        return outcomes[-1]

    monkeypatch.setattr(DirectReads, "serve", spy)
    return outcomes


async def get(app: FastAPI, path: str, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        return await client.get(path, headers=headers)


def token(*scopes: str) -> dict[str, str]:
    value = issue_token(SECRET, "acme", scopes, now=datetime.now(UTC))
    return {"Authorization": f"Bearer {value}"}


REQUESTS: list[tuple[str, dict[str, str], bool]] = [
    # path, headers, served directly
    ("/v1/items/7", token("items:read"), True),
    ("/v1/items/7?detail=true&tags=a&tags=b", token("items:read") | {"x-trace": "t-1"}, True),
    ("/v1/items/404", token("items:read"), True),  # the endpoint's NotFound, rendered by the app's handler
    ("/v1/items/7", {}, True),  # 401 from the dependency
    ("/v1/items/7", token("other:read"), True),  # 403
    ("/v1/items/seven", token("items:read"), False),  # 422: FastAPI's own validation answers
    ("/v1/items/7?detail=maybe", token("items:read"), False),
    ("/v1/items/7?detail=%00", token("items:read"), True),  # refuse_nul's 422, raised by a dependency
    ("/v1/items/special", {}, True),  # Starlette's order: the static route declared first answers
    ("/v1/held", {}, False),  # a dependency with yield
    ("/v1/text", {}, False),  # a custom response class
    ("/v1/nowhere", {}, False),
]


@pytest.mark.parametrize(("path", "headers", "direct"), REQUESTS)
async def test_direct_answers_match_fastapi(
    path: str, headers: dict[str, str], direct: bool, served: list[bool]
) -> None:
    fast = await get(build(True), path, headers)
    assert served == [direct]
    plain = await get(build(False), path, headers)
    assert served == [direct]  # the app without direct reads never asks
    assert (fast.status_code, fast.headers.get("content-type"), fast.content) == (
        plain.status_code,
        plain.headers.get("content-type"),
        plain.content,
    )


def test_only_plain_get_routes_are_direct() -> None:
    paths = DirectReads().direct_paths(build(True))
    assert "/v1/items/{item_id}" in paths and "/v1/items/special" in paths
    assert "/v1/held" not in paths and "/v1/text" not in paths


async def test_dependency_overrides_keep_fastapi_path(served: list[bool]) -> None:
    app = build(True)
    app.dependency_overrides[trace] = lambda: "overridden"
    response = await get(app, "/v1/items/7", token("items:read"))
    assert response.json()["tags"] == ["overridden"] and served == [False]
