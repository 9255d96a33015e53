"""What each role of the one role table (``shared/rules/roles.py``) may and may not do, stated as intent.

Checked with ``shared.rules.scopes.grants`` (admin ⊃ write ⊃ read), so a scope a role holds through a stronger
one counts: "no :admin" means nothing of the role administers anything.
"""

from __future__ import annotations

from typing import get_args

import pytest

from services.identity.schemas.users import Role
from shared.rules.roles import ROLES, scopes_for
from shared.rules.scopes import EVIDENCE_READ, LEVELS, SCOPED_SERVICES, SPECIAL, every_scope, grants

EVERY_LEVEL = [f"{s}:{level}" for s in SCOPED_SERVICES for level in LEVELS]


def granted(role: str) -> set[str]:
    """Every scope the role's token lets through, implied ones included (special scopes only when held)."""
    held = scopes_for([role])
    return {s for s in every_scope() if grants(held, s)}


def test_the_table_has_the_five_roles_people_are_given() -> None:
    assert set(ROLES) == {"admin", "dpo", "privacy_analyst", "security_lead", "auditor"}
    assert set(get_args(Role)) == set(ROLES), "the identity API's roles and the table differ"


def test_the_auditor_holds_read_scopes_only() -> None:
    assert all(s.endswith(":read") for s in ROLES["auditor"])
    assert granted("auditor") == {f"{s}:read" for s in SCOPED_SERVICES} | {EVIDENCE_READ}


def test_the_security_lead_holds_breach_admin() -> None:
    assert "breach:admin" in ROLES["security_lead"]
    assert {s for s in granted("security_lead") if not s.endswith(":read")} == {"breach:write", "breach:admin"}


def test_the_privacy_analyst_administers_nothing() -> None:
    assert not {s for s in granted("privacy_analyst") if s.endswith(":admin")}
    assert {"dsar:write", "consent:write"} <= granted("privacy_analyst")


@pytest.mark.parametrize("scope", ["identity:admin", "identity:write"])
def test_nobody_but_the_admin_gives_access(scope: str) -> None:
    assert [role for role in ROLES if scope in granted(role)] == ["admin"]


def test_the_admin_administers_every_service() -> None:
    assert granted("admin") == set(EVERY_LEVEL) | {EVIDENCE_READ}


def test_the_evidence_pack_is_read_by_those_who_audit() -> None:
    """The documentation a customer or an authority asks for (GDPR Art. 28(3)(h)): the DPO, the auditor, the admin."""
    assert [role for role in ROLES if EVIDENCE_READ in granted(role)] == ["admin", "dpo", "auditor"]


@pytest.mark.parametrize("scope", sorted({"dsar:task", "notify:claim", "identity:sign", "platform:admin", *SPECIAL}))
def test_no_role_holds_a_narrow_scope(scope: str) -> None:
    """A store's, a privops service's and the platform operator's scopes are never a person's."""
    assert [role for role in ROLES if scope in granted(role)] == []
    assert scope not in scopes_for(list(ROLES))  # not even every role at once
