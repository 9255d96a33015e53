"""Hot paths: an endpoint served by a plain ASGI handler in front of FastAPI's routing.

A product backend may call the consent service on every page view, so its cost per request is the
cost of the platform. FastAPI's dependency resolution, validation of the returned model and its
middleware layers cost more than the database work itself. A hot path answers the requests it
fully understands in a few lines, and *declines* everything else, falling through to the FastAPI
route registered for the same method and path — the route that documents the endpoint in OpenAPI
and renders every error as an RFC 9457 problem. So the fast handler never builds an error response:

- the bearer token must already be in the verifier's cache of verified tokens (the first request
  with a token takes the FastAPI route, which verifies it and fills the cache) and carry the scope;
- the handler validates its input and returns ``None`` for anything it does not accept (a domain
  ``RuleViolation`` it raises is a decline too: the route raises it again and renders it);
- an unexpected exception is a decline for a ``replayable`` handler (a read); a handler that writes
  declines only before its write; an exception after it is answered with the problem response the
  route's exception handlers give (a ``ProblemError`` it raises, or a 500), and the write is never
  run a second time.

It runs inside ``RequestContextMiddleware``, so correlation ids, logs and metrics are the same. Any
other GET goes to ``shared.runtime.direct``, which runs the route's own endpoint without FastAPI's
routing and dependency solving when the route allows it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import fastapi.routing
import structlog
from starlette.requests import Request
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.rules.errors import RuleViolation, carries_nul
from shared.runtime.auth import Principal, TokenVerifier
from shared.runtime.direct import DirectReads
from shared.runtime.metrics import HOT_PATH_REQUESTS
from shared.runtime.problems import render_error

log = structlog.get_logger("privops.hotpath")

MAX_BODY_BYTES = 64 * 1024  # larger bodies go to the route


@dataclass(frozen=True, slots=True)
class HotRequest:
    """What a hot handler sees: the app's state, the caller, the query, lower-cased headers and the body."""

    state: Any
    principal: Principal
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes


HotAnswer = tuple[int, bytes]
"""The status and JSON body of the response."""
HotHandler = Callable[[HotRequest], Awaitable[HotAnswer | None]]


@dataclass(frozen=True)
class HotPath:
    """One endpoint with a fast handler; ``scope`` is the token scope the FastAPI route requires."""

    method: str
    path: str
    scope: str
    handler: HotHandler
    replayable: bool = True  # False for a handler that writes: after its write it never declines


class HotPathMiddleware:
    """Serve the registered hot paths directly; pass every other request (and every decline) on."""

    def __init__(self, app: ASGIApp, paths: Sequence[HotPath], service: str, direct: bool = True) -> None:
        self.app = app
        self.paths = {(p.method, p.path): p for p in paths}
        self.direct = DirectReads() if direct else None
        self._routes: dict[tuple[str, str], BaseRoute | None] = {}
        self._outcomes = {
            (p.method, p.path, outcome): HOT_PATH_REQUESTS.labels(service, p.path, outcome)
            for p in paths
            for outcome in ("served", "declined", "error")
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (hot := self.paths.get((scope["method"], scope["path"]))) is None:
            if (
                scope.get("method") == "GET"
                and self.direct is not None
                and await self.direct.serve(scope, receive, send)
            ):
                return
            await self.app(scope, receive, send)
            return
        body, complete = await _read_body(receive)
        if not complete:  # too large for a hot path: the route reads the rest
            self._outcomes[hot.method, hot.path, "declined"].inc()
            await self.app(scope, _replay(body, receive, more=True), send)
            return
        try:
            answer, outcome = await self._answer(hot, scope, body)
        except Exception as exc:  # only from a handler that writes (see ``HotPath.replayable``)
            self._outcomes[hot.method, hot.path, "error"].inc()
            scope["route"] = self._route(scope, hot)
            await (await render_error(Request(scope), exc))(scope, receive, send)
            return
        self._outcomes[hot.method, hot.path, outcome].inc()
        if answer is None:
            await self.app(scope, _replay(body, receive, more=False), send)
            return
        status, content = answer
        scope["route"] = self._route(scope, hot)  # metrics label the request with the route's path
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    async def _answer(self, hot: HotPath, scope: Scope, body: bytes) -> tuple[HotAnswer | None, str]:
        app = scope["app"]
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        verifier: TokenVerifier | None = getattr(app.state, "token_verifier", None)
        token = _bearer(headers.get("authorization"))
        principal = verifier.cached(token) if verifier is not None and token else None
        if principal is None or not principal.has_scope(hot.scope):
            return None, "declined"
        raw: bytes = scope["query_string"]
        if not raw.isascii() or carries_nul(scope["path"], raw, body):  # the route refuses it with a 422
            return None, "declined"
        try:
            query = parse_qs(raw.decode("ascii"), keep_blank_values=True, strict_parsing=True, max_num_fields=200)
        except ValueError:
            return None, "declined"
        try:
            answer = await hot.handler(HotRequest(app.state, principal, query, headers, body))
        except RuleViolation:  # raised before any write: the route raises it again and renders it
            return None, "declined"
        except Exception as exc:
            if not hot.replayable:
                raise  # a write whose outcome is uncertain: answered with its problem, never run twice
            # The FastAPI route answers, with its problem response if it fails again.
            log.warning("hotpath.declined_after_error", path=hot.path, error=f"{type(exc).__name__}: {exc}")
            return None, "error"
        return answer, "served" if answer is not None else "declined"

    def _route(self, scope: Scope, hot: HotPath) -> BaseRoute | None:
        key = (hot.method, hot.path)
        if key not in self._routes:
            # FastAPI keeps included routers as such in ``app.routes``: walk them flat (older releases are flat).
            flatten: Any = getattr(fastapi.routing, "iter_route_contexts", iter)
            self._routes[key] = next(
                (
                    r
                    for r in flatten(scope["app"].routes)
                    if getattr(r, "path", None) == hot.path and hot.method in (getattr(r, "methods", None) or ())
                ),
                None,
            )
        return self._routes[key]


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The request body, and whether it was read to the end (it stops past ``MAX_BODY_BYTES``)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True
        if size > MAX_BODY_BYTES:
            return b"".join(chunks), False


def _replay(body: bytes, receive: Receive, *, more: bool) -> Receive:
    """A ``receive`` that gives the body read so far, then whatever the client still sends."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": more}
        return await receive()

    return replay


def _bearer(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, credentials = value.partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else None
