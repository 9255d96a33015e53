"""Errors raised by the consent rules; the web layer renders each one as an RFC 9457 problem."""

from __future__ import annotations

from typing import ClassVar

from shared.rules.errors import RuleViolation

# The identifier errors belong to the cross-service subject scheme; re-exported for this service's callers.
from shared.rules.subjects import InvalidIdentifier as InvalidIdentifier
from shared.rules.subjects import InvalidSubjectKey as InvalidSubjectKey
from shared.rules.subjects import UnknownIdentifierKind as UnknownIdentifierKind


class DomainError(RuleViolation):
    """A consent rule was broken by the input; nothing was changed."""

    code: ClassVar[str] = "consent-rule-broken"
    title: ClassVar[str] = "The input breaks a consent rule"
    status: ClassVar[int] = 422

    def __init__(self, field: str, detail: str) -> None:
        # The field name leads the message so a caller sees at once which input to fix.
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.detail = detail


class UnknownLawfulBasis(DomainError):
    """The lawful basis is not one of the six of GDPR Art. 6(1)."""

    code = "unknown-lawful-basis"
    title = "Unknown lawful basis"


class InvalidCountry(DomainError):
    """A country is not an ISO 3166-1 alpha-2 code."""

    code = "invalid-country"
    title = "Invalid country code"


class InvalidAge(DomainError):
    """An age or birth date is impossible (negative, in the future, after the consent date)."""

    code = "invalid-age"
    title = "Invalid age or birth date"


class GuardianConsentRequired(DomainError):
    """A child's consent was given without the verified consent of the holder of parental responsibility."""

    code = "guardian-consent-required"
    title = "Consent of the holder of parental responsibility is required"


class InvalidTimestamp(DomainError):
    """A time is naive (no timezone) or otherwise unusable."""

    code = "invalid-timestamp"
    title = "Invalid timestamp"


class InvalidPurposeRules(DomainError):
    """A purpose's configuration (validity, notice version, basis) is unusable."""

    code = "invalid-purpose-rules"
    title = "Invalid purpose configuration"


class InvalidConsentRecord(DomainError):
    """A consent record is incomplete or inconsistent."""

    code = "invalid-consent-record"
    title = "Invalid consent record"


class MalformedTCString(DomainError):
    """An IAB TCF TC string cannot be decoded."""

    code = "malformed-tc-string"
    title = "Malformed TCF consent string"


class InvalidReceipt(DomainError):
    """A consent receipt cannot be built from the inputs given."""

    code = "invalid-receipt"
    title = "Invalid consent receipt input"


class UnknownPurpose(DomainError):
    """The purpose is not in the tenant's catalogue."""

    code = "unknown-purpose"
    title = "Unknown purpose"


class UnknownNoticeVersion(DomainError):
    """The notice version named was never published for the purpose."""

    code = "unknown-notice-version"
    title = "Unknown notice version"


class NoticeVersionExpired(DomainError):
    """The notice version was superseded or had expired when the decision was made."""

    code = "notice-version-expired"
    title = "The notice version had expired"


class NoticeTextMismatch(DomainError):
    """The hash of the text shown differs from the published notice version's hash."""

    code = "notice-text-mismatch"
    title = "The text shown is not the published notice"


class TcfPurposeNotConsented(DomainError):
    """A grant comes with a TC string that does not record consent to the purpose's TCF purpose."""

    code = "tcf-purpose-not-consented"
    title = "The TC string does not record this consent"


class InvalidImportRow(DomainError):
    """A row of a bulk import cannot be read as a consent decision."""

    code = "invalid-import-row"
    title = "Invalid import row"
