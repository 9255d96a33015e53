"""What both demo stores share: run a worker until SIGINT or SIGTERM; recognise held subjects in a sweep."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Iterable

from sdk import Store, SystemRegistration, TaskWorker, WorkerConfig, subject_refs


async def serve(store: Store, config: WorkerConfig, registration: SystemRegistration) -> None:
    """Register the store and answer its tasks until the process is asked to stop."""
    worker = TaskWorker(store, config, registration)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, worker.stop)
    await worker.run()


def configure_logging() -> None:
    """Plain log lines on stderr (the local stack prefixes them with the store's name)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")


NO_SUBJECT_KEY = "held subjects present but no subject key configured"
# A cut-off sweep of a category kept per person: retention names the people when their clock ends.
PER_PERSON = "kept per person here: deleted when retention names the subjects (consent ended, account closed)"
NO_KEY_FOR_SUBJECTS = "a sweep of named subjects needs the subject key (PRIVOPS_SUBJECT_HASH_KEY) to recognise them"


class NamedSubjects:
    """The subjects a subject sweep names, recognised by the references of a record's identifiers."""

    def __init__(self, key: bytes | None, tenant: str, subject_refs: Iterable[str]) -> None:
        if key is None:
            # Without the key nobody can be recognised: answering "nothing found" would close the
            # schedules with the data still here. Raising leaves the sweep unanswered, so retention
            # retries it and then escalates it to a person.
            raise LookupError(NO_KEY_FOR_SUBJECTS)
        self.key = key
        self.tenant = tenant  # references differ per tenant: the sweep's
        self.refs = frozenset(subject_refs)

    def covers(self, identifiers: Iterable[tuple[str, str | None]]) -> bool:
        """True when one of the identifiers belongs to a named subject."""
        return not self.refs.isdisjoint(subject_refs(self.key, self.tenant, identifiers))


class HeldSubjects:
    """The subjects a sweep must skip, recognised by the references of a record's identifiers."""

    def __init__(self, key: bytes | None, tenant: str, held_subject_refs: list[str]) -> None:
        self.key = key
        self.tenant = tenant  # references differ per tenant: the sweep's
        self.refs = frozenset(held_subject_refs)

    @property
    def unknowable(self) -> bool:
        """Holds name subjects but the store cannot compute references: sweep nothing tied to a person."""
        return bool(self.refs) and self.key is None

    def covers(self, identifiers: Iterable[tuple[str, str | None]]) -> bool:
        """True when one of the identifiers belongs to a held subject."""
        if not self.refs:
            return False
        assert self.key is not None  # callers check ``unknowable`` first
        return not self.refs.isdisjoint(subject_refs(self.key, self.tenant, identifiers))
