"""The six lawful bases of GDPR Art. 6(1) and what to answer when no consent record exists."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from services.consent.domain.errors import UnknownLawfulBasis


class LawfulBasis(StrEnum):
    """A lawful basis for processing (GDPR Art. 6(1)(a)–(f))."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    VITAL_INTEREST = "vital_interest"
    PUBLIC_TASK = "public_task"
    LEGITIMATE_INTEREST = "legitimate_interest"


ARTICLE = {
    LawfulBasis.CONSENT: "GDPR Art. 6(1)(a)",
    LawfulBasis.CONTRACT: "GDPR Art. 6(1)(b)",
    LawfulBasis.LEGAL_OBLIGATION: "GDPR Art. 6(1)(c)",
    LawfulBasis.VITAL_INTEREST: "GDPR Art. 6(1)(d)",
    LawfulBasis.PUBLIC_TASK: "GDPR Art. 6(1)(e)",
    LawfulBasis.LEGITIMATE_INTEREST: "GDPR Art. 6(1)(f)",
}

# Art. 21(1) lets a person object to processing based on public task or legitimate interest;
# the controller must then stop unless it demonstrates compelling grounds, which is a human
# assessment, so the hot path answers "no" until the objection is lifted.
OBJECTABLE = frozenset({LawfulBasis.PUBLIC_TASK, LawfulBasis.LEGITIMATE_INTEREST})


@dataclass(frozen=True, slots=True)
class BasisDecision:
    """What the lawful basis alone allows, and why."""

    allowed: bool
    objected: bool
    reason: str


def parse_lawful_basis(value: LawfulBasis | str) -> LawfulBasis:
    """Turn a basis name such as ``"legitimate_interest"`` into a ``LawfulBasis``; reject unknown ones."""
    try:
        return LawfulBasis(value.strip().lower() if isinstance(value, str) else value)
    except ValueError:
        known = ", ".join(b.value for b in LawfulBasis)
        raise UnknownLawfulBasis("lawful_basis", f"unknown lawful basis {value!r}; use one of {known}") from None


def objection_applies(basis: LawfulBasis, *, direct_marketing: bool = False) -> bool:
    """True when an objection stops the processing: Art. 21(1) bases, consent, or any direct marketing."""
    # Direct marketing: the objection is absolute whatever the basis (Art. 21(2)–(3)).
    # Consent: an objection to consent-based processing is read as a withdrawal (Art. 7(3)).
    return direct_marketing or basis in OBJECTABLE or basis is LawfulBasis.CONSENT


def default_decision(
    basis: LawfulBasis | str, *, objected: bool = False, direct_marketing: bool = False
) -> BasisDecision:
    """Answer from the lawful basis alone, when no consent record exists for the person and purpose."""
    basis = parse_lawful_basis(basis)
    article = ARTICLE[basis]
    if objected and objection_applies(basis, direct_marketing=direct_marketing):
        if direct_marketing:
            why = "an objection to direct marketing is absolute (GDPR Art. 21(3))"
        else:
            why = "processing stops unless the controller demonstrates compelling legitimate grounds (GDPR Art. 21(1))"
        return BasisDecision(allowed=False, objected=True, reason=f"the person objected; {why}")
    if basis is LawfulBasis.CONSENT:
        return BasisDecision(
            allowed=False,
            objected=False,
            reason=f"the purpose relies on consent ({article}) and no consent is recorded; silence is not consent",
        )
    if basis in OBJECTABLE:
        return BasisDecision(
            allowed=True,
            objected=False,
            reason=f"the purpose relies on {basis.value.replace('_', ' ')} ({article}) and the person has not objected",
        )
    return BasisDecision(
        allowed=True,
        objected=False,
        reason=f"the purpose relies on {basis.value.replace('_', ' ')} ({article}), which does not depend on consent",
    )
