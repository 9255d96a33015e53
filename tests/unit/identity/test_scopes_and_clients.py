"""Scope grammar, the no-widening rule, and what makes a client registration valid."""

from __future__ import annotations

import itertools

import pytest

from services.identity.domain.clients import ClientKind, Registration, check_registration, subject, widening
from services.identity.domain.errors import InvalidClient
from shared.rules import scopes
from shared.runtime.auth import Principal


def test_levels_nest_within_one_service_only() -> None:
    assert scopes.grants(["dsar:admin"], "dsar:read")
    assert scopes.grants(["dsar:write"], "dsar:write")
    assert not scopes.grants(["dsar:write"], "dsar:admin")
    assert not scopes.grants(["dsar:admin"], "consent:read")
    assert not scopes.grants(["dsar:admin"], "dsar:task")  # special scopes grant only themselves
    assert scopes.grants(["dsar:task"], "dsar:task")
    assert not scopes.grants(["platform:admin"], "identity:admin")


def test_grants_is_the_rule_every_service_applies_to_a_token() -> None:
    """``grants`` and ``Principal.has_scope`` agree on every pair of known scopes."""
    every = scopes.every_scope()
    for held, needed in itertools.product(every, every):
        principal = Principal(tenant_id="acme", scopes=frozenset([held]), subject="x")
        assert scopes.grants([held], needed) == principal.has_scope(needed), (held, needed)


def test_known_scopes_include_identity_and_the_special_ones() -> None:
    assert {"identity:read", "identity:write", "identity:admin"} <= set(scopes.every_scope())
    assert {"dsar:task", "notify:claim", "identity:sign", "platform:admin"} <= set(scopes.every_scope())
    assert scopes.unknown(["dsar:admin", "dsar:delete", "billing:read", "platform:read"]) == [
        "billing:read",
        "dsar:delete",
        "platform:read",
    ]


def test_no_widening_uses_the_level_ladder() -> None:
    assert widening(["dsar:admin", "consent:write"], ["dsar:read", "consent:write"]) == []
    assert widening(["dsar:write"], ["dsar:admin", "dsar:read"]) == ["dsar:admin"]
    assert widening(["identity:admin"], ["identity:sign"]) == ["identity:sign"]


def test_special_scopes_are_handed_out_by_who_administers_them() -> None:
    """The DSAR administrator registers stores; the platform operator registers services."""
    assert widening(["identity:admin", "dsar:admin"], ["dsar:task"]) == []
    assert widening(["identity:admin", "dsar:write"], ["dsar:task"]) == ["dsar:task"]
    assert widening(["platform:admin"], ["identity:sign", "notify:claim"]) == []
    assert widening(["dsar:admin"], ["identity:sign"]) == ["identity:sign"]
    assert not scopes.grants(["dsar:admin"], "dsar:task")  # administering is not holding: no token gets it


def reg(**changes: object) -> Registration:
    base: dict[str, object] = {
        "client_id": "shop-backend",
        "tenant": "acme",
        "kind": ClientKind.BACKEND,
        "scopes": ("consent:write",),
    }
    return Registration(**(base | changes))  # type: ignore[arg-type]


def test_a_valid_registration_of_each_kind_passes() -> None:
    check_registration(reg())
    check_registration(reg(kind=ClientKind.STORE, scopes=("dsar:task",), system="crm"))
    check_registration(reg(kind=ClientKind.SERVICE, tenant="*", scopes=("identity:sign", "dsar:admin")))
    check_registration(reg(kind=ClientKind.ADMIN, tenant="*", scopes=("platform:admin",)))
    check_registration(reg(kind=ClientKind.CONSOLE, scopes=(), redirect_uris=("https://console.acme.example/cb",)))
    check_registration(reg(kind=ClientKind.CONSOLE, scopes=(), redirect_uris=("http://127.0.0.1:5173/cb",)))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"client_id": "A"}, "client_id"),
        ({"tenant": "*"}, "tenant"),  # a backend is tenant-bound
        ({"kind": ClientKind.SERVICE}, "tenant"),  # a service acts on every tenant
        ({"scopes": ("dsar:delete",)}, "scopes"),
        ({"kind": ClientKind.STORE, "scopes": ("dsar:task",)}, "system"),  # a store names its system
        ({"kind": ClientKind.STORE, "scopes": ("dsar:task", "consent:read"), "system": "crm"}, "scopes"),
        ({"scopes": ("dsar:task",)}, "scopes"),  # dsar:task is a store's
        ({"system": "crm"}, "system"),
        ({"scopes": ("identity:sign",)}, "scopes"),  # privops services only
        ({"kind": ClientKind.CONSOLE, "scopes": ()}, "redirect_uris"),
        ({"kind": ClientKind.CONSOLE, "scopes": ("dsar:read",), "redirect_uris": ("https://a.example/cb",)}, "scopes"),
        ({"kind": ClientKind.CONSOLE, "scopes": (), "redirect_uris": ("http://evil.example/cb",)}, "redirect_uris"),
        ({"kind": ClientKind.CONSOLE, "scopes": (), "redirect_uris": ("https://a.example/cb#x",)}, "redirect_uris"),
        ({"redirect_uris": ("https://a.example/cb",)}, "redirect_uris"),
    ],
)
def test_a_registration_breaking_a_rule_names_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidClient) as caught:
        check_registration(reg(**changes))
    assert caught.value.field == field


def test_subjects_follow_the_contract() -> None:
    assert subject(ClientKind.STORE, "crm-store", "crm") == "system:crm"
    assert subject(ClientKind.SERVICE, "dsar", None) == "service:dsar"
    assert subject(ClientKind.BACKEND, "shop", None) == "client:shop"
    assert subject(ClientKind.ADMIN, "ops", None) == "client:ops"
