"""Every error of a service rendered once, everywhere, as an RFC 9457 problem+json response."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.rules.errors import PROBLEM_JSON, ProblemError, RuleViolation, Unprocessable, carries_nul, problem

log = structlog.get_logger("privops.errors")


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    """Render a problem document with the problem+json media type."""
    return JSONResponse(body, status_code=int(body["status"]), media_type=PROBLEM_JSON, headers=headers)


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc if part not in ("body",)) or "body"


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    headers = {"WWW-Authenticate": 'Bearer realm="privops"'} if exc.status == 401 else None
    return problem_response(exc.to_problem(request.url.path), headers)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field_path(err.get("loc", ())), "message": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]
    first = errors[0] if errors else {"field": "body", "message": "invalid"}
    body = problem(
        422,
        "Invalid request",
        f"{first['field']}: {first['message']}" + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""),
        slug="validation",
        instance=request.url.path,
        errors=errors,
    )
    return problem_response(body)


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = {404: "Not found", 405: "Method not allowed", 401: "Unauthorized", 403: "Forbidden"}.get(
        exc.status_code, "HTTP error"
    )
    detail = exc.detail if isinstance(exc.detail, str) else title
    return problem_response(
        problem(exc.status_code, title, detail, instance=request.url.path), dict(exc.headers or {}) or None
    )


async def _on_statement(request: Request, exc: Exception) -> JSONResponse:
    # A value the database cannot hold (out of range, malformed, too long) is bad input, not a server fault.
    assert isinstance(exc, StatementError)
    if isinstance(exc, DataError) or isinstance(exc.orig, ValueError | OverflowError) or _is_data_exception(exc):
        detail = "A value in the request is out of range or malformed for storage."
        return problem_response(problem(422, "Invalid request", detail, slug="validation", instance=request.url.path))
    return await _on_unexpected(request, exc)


def _is_data_exception(exc: StatementError) -> bool:
    """SQLSTATE class 22 (a value too long, out of range, malformed…), however the driver's error was wrapped."""
    for error in (exc.orig, getattr(exc.orig, "__cause__", None)):
        sqlstate = getattr(error, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith("22"):
            return True
    return False


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("http.unhandled_error", path=request.url.path, error_type=type(exc).__name__)
    return problem_response(
        problem(500, "Internal error", "An unexpected error occurred; it has been logged.", instance=request.url.path)
    )


async def _on_rule_violation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RuleViolation)
    body = problem(exc.status, exc.title, str(exc), slug=exc.code, instance=request.url.path)
    body["rule"] = type(exc).__name__
    if exc.field:
        body["errors"] = [{"field": exc.field, "message": str(getattr(exc, "detail", exc))}]
    return problem_response(body)


_HANDLERS: dict[type[Exception], Callable[[Request, Exception], Awaitable[JSONResponse]]] = {
    RuleViolation: _on_rule_violation,
    ProblemError: _on_problem,
    RequestValidationError: _on_validation,
    StarletteHTTPException: _on_http,
    StatementError: _on_statement,
    Exception: _on_unexpected,
}


def install_problem_handlers(app: FastAPI) -> None:
    """Render every error of ``app`` as problem+json: validation errors and domain rule violations included."""
    for exc_class, handler in _HANDLERS.items():
        app.add_exception_handler(exc_class, handler)


async def render_error(request: Request, exc: Exception) -> JSONResponse:
    """The problem response ``install_problem_handlers`` gives for ``exc``, for code outside FastAPI's routing."""
    for exc_class in type(exc).__mro__:
        handler = _HANDLERS.get(exc_class)
        if handler is not None:
            return await handler(request, exc)
    return await _on_unexpected(request, exc)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"description": desc, "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    for code, desc in (
        (400, "The body cannot be read"),
        (401, "Missing or invalid bearer token"),
        (403, "The token lacks the required scope"),
        (404, "Not found for this tenant"),
        (409, "Conflicts with the current state"),
        (410, "Closed, expired or erased"),
        (422, "Invalid request"),
    )
}


async def refuse_nul(request: Request) -> None:
    """PostgreSQL text cannot hold U+0000: refuse it anywhere in the request (422) rather than fail on write (500)."""
    # A GET or HEAD route reads no body: waiting for one would cost every read a receive.
    body = b"" if request.method in ("GET", "HEAD") else await request.body()
    if carries_nul(request.scope["path"], request.scope.get("query_string", b""), body):
        raise Unprocessable("Text may not contain the NUL character (U+0000).")
