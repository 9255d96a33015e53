import hashlib
import hmac

import pytest

from services.consent.domain import (
    IdentifierKind,
    InvalidIdentifier,
    InvalidSubjectKey,
    UnknownIdentifierKind,
    is_subject_ref,
    normalise_email,
    normalise_identifier,
    normalise_phone,
    parse_identifier_kind,
    subject_ref,
)
from shared.rules.subjects import tenant_subject_key

KEY = b"k" * 32
OTHER_KEY = b"o" * 32


class TestEmail:
    def test_trims_and_lowercases(self) -> None:
        assert normalise_email("  John.Doe@Example.COM ") == "john.doe@example.com"

    def test_keeps_sub_address(self) -> None:
        assert normalise_email("Jane+News@example.org") == "jane+news@example.org"

    def test_internationalised_domain_becomes_punycode(self) -> None:
        assert normalise_email("anna@Bücher.de") == "anna@xn--bcher-kva.de"

    def test_trailing_dot_of_domain_is_dropped(self) -> None:
        assert normalise_email("a@example.com.") == "a@example.com"

    @pytest.mark.parametrize(
        "value",
        [
            "",
            "   ",
            "no-at-sign",
            "a@b",
            "a@@example.com",
            "john doe@example.com",
            "@example.com",
            "john@",
            "john..doe@example.com",
            ".john@example.com",
            "john.@example.com",
            "john@-example.com",
            "john@example..com",
            "john@exa_mple.com",
            "john@10.0.0.1",
            "john@[10.0.0.1]",
            "j\x00hn@example.com",
            "x" * 65 + "@example.com",
            "a@" + "b" * 64 + ".com",
            "a@" + ".".join(["b" * 60] * 5) + ".com",
        ],
    )
    def test_rejects_malformed(self, value: str) -> None:
        with pytest.raises(InvalidIdentifier) as caught:
            normalise_email(value)
        assert caught.value.field == "email"
        assert str(caught.value).startswith("email: ")

    def test_error_never_repeats_the_address(self) -> None:
        with pytest.raises(InvalidIdentifier) as caught:
            normalise_email("secret.person@bad_domain.com")
        assert "secret.person" not in str(caught.value)

    def test_rejects_non_string(self) -> None:
        with pytest.raises(InvalidIdentifier, match="must be a string"):
            normalise_email(42)  # type: ignore[arg-type]


class TestPhone:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("+33 6 12 34 56 78", "+33612345678"),
            ("0033 6 12 34 56 78", "+33612345678"),
            ("+33\u00a06\u00a012\u00a034\u00a056\u00a078", "+33612345678"),
            ("+1 (555) 123-4567", "+15551234567"),
            ("+44 (0)20 7946 0958", "+442079460958"),
            ("+49.30.1234567", "+49301234567"),
            (" +4930/1234567 ", "+49301234567"),
            ("+6834002", "+6834002"),
        ],
    )
    def test_normalises_to_e164(self, value: str, expected: str) -> None:
        assert normalise_phone(value) == expected

    @pytest.mark.parametrize(
        "value",
        [
            "",
            "06 12 34 56 78",
            "+33 6 12 AB 56 78",
            "call me maybe",
            "+",
            "+12 34",
            "+1234567890123456",
            "++33612345678",
            "+33 6+12 34 56 78",
            "+0 123 456 789",
            "+33 6 12 34 56 78 ext 9",
            "+٣٣٦١٢٣٤٥٦٧٨",
        ],
    )
    def test_rejects_garbage(self, value: str) -> None:
        with pytest.raises(InvalidIdentifier) as caught:
            normalise_phone(value)
        assert caught.value.field == "phone"

    def test_national_format_asks_for_country_code(self) -> None:
        with pytest.raises(InvalidIdentifier, match="country code"):
            normalise_phone("06 12 34 56 78")


class TestOpaqueIds:
    @pytest.mark.parametrize(
        "kind",
        [IdentifierKind.USER_ID, IdentifierKind.COOKIE_ID, IdentifierKind.CUSTOMER_ID, IdentifierKind.DEVICE_ID],
    )
    def test_trim_and_keep_case(self, kind: IdentifierKind) -> None:
        assert normalise_identifier(kind, "  AbC-123 ") == "AbC-123"

    def test_rejects_empty(self) -> None:
        with pytest.raises(InvalidIdentifier, match=r"^user_id: is empty$"):
            normalise_identifier("user_id", "   ")

    def test_rejects_too_long(self) -> None:
        assert normalise_identifier("device_id", "d" * 256) == "d" * 256
        with pytest.raises(InvalidIdentifier, match="longer than 256"):
            normalise_identifier("device_id", "d" * 257)

    def test_rejects_control_characters(self) -> None:
        with pytest.raises(InvalidIdentifier, match="control"):
            normalise_identifier("cookie_id", "abc\ndef")

    def test_dispatches_email_and_phone(self) -> None:
        assert normalise_identifier("email", " A@B.CO ") == "a@b.co"
        assert normalise_identifier(IdentifierKind.PHONE, "+33 1 23 45 67 89") == "+33123456789"


class TestKinds:
    def test_parses_names(self) -> None:
        assert parse_identifier_kind(" EMAIL ") is IdentifierKind.EMAIL
        assert parse_identifier_kind(IdentifierKind.DEVICE_ID) is IdentifierKind.DEVICE_ID
        assert {k.value for k in IdentifierKind} == {
            "user_id",
            "email",
            "phone",
            "cookie_id",
            "customer_id",
            "device_id",
        }

    def test_rejects_unknown_kind(self) -> None:
        with pytest.raises(UnknownIdentifierKind, match=r"^kind: unknown identifier kind 'ssn'"):
            parse_identifier_kind("ssn")


class TestSubjectRef:
    def test_is_hmac_of_the_v1_reference_under_the_tenant_key(self) -> None:
        v1 = hmac.new(KEY, b"email:john.doe@example.com", hashlib.sha256).hexdigest()
        expected = hmac.new(tenant_subject_key(KEY, "acme"), v1.encode(), hashlib.sha256).hexdigest()
        assert subject_ref(KEY, "email", "  John.Doe@Example.COM ", tenant="acme") == expected
        assert len(expected) == 64

    def test_same_person_same_ref(self) -> None:
        assert subject_ref(KEY, "phone", "+33 6 12 34 56 78", tenant="acme") == subject_ref(
            KEY, "phone", "0033612345678", tenant="acme"
        )

    def test_different_key_different_ref(self) -> None:
        assert subject_ref(KEY, "email", "a@example.com", tenant="acme") != subject_ref(
            OTHER_KEY, "email", "a@example.com", tenant="acme"
        )

    def test_kind_is_part_of_the_ref(self) -> None:
        assert subject_ref(KEY, "user_id", "42", tenant="acme") != subject_ref(KEY, "customer_id", "42", tenant="acme")

    def test_different_people_different_refs(self) -> None:
        assert subject_ref(KEY, "email", "a@example.com", tenant="acme") != subject_ref(
            KEY, "email", "b@example.com", tenant="acme"
        )

    def test_rejects_short_or_missing_key(self) -> None:
        with pytest.raises(InvalidSubjectKey) as caught:
            subject_ref(b"short", "email", "a@example.com", tenant="acme")
        assert caught.value.status == 500
        with pytest.raises(InvalidSubjectKey):
            subject_ref("k" * 32, "email", "a@example.com", tenant="acme")  # type: ignore[arg-type]

    def test_rejects_malformed_identifier(self) -> None:
        with pytest.raises(InvalidIdentifier):
            subject_ref(KEY, "email", "not-an-email", tenant="acme")

    def test_is_subject_ref(self) -> None:
        assert is_subject_ref(subject_ref(KEY, "user_id", "u-1", tenant="acme"))
        assert not is_subject_ref("john.doe@example.com")
        assert not is_subject_ref("A" * 64)
        assert not is_subject_ref("a" * 64 + "\n")
        assert not is_subject_ref(None)
