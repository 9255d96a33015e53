"""The one table of people's roles and the scopes each gives (pure).

A person signed in to the console gets the scopes of their roles, and nothing else: the table below
is the only place that says what a role may do. The levels are those of each service's API
(``read`` ⊂ ``write`` ⊂ ``admin``); what they open, service by service:

- consent: write records decisions (a withdrawal taken by phone, Art. 7(3)); admin defines
  purposes, publishes notice versions, sets the controller's identity and runs imports (the
  information given to people, Art. 13 and 14).
- dsar: write registers requests, sends and confirms verification codes, records recipients,
  cancels; admin makes the decisions the law puts on the controller: verifying an identity by
  hand, extending the deadline (Art. 12(3)), refusing (Art. 12(5)), releasing an access package.
- retention: write places and releases legal holds and records account closures; admin changes
  retention policies (storage limitation, Art. 5(1)(e)) and runs sweeps now.
- breach: write reports, assesses and closes incidents and sends their notices (Art. 33 and 34);
  admin sets the tenant's breach settings.
- subprocessor: write maintains the register, proposes changes, records objections (Art. 28(2)) and
  records demands from public authorities; admin decides those demands and records what is disclosed
  (Art. 28(3)(a): the processor discloses only what the law requires).
- notify: write records bounces; admin sets the sender, the privacy team's alert targets and the
  templates people receive.
- identity: read lists who has access; admin registers clients and people and gives roles.

The roles:

- ``admin`` — the tenant's administrator: every service's admin level, ``identity:admin`` and
  ``evidence:read``. The only role that gives access to others.
- ``dpo`` — the data protection officer and the privacy team's lead (Art. 37–39): the
  controller's decisions on requests (``dsar:admin``), what people are told (``consent:admin``),
  how long data is kept (``retention:admin``), breaches and their notification, where the DPO is
  the contact point (``breach:admin``, Art. 33(3)(b)), the subprocessor register and the decisions on
  authorities' demands (``subprocessor:admin``), the messages people receive (``notify:admin``), who has access
  (``identity:read``, accountability, Art. 5(2)), and the evidence pack a customer or an authority
  asks for (``evidence:read``, Art. 28(3)(h)). Not ``identity:admin``: who may act is the
  administrator's decision, so the officer monitoring compliance does not grant themselves access.
- ``privacy_analyst`` — handles requests day to day: ``dsar:write`` (not refusals or extensions,
  which the DPO decides), ``consent:write`` to record a withdrawal a person asks for, and reads
  retention, breaches, subprocessors and messages to answer people.
- ``security_lead`` — runs incidents: ``breach:admin``, and reads everything else to assess what
  a breach touched (which data, whose, kept how long, processed by whom).
- ``auditor`` — internal or external audit: every service's ``read`` level and the evidence pack
  (``evidence:read``, Art. 28(3)(h): audits and inspections), and nothing that changes anything.

``evidence:read`` changes nothing: it reads each service's evidence of compliance, without personal
data, and has the identity service sign the pack it assembles.

No role carries the special scopes: ``dsar:task`` (a data store's), ``notify:claim`` and
``identity:sign`` (privops services'), ``platform:admin`` (the platform operator's).
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.rules.scopes import EVIDENCE_READ, SCOPED_SERVICES, strongest


def _every(level: str) -> frozenset[str]:
    return frozenset(f"{service}:{level}" for service in SCOPED_SERVICES)


_READ = _every("read")

ROLES: dict[str, frozenset[str]] = {
    "admin": _every("admin") | {EVIDENCE_READ},
    "dpo": frozenset(
        {
            "dsar:admin",
            "consent:admin",
            "retention:admin",
            "breach:admin",
            "subprocessor:admin",
            "notify:admin",
            "identity:read",
            EVIDENCE_READ,
        }
    ),
    "privacy_analyst": frozenset(
        {
            "dsar:write",
            "consent:write",
            "retention:read",
            "breach:read",
            "subprocessor:read",
            "notify:read",
        }
    ),
    "security_lead": (_READ - {"breach:read"}) | {"breach:admin"},
    "auditor": _READ | {EVIDENCE_READ},
}


class UnknownRole(ValueError):
    """A role the table does not have."""


def scopes_for(roles: Iterable[str]) -> list[str]:
    """The scopes a person with ``roles`` gets, sorted, none implied by another (UnknownRole for an unknown role)."""
    scopes: set[str] = set()
    for role in roles:
        if role not in ROLES:
            raise UnknownRole(f"unknown role {role!r}; roles are {', '.join(sorted(ROLES))}")
        scopes |= ROLES[role]
    return strongest(scopes)
