"""The event catalogue: every event type is a typed, versioned Pydantic model.

Each model names its CloudEvents ``type``, its data ``version``, the topic it travels on and
the service that produces it; its docstring says when it is sent. Older data versions are
upcast on read, so a consumer always sees the current shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from shared.events.envelope import CloudEvent

SCHEMA_BASE = "https://privops.dev/schemas/events/"

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class UnknownEventType(LookupError):
    """The event's type is not in the catalogue."""


class InvalidEventData(ValueError):
    """The event's data does not match its schema."""


class Event(BaseModel):
    """Base of every event in the catalogue. Subclasses set ``event_type``, ``topic`` and ``producer``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_type: ClassVar[str]
    version: ClassVar[int] = 1
    topic: ClassVar[str]
    producer: ClassVar[str]
    # What the CloudEvents subject is, and so the Kafka key after the tenant (``tenant:<subject>``): what the
    # order of the topic is kept for.
    keyed_by: ClassVar[str] = "the subject reference (keyed hash) of the person"

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "event_type" in cls.__dict__:
            existing = CATALOGUE.get(cls.event_type)
            if existing is not None and existing is not cls:
                raise TypeError(f"event type {cls.event_type} is defined twice ({existing.__name__}, {cls.__name__})")
            CATALOGUE[cls.event_type] = cls

    @classmethod
    def dataschema(cls) -> str:
        """The URI of this event's JSON Schema (it names the data version)."""
        return f"{SCHEMA_BASE}{cls.event_type}/v{cls.version}.json"

    @classmethod
    def summary(cls) -> str:
        """The one-line "Sent when …" description from the docstring."""
        return (cls.__doc__ or "").strip().splitlines()[0]


CATALOGUE: dict[str, type[Event]] = {}
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def upcaster(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register a function turning version ``from_version`` data of ``event_type`` into the next version."""

    def register(fn: Upcaster) -> Upcaster:
        UPCASTERS[(event_type, from_version)] = fn
        return fn

    return register


def decode(envelope: CloudEvent) -> Event:
    """The typed event inside an envelope, upcast to the current version."""
    model = CATALOGUE.get(envelope.type)
    if model is None:
        raise UnknownEventType(f"unknown event type {envelope.type!r}")
    data = envelope.data
    version = envelope.schema_version
    if version > model.version:
        raise InvalidEventData(f"{envelope.type} v{version} is newer than this consumer knows (v{model.version})")
    if version < model.version:
        data = dict(data)  # an upcaster may change what it is given: never the envelope's data
    while version < model.version:
        step = UPCASTERS.get((envelope.type, version))
        if step is None:
            raise InvalidEventData(f"no upcaster for {envelope.type} from v{version}")
        data = step(data)
        version += 1
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "data"
        raise InvalidEventData(f"{envelope.type}: {where}: {first['msg']}") from None


def load_all() -> dict[str, type[Event]]:
    """Import every catalogue module and return the complete catalogue."""
    from shared.events.catalogue import (  # noqa: F401
        breach,
        consent,
        contract_ends,
        dsar,
        notifications,
        retention,
        subprocessor,
    )

    return dict(sorted(CATALOGUE.items()))
