"""What a store's team writes: a ``Store`` subclass with ``erase`` and ``export`` (and optional actions)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

OutcomeKind = Literal["done", "no_data", "exempt"]
ALL_ACTIONS = ("access", "erase", "rectify", "restrict", "lift_restriction", "object", "portability")


@dataclass(frozen=True)
class Identifier:
    """One identifier of the subject, normalised by the DSAR service (emails lowercased, phones E.164)."""

    kind: str
    value: str


@dataclass(frozen=True)
class Identifiers:
    """The subject's identifiers, fetched by claim check; plus the task's context."""

    items: tuple[Identifier, ...]
    task_id: str = ""
    request_id: str = ""
    tenant_id: str = ""
    subject_ref: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    recipients: tuple[str, ...] = ()

    def all(self, kind: str) -> list[str]:
        """Every value of one kind."""
        return [i.value for i in self.items if i.kind == kind]

    def get(self, kind: str) -> str | None:
        """The first value of one kind, or None."""
        values = self.all(kind)
        return values[0] if values else None

    @property
    def email(self) -> str | None:
        """The subject's email address, if given."""
        return self.get("email")

    @property
    def user_id(self) -> str | None:
        """The subject's user id, if given."""
        return self.get("user_id")

    @classmethod
    def of(cls, **values: str) -> Identifiers:
        """Build from keyword arguments (tests, scripts): ``Identifiers.of(email="ada@example.com")``."""
        return cls(tuple(Identifier(k, v) for k, v in values.items()))


@dataclass(frozen=True)
class Outcome:
    """What a store did for one task: done, no data, or exempt (with the legal reason)."""

    kind: OutcomeKind
    records_affected: int = 0
    exemption: str | None = None
    detail: str | None = None

    @classmethod
    def done(cls, records: int, detail: str | None = None, exemption: str | None = None) -> Outcome:
        """The action was carried out on ``records`` records (some may be kept: say why in ``exemption``)."""
        return cls("done", records, exemption, detail)

    @classmethod
    def no_data(cls, detail: str | None = None) -> Outcome:
        """Nothing about this subject here."""
        return cls("no_data", 0, None, detail)

    @classmethod
    def exempt(cls, reason: str, records: int = 0, detail: str | None = None) -> Outcome:
        """The data must be kept (e.g. ``Art. 17(3)(b) GDPR: invoices kept 10 years``)."""
        return cls("exempt", records, reason, detail)


@dataclass(frozen=True)
class SweepCounts:
    """What a retention sweep did."""

    deleted: int = 0
    anonymised: int = 0
    archived: int = 0
    skipped_held: int = 0
    detail: str | None = None


@dataclass(frozen=True)
class Sweep:
    """A retention sweep: ``category`` data whose clock started before ``cutoff``, except what a hold covers.

    ``held_subject_refs`` are the subjects under legal hold (compare with ``sdk.subject_refs(key,
    tenant_id, …)`` of a record's identifiers: references are the tenant's); ``held_matters`` the
    matters under hold (skip records tagged with one).
    """

    category: str
    cutoff: datetime
    action: str
    held_subject_refs: tuple[str, ...] = ()
    held_matters: tuple[str, ...] = ()
    tenant_id: str = ""


@dataclass(frozen=True)
class SubjectSweep:
    """Named subjects' ``category`` data is due now (consent withdrawn or expired, account closed).

    ``purpose``, when set, limits it to the data kept for that purpose (a withdrawn newsletter consent
    ends the newsletter subscription, not the customer record). Recognise the subjects by the
    references of a record's identifiers (``sdk.subject_refs`` with ``WorkerConfig.subject_key`` and
    ``tenant_id``).
    """

    category: str
    action: str
    subject_refs: tuple[str, ...]
    purpose: str | None = None
    tenant_id: str = ""


@dataclass(frozen=True)
class SystemRegistration:
    """How the store describes itself in the DSAR registry (the data map)."""

    name: str
    owner: str
    data_categories: list[str] = field(default_factory=list)
    purposes: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    retention: str | None = None
    source: str | None = None
    transfer_safeguards: str | None = None
    description: str | None = None


class Store:
    """Base of a data store answering DSAR tasks; override what the store can do.

    ``erase`` and ``export`` are the minimum. ``rectify``, ``restrict``, ``lift_restriction``,
    ``object``, ``sweep`` and ``sweep_subjects`` are optional: an action not overridden is not
    registered as supported, so no task of that kind is sent to the store.
    """

    async def erase(self, identifiers: Identifiers) -> Outcome:
        """Delete or anonymise the subject's data; report what was kept and why."""
        raise NotImplementedError

    async def export(self, identifiers: Identifiers) -> list[dict[str, Any]]:
        """Every record held about the subject, as JSON-ready dicts (access and portability)."""
        raise NotImplementedError

    async def rectify(self, identifiers: Identifiers, corrections: dict[str, str]) -> Outcome:
        """Correct the subject's data: ``{field: new value}``."""
        raise NotImplementedError

    async def restrict(self, identifiers: Identifiers) -> Outcome:
        """Stop processing the subject's data (keep storing it)."""
        raise NotImplementedError

    async def lift_restriction(self, identifiers: Identifiers) -> Outcome:
        """Resume processing after a restriction."""
        raise NotImplementedError

    async def object(self, identifiers: Identifiers, purposes: list[str]) -> Outcome:
        """Stop processing for the purposes objected to."""
        raise NotImplementedError

    async def sweep(self, sweep: Sweep) -> SweepCounts:
        """Delete, anonymise or archive ``sweep.category`` data older than ``sweep.cutoff`` (retention)."""
        raise NotImplementedError

    async def sweep_subjects(self, sweep: SubjectSweep) -> SweepCounts:
        """Delete, anonymise or archive the named subjects' ``sweep.category`` data (retention of one person)."""
        raise NotImplementedError

    def overrides(self, name: str) -> bool:
        """True when the subclass implements ``name``."""
        return getattr(type(self), name, None) is not getattr(Store, name)

    def supported_actions(self) -> list[str]:
        """The DSAR actions this store answers, from the methods it implements."""
        by_method = {
            "access": "export",
            "portability": "export",
            "erase": "erase",
            "rectify": "rectify",
            "restrict": "restrict",
            "lift_restriction": "lift_restriction",
            "object": "object",
        }
        return [action for action in ALL_ACTIONS if self.overrides(by_method[action])]
