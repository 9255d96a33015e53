"""Decoder for the core segment of an IAB Europe TCF v2 (v2.2) TC string.

The TC string is kept verbatim as evidence; it is decoded only to enforce what it says. Layout:
"IAB Tech Lab — Consent string and vendor list formats v2", section "The Core String": big-endian
bit fields, left to right, written in base64url without padding; segments are joined with ".".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum

from services.consent.domain.errors import MalformedTCString

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_SIXBITS = {ch: f"{index:06b}" for index, ch in enumerate(_ALPHABET)}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Far above any real string (a full core with publisher restrictions is a few kilobytes), low
# enough that a hostile header cannot make the hot path decode megabytes.
MAX_TC_STRING_LENGTH = 16_384
SUPPORTED_VERSION = 2


class RestrictionType(IntEnum):
    """A publisher restriction on a vendor's purpose."""

    NOT_ALLOWED = 0
    REQUIRE_CONSENT = 1
    REQUIRE_LEGITIMATE_INTEREST = 2


@dataclass(frozen=True, slots=True)
class PublisherRestriction:
    """The publisher's override of one purpose for a set of vendors."""

    purpose_id: int
    restriction_type: RestrictionType
    vendor_ids: frozenset[int]


@dataclass(frozen=True, slots=True)
class TCString:
    """The decoded core segment of a TC string (plus the other segments, undecoded)."""

    version: int
    created: datetime
    last_updated: datetime
    cmp_id: int
    cmp_version: int
    consent_screen: int
    consent_language: str
    vendor_list_version: int
    tcf_policy_version: int
    is_service_specific: bool
    use_non_standard_texts: bool
    special_feature_opt_ins: frozenset[int]
    purposes_consent: frozenset[int]
    purposes_li_transparency: frozenset[int]
    purpose_one_treatment: bool
    publisher_cc: str
    vendor_consents: frozenset[int]
    vendor_legitimate_interests: frozenset[int]
    publisher_restrictions: tuple[PublisherRestriction, ...] = ()
    other_segments: tuple[str, ...] = ()

    def restriction(self, purpose_id: int, vendor_id: int) -> RestrictionType | None:
        """Return the publisher's restriction on this vendor for this purpose, if any."""
        for entry in self.publisher_restrictions:
            if entry.purpose_id == purpose_id and vendor_id in entry.vendor_ids:
                return entry.restriction_type
        return None

    def consent_allows(self, purpose_id: int, vendor_id: int) -> bool:
        """True when the user consented to both the purpose and the vendor, and the publisher does not forbid it."""
        # "Require legitimate interest" takes consent off the table for that vendor and purpose.
        blocked = self.restriction(purpose_id, vendor_id) in (
            RestrictionType.NOT_ALLOWED,
            RestrictionType.REQUIRE_LEGITIMATE_INTEREST,
        )
        return not blocked and purpose_id in self.purposes_consent and vendor_id in self.vendor_consents


class _BitReader:
    """Reads big-endian bit fields from a base64url segment, naming the field when the data runs out."""

    def __init__(self, segment: str) -> None:
        self._bits = "".join(_SIXBITS[ch] for ch in segment)
        self._position = 0

    def integer(self, width: int, field: str) -> int:
        end = self._position + width
        if end > len(self._bits):
            raise MalformedTCString("tc_string", f"the core segment ends before the field {field}")
        value = int(self._bits[self._position : end], 2) if width else 0
        self._position = end
        return value

    def flag(self, field: str) -> bool:
        return self.integer(1, field) == 1

    def id_set(self, width: int, field: str) -> frozenset[int]:
        """A bit field where the leftmost bit stands for id 1."""
        start = self._position
        self.integer(width, field)
        return frozenset(i + 1 for i, bit in enumerate(self._bits[start : start + width]) if bit == "1")

    def time(self, field: str) -> datetime:
        return _EPOCH + timedelta(milliseconds=100 * self.integer(36, field))

    def letters(self, field: str) -> str:
        first, second = self.integer(6, field), self.integer(6, field)
        if first > 25 or second > 25:
            raise MalformedTCString("tc_string", f"{field} is not two letters a–z")
        return chr(ord("A") + first) + chr(ord("A") + second)

    def ranges(self, field: str, max_id: int | None = None) -> frozenset[int]:
        """NumEntries (12 bits) then entries of IsARange, StartOrOnlyVendorId and, for a range, EndVendorId."""
        spans = []
        for _ in range(self.integer(12, f"{field}.NumEntries")):
            is_range = self.flag(f"{field}.IsARange")
            start = self.integer(16, f"{field}.StartOrOnlyVendorId")
            end = self.integer(16, f"{field}.EndVendorId") if is_range else start
            if start < 1 or end < start or (max_id is not None and end > max_id):
                limit = f" and at most MaxVendorId {max_id}" if max_id is not None else ""
                raise MalformedTCString("tc_string", f"{field} has a vendor range {start}–{end}; ids run from 1{limit}")
            spans.append((start, end))
        # Merge overlapping spans first, so hostile overlaps cannot make us enumerate ids repeatedly.
        merged: list[tuple[int, int]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return frozenset(vendor for start, end in merged for vendor in range(start, end + 1))

    def vendor_section(self, field: str) -> frozenset[int]:
        """MaxVendorId, IsRangeEncoding, then a bit field or a range section."""
        max_id = self.integer(16, f"{field}.MaxVendorId")
        if self.flag(f"{field}.IsRangeEncoding"):
            return self.ranges(field, max_id)
        return self.id_set(max_id, f"{field}.BitField")


def decode_tc_string(tc_string: str) -> TCString:
    """Decode the core segment of a TCF v2 TC string; raise ``MalformedTCString`` when it is not one."""
    if not isinstance(tc_string, str) or not tc_string.strip():
        raise MalformedTCString("tc_string", "is empty")
    text = tc_string.strip()
    if len(text) > MAX_TC_STRING_LENGTH:
        raise MalformedTCString("tc_string", f"is longer than {MAX_TC_STRING_LENGTH} characters")
    # Padding is not part of the format, but some encoders add it; it carries no bits.
    segments = [segment.rstrip("=") for segment in text.split(".")]
    for index, segment in enumerate(segments):
        if not segment or any(ch not in _SIXBITS for ch in segment):
            raise MalformedTCString("tc_string", f"segment {index + 1} is not base64url (A–Z a–z 0–9 - _)")
    bits = _BitReader(segments[0])
    version = bits.integer(6, "Version")
    if version != SUPPORTED_VERSION:
        raise MalformedTCString("tc_string", f"has version {version}; only TCF v2 strings are supported")
    created, last_updated = bits.time("Created"), bits.time("LastUpdated")
    cmp_id, cmp_version = bits.integer(12, "CmpId"), bits.integer(12, "CmpVersion")
    consent_screen = bits.integer(6, "ConsentScreen")
    consent_language = bits.letters("ConsentLanguage")
    vendor_list_version = bits.integer(12, "VendorListVersion")
    tcf_policy_version = bits.integer(6, "TcfPolicyVersion")
    is_service_specific = bits.flag("IsServiceSpecific")
    use_non_standard_texts = bits.flag("UseNonStandardTexts")
    special_features = bits.id_set(12, "SpecialFeatureOptIns")
    purposes_consent = bits.id_set(24, "PurposesConsent")
    purposes_li = bits.id_set(24, "PurposesLITransparency")
    purpose_one_treatment = bits.flag("PurposeOneTreatment")
    publisher_cc = bits.letters("PublisherCC")
    vendor_consents = bits.vendor_section("VendorConsents")
    vendor_li = bits.vendor_section("VendorLegitimateInterests")
    restrictions = []
    for _ in range(bits.integer(12, "NumPubRestrictions")):
        purpose_id = bits.integer(6, "PubRestrictionEntry.PurposeId")
        code = bits.integer(2, "PubRestrictionEntry.RestrictionType")
        try:
            kind = RestrictionType(code)
        except ValueError:
            raise MalformedTCString("tc_string", f"publisher restriction type {code} is undefined") from None
        restrictions.append(PublisherRestriction(purpose_id, kind, bits.ranges("PubRestrictionEntry")))
    return TCString(
        version=version,
        created=created,
        last_updated=last_updated,
        cmp_id=cmp_id,
        cmp_version=cmp_version,
        consent_screen=consent_screen,
        consent_language=consent_language,
        vendor_list_version=vendor_list_version,
        tcf_policy_version=tcf_policy_version,
        is_service_specific=is_service_specific,
        use_non_standard_texts=use_non_standard_texts,
        special_feature_opt_ins=special_features,
        purposes_consent=purposes_consent,
        purposes_li_transparency=purposes_li,
        purpose_one_treatment=purpose_one_treatment,
        publisher_cc=publisher_cc,
        vendor_consents=vendor_consents,
        vendor_legitimate_interests=vendor_li,
        publisher_restrictions=tuple(restrictions),
        other_segments=tuple(segments[1:]),
    )
