"""Token key rotation windows and JWKS membership; document keys; encryption at rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from services.identity.domain.keys import (
    KeyWindow,
    active_key,
    droppable,
    is_published,
    published,
    rotation_due,
    thumbprint,
)
from services.identity.service.crypto import KeyPair, SealedKeyError, generate, public_jwk, seal, sign, unseal

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TTL = timedelta(minutes=10)


def test_the_active_key_is_always_published_and_listed_first() -> None:
    old = KeyWindow("old", T0 - timedelta(days=30), retired_at=T0)
    new = KeyWindow("new", T0)
    assert [k.kid for k in published([old, new], T0 + timedelta(minutes=1), TTL)] == ["new", "old"]
    assert is_published(new, T0 + timedelta(days=3650), TTL)


def test_a_retired_key_stays_until_its_last_token_has_expired_then_is_dropped() -> None:
    old = KeyWindow("old", T0 - timedelta(days=30), retired_at=T0)
    new = KeyWindow("new", T0)
    # A token signed just before retirement lives TTL; verifiers allow some clock skew.
    assert is_published(old, T0 + TTL, TTL)
    assert is_published(old, T0 + TTL + timedelta(minutes=1), TTL)
    assert not is_published(old, T0 + TTL + timedelta(minutes=3), TTL)
    assert droppable([old, new], T0 + TTL, TTL) == []
    assert droppable([old, new], T0 + TTL + timedelta(minutes=3), TTL) == ["old"]
    assert [k.kid for k in published([old, new], T0 + timedelta(hours=1), TTL)] == ["new"]


def test_rotation_is_due_when_the_active_key_reaches_its_age_or_none_signs() -> None:
    every = timedelta(days=30)
    key = KeyWindow("k", T0)
    assert not rotation_due(key, T0 + timedelta(days=29, hours=23), every)
    assert rotation_due(key, T0 + every, every)
    assert rotation_due(None, T0, every)
    assert active_key([KeyWindow("a", T0 - every, T0), key]) == key
    assert active_key([KeyWindow("a", T0 - every, T0)]) is None


def test_the_kid_is_the_rfc7638_thumbprint() -> None:
    # RFC 8037 Appendix A.3: the thumbprint of the example Ed25519 key.
    assert thumbprint("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo") == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_a_signed_token_verifies_with_the_published_jwk_only() -> None:
    kid, x, private = generate()
    token = sign(KeyPair(kid, private), "at+jwt", {"sub": "client:shop", "tenant": "acme"})
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "kid": kid, "typ": "at+jwt"}
    key = jwt.PyJWK(public_jwk(kid, x)).key
    assert jwt.decode(token, key, algorithms=["EdDSA"])["tenant"] == "acme"
    _, other_x, _ = generate()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, jwt.PyJWK(public_jwk(kid, other_x)).key, algorithms=["EdDSA"])


def test_a_private_key_is_stored_encrypted_and_bound_to_its_kid() -> None:
    kek = "k" * 48
    kid, _, private = generate()
    sealed = seal(kek, kid, private)
    raw = private.private_bytes_raw()
    assert raw not in sealed
    assert unseal(kek, kid, sealed).private_bytes_raw() == raw
    with pytest.raises(SealedKeyError):
        unseal("j" * 48, kid, sealed)  # another key encryption key
    with pytest.raises(SealedKeyError):
        unseal(kek, "another-kid", sealed)  # copied onto another key's row
