"""Subject references keyed per tenant: the published test vector, tenants apart, and v1 re-keyed to v2."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from sdk import subject_ref as sdk_subject_ref
from sdk import subject_refs as sdk_subject_refs
from shared.rules.subjects import (
    IdentifierError,
    InvalidIdentifier,
    InvalidTenant,
    is_subject_ref,
    rekey_v1,
    subject_ref,
    subject_ref_v1,
    tenant_subject_key,
)

# The test vector of docs/subject-references.md and the README: computed once, pasted here.
MASTER_KEY = b"privops-test-vector-master-key-0123456789"
TENANT, KIND, VALUE = "acme", "email", " Ada@Example.COM "
TENANT_KEY = "3ca28f4dae1947e60b8f0b487bb0443640caba688f346e2b4647eb73fe04da40"
V1 = "b8854733588fa01a4d28103ed54387fcc4ade05f02170aa7d572c2a14c9ca32f"
V2 = "4cd88e0aa5baaea7e66e011dbbece0931b76a56efc83c551c2b98dd51e0411e3"
V2_OTHER_TENANT = "c759cf01ed1d4f2ea859400a262b60fca01dc74335b0ca32e4b8755d53bf03fc"  # the same email in "globex"


def test_the_published_test_vector() -> None:
    assert tenant_subject_key(MASTER_KEY, TENANT).hex() == TENANT_KEY
    assert subject_ref_v1(MASTER_KEY, KIND, VALUE) == V1
    assert subject_ref(MASTER_KEY, KIND, VALUE, tenant=TENANT) == V2
    assert subject_ref(MASTER_KEY, KIND, "ada@example.com", tenant="globex") == V2_OTHER_TENANT
    assert sdk_subject_ref(MASTER_KEY.decode(), TENANT, KIND, VALUE) == V2


def test_the_documented_snippet_reproduces_the_vector() -> None:
    # The snippet of docs/subject-references.md, with nothing but hashlib, hmac and cryptography.
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key, tenant, message = MASTER_KEY, TENANT, b"email:ada@example.com"  # "<kind>:<normalised value>"
    v1 = hmac.new(key, message, hashlib.sha256).hexdigest()
    info = b"privops subject-ref v2 tenant:" + tenant.encode()
    k_tenant = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)
    ref = hmac.new(k_tenant, v1.encode("ascii"), hashlib.sha256).hexdigest()
    assert (k_tenant.hex(), v1, ref) == (TENANT_KEY, V1, V2)


def test_the_same_email_has_unrelated_references_in_two_tenants() -> None:
    acme = subject_ref(MASTER_KEY, "email", "ada@example.com", tenant="acme")
    globex = subject_ref(MASTER_KEY, "email", "ada@example.com", tenant="globex")
    assert acme != globex
    assert is_subject_ref(acme) and is_subject_ref(globex)
    assert tenant_subject_key(MASTER_KEY, "acme") != tenant_subject_key(MASTER_KEY, "globex")
    # A tenant id is not a prefix game: "ac" + "me" is not "acme".
    assert tenant_subject_key(MASTER_KEY, "acm") != tenant_subject_key(MASTER_KEY, "acme")


@pytest.mark.parametrize(
    ("kind", "value"), [("email", "Ada@Example.com"), ("phone", "+33 6 12 34 56 78"), ("user_id", " u-1001 ")]
)
def test_rekeying_a_v1_reference_gives_the_new_reference(kind: str, value: str) -> None:
    v1 = subject_ref_v1(MASTER_KEY, kind, value)
    for tenant in ("acme", "globex"):
        assert rekey_v1(MASTER_KEY, tenant, v1) == subject_ref(MASTER_KEY, kind, value, tenant=tenant)


def test_rekey_refuses_what_is_not_a_v1_reference() -> None:
    for bad in ("ada@example.com", "A" * 64, "a" * 63, ""):
        with pytest.raises(InvalidIdentifier):
            rekey_v1(MASTER_KEY, TENANT, bad)


def test_a_tenant_is_required() -> None:
    with pytest.raises(TypeError):
        subject_ref(MASTER_KEY, "email", "ada@example.com")  # type: ignore[call-arg]
    for tenant in ("", None):
        with pytest.raises(InvalidTenant) as caught:
            subject_ref(MASTER_KEY, "email", "ada@example.com", tenant=tenant)  # type: ignore[arg-type]
        assert caught.value.status == 500
        with pytest.raises(InvalidTenant):
            tenant_subject_key(MASTER_KEY, tenant)  # type: ignore[arg-type]


def test_sdk_refs_are_the_tenants_and_faults_are_not_mistaken_for_bad_identifiers() -> None:
    refs = sdk_subject_refs(MASTER_KEY, TENANT, [("email", VALUE), ("phone", "not a phone"), ("user_id", None)])
    assert refs == {V2}
    with pytest.raises(IdentifierError):
        sdk_subject_refs(MASTER_KEY, "", [("email", VALUE)])
    with pytest.raises(IdentifierError):
        sdk_subject_refs(b"short", TENANT, [("email", VALUE)])
