"""Subject identifiers and the keyed subject reference: one scheme for every service (``shared.rules.subjects``)."""

from shared.rules.subjects import (
    MAX_ID_LENGTH,
    MIN_KEY_BYTES,
    SUBJECT_REF_LENGTH,
    IdentifierKind,
    is_subject_ref,
    normalise_email,
    normalise_identifier,
    normalise_phone,
    parse_identifier_kind,
    subject_ref,
)

__all__ = [
    "MAX_ID_LENGTH",
    "MIN_KEY_BYTES",
    "SUBJECT_REF_LENGTH",
    "IdentifierKind",
    "is_subject_ref",
    "normalise_email",
    "normalise_identifier",
    "normalise_phone",
    "parse_identifier_kind",
    "subject_ref",
]
