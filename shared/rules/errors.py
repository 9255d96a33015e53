"""Typed errors with their HTTP status, pure: ``shared.runtime.problems`` renders them as RFC 9457 problem+json."""

from __future__ import annotations

from typing import Any, ClassVar

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://privops.dev/problems/"


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


def carries_nul(path: str, query: bytes, body: bytes) -> bool:
    """Whether a request holds U+0000 anywhere (raw, percent-encoded in the query, or escaped in JSON)."""
    return "\x00" in path or b"\x00" in query or b"%00" in query or b"\x00" in body or b"\\u0000" in body
