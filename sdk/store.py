"""What a store's team writes: a ``Store`` subclass with ``erase`` and ``export`` (and optional actions)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from shared.events.catalogue.dsar import hold_exemption

OutcomeKind = Literal["done", "no_data", "exempt"]
ALL_ACTIONS = ("access", "erase", "rectify", "restrict", "lift_restriction", "object", "portability")


@dataclass(frozen=True)
class Identifier:
    """One identifier of the subject, normalised by the DSAR service (emails lowercased, phones E.164)."""

    kind: str
    value: str


@dataclass(frozen=True)
class Hold:
    """A legal hold standing on part of an erasure: keep what it covers, and name it as the reason.

    Every scope it names must match a record for the hold to cover it: the person (``subject_held``:
    the hold is about this subject, else about whoever is tagged or filed that way), the retention
    ``category`` (``customer``, ``invoice`` …) and the ``matter`` a record is tagged with. A hold
    naming neither category nor matter keeps everything, and the worker answers such a task itself
    (exempt) without calling ``erase``. Erasure does not reach data needed for legal claims: GDPR
    Art. 17(3)(e), https://eur-lex.europa.eu/eli/reg/2016/679/oj.
    """

    hold_id: str
    reason: str | None = None
    subject_held: bool = False
    category: str | None = None
    matter: str | None = None

    def covers(self, category: str | None = None, matters: Iterable[str] = ()) -> bool:
        """True when the hold keeps a record of ``category`` tagged with ``matters``."""
        return (self.category is None or self.category == category) and (
            self.matter is None or self.matter in set(matters)
        )

    @property
    def exemption(self) -> str:
        """The reason to give for what the hold keeps: ``legal hold <id>: <reason> — Art. 17(3)(e) GDPR``."""
        return hold_exemption(self.hold_id, self.reason)

    @staticmethod
    def reasons(holds: Iterable[Hold]) -> str:
        """One exemption text naming each of ``holds`` once, in order."""
        return "; ".join(hold.exemption for hold in dict.fromkeys(holds))


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
    holds: tuple[Hold, ...] = ()  # legal holds on part of an erasure (keep what they cover)

    @property
    def held_matters(self) -> frozenset[str]:
        """The matters under a hold: keep the records tagged with one (when the hold's category matches too)."""
        return frozenset(hold.matter for hold in self.holds if hold.matter is not None)

    @property
    def held_categories(self) -> frozenset[str]:
        """The retention categories under a hold: keep that data (tagged with the hold's matter, when it names one)."""
        return frozenset(hold.category for hold in self.holds if hold.category is not None)

    def holds_on(self, category: str | None = None, matters: Iterable[str] = ()) -> tuple[Hold, ...]:
        """The holds that keep a record of ``category`` tagged with ``matters`` (empty: erase it)."""
        return tuple(hold for hold in self.holds if hold.covers(category, matters))

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
    registered as supported, so no task of that kind is sent to the store. ``export_tenant`` and
    ``purge_tenant`` (the end of the customer's contract) are optional too: without them the
    store answers such a task ``unsupported`` and a person closes it.
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

    async def export_tenant(self, scope: TenantScope) -> dict[str, list[dict[str, Any]]]:
        """Everything held for the tenant, by dataset (a table, a collection): returned at the contract's end."""
        raise NotImplementedError

    async def purge_tenant(self, scope: TenantScope) -> Purged:
        """Delete everything held for the tenant except what the law requires (named in ``exemptions``).

        Art. 28(3)(g) GDPR. A store that does not override this answers ``unsupported``: a person closes
        its task by hand, so a contract end never counts it as done.
        """
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


@dataclass(frozen=True)
class Exemption:
    """What a store keeps after a tenant purge, how much, and the law requiring it (named: article and text)."""

    what: str
    records: int
    ground: str


@dataclass(frozen=True)
class TenantScope:
    """A contract-end task: everything the store holds for ``tenant_id`` is exported or destroyed.

    ``task_id`` is stable across redeliveries: a store that records what it did under it (in the same
    transaction as the deletion) answers a redelivered task with the same counts, never deleting twice.
    """

    tenant_id: str
    task_id: str
    contract_end_id: str
    holds: tuple[Hold, ...] = ()


@dataclass(frozen=True)
class Purged:
    """What a tenant purge did: records deleted, and what was kept with its legal ground."""

    records: int
    exemptions: tuple[Exemption, ...] = ()
    detail: str | None = None
