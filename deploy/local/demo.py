"""The demo tenant of the local stack: a French company with its purposes, retention pack, data map and contacts.

Seeding is idempotent (an existing object is left alone, settings are put as they are), so a second
``privops up`` on the same state folder changes nothing. The demo stores of ``examples/`` register
themselves in the DSAR registry when they start. Every address is in the reserved ``.example``
domain (RFC 2606): the local SMTP server keeps the mail, nothing leaves the machine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

DEMO_TENANT = "demo"

PURPOSES: list[dict[str, Any]] = [
    {
        "key": "newsletter",
        "name": "Newsletter",
        "description": "Our monthly newsletter by email",
        "lawful_basis": "consent",
        "data_categories": ["contact.email"],
        "validity": "P3Y",
        "direct_marketing": True,
    },
    {
        "key": "analytics",
        "name": "Audience measurement",
        "description": "Cookies measuring how the product is used",
        "lawful_basis": "consent",
        "data_categories": ["usage events"],
        "validity": "P13M",
    },
    {
        "key": "targeted_ads",
        "name": "Targeted advertising",
        "description": "Sharing an advertising identifier with partners",
        "lawful_basis": "consent",
        "data_categories": ["device identifiers"],
        "validity": "P13M",
        "gpc_covered": True,
    },
    {
        "key": "service_emails",
        "name": "Service emails",
        "description": "Receipts and account notices needed to run the contract",
        "lawful_basis": "contract",
        "data_categories": ["contact.email"],
    },
]

DPO_EMAIL = "dpo@demo.example"

# The first version of each purpose's notice (consent, ``POST /v1/purposes/{key}/notices``): the texts the
# privacy center links to and that ``GET /v1/public/tenants/demo/notices`` serves with their history.
NOTICES: dict[str, dict[str, Any]] = {
    "newsletter": {
        "title": "Notre lettre d'information",
        "text": "Avec votre accord, nous vous envoyons notre lettre d'information une fois par mois à l'adresse "
        "que vous nous avez donnée.\n\nVous pouvez vous désinscrire à tout moment, par le lien de chaque lettre "
        "ou depuis le centre de confidentialité.",
    },
    "analytics": {
        "title": "Mesure d'audience",
        "text": "Avec votre accord, des cookies mesurent comment notre produit est utilisé (pages vues, durée des "
        "visites). Ils sont conservés 13 mois au plus.",
    },
    "targeted_ads": {
        "title": "Publicité ciblée",
        "text": "Avec votre accord, nous partageons un identifiant publicitaire avec nos partenaires pour vous "
        "montrer des publicités adaptées. Un signal Global Privacy Control vaut refus.",
    },
    "service_emails": {
        "title": "Courriels de service",
        "text": "Nous vous envoyons les reçus et les avis de compte nécessaires à l'exécution du contrat.",
    },
}

# People of the demo tenant who subscribed to the newsletter under its first notice: three left an address
# (``contact_email``) to be told when the notice changes, the fourth did not (counted as unreachable).
DEMO_SUBSCRIBERS: list[tuple[str, bool]] = [
    ("camille.durand@demo.example", True),
    ("louis.bernard@demo.example", True),
    ("ines.petit@demo.example", True),
    ("jules.moreau@demo.example", False),
]

# How the demo tenant's mail looks and whom its alerts reach (notify, ``PUT /v1/profile``).
NOTIFY_PROFILE: dict[str, Any] = {
    "sender_address": "confidentialite@demo.example",
    "sender_name": "Démo SAS — Confidentialité",
    "reply_to": DPO_EMAIL,
    "brand_name": "Démo SAS",
    "brand_colour": "#0f5a4f",  # also the privacy center's colour (white text on it: 7.6:1)
    "default_locale": "fr",
    "alert_emails": [DPO_EMAIL],
}

# Who the demo tenant is as a controller: what its consent receipts name (consent, ``PUT /v1/controller``).
CONTROLLER_PROFILE: dict[str, Any] = {
    "name": "Démo SAS",
    "contact": "Camille Martin, déléguée à la protection des données",
    "address": "1 rue de la Paix, 75002 Paris, France",
    "email": DPO_EMAIL,
    "phone": "+33 1 00 00 00 00",
    "url": "https://demo.example",
    "policy_url": "https://demo.example/confidentialite",
    "jurisdiction": "FR",
}

# Whom breach notices name and go to (breach, ``PUT /v1/settings``): the contact point of GDPR
# Art. 33(3)(b) and, for a controller established in France, the CNIL as lead supervisory authority
# (Art. 56). The CNIL really takes notifications through its online form
# (https://www.cnil.fr/fr/notifier-une-violation-de-donnees-personnelles): the demo sends an e-mail
# to a reserved address instead, so the notice can be read in the local mailbox.
BREACH_SETTINGS: dict[str, Any] = {
    "contact": {"name": "Camille Martin", "email": DPO_EMAIL, "phone": "+33 1 00 00 00 00", "role": "DPO"},
    "authorities": {
        "eu-gdpr": {
            "name": "Commission nationale de l'informatique et des libertés (CNIL)",
            "email": "notifications@cnil.example",
            "portal_url": "https://notifications.cnil.fr/notifications/index",
            "locale": "fr",
        }
    },
    "default_locale": "fr",
}

# The public holidays the DSAR clocks leave out (dsar, ``PUT /v1/settings``): a controller established in
# France counts the French ones (Reg. 1182/71 Arts. 2(1), 3(4), https://eur-lex.europa.eu/eli/reg/1971/1182/oj);
# a GDPR deadline ending on 14 July ends on the 15th.
DSAR_SETTINGS: dict[str, Any] = {"calendars": {"eu-gdpr": "FR"}}

# Which categories of the default retention pack each system holds (the retention data map); the keys are
# the demo stores' system keys and the categories those their ``sweep`` answers (examples/*/store.py SWEPT).
# ``consent_based`` and ``account`` are swept per person (a consent withdrawn or expired, an account closed).
RETENTION_SYSTEMS: dict[str, dict[str, Any]] = {
    "crm": {
        "categories": ["prospect", "customer", "invoice", "consent_based", "account"],
        "description": "Demo CRM (PostgreSQL)",
    },
    "analytics": {"categories": ["cookie", "consent_based", "account"], "description": "Demo analytics (SQLite)"},
}


def seed_demo_tenant(
    urls: dict[str, str],
    token: str,
    note: Callable[[str], None],
    warn: Callable[[str], None] | None = None,
    dpo_password: str | None = None,
) -> None:
    """Create the demo tenant's purposes, controller profile, retention policies, data map and contacts (``note``).

    A settings route that does not exist yet (404, 405) or a service that is not running is skipped
    with a ``warn`` (``note`` when none), so the stack starts while a service grows its API.
    """
    warn = warn or note
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=30.0, headers=headers) as client:
        created = 0
        for purpose in PURPOSES:
            response = client.post(f"{urls['consent']}/v1/purposes", json=purpose)
            created += response.status_code == 201
            _accept(response, "consent purpose " + purpose["key"])
        note(f"demo tenant: {created} purpose(s) created, {len(PURPOSES) - created} already there")
        seed_notices(client, urls["consent"], note)
        _accept(client.post(f"{urls['retention']}/v1/policies/default-pack"), "retention default pack")
        for system, body in RETENTION_SYSTEMS.items():
            _accept(client.put(f"{urls['retention']}/v1/systems/{system}", json=body), f"retention system {system}")
        _accept(client.post(f"{urls['dsar']}/v1/systems/setup"), "DSAR registry")
        note("demo tenant: retention default pack, retention data map and DSAR registry ready")
        contacts = [
            ("consent", "/v1/controller", CONTROLLER_PROFILE, "consent controller profile (named on receipts)"),
            ("notify", "/v1/profile", NOTIFY_PROFILE, "notify profile (sender, brand, locale fr, alerts to the DPO)"),
            ("breach", "/v1/settings", BREACH_SETTINGS, "breach settings (DPO contact, CNIL)"),
            ("dsar", "/v1/settings", DSAR_SETTINGS, "DSAR settings (French public holidays)"),
        ]
        for service, path, body, what in contacts:
            if service not in urls:
                warn(f"demo tenant: {what} skipped: {service} is not running")
                continue
            response = client.put(f"{urls[service]}{path}", json=body)
            if response.status_code in (404, 405):
                warn(f"demo tenant: {what} skipped: PUT {path} answers {response.status_code}")
                continue
            _accept(response, what)
            note(f"demo tenant: {what} set")
        if dpo_password and "identity" in urls:
            person = {"email": DPO_EMAIL, "name": "Camille Martin", "roles": ["dpo"], "password": dpo_password}
            response = client.post(f"{urls['identity']}/v1/users", json=person)
            _accept(response, f"console user {DPO_EMAIL}")
            note(f"demo tenant: {DPO_EMAIL} may sign in to the console (password in secrets.json)")


def seed_notices(client: httpx.Client, consent_url: str, note: Callable[[str], None]) -> None:
    """Publish the first notice of each purpose that has none; then the newsletter's first subscribers.

    Only a purpose without a notice gets one, and the subscribers only come with the newsletter's first
    notice, so a second start changes nothing.
    """
    published = []
    for key, notice in NOTICES.items():
        purpose = client.get(f"{consent_url}/v1/purposes/{key}")
        _accept(purpose, f"consent purpose {key}")
        if purpose.json().get("current_notice_version") is not None:
            continue
        _accept(
            client.post(f"{consent_url}/v1/purposes/{key}/notices", json=notice | {"language": "fr"}), f"notice {key}"
        )
        published.append(key)
    if published:
        note(f"demo tenant: notice texts published for {', '.join(published)}")
    if "newsletter" not in published:
        return
    for address, gave_address in DEMO_SUBSCRIBERS:
        body: dict[str, Any] = {
            "subject": {"kind": "email", "value": address},
            "purpose": "newsletter",
            "decision": "granted",
            "channel": "web",
            "collector": "demo-seed",
            "proof": {"form_id": "newsletter-signup", "language": "fr"},
        }
        if gave_address:
            body["contact_email"] = address
        _accept(client.post(f"{consent_url}/v1/consents", json=body), f"demo consent of {address}")
    reachable = sum(1 for _, gave in DEMO_SUBSCRIBERS if gave)
    note(f"demo tenant: {len(DEMO_SUBSCRIBERS)} newsletter subscribers ({reachable} with an address for notices)")


def _accept(response: httpx.Response, what: str) -> None:
    """Created, unchanged or already present are fine; anything else stops the stack with the problem."""
    if response.status_code in (200, 201, 204, 409):
        return
    raise RuntimeError(f"seeding {what} failed: {response.status_code} {response.text[:500]}")
