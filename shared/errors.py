"""Typed errors rendered once, everywhere, as RFC 9457 problem+json responses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://privops.dev/problems/"

log = structlog.get_logger("privops.errors")


class ProblemError(Exception):
    """An error that becomes an RFC 9457 problem response; subclasses fix the status."""

    status = 500
    title = "Internal error"
    slug = "internal"

    def __init__(self, detail: str, *, title: str | None = None, slug: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if title:
            self.title = title
        if slug:
            self.slug = slug
        self.extra = extra

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        """The problem document for this error."""
        return problem(self.status, self.title, self.detail, slug=self.slug, instance=instance, **self.extra)


class RuleViolation(ValueError):
    """Base of every pure domain rule's error: no HTTP in domain code, but a status, title and code for the problem."""

    code: ClassVar[str] = "rule"
    title: ClassVar[str] = "Business rule violated"
    status: ClassVar[int] = 422
    field: str | None = None
    detail: str | None = None


class BadRequest(ProblemError):
    """The request is malformed in a way validation could not express."""

    status, title, slug = 400, "Bad request", "bad-request"


class Unauthorized(ProblemError):
    """No valid bearer token was presented."""

    status, title, slug = 401, "Unauthorized", "unauthorized"


class Forbidden(ProblemError):
    """The token is valid but lacks the scope this operation needs."""

    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(ProblemError):
    """The object does not exist for this tenant (other tenants' objects look the same)."""

    status, title, slug = 404, "Not found", "not-found"


class Conflict(ProblemError):
    """The request conflicts with the current state (duplicate, illegal transition)."""

    status, title, slug = 409, "Conflict", "conflict"


class Gone(ProblemError):
    """The resource existed but is no longer served (closed task, expired link)."""

    status, title, slug = 410, "Gone", "gone"


class Unprocessable(ProblemError):
    """The payload is well-formed but breaks a business rule."""

    status, title, slug = 422, "Unprocessable content", "unprocessable"


class ServiceUnavailable(ProblemError):
    """A dependency (database, broker) is not reachable."""

    status, title, slug = 503, "Service unavailable", "unavailable"


def problem(
    status: int, title: str, detail: str, *, slug: str = "about:blank", instance: str | None = None, **extra: Any
) -> dict[str, Any]:
    """Build an RFC 9457 problem document."""
    body: dict[str, Any] = {
        "type": slug if slug == "about:blank" or slug.startswith("http") else PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return body


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


def carries_nul(path: str, query: bytes, body: bytes) -> bool:
    """Whether a request holds U+0000 anywhere (raw, percent-encoded in the query, or escaped in JSON)."""
    return "\x00" in path or b"\x00" in query or b"%00" in query or b"\x00" in body or b"\\u0000" in body


async def refuse_nul(request: Request) -> None:
    """PostgreSQL text cannot hold U+0000: refuse it anywhere in the request (422) rather than fail on write (500)."""
    body = await request.body()
    if carries_nul(request.scope["path"], request.scope.get("query_string", b""), body):
        raise Unprocessable("Text may not contain the NUL character (U+0000).")
