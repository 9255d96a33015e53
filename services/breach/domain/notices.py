"""Breach notice drafts: structured contents, stage rules and plain-text rendering.

* Authority notice — GDPR Art. 33(3)(a)–(d): nature (with categories and approximate numbers of
  data subjects and of records), DPO or contact point, likely consequences, measures taken or
  proposed.
* Controller notice — a processor tells its customer the same contents, so that the customer
  can notify in turn (Art. 33(2), Art. 28(3)(f)).
* Individuals' notice — Art. 34(2): clear and plain language, the nature of the breach and the
  contents of Art. 33(3)(b), (c) and (d), and what the person can do; written in English and
  French (``LANGUAGES``), each person reading the one of their locale.

Staging (Art. 33(4)): an initial or follow-up notice may leave a field "to follow", with the
reason it is not yet known; a final notice covers every field. What happened and whom to contact
are needed from the first notice, since a notice without them tells the reader nothing. The
individuals' notice is never staged: Art. 34 sets its minimum contents with no phasing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

from services.breach.domain.clocks import Deadline, require_delay_reasons
from services.breach.domain.errors import DomainError, IncompleteNotice, MissingToFollowReason, NaiveDatetime


class NoticeKind(StrEnum):
    """Who a notice is written for."""

    AUTHORITY = "authority"
    CONTROLLER = "controller"
    INDIVIDUALS = "individuals"


class NoticeStage(StrEnum):
    """Where a notice stands in a phased notification (Art. 33(4))."""

    INITIAL = "initial"
    FOLLOW_UP = "follow_up"
    FINAL = "final"


class NoticeField(StrEnum):
    """A content item of a breach notice."""

    NATURE = "nature"
    SUBJECT_CATEGORIES = "data_subject_categories"
    SUBJECT_COUNT = "approximate_data_subjects"
    RECORD_CATEGORIES = "record_categories"
    RECORD_COUNT = "approximate_records"
    CONTACT_POINT = "contact_point"
    LIKELY_CONSEQUENCES = "likely_consequences"
    MEASURES = "measures"
    ADVICE = "advice"


_ART_33_3: Final = (
    NoticeField.NATURE,
    NoticeField.SUBJECT_CATEGORIES,
    NoticeField.SUBJECT_COUNT,
    NoticeField.RECORD_CATEGORIES,
    NoticeField.RECORD_COUNT,
    NoticeField.CONTACT_POINT,
    NoticeField.LIKELY_CONSEQUENCES,
    NoticeField.MEASURES,
)
REQUIRED_FIELDS: Final[Mapping[NoticeKind, tuple[NoticeField, ...]]] = {
    NoticeKind.AUTHORITY: _ART_33_3,
    NoticeKind.CONTROLLER: _ART_33_3,
    # In the order a reader asks: what happened, what it means, what is done, whom to ask.
    NoticeKind.INDIVIDUALS: (
        NoticeField.NATURE,
        NoticeField.LIKELY_CONSEQUENCES,
        NoticeField.MEASURES,
        NoticeField.CONTACT_POINT,
    ),
}
NEEDED_FROM_THE_START: Final = frozenset({NoticeField.NATURE, NoticeField.CONTACT_POINT})

_HEADINGS: Final[Mapping[NoticeField, str]] = {
    NoticeField.NATURE: "(a) Nature of the breach",
    NoticeField.SUBJECT_CATEGORIES: "(a) Categories of data subjects",
    NoticeField.SUBJECT_COUNT: "(a) Approximate number of data subjects",
    NoticeField.RECORD_CATEGORIES: "(a) Categories of personal data records",
    NoticeField.RECORD_COUNT: "(a) Approximate number of personal data records",
    NoticeField.CONTACT_POINT: "(b) Data protection officer or other contact point",
    NoticeField.LIKELY_CONSEQUENCES: "(c) Likely consequences",
    NoticeField.MEASURES: "(d) Measures taken or proposed, including mitigation",
}
# The languages a notice to individuals is written in; the first is the fallback.
LANGUAGES: Final = ("en", "fr")
_PLAIN_HEADINGS: Final[Mapping[str, Mapping[NoticeField, str]]] = {
    "en": {
        NoticeField.NATURE: "What happened",
        NoticeField.LIKELY_CONSEQUENCES: "What this may mean for you",
        NoticeField.MEASURES: "What we are doing about it",
        NoticeField.ADVICE: "What you can do",
        NoticeField.CONTACT_POINT: "Who to contact",
    },
    "fr": {
        NoticeField.NATURE: "Ce qui s'est passé",
        NoticeField.LIKELY_CONSEQUENCES: "Ce que cela peut signifier pour vous",
        NoticeField.MEASURES: "Ce que nous faisons",
        NoticeField.ADVICE: "Ce que vous pouvez faire",
        NoticeField.CONTACT_POINT: "Qui contacter",
    },
}
_PLAIN_OPENING: Final[Mapping[str, tuple[str, str]]] = {
    "en": (
        "Important: about your personal data (reference {reference})",
        "We are writing to tell you about a security incident that involved your personal data.",
    ),
    "fr": (
        "Important : à propos de vos données personnelles (référence {reference})",
        "Nous vous écrivons pour vous informer d'un incident de sécurité qui a touché vos données personnelles.",
    ),
}
_ON_BEHALF: Final[Mapping[str, str]] = {
    "en": "We send this message on behalf of {name}, who is responsible for your data.",
    "fr": "Nous vous adressons ce message au nom de {name}, responsable du traitement de vos données.",
}
_PLAIN_ROLES: Final[Mapping[str, Mapping[str, str]]] = {
    "fr": {"Data Protection Officer": "Délégué à la protection des données"},
}
# When no advice was written, the one thing every reader can do: ask.
_ASK: Final[Mapping[str, str]] = {
    "en": "- Contact us with any question, using the details below.",
    "fr": "- Contactez-nous pour toute question, avec les coordonnées ci-dessous.",
}


@dataclass(frozen=True)
class ContactPoint:
    """The DPO or other contact point readers can reach (Art. 33(3)(b))."""

    name: str
    email: str | None = None
    phone: str | None = None
    role: str = "Data Protection Officer"

    def text(self, language: str = "en") -> str:
        """One line naming the contact and how to reach them (the usual role named in ``language``)."""
        ways = ", ".join(way for way in (self.email, self.phone) if way)
        role = _PLAIN_ROLES.get(language, {}).get(self.role, self.role)
        return f"{self.name} ({role})" + (f" — {ways}" if ways else "")


@dataclass(frozen=True)
class BreachFacts:
    """What is known about a breach; ``None`` or empty means not known yet."""

    reference: str
    aware_at: datetime
    nature: str | None = None
    plain_summary: str | None = None  # the nature told in everyday words, for individuals
    data_subject_categories: tuple[str, ...] = ()
    approximate_data_subjects: int | None = None
    record_categories: tuple[str, ...] = ()
    approximate_records: int | None = None
    contact: ContactPoint | None = None
    likely_consequences: str | None = None
    measures_taken: tuple[str, ...] = ()
    measures_proposed: tuple[str, ...] = ()
    advice: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.aware_at.tzinfo is None or self.aware_at.utcoffset() is None:
            raise NaiveDatetime(f"aware_at must be timezone-aware (UTC), got naive {self.aware_at.isoformat()}")


@dataclass(frozen=True)
class NoticeSection:
    """One content item of a draft: its text, or why it is still to follow."""

    field: NoticeField
    heading: str
    text: str | None
    to_follow: str | None = None


@dataclass(frozen=True)
class NoticeDraft:
    """A notice ready for review: structured sections plus the facts that frame it."""

    kind: NoticeKind
    stage: NoticeStage
    reference: str
    recipient: str
    aware_at: datetime
    sections: tuple[NoticeSection, ...]
    delay_reasons: str | None = None
    previous_reference: str | None = None
    sender: str | None = None
    language: str = "en"
    on_behalf_of: str | None = None  # the controller a processor writes for (individuals' notices)

    def section(self, name: NoticeField) -> NoticeSection | None:
        """The section for a field, if the draft has one."""
        return next((section for section in self.sections if section.field is name), None)

    @property
    def to_follow(self) -> tuple[NoticeField, ...]:
        """Fields left for a later notice."""
        return tuple(section.field for section in self.sections if section.text is None)


def build_authority_notice(
    facts: BreachFacts,
    *,
    recipient: str,
    stage: NoticeStage | str = NoticeStage.INITIAL,
    to_follow: Mapping[NoticeField, str] | None = None,
    delay_reasons: str | None = None,
    previous_reference: str | None = None,
) -> NoticeDraft:
    """Draft the supervisory authority's notice with the Art. 33(3)(a)–(d) contents."""
    return _build(NoticeKind.AUTHORITY, facts, recipient, stage, to_follow, delay_reasons, previous_reference, None)


def build_controller_notice(
    facts: BreachFacts,
    *,
    controller: str,
    processor: str,
    stage: NoticeStage | str = NoticeStage.INITIAL,
    to_follow: Mapping[NoticeField, str] | None = None,
    delay_reasons: str | None = None,
    previous_reference: str | None = None,
) -> NoticeDraft:
    """Draft a processor's notice to its customer (the controller) with what the customer must report."""
    return _build(
        NoticeKind.CONTROLLER, facts, controller, stage, to_follow, delay_reasons, previous_reference, processor
    )


def build_individuals_notice(
    facts: BreachFacts,
    *,
    recipient: str = "affected people",
    language: str = "en",
    on_behalf_of: str | None = None,
) -> NoticeDraft:
    """Draft the notice to affected people in plain language (Art. 34(2)) in one of ``LANGUAGES``; it must be complete.

    ``on_behalf_of``: the controller a processor writes for (the notice says so in its first lines).
    """
    if language not in LANGUAGES:
        raise DomainError(f"unknown notice language {language!r}; use one of {', '.join(LANGUAGES)}")
    draft = _build(NoticeKind.INDIVIDUALS, facts, recipient, NoticeStage.FINAL, None, None, None, None, language)
    return replace(draft, language=language, on_behalf_of=(on_behalf_of or "").strip() or None)


def validate_notice(draft: NoticeDraft) -> None:
    """Refuse a draft whose missing contents are not allowed at its stage."""
    required = REQUIRED_FIELDS[draft.kind]
    sections = {section.field: section for section in draft.sections}
    missing = tuple(name for name in required if sections.get(name) is None or sections[name].text is None)
    if not missing:
        return
    labels = tuple(name.value for name in missing)
    if draft.kind is NoticeKind.INDIVIDUALS:
        raise IncompleteNotice(
            f"a notice to individuals must say, in plain language, {', '.join(labels)} (Art. 34(2)); "
            "it cannot be sent in stages",
            labels,
        )
    if draft.stage is NoticeStage.FINAL:
        raise IncompleteNotice(f"a final notice must cover every required field; missing: {', '.join(labels)}", labels)
    early = tuple(name.value for name in missing if name in NEEDED_FROM_THE_START)
    if early:
        stage = draft.stage.value.replace("_", "-")
        raise IncompleteNotice(f"every notice, the {stage} one included, must state {', '.join(early)}", early)
    unexplained = tuple(name.value for name in missing if not (sections.get(name) and sections[name].to_follow))
    if unexplained:
        raise MissingToFollowReason(
            f"{', '.join(unexplained)} missing from the {draft.stage.value} notice: mark each 'to follow' with the "
            "reason it is not yet known (Art. 33(4))"
        )


def check_ready_to_send(draft: NoticeDraft, deadline: Deadline, sent_at: datetime) -> None:
    """Validate a draft at sending time, including the reasons for delay a late notice must carry."""
    validate_notice(draft)
    require_delay_reasons(deadline, sent_at, draft.delay_reasons)


def render_text(draft: NoticeDraft) -> str:
    """The draft as plain text, for review, e-mail or a regulator's web form."""
    if draft.kind is NoticeKind.INDIVIDUALS:
        title, opening = _PLAIN_OPENING[draft.language]
        lines = [title.format(reference=draft.reference), "", opening]
        if draft.on_behalf_of:
            lines.append(_ON_BEHALF[draft.language].format(name=draft.on_behalf_of))
        lines.append("")
    else:
        kind = "Personal data breach notification" if draft.kind is NoticeKind.AUTHORITY else "Personal data breach"
        lines = [f"{kind} — {draft.stage.value.replace('_', '-')} notice", f"To: {draft.recipient}"]
        if draft.sender:
            lines.append(f"From: {draft.sender} (processor)")
        lines += [f"Reference: {draft.reference}", f"Became aware: {draft.aware_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"]
        if draft.previous_reference:
            lines.append(f"Follows: {draft.previous_reference}")
        if draft.delay_reasons:
            lines.append(f"Reasons for the delay: {draft.delay_reasons.strip()}")
        lines.append("")
    for section in draft.sections:
        lines.append(section.heading)
        body = section.text if section.text is not None else f"To follow: {section.to_follow or 'not yet known'}"
        lines += [f"  {line}" for line in body.splitlines()]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _build(
    kind: NoticeKind,
    facts: BreachFacts,
    recipient: str,
    stage: NoticeStage | str,
    to_follow: Mapping[NoticeField, str] | None,
    delay_reasons: str | None,
    previous_reference: str | None,
    sender: str | None,
    language: str = "en",
) -> NoticeDraft:
    if stage not in NoticeStage.__members__.values():  # the web layer may pass the plain string
        raise DomainError(f"unknown notice stage {stage!r}; use one of {', '.join(NoticeStage)}")
    stage = NoticeStage(stage)
    plain = kind is NoticeKind.INDIVIDUALS
    texts = _texts(facts, plain=plain, language=language)
    fields = list(REQUIRED_FIELDS[kind])
    if plain:  # what the person can do (Art. 34(2), read with recital 86): at least, ask
        texts[NoticeField.ADVICE] = texts[NoticeField.ADVICE] or _ASK[language]
        fields.insert(fields.index(NoticeField.CONTACT_POINT), NoticeField.ADVICE)
    headings = _PLAIN_HEADINGS[language] if plain else _HEADINGS
    notes = to_follow or {}
    sections = tuple(
        # Known contents win over a stale "to follow" note carried from an earlier stage.
        NoticeSection(
            name, headings[name], texts[name], None if texts[name] else (notes.get(name) or "").strip() or None
        )
        for name in fields
    )
    draft = NoticeDraft(
        kind=kind,
        stage=stage,
        reference=facts.reference,
        recipient=recipient,
        aware_at=facts.aware_at,
        sections=sections,
        delay_reasons=delay_reasons.strip() if delay_reasons and delay_reasons.strip() else None,
        previous_reference=previous_reference,
        sender=sender,
    )
    validate_notice(draft)
    return draft


def _texts(facts: BreachFacts, *, plain: bool, language: str = "en") -> dict[NoticeField, str | None]:
    # Individuals get the measures as plain statements; authorities see which are done and which planned.
    taken, proposed = ("", "") if plain else ("Taken: ", "Proposed: ")
    measures = [f"{taken}{m}" for m in facts.measures_taken] + [f"{proposed}{m}" for m in facts.measures_proposed]
    nature = (facts.plain_summary or facts.nature) if plain else facts.nature
    return {
        NoticeField.NATURE: _clean(nature),
        NoticeField.SUBJECT_CATEGORIES: _join(facts.data_subject_categories),
        NoticeField.SUBJECT_COUNT: _about(facts.approximate_data_subjects, "people"),
        NoticeField.RECORD_CATEGORIES: _join(facts.record_categories),
        NoticeField.RECORD_COUNT: _about(facts.approximate_records, "records"),
        NoticeField.CONTACT_POINT: facts.contact.text(language) if facts.contact else None,
        NoticeField.LIKELY_CONSEQUENCES: _clean(facts.likely_consequences),
        NoticeField.MEASURES: "\n".join(f"- {m.strip()}" for m in measures if m.strip()) or None,
        NoticeField.ADVICE: "\n".join(f"- {a.strip()}" for a in facts.advice if a.strip()) or None,
    }


def _clean(text: str | None) -> str | None:
    return text.strip() if text and text.strip() else None


def _join(items: tuple[str, ...]) -> str | None:
    return ", ".join(item.strip() for item in items if item.strip()) or None


def _about(count: int | None, unit: str) -> str | None:
    return None if count is None else f"about {count:,} {unit}"
