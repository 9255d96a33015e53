"""The grammar of privops scopes, and what one scope grants (pure).

A scope is ``<service>:<level>`` with ``admin`` ⊃ ``write`` ⊃ ``read`` inside one service, or one
of the special scopes below, which grant exactly themselves. ``grants`` is the rule every service
applies to a token (``shared.runtime.auth.Principal.has_scope`` has the same semantics); the
identity service applies it again when a client asks for a token or a new client is made, so no
one can hand out more than they hold (the "no widening" rule). Three special scopes are handed
out by the administrator of what they open rather than by their holders (``HANDED_OUT_BY``): the
DSAR administrator registers data stores, the platform operator registers privops services.

``evidence:read`` stands beside them: it reads what every service keeps as proof of compliance for
the tenant (``GET /v1/evidence`` on each service) and has the identity service assemble it into a
signed evidence pack (``POST /v1/evidence-packs``): the documentation a processor makes available
to its customer and an auditor (GDPR Art. 28(3)(h) and 5(2),
https://eur-lex.europa.eu/eli/reg/2016/679/oj). It is not a service's level, so ``consent:admin``
does not grant it; the roles that audit hold it (``shared.rules.roles``), and the identity
administrator hands it out.
"""

from __future__ import annotations

from collections.abc import Iterable

LEVELS = ("read", "write", "admin")
# Every service whose endpoints answer ``<service>:<level>`` scopes (identity included).
SCOPED_SERVICES = ("consent", "dsar", "retention", "breach", "subprocessor", "notify", "identity")
# Scopes outside the level ladder, each granting only itself:
SPECIAL = {
    "dsar:task": "a data store claims and answers the DSAR tasks addressed to its system",
    "notify:claim": "the notify service fetches a message's address and values from its claim URL",
    "identity:sign": "a privops service has the identity service sign a document (certificate, receipt)",
    "platform:admin": "the platform operator: token keys, clients of every tenant and of the services",
}
EVIDENCE_READ = "evidence:read"
# Scopes outside the level ladder that people hold (through their roles), each granting only itself:
SHARED = {
    EVIDENCE_READ: "read every service's evidence of compliance for the tenant and have it assembled into a signed "
    "evidence pack (GDPR Art. 28(3)(h))",
}

# Who may hand out a special scope without holding it: the DSAR administrator registers data stores
# (their clients hold dsar:task), the platform operator registers privops services.
HANDED_OUT_BY = {
    "dsar:task": "dsar:admin",
    "notify:claim": "platform:admin",
    "identity:sign": "platform:admin",
    EVIDENCE_READ: "identity:admin",
}


def grants(held: Iterable[str], needed: str) -> bool:
    """True when one of ``held`` grants ``needed`` (admin ⊃ write ⊃ read within one service)."""
    scopes = set(held)
    if needed in scopes:
        return True
    service, _, level = needed.partition(":")
    if level not in LEVELS:
        return False
    stronger = LEVELS[LEVELS.index(level) + 1 :]
    return any(f"{service}:{s}" in scopes for s in stronger)


def is_known(scope: str) -> bool:
    """Whether ``scope`` is a scope privops knows (a service's level or a special scope)."""
    if scope in SPECIAL or scope in SHARED:
        return True
    service, _, level = scope.partition(":")
    return service in SCOPED_SERVICES and level in LEVELS


def unknown(scopes: Iterable[str]) -> list[str]:
    """The scopes of ``scopes`` privops does not know, sorted."""
    return sorted({s for s in scopes if not is_known(s)})


def not_granted(held: Iterable[str], wanted: Iterable[str]) -> list[str]:
    """The scopes of ``wanted`` that ``held`` does not grant, sorted (empty: no widening)."""
    holding = set(held)
    return sorted({s for s in wanted if not grants(holding, s)})


def may_hand_out(held: Iterable[str], scope: str) -> bool:
    """Whether a holder of ``held`` may give ``scope`` to a client or person: it grants it, or administers it."""
    holding = set(held)
    return grants(holding, scope) or (scope in HANDED_OUT_BY and grants(holding, HANDED_OUT_BY[scope]))


def beyond(held: Iterable[str], wanted: Iterable[str]) -> list[str]:
    """The scopes of ``wanted`` a holder of ``held`` may not hand out, sorted (empty: no widening)."""
    holding = set(held)
    return sorted({s for s in wanted if not may_hand_out(holding, s)})


def strongest(held: Iterable[str]) -> list[str]:
    """``held`` without the scopes another of them already grants (``dsar:read`` beside ``dsar:admin``), sorted."""
    holding = set(held)
    return sorted(s for s in holding if not grants(holding - {s}, s))


def every_scope() -> list[str]:
    """Every scope privops knows: each service's three levels, then the special and shared scopes."""
    return [f"{s}:{level}" for s in SCOPED_SERVICES for level in LEVELS] + list(SPECIAL) + list(SHARED)


def parse(text: str | None) -> list[str]:
    """The scopes of a space-separated ``scope`` parameter or claim (RFC 6749 §3.3), de-duplicated, in order."""
    return list(dict.fromkeys((text or "").split()))
