"""TCF v2 decoder tests. The strings are built by the small encoder below, written from the IAB
"Consent string and vendor list formats v2" core-string table, so each expected value is known."""

import base64
from collections.abc import Iterable
from datetime import UTC, datetime

import pytest

from services.consent.domain import MalformedTCString, RestrictionType, decode_tc_string
from services.consent.domain.tcf import MAX_TC_STRING_LENGTH

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
CREATED = datetime(2024, 5, 1, 12, 0, 0, 300000, tzinfo=UTC)
UPDATED = datetime(2024, 5, 2, 8, 30, tzinfo=UTC)


def bits(value: int, width: int) -> str:
    assert 0 <= value < 1 << width
    return format(value, f"0{width}b") if width else ""


def letters(code: str) -> str:
    return "".join(bits(ord(ch) - ord("A"), 6) for ch in code)


def id_field(ids: Iterable[int], width: int) -> str:
    chosen = set(ids)
    return "".join("1" if i + 1 in chosen else "0" for i in range(width))


def range_entries(spans: list[tuple[int, int]]) -> str:
    out = bits(len(spans), 12)
    for start, end in spans:
        out += ("1" + bits(start, 16) + bits(end, 16)) if end != start else ("0" + bits(start, 16))
    return out


def vendor_section(ids: set[int], *, ranges: list[tuple[int, int]] | None = None, max_id: int | None = None) -> str:
    top = max(ids, default=0) if max_id is None else max_id
    if ranges is not None:
        return bits(top, 16) + "1" + range_entries(ranges)
    return bits(top, 16) + "0" + id_field(ids, top)


def to_base64url(bitstring: str) -> str:
    bitstring += "0" * (-len(bitstring) % 6)
    return "".join(ALPHABET[int(bitstring[i : i + 6], 2)] for i in range(0, len(bitstring), 6))


def deciseconds(moment: datetime) -> int:
    return round(moment.timestamp() * 10)


def core_bits(
    *,
    version: int = 2,
    cmp_id: int = 300,
    cmp_version: int = 7,
    consent_screen: int = 3,
    language: str = "FR",
    vendor_list_version: int = 150,
    policy_version: int = 4,
    service_specific: bool = True,
    non_standard_texts: bool = False,
    special_features: Iterable[int] = (1,),
    purposes_consent: Iterable[int] = (1, 2, 3, 4, 7, 24),
    purposes_li: Iterable[int] = (2, 7, 10),
    purpose_one_treatment: bool = False,
    publisher_cc: str = "DE",
    vendors: str | None = None,
    vendors_li: str | None = None,
    restrictions: str = bits(0, 12),
) -> str:
    return (
        bits(version, 6)
        + bits(deciseconds(CREATED), 36)
        + bits(deciseconds(UPDATED), 36)
        + bits(cmp_id, 12)
        + bits(cmp_version, 12)
        + bits(consent_screen, 6)
        + letters(language)
        + bits(vendor_list_version, 12)
        + bits(policy_version, 6)
        + bits(service_specific, 1)
        + bits(non_standard_texts, 1)
        + id_field(special_features, 12)
        + id_field(purposes_consent, 24)
        + id_field(purposes_li, 24)
        + bits(purpose_one_treatment, 1)
        + letters(publisher_cc)
        + (vendors if vendors is not None else vendor_section({2, 6, 8, 755}))
        + (vendors_li if vendors_li is not None else vendor_section({6, 32}))
        + restrictions
    )


def encode(**fields: object) -> str:
    return to_base64url(core_bits(**fields))  # type: ignore[arg-type]


class TestRoundTrip:
    def test_every_core_field(self) -> None:
        tc = decode_tc_string(encode())
        assert tc.version == 2
        assert tc.created == CREATED
        assert tc.last_updated == UPDATED
        assert (tc.cmp_id, tc.cmp_version, tc.consent_screen) == (300, 7, 3)
        assert tc.consent_language == "FR"
        assert tc.vendor_list_version == 150
        assert tc.tcf_policy_version == 4
        assert tc.is_service_specific is True
        assert tc.use_non_standard_texts is False
        assert tc.special_feature_opt_ins == {1}
        assert tc.purposes_consent == {1, 2, 3, 4, 7, 24}
        assert tc.purposes_li_transparency == {2, 7, 10}
        assert tc.purpose_one_treatment is False
        assert tc.publisher_cc == "DE"
        assert tc.vendor_consents == {2, 6, 8, 755}
        assert tc.vendor_legitimate_interests == {6, 32}
        assert tc.publisher_restrictions == ()
        assert tc.other_segments == ()

    def test_flags_set_the_other_way(self) -> None:
        tc = decode_tc_string(
            encode(service_specific=False, non_standard_texts=True, purpose_one_treatment=True, special_features=())
        )
        assert (tc.is_service_specific, tc.use_non_standard_texts, tc.purpose_one_treatment) == (False, True, True)
        assert tc.special_feature_opt_ins == frozenset()

    def test_range_encoding_gives_the_same_vendors_as_a_bit_field(self) -> None:
        ids = {1, 2, 3, 4, 5, 90, 400, 401, 402}
        by_range = encode(vendors=vendor_section(ids, ranges=[(1, 5), (90, 90), (400, 402)]))
        by_bits = encode(vendors=vendor_section(ids))
        assert decode_tc_string(by_range).vendor_consents == decode_tc_string(by_bits).vendor_consents == ids

    def test_overlapping_ranges_are_merged(self) -> None:
        tc = decode_tc_string(
            encode(vendors_li=vendor_section(set(), ranges=[(10, 20), (15, 30), (31, 31)], max_id=40))
        )
        assert tc.vendor_legitimate_interests == set(range(10, 32))

    def test_empty_vendor_sections(self) -> None:
        tc = decode_tc_string(encode(vendors=vendor_section(set()), vendors_li=vendor_section(set())))
        assert tc.vendor_consents == tc.vendor_legitimate_interests == frozenset()

    def test_publisher_restrictions(self) -> None:
        restrictions = (
            bits(2, 12)
            + bits(2, 6)
            + bits(RestrictionType.NOT_ALLOWED, 2)
            + range_entries([(6, 6)])
            + bits(7, 6)
            + bits(RestrictionType.REQUIRE_CONSENT, 2)
            + range_entries([(1, 10)])
        )
        tc = decode_tc_string(encode(restrictions=restrictions))
        assert [(r.purpose_id, r.restriction_type, set(r.vendor_ids)) for r in tc.publisher_restrictions] == [
            (2, RestrictionType.NOT_ALLOWED, {6}),
            (7, RestrictionType.REQUIRE_CONSENT, set(range(1, 11))),
        ]
        assert tc.restriction(2, 6) is RestrictionType.NOT_ALLOWED
        assert tc.restriction(2, 8) is None

    def test_other_segments_are_kept_verbatim(self) -> None:
        tc = decode_tc_string(encode() + ".IFoEUQQgAIQwgIwQABAEAAAAOIAACAIAAAAQAIAgEAACEAAAAAgAQBAAAAAAAGBAAgAAAAA")
        assert tc.other_segments == ("IFoEUQQgAIQwgIwQABAEAAAAOIAACAIAAAAQAIAgEAACEAAAAAgAQBAAAAAAAGBAAgAAAAA",)

    def test_standard_base64url_with_padding_is_read_too(self) -> None:
        raw = core_bits()
        raw += "0" * (-len(raw) % 8)
        text = base64.urlsafe_b64encode(int(raw, 2).to_bytes(len(raw) // 8, "big")).decode()
        assert decode_tc_string(text).vendor_consents == {2, 6, 8, 755}

    @pytest.mark.parametrize(
        "example",
        [
            "COvFyGBOvFyGBAbAAAENAPCAAOAAAAAAAAAAAEEUACCKAAA",
            "CLcVDxRMWfGmWAVAHCENAXCkAKDAADnAABRgA5mdfCKZuYJez-NQm0TBMYA4oCAAGQYIAAAAAAEAIAEgAA.argAC0gAAAAAAAAAAAA",
        ],
    )
    def test_examples_from_the_iab_specification_decode(self, example: str) -> None:
        # A misaligned field would not land on version 2 and the letters "EN".
        tc = decode_tc_string(example)
        assert tc.version == 2
        assert tc.consent_language == "EN"


class TestEnforcement:
    def test_consent_needs_purpose_and_vendor(self) -> None:
        tc = decode_tc_string(encode())
        assert tc.consent_allows(1, 755) is True
        assert tc.consent_allows(5, 755) is False  # purpose 5 not consented
        assert tc.consent_allows(1, 3) is False  # vendor 3 not consented

    def test_publisher_restriction_overrides_consent(self) -> None:
        restrictions = (
            bits(2, 12)
            + bits(1, 6)
            + bits(RestrictionType.NOT_ALLOWED, 2)
            + range_entries([(2, 2)])
            + bits(3, 6)
            + bits(RestrictionType.REQUIRE_LEGITIMATE_INTEREST, 2)
            + range_entries([(6, 6)])
        )
        tc = decode_tc_string(encode(restrictions=restrictions))
        assert tc.consent_allows(1, 2) is False
        assert tc.consent_allows(3, 6) is False
        assert tc.consent_allows(1, 6) is True


class TestMalformed:
    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("", "is empty"),
            ("   ", "is empty"),
            ("CO+vFyGB/OvFyGB", "not base64url"),
            ("COvFyGBOvF!yGB", "not base64url"),
            ("COvFyGBOvFyGBAbAAAENAPCAAOAAAAAAAAAAAEEUACCKAAA..abc", "segment 2"),
            ("BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA", "version 1"),
            ("CO", "ends before the field Created"),
        ],
    )
    def test_rejects(self, text: str, message: str) -> None:
        with pytest.raises(MalformedTCString, match=message) as caught:
            decode_tc_string(text)
        assert caught.value.field == "tc_string"

    def test_rejects_truncated_core(self) -> None:
        whole = encode()
        with pytest.raises(MalformedTCString, match="ends before the field"):
            decode_tc_string(whole[: len(whole) // 2])

    def test_rejects_missing_publisher_restriction_count(self) -> None:
        # The count is required even when it is 0; padding to a whole character adds fewer than 12 bits.
        with pytest.raises(MalformedTCString, match="NumPubRestrictions"):
            decode_tc_string(to_base64url(core_bits(restrictions="")))

    def test_rejects_letters_outside_a_to_z(self) -> None:
        bad = core_bits().replace(letters("DE"), bits(26, 6) + bits(3, 6), 1)
        with pytest.raises(MalformedTCString, match="PublisherCC"):
            decode_tc_string(to_base64url(bad))

    @pytest.mark.parametrize(
        ("ranges", "max_id"),
        [([(9, 3)], 10), ([(0, 0)], 10), ([(5, 12)], 10)],
    )
    def test_rejects_impossible_vendor_ranges(self, ranges: list[tuple[int, int]], max_id: int) -> None:
        with pytest.raises(MalformedTCString, match="VendorConsents has a vendor range"):
            decode_tc_string(encode(vendors=vendor_section(set(), ranges=ranges, max_id=max_id)))

    def test_rejects_undefined_restriction_type(self) -> None:
        restrictions = bits(1, 12) + bits(1, 6) + bits(3, 2) + range_entries([(2, 2)])
        with pytest.raises(MalformedTCString, match="restriction type 3"):
            decode_tc_string(encode(restrictions=restrictions))

    def test_rejects_oversized_input_and_non_strings(self) -> None:
        with pytest.raises(MalformedTCString, match="longer than"):
            decode_tc_string("C" * (MAX_TC_STRING_LENGTH + 1))
        with pytest.raises(MalformedTCString):
            decode_tc_string(None)  # type: ignore[arg-type]
