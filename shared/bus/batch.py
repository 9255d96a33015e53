"""Batched groups (``Subscription(batched=True)``): a poll's events applied in one transaction.

For handlers that only touch the database: one commit for up to ``BATCHED_POLL_RECORDS`` events
instead of one each. If any of them fails, the runner rolls the poll back and applies it again
one event per transaction, with the usual retries and dead letters.

Kafka keeps order only between events of one key (one subject's events), so a poll is applied in
layers: the first event of every key, then the second of every key that has one, and so on.
Two options make a poll cheaper still:

- ``bulk_handlers={EventModel: on_many}``: in a layer, the events of that type are applied by one
  call (``on_many(session, [(event, ctx), …])``: all the grants of an imported file at once). The
  per-event handler stays the definition (it runs when a poll falls back) and ``on_many`` must have
  the same effect.
- ``subject_filters={EventModel: which}``: for a type that changes something for few subjects only
  (a grant cancels what waits on its subject, and most subjects have nothing waiting),
  ``which(session, [(tenant, subject), …])`` returns the pairs it may matter for, read from the
  ``ce_tenantid`` and ``ce_subject`` headers. The poll's other events of that type are skipped
  unparsed, without an inbox row: the handler must do nothing for them whenever it runs. An event
  whose subject had an earlier event of another type in the poll is always applied.
"""

from __future__ import annotations

from collections.abc import Callable

from aiokafka import ConsumerRecord

from shared.bus.inbox import record_in_inbox
from shared.bus.subscription import BulkHandler, Delivery, EventContext, SubjectFilter, Subscription
from shared.events.envelope import CloudEvent
from shared.runtime.db import Database
from shared.runtime.logging import bind_request_context, new_trace_id

BATCHED_POLL_RECORDS = 2000  # at most, per poll (and transaction) of a batched group
_FILTER_HEADERS = ("ce_type", "ce_tenantid", "ce_subject")


class BatchedPolls:
    """Applies a batched group's polls: subject filters first, then the events layer by layer."""

    def __init__(
        self,
        subscription: Subscription,
        handled_types: set[str],
        database: Database,
        group: str,
        context: Callable[[CloudEvent], EventContext],
    ) -> None:
        self.bulk_by_type = {event.event_type: bulk for event, bulk in subscription.bulk_handlers.items()}
        self.filter_by_type: dict[str, SubjectFilter] = {
            event.event_type: test for event, test in subscription.subject_filters.items()
        }
        if missing := set(self.filter_by_type) - handled_types:
            raise ValueError(f"subject filters need a handler for the same event type: {sorted(missing)}")
        if self.filter_by_type and not subscription.batched:
            raise ValueError("subject filters apply to batched groups only (batched=True)")
        self.handled_types = handled_types
        self.database = database
        self.group = group
        self.context = context

    async def filtered_out(self, records: list[ConsumerRecord[bytes, bytes]]) -> dict[int, str]:
        """The records a subject filter leaves out: index → event type (empty without filters)."""
        if not self.filter_by_type:
            return {}
        candidates: dict[str, list[tuple[int, tuple[str, str]]]] = {}
        first: dict[tuple[str, str], str] = {}  # the type of the poll's first event about a subject ("": mixed)
        for index, record in enumerate(records):
            found = dict(record.headers or ())  # built in C: cheaper than picking the three out in Python
            try:
                event_type, tenant, subject = (found.get(name, b"").decode() for name in _FILTER_HEADERS)
            except UnicodeDecodeError:
                break
            if not (tenant and subject):
                break  # an event this poll cannot place: nothing after it is filtered
            pair = (tenant, subject)
            if event_type in self.filter_by_type and first.setdefault(pair, event_type) == event_type:
                candidates.setdefault(event_type, []).append((index, pair))
            elif event_type in self.handled_types:
                first[pair] = ""  # another kind of event about the subject: everything after it is applied
        unwanted: dict[int, str] = {}
        if not candidates:
            return unwanted
        async with self.database.session() as session:
            for event_type, listed in candidates.items():
                wanted = await self.filter_by_type[event_type](session, sorted({pair for _, pair in listed}))
                unwanted.update((index, event_type) for index, pair in listed if pair not in wanted)
        return unwanted

    async def apply(self, items: list[Delivery]) -> list[str]:
        """A poll's items in one transaction: one inbox statement, then the handlers (raises if any fails)."""
        async with self.database.session() as session:
            fresh = await record_in_inbox(session, self.group, [item.envelope for item in items])
            outcomes: list[str] = []
            layers: list[list[Delivery]] = []
            depth: dict[bytes | None, int] = {}
            for item in items:
                if item.envelope.id not in fresh:
                    outcomes.append("duplicate")
                    continue
                fresh.discard(item.envelope.id)  # the same event twice in one poll is applied once
                outcomes.append("applied")
                level = depth.get(item.record.key, 0)
                depth[item.record.key] = level + 1
                if level == len(layers):
                    layers.append([])
                layers[level].append(item)
            for layer in layers:
                together: dict[BulkHandler, list[Delivery]] = {}
                for item in layer:
                    bulk = self.bulk_by_type.get(item.envelope.type)
                    if bulk is None:
                        bind_request_context(item.envelope.correlationid or new_trace_id(), item.envelope.traceparent)
                        await item.handler(session, item.event, self.context(item.envelope))
                    else:
                        together.setdefault(bulk, []).append(item)
                for bulk, group in together.items():
                    first = group[0].envelope
                    bind_request_context(first.correlationid or new_trace_id(), first.traceparent)
                    await bulk(session, [(item.event, self.context(item.envelope)) for item in group])
        return outcomes
