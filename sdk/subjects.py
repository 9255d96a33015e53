"""Subject references in a store: the same keyed hash the privops services use, so holds can be honoured.

A retention sweep names the subjects under legal hold by reference only (``held_subject_refs``),
never by email or id. A store recognises its own people among them by computing their references
with the same secret as the services (``PRIVOPS_SUBJECT_HASH_KEY`` here, ``<SERVICE>_SUBJECT_HASH_KEY``
there): ``HMAC-SHA256(key, "<kind>:<normalised value>")``.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.rules.subjects import IdentifierError, IdentifierKind, is_subject_ref
from shared.rules.subjects import subject_ref as _subject_ref

__all__ = ["IdentifierKind", "is_subject_ref", "subject_ref", "subject_refs"]


def _key_bytes(key: bytes | str) -> bytes:
    # The services use the UTF-8 bytes of their *_SUBJECT_HASH_KEY setting: do the same with a text key.
    return key.encode() if isinstance(key, str) else bytes(key)


def subject_ref(key: bytes | str, kind: IdentifierKind | str, value: str) -> str:
    """The subject reference of one identifier (``shared.rules.subjects.subject_ref``; a text key is UTF-8 encoded).

    Raises ``shared.rules.subjects.IdentifierError`` for a malformed identifier or an unusable key.
    """
    return _subject_ref(_key_bytes(key), kind, value)


def subject_refs(key: bytes | str, identifiers: Iterable[tuple[str, str | None]]) -> set[str]:
    """The references of a person's ``(kind, value)`` identifiers; empty and malformed values are left out.

    A malformed identifier cannot be the one a hold names: the services refuse it before hashing.
    An unusable key still raises (a deployment fault must not pass for "nobody is held").
    """
    raw = _key_bytes(key)
    refs: set[str] = set()
    for kind, value in identifiers:
        if not value:
            continue
        try:
            refs.add(_subject_ref(raw, kind, value))
        except IdentifierError as error:
            if error.field == "key":
                raise
    return refs
