"""Structured JSON logs (structlog) with a correlation id carried through HTTP and Kafka."""

from __future__ import annotations

import logging
import random as _random
import re
import secrets
import sys
from contextvars import ContextVar

import structlog

correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)
traceparent_var: ContextVar[str | None] = ContextVar("traceparent", default=None)

CORRELATION_HEADER = "x-correlation-id"
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _add_context(_: object, __: str, event_dict: structlog.typing.EventDict) -> structlog.typing.EventDict:
    cid = correlation_id_var.get()
    if cid and "correlation_id" not in event_dict:
        event_dict["correlation_id"] = cid
    return event_dict


def configure_logging(service: str, level: str = "INFO", fmt: str = "json") -> None:
    """Configure structlog and the standard library to emit one JSON object per line."""
    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
        if fmt == "console"
        else structlog.processors.JSONRenderer()
    )
    shared_processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        _add_context,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared_processors, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(service=service)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=shared_processors,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def new_trace_id() -> str:
    """A random 32-hex-digit trace id (W3C trace context)."""
    return secrets.token_hex(16)


def new_traceparent(trace_id: str | None = None) -> str:
    """A W3C ``traceparent`` header value for a new span of ``trace_id`` (a new trace when absent).

    Span ids need to be unique, not secret: a fast PRNG draws them (never the invalid all-zero id).
    """
    return traceparent(trace_id or new_trace_id(), new_span_id())


def traceparent(trace_id: str, span_id: int) -> str:
    """The W3C ``traceparent`` header value of a span (version 00, sampled)."""
    return f"00-{trace_id}-{span_id:016x}-01"


def new_span_id() -> int:
    """A new span id as a number (``traceparent`` writes it in 16 hex digits); never the invalid zero."""
    return _random.getrandbits(64) or 1


def trace_id_of(traceparent: str | None) -> str | None:
    """The trace id inside a valid ``traceparent`` value, else None."""
    match = _TRACEPARENT.match(traceparent or "")
    return match.group(1) if match else None


def accept_correlation_id(value: str | None) -> str:
    """Keep a caller's correlation id when it is safe to log, else make a new one."""
    return value if value and _SAFE_ID.match(value) else new_trace_id()


def bind_request_context(correlation_id: str, traceparent: str | None) -> None:
    """Make the correlation id and trace context current for logs and outgoing events."""
    correlation_id_var.set(correlation_id)
    traceparent_var.set(traceparent)
