"""Subject references in a store: the same keyed hash the privops services use, so holds can be honoured.

A retention sweep names the subjects under legal hold by reference only (``held_subject_refs``),
never by email or id. A store recognises its own people among them by computing their references
with the same secret as the services (``PRIVOPS_SUBJECT_HASH_KEY`` here, ``<SERVICE>_SUBJECT_HASH_KEY``
there) for the tenant the sweep or task is about (``Sweep.tenant_id``, ``SubjectSweep.tenant_id``,
``Identifiers.tenant_id``): the same person has unrelated references in two tenants.

The scheme (``shared.rules.subjects``; a worked example in ``docs/subject-references.md``)::

    v1       = hex(HMAC-SHA256(key, "<kind>:<normalised value>"))
    K_tenant = HKDF-SHA256(key, salt=None, info=b"privops subject-ref v2 tenant:" + tenant, length=32)
    ref      = hex(HMAC-SHA256(K_tenant, v1.encode("ascii")))
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.rules.subjects import IdentifierError, IdentifierKind, InvalidTenant, is_subject_ref
from shared.rules.subjects import subject_ref as _subject_ref

__all__ = ["IdentifierKind", "is_subject_ref", "subject_ref", "subject_refs"]

# Errors that are the deployment's or the caller's fault: never taken for "this identifier is malformed".
_FAULTS = frozenset({"key", "tenant"})


def _key_bytes(key: bytes | str) -> bytes:
    # The services use the UTF-8 bytes of their *_SUBJECT_HASH_KEY setting: do the same with a text key.
    return key.encode() if isinstance(key, str) else bytes(key)


def subject_ref(key: bytes | str, tenant: str, kind: IdentifierKind | str, value: str) -> str:
    """The tenant's subject reference of one identifier (``shared.rules.subjects.subject_ref``; a text key is UTF-8).

    Raises ``shared.rules.subjects.IdentifierError`` for a malformed identifier, an unusable key or
    an empty tenant.
    """
    return _subject_ref(_key_bytes(key), kind, value, tenant=tenant)


def subject_refs(key: bytes | str, tenant: str, identifiers: Iterable[tuple[str, str | None]]) -> set[str]:
    """The tenant's references of a person's ``(kind, value)`` identifiers; empty and malformed values are left out.

    A malformed identifier cannot be the one a hold names: the services refuse it before hashing.
    An unusable key or an empty tenant still raises (a deployment fault must not pass for "nobody is held").
    """
    if not isinstance(tenant, str) or not tenant:
        raise InvalidTenant("tenant", "references are computed for one tenant: pass the sweep's or task's tenant_id")
    raw = _key_bytes(key)
    refs: set[str] = set()
    for kind, value in identifiers:
        if not value:
            continue
        try:
            refs.add(_subject_ref(raw, kind, value, tenant=tenant))
        except IdentifierError as error:
            if error.field in _FAULTS:
                raise
    return refs
