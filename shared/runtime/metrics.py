"""Prometheus metrics shared by every service, labelled by service so one registry serves all."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

HTTP_REQUESTS = Counter("privops_http_requests_total", "HTTP requests served", ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram(
    "privops_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
HOT_PATH_REQUESTS = Counter(
    "privops_hot_path_requests_total",
    "Requests to a hot path: served by its fast handler, declined to the route, or declined after an error",
    ["service", "route", "outcome"],
)
OUTBOX_BACKLOG = Gauge("privops_outbox_backlog", "Events staged in the outbox and not yet published", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "privops_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox event", ["service"]
)
OUTBOX_PUBLISHED = Counter("privops_outbox_published_total", "Events published by the outbox relay", ["service"])
OUTBOX_ERRORS = Counter("privops_outbox_publish_errors_total", "Failed outbox publish attempts", ["service"])
RELAY_ACTIVE = Gauge("privops_outbox_relay_active", "1 when this replica holds the relay lock", ["service"])
EVENTS_CONSUMED = Counter(
    "privops_events_consumed_total", "Events handled by consumers", ["service", "group", "type", "outcome"]
)
CONSUMER_LAG = Gauge("privops_consumer_lag", "Messages behind the end of the partition", ["service", "group", "topic"])
DEAD_LETTERS = Counter("privops_dead_letters_total", "Events sent to a dead-letter topic", ["service", "group"])
JOB_RUNS = Counter("privops_job_runs_total", "Periodic job runs", ["service", "job", "outcome"])
JOB_ITEMS = Counter("privops_job_items_total", "Items processed by periodic jobs", ["service", "job"])


async def metrics_endpoint(_: Request) -> Response:
    """Serve every metric in the Prometheus text format."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
