"""What a service declares to consume events: a ``Subscription`` of handlers, and what they receive."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import ConsumerRecord
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.events.catalogue import Event
from shared.events.envelope import CloudEvent
from shared.rules.clock import Clock
from shared.runtime.settings import ServiceSettings
from shared.runtime.uow import UnitOfWork


@dataclass(frozen=True)
class EventContext:
    """What a handler receives besides the typed event: the envelope, the clock and the settings."""

    envelope: CloudEvent
    clock: Clock
    settings: ServiceSettings

    @property
    def tenant_id(self) -> str:
        """The tenant the event belongs to."""
        return self.envelope.tenantid

    def unit_of_work(self, session: AsyncSession, actor: str | None = None) -> UnitOfWork[Any]:
        """The handler's unit of work: the event's tenant, acting as ``actor`` (by default the event's type)."""
        return UnitOfWork(session, self.settings, self.clock, self.tenant_id, actor or f"event:{self.envelope.type}")


Handler = Callable[[AsyncSession, Any, EventContext], Awaitable[None]]
# Applies events of a poll (at most one per key) at once, with the same effect as their handlers one by one.
BulkHandler = Callable[[AsyncSession, Sequence[tuple[Any, EventContext]]], Awaitable[None]]
# Of (tenant, subject) pairs, those events of a type may change anything for.
SubjectFilter = Callable[[AsyncSession, Sequence[tuple[str, str]]], Awaitable[set[tuple[str, str]]]]


@dataclass
class Subscription:
    """A consumer group of a service: the topics it reads and a handler per event type.

    ``accepts`` skips events the group does not concern itself with (e.g. tasks for another system)
    before any transaction: no inbox row, no commit. ``batched``, ``bulk_handlers`` and
    ``subject_filters`` make a poll one transaction; ``shared.bus.batch`` says how. A type with a
    bulk handler needs no handler of its own: one event is applied as a run of one.
    """

    name: str
    handlers: Mapping[type[Event], Handler]
    topics: Sequence[str] = field(default_factory=tuple)
    accepts: Callable[[Event], bool] | None = None
    batched: bool = False
    bulk_handlers: Mapping[type[Event], BulkHandler] = field(default_factory=dict)
    subject_filters: Mapping[type[Event], SubjectFilter] = field(default_factory=dict)

    def __post_init__(self) -> None:
        handlers = dict(self.handlers)
        for event_type, bulk in self.bulk_handlers.items():
            handlers.setdefault(event_type, _one_by_one(bulk))
        self.handlers = handlers

    def topic_names(self) -> list[str]:
        """The topics to subscribe to: those given, else those of the handled event types."""
        return sorted(set(self.topics) or {event.topic for event in self.handlers})

    def group_id(self, settings: ServiceSettings) -> str:
        """The Kafka consumer group id."""
        return f"{settings.topic_prefix}privops.{settings.service_name}.{self.name}"


def _one_by_one(bulk: BulkHandler) -> Handler:
    """The per-event handler of a type applied in bulk: the bulk handler with a run of one."""

    async def handler(session: AsyncSession, event: Any, ctx: EventContext) -> None:
        await bulk(session, [(event, ctx)])

    handler.__name__ = getattr(bulk, "__name__", "bulk") + "_one"
    return handler


@dataclass(frozen=True, slots=True)
class Delivery:
    """A decoded record with the handler that applies it."""

    record: ConsumerRecord[bytes, bytes]
    envelope: CloudEvent
    event: Event
    handler: Handler
