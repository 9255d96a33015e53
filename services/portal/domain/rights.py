"""The six rights a person can exercise from the privacy center, and the jurisdictions the DSAR service knows.

The rights are GDPR Arts. 15-18, 20 and 21 (https://eur-lex.europa.eu/eli/reg/2016/679/oj) and
their equivalents; the jurisdiction ids are those of the DSAR service's rule table
(``services/dsar/domain/jurisdictions.py``), whose API refuses any other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Right:
    """A right as the privacy center offers it: its request type, words for people, and the fields it needs."""

    type: str
    title: str
    summary: str
    article: str
    needs: str | None = None  # "corrections", "purposes" or "target_controller"


RIGHTS: tuple[Right, ...] = (
    Right("access", "Get a copy of my data", "Learn what we hold about you and receive a copy.", "GDPR Art. 15"),
    Right(
        "rectification",
        "Correct my data",
        "Tell us which information is wrong and what it should be.",
        "GDPR Art. 16",
        "corrections",
    ),
    Right("erasure", "Delete my data", "Ask us to erase the personal data we hold about you.", "GDPR Art. 17"),
    Right(
        "restriction",
        "Restrict the use of my data",
        "Ask us to keep your data but stop using it while a question is settled.",
        "GDPR Art. 18",
    ),
    Right(
        "portability",
        "Move my data elsewhere",
        "Receive your data in a machine-readable file, or have it sent to another company.",
        "GDPR Art. 20",
        "target_controller",
    ),
    Right(
        "objection",
        "Object to a use of my data",
        "Ask us to stop using your data for a purpose, such as direct marketing.",
        "GDPR Art. 21",
        "purposes",
    ),
)

# id → name, in the order a person in Europe expects them first.
JURISDICTIONS: tuple[tuple[str, str], ...] = (
    ("eu-gdpr", "European Union (GDPR)"),
    ("uk-gdpr", "United Kingdom (UK GDPR)"),
    ("ch-nfadp", "Switzerland (nFADP)"),
    ("us-ca-ccpa", "California (CCPA/CPRA)"),
    ("us-va-vcdpa", "Virginia (VCDPA)"),
    ("us-co-cpa", "Colorado (CPA)"),
    ("us-ct-ctdpa", "Connecticut (CTDPA)"),
    ("br-lgpd", "Brazil (LGPD)"),
    ("ca-pipeda", "Canada (PIPEDA)"),
    ("ca-qc-law25", "Québec (Law 25)"),
    ("jp-appi", "Japan (APPI)"),
    ("sg-pdpa", "Singapore (PDPA)"),
    ("au-privacy-act", "Australia (Privacy Act 1988)"),
)

STATE_LABELS: dict[str, str] = {
    "received": "Received",
    "awaiting_verification": "Waiting for you to confirm your email",
    "verified": "Identity confirmed",
    "in_progress": "In progress",
    "completed": "Completed",
    "refused": "Refused",
    "cancelled": "Withdrawn",
}


def right_of(request_type: str) -> Right | None:
    """The right of ``request_type``, or None when the privacy center offers no such right."""
    return next((r for r in RIGHTS if r.type == request_type), None)
