"""Hot paths: a read endpoint served by a plain ASGI handler in front of FastAPI's routing.

A product backend may call the consent check on every page view, so its cost per request is the
cost of the platform. FastAPI's dependency resolution, validation of the returned model and its
middleware layers cost more than the database read itself. A hot path answers the requests it
fully understands in a few lines, and *declines* everything else, falling through to the FastAPI
route registered for the same method and path — the route that documents the endpoint in OpenAPI
and renders every error as an RFC 9457 problem. So the fast handler never builds an error response:

- the bearer token must already be in the verifier's cache of verified tokens (the first request
  with a token takes the FastAPI route, which verifies it and fills the cache) and carry the scope;
- the handler validates its parameters and returns ``None`` for anything it does not accept (a
  domain ``RuleViolation`` it raises is a decline too);
- an exception in the handler is logged and the request is answered by the FastAPI route instead.

It runs inside ``RequestContextMiddleware``, so correlation ids, logs and metrics are the same.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import structlog
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.auth import Principal, TokenVerifier
from shared.errors import RuleViolation
from shared.metrics import HOT_PATH_REQUESTS

log = structlog.get_logger("privops.hotpath")

Query = Mapping[str, list[str]]
HotHandler = Callable[[Any, Principal, Query], Awaitable[bytes | None]]
"""``handler(app_state, principal, query)`` → the JSON body of a 200 response, or ``None`` to decline."""

_JSON_HEADERS = [(b"content-type", b"application/json")]


@dataclass(frozen=True)
class HotPath:
    """One endpoint with a fast handler; ``scope`` is the token scope the FastAPI route requires."""

    method: str
    path: str
    scope: str
    handler: HotHandler


class HotPathMiddleware:
    """Serve the registered hot paths directly; pass every other request (and every decline) on."""

    def __init__(self, app: ASGIApp, paths: Sequence[HotPath], service: str) -> None:
        self.app = app
        self.paths = {(p.method, p.path): p for p in paths}
        self._routes: dict[str, BaseRoute | None] = {}
        self._outcomes = {
            (p.method, p.path, outcome): HOT_PATH_REQUESTS.labels(service, p.path, outcome)
            for p in paths
            for outcome in ("served", "declined", "error")
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (hot := self.paths.get((scope["method"], scope["path"]))) is None:
            await self.app(scope, receive, send)
            return
        body, outcome = await self._answer(hot, scope)
        self._outcomes[hot.method, hot.path, outcome].inc()
        if body is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = self._route(scope, hot)  # metrics label the request with the route's path
        headers = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _answer(self, hot: HotPath, scope: Scope) -> tuple[bytes | None, str]:
        app = scope["app"]
        verifier: TokenVerifier | None = getattr(app.state, "token_verifier", None)
        token = _bearer(scope["headers"])
        principal = verifier.cached(token) if verifier is not None and token else None
        if principal is None or not principal.has_scope(hot.scope):
            return None, "declined"
        raw: bytes = scope["query_string"]
        if b"\x00" in raw or b"%00" in raw or not raw.isascii():
            return None, "declined"
        try:
            query = parse_qs(raw.decode("ascii"), keep_blank_values=True, strict_parsing=True, max_num_fields=200)
        except ValueError:
            return None, "declined"
        try:
            body = await hot.handler(app.state, principal, query)
        except RuleViolation:  # a client error: the route renders its problem response
            return None, "declined"
        except Exception as exc:  # the FastAPI route answers, with the problem response if it fails again
            log.warning("hotpath.declined_after_error", path=hot.path, error=f"{type(exc).__name__}: {exc}")
            return None, "error"
        return body, "served" if body is not None else "declined"

    def _route(self, scope: Scope, hot: HotPath) -> BaseRoute | None:
        key = f"{hot.method} {hot.path}"
        if key not in self._routes:
            self._routes[key] = next(
                (
                    r
                    for r in scope["app"].routes
                    if getattr(r, "path", None) == hot.path and hot.method in (getattr(r, "methods", None) or ())
                ),
                None,
            )
        return self._routes[key]


def _bearer(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            return credentials.strip() if scheme.lower() == "bearer" else None
    return None
