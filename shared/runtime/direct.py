"""Direct reads: a GET route run without FastAPI's per-request routing and dependency solving.

On a read by key, FastAPI's work around the endpoint costs more than the endpoint: matching the path
through each included router, then solving the dependency tree anew on every request (a cache key,
a coroutine check and an empty parameter parse per level), for an answer that depends only on the
path, the query and the bearer token. This module plans that work once per route, at the first
request, and runs the plan:

- the route is found the way Starlette finds it: the routes in their order, the first whose path
  matches and which serves GET;
- the route's *own* endpoint, dependencies and response model are used; nothing is written twice;
- a route is direct only when every part of its dependency tree is plain: coroutines taking the
  request, path, query or header parameters and other such dependencies (a security scheme
  included). A dependency with ``yield``, a body, a ``Response`` or ``BackgroundTasks`` parameter,
  a sync function, a custom response class, or dependency overrides in force (tests) keep the route
  on FastAPI's path;
- a parameter that does not validate *declines*: the request goes on to FastAPI, which answers the
  422 as it always does. An error the endpoint or a dependency raises is rendered by the app's own
  problem handlers (``render_error``), as FastAPI would render it.

It runs inside ``RequestContextMiddleware`` (``HotPathMiddleware`` calls it), so correlation ids,
logs, metrics and the closing of a read-only unit's session are the same as on FastAPI's path.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import fastapi.exceptions
import fastapi.routing
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_params_to_args
from starlette._utils import get_route_path
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from shared.runtime.problems import render_error

_UNSUPPORTED_PARAMS = (
    "body_params",
    "cookie_params",
)
_UNSUPPORTED_NAMES = (
    "websocket_param_name",
    "response_param_name",
    "background_tasks_param_name",
    "security_scopes_param_name",
)


class Declined(Exception):
    """The request is FastAPI's to answer (a parameter did not validate)."""


@dataclass(frozen=True, slots=True)
class _Call:
    """One node of a planned dependency tree: what to call and how to fill its arguments."""

    call: Callable[..., Any]
    dependant: Dependant
    request_args: tuple[str, ...]  # parameters typed ``Request`` or ``HTTPConnection``
    subs: tuple[tuple[str | None, _Call], ...]
    use_cache: bool

    async def solve(self, request: Request, cache: dict[Any, Any]) -> Any:
        kwargs: dict[str, Any] = {}
        for name, sub in self.subs:
            if sub.use_cache and sub.call in cache:
                value = cache[sub.call]
            else:
                value = await sub.solve(request, cache)
                cache[sub.call] = value
            if name is not None:
                kwargs[name] = value
        dependant = self.dependant
        for fields, source in (
            (dependant.path_params, request.path_params),
            (dependant.query_params, request.query_params),
            (dependant.header_params, request.headers),
        ):
            if fields:
                values, errors = request_params_to_args(fields, source)
                if errors:
                    raise Declined
                kwargs.update(values)
        for name in self.request_args:
            kwargs[name] = request
        return await self.call(**kwargs)


@dataclass(frozen=True, slots=True)
class _DirectRoute:
    route: Any  # the RouteContext FastAPI would select (its ``path`` labels the metrics)
    plan: _Call
    response_field: Any
    status_code: int
    serialize: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Entry:
    """A route in Starlette's order: its path pattern, methods, and the direct plan if it has one."""

    route: Any
    regex: re.Pattern[str] | None
    convertors: dict[str, Any]
    methods: frozenset[str] | None
    direct: _DirectRoute | None


def _is_async(call: Any) -> bool:
    if inspect.isasyncgenfunction(call) or inspect.isgeneratorfunction(call):
        return False
    if inspect.iscoroutinefunction(call):
        return True
    dunder = getattr(call, "__call__", None)  # noqa: B004 (a security scheme is an instance)
    return not inspect.isclass(call) and dunder is not None and inspect.iscoroutinefunction(dunder)


def plan(dependant: Dependant) -> _Call | None:
    """The plan of a dependency tree, or ``None`` when a part of it needs FastAPI's solver."""
    call = dependant.call
    # A dependency's ``scope`` says when its ``yield`` resumes; one without ``yield`` has nothing to resume.
    if call is None or not _is_async(call):
        return None
    if any(getattr(dependant, name, None) for name in (*_UNSUPPORTED_PARAMS, *_UNSUPPORTED_NAMES)):
        return None
    subs: list[tuple[str | None, _Call]] = []
    for sub in dependant.dependencies:
        sub_plan = plan(sub)
        if sub_plan is None:
            return None
        subs.append((sub.name, sub_plan))
    request_args = tuple(n for n in (dependant.request_param_name, dependant.http_connection_param_name) if n)
    return _Call(call, dependant, request_args, tuple(subs), dependant.use_cache)


def _direct(route: Any) -> _DirectRoute | None:
    if not isinstance(route.original_route, fastapi.routing.APIRoute):
        return None
    if "GET" not in (route.methods or ()) or route.response_field is None:
        return None
    if not isinstance(route.response_class, DefaultPlaceholder) or route.dependant is None:
        return None
    status = route.status_code or 200
    if status < 200 or status in (204, 304):
        return None
    call_plan = plan(route.dependant)
    if call_plan is None:
        return None
    return _DirectRoute(
        route=route,
        plan=call_plan,
        response_field=route.response_field,
        status_code=status,
        serialize={
            "include": route.response_model_include,
            "exclude": route.response_model_exclude,
            "by_alias": route.response_model_by_alias,
            "exclude_unset": route.response_model_exclude_unset,
            "exclude_defaults": route.response_model_exclude_defaults,
            "exclude_none": route.response_model_exclude_none,
        },
    )


def _entries(routes: Any) -> Iterator[_Entry]:
    # FastAPI keeps included routers as such in ``app.routes``: walk them flat (older releases are flat).
    flatten: Any = getattr(fastapi.routing, "iter_route_contexts", iter)
    for route in flatten(routes):
        regex = getattr(route, "path_regex", None)
        methods = getattr(route, "methods", None)
        yield _Entry(
            route=route,
            regex=regex,
            convertors=getattr(route, "param_convertors", None) or {},
            methods=frozenset(methods) if methods is not None and regex is not None else None,
            direct=_direct(route) if regex is not None and methods is not None else None,
        )


class DirectReads:
    """The app's GET routes that can run directly, found on the first request (the routes are final by then)."""

    def __init__(self) -> None:
        self._entries: tuple[_Entry, ...] | None = None

    def routes(self, app: Any) -> tuple[_Entry, ...]:
        if self._entries is None:
            self._entries = tuple(_entries(app.routes))
        return self._entries

    def direct_paths(self, app: Any) -> list[str]:
        """The paths of the routes served directly (for tests and the development guide)."""
        return [e.route.path for e in self.routes(app) if e.direct is not None]

    def select(self, scope: Scope) -> tuple[_DirectRoute, dict[str, Any]] | None:
        """The direct route Starlette would select for this GET, with its path parameters; else ``None``."""
        app = scope["app"]
        if app.dependency_overrides:
            return None
        path = get_route_path(scope)
        for entry in self.routes(app):
            if entry.regex is None or entry.methods is None:
                if entry.route.matches(scope)[0] is Match.FULL:
                    return None  # a mount or another kind of route answers it
                continue
            match = entry.regex.match(path)
            if match is None or "GET" not in entry.methods:
                continue
            if entry.direct is None:
                return None
            params = {k: entry.convertors[k].convert(v) for k, v in match.groupdict().items()}
            return entry.direct, params
        return None

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer a GET directly; ``False`` when FastAPI should (nothing has been sent then)."""
        selected = self.select(scope)
        if selected is None:
            return False
        direct, params = selected
        scope["path_params"] = params
        scope["endpoint"] = direct.route.endpoint
        request = Request(scope, receive)
        response: Response
        try:
            raw = await direct.plan.solve(request, {})
            if isinstance(raw, Response):
                response = raw
            else:
                value, errors = direct.response_field.validate(raw, {}, loc=("response",))
                if errors:
                    raise fastapi.exceptions.ResponseValidationError(errors=errors, body=raw)
                content = direct.response_field.serialize_json(value, **direct.serialize)
                response = Response(content, status_code=direct.status_code, media_type="application/json")
        except Declined:
            scope.pop("path_params", None)
            scope.pop("endpoint", None)
            return False
        except Exception as exc:
            response = await render_error(request, exc)
        scope["route"] = direct.route.original_route  # as FastAPI sets it: metrics label by its path
        await response(scope, receive, send)
        return True
