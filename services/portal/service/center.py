"""What the privacy center reads and sends beyond requests and decisions: the tenant's brand, notices and
banner, a browser's consent history and receipts, download packages, the subprocessor feed and the
customer's answer to a change notice.

Every call goes to a service's public API: with the portal's own token for the page's tenant, or with
no token where the link a person or customer was sent carries the credential (a package's token, a
notice's token). Endpoints newer than some deployments are asked for first and fall back on a 404.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from services.portal.domain.children import ChildConsent
from services.portal.service.backends import BackendError, Backends, error_of
from shared.runtime.tokens import TokenRequestFailed, service_tokens

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_COLOUR = "#0b4f8a"
BRAND_SCOPES = ("notify:read",)


@dataclass(frozen=True)
class Brand:
    """The tenant as its privacy center shows it: its name and its colour (a ``#rrggbb`` value)."""

    tenant: str
    name: str = ""
    colour: str = DEFAULT_COLOUR

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", self.name or self.tenant)
        if not COLOUR.match(self.colour):  # never put anything but a colour in the page's style
            object.__setattr__(self, "colour", DEFAULT_COLOUR)


async def brand(backends: Backends, tenant: str) -> Brand:
    """The controller's name (consent's controller profile) and the brand colour (notify's tenant profile)."""
    return await backends.shared(f"brand:{tenant}", lambda: _brand(backends, tenant))


async def _brand(backends: Backends, tenant: str) -> Brand:
    name = await backends.tenant_name(tenant)
    try:
        # A token of its own: a portal client without notify:read still serves pages, in the default colour.
        token = await service_tokens(backends.settings).token(tenant, BRAND_SCOPES)
        profile = await backends.call("GET", f"{backends.settings.notify_url}/v1/profile", token=token)
    except (BackendError, TokenRequestFailed):
        return Brand(tenant, name)
    return Brand(tenant, name, str(profile.get("brand_colour") or DEFAULT_COLOUR))


async def _public_or_none(backends: Backends, path: str, tenant: str) -> Any:
    """The consent service's public answer at ``path``, or None when it has no such endpoint (404)."""
    try:
        return await backends.call("GET", backends.settings.consent_url + path)
    except BackendError as exc:
        if exc.status in (404, 405):
            return None
        raise


async def purposes_with_notices(backends: Backends, tenant: str) -> list[dict[str, Any]]:
    """The purposes, each with its notice in force: the public notice texts when the consent service has them."""
    return await backends.shared(f"purposes:{tenant}", lambda: _purposes_with_notices(backends, tenant))


async def _purposes_with_notices(backends: Backends, tenant: str) -> list[dict[str, Any]]:
    purposes = await backends.purposes(tenant)
    published = await _public_or_none(backends, f"/v1/public/tenants/{tenant}/notices", tenant)
    items = published.get("notices", published.get("items")) if isinstance(published, dict) else published
    for notice in items if isinstance(items, list) else []:
        purpose = next((p for p in purposes if p["key"] == notice.get("purpose")), None)
        if purpose is not None and notice.get("text"):
            purpose["notice"] = {k: notice.get(k) for k in ("version", "text", "url", "material", "published_at")}
    return purposes


async def banner(backends: Backends, tenant: str) -> dict[str, Any] | None:
    """The consent banner's notice of a material change of the notices, when there is one to show."""
    try:
        path = f"/v1/public/tenants/{tenant}/banner"
        answer = await backends.shared(f"banner:{tenant}", lambda: _public_or_none(backends, path, tenant))
    except BackendError:
        return None  # a banner never keeps a page from showing
    if not isinstance(answer, dict):
        return None
    changed = answer.get("material_change") or answer.get("material") or answer.get("reconsent_required")
    text = answer.get("text") or answer.get("message") or answer.get("title")
    if not changed:
        return None
    return {"text": str(text or "We changed how we use your data. Please review your choices below."), **answer}


async def history(backends: Backends, tenant: str, subject: dict[str, str]) -> list[dict[str, Any]]:
    """Every decision recorded for ``subject``, newest first."""
    answer = await backends.center(
        "POST", backends.settings.consent_url, "/v1/subjects/history", tenant, json={"subject": subject}
    )
    records: list[dict[str, Any]] = list(answer.get("records", []))
    return sorted(records, key=lambda r: str(r.get("occurred_at")), reverse=True)


async def receipt(backends: Backends, tenant: str, consent_id: uuid.UUID) -> str:
    """The signed receipt of one record (a compact JWS)."""
    token = await backends._center_token(tenant)
    url = f"{backends.settings.consent_url}/v1/consents/{consent_id}/receipt"
    response = await _raw(backends, url, {"Authorization": f"Bearer {token}", "Accept": "application/jwt"})
    return response.text


async def _raw(backends: Backends, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """The answer of a GET that is not JSON (raises ``BackendError`` as ``Backends.call`` does)."""
    try:
        response = await backends.http.get(url, headers=headers or {})
    except httpx.HTTPError as exc:
        raise BackendError(503, "The service is not available right now; please try again later.") from exc
    if response.status_code >= 400:
        raise error_of(response)
    return response


async def package_info(backends: Backends, package_id: uuid.UUID, token: str) -> dict[str, Any]:
    """What a download link leads to (its size, until when it works): 404 wrong link, 410 expired."""
    url = f"{backends.settings.dsar_url}/v1/packages/{package_id}"
    response = await _raw(backends, str(httpx.URL(url, params={"token": token})))
    info: dict[str, Any] = response.json()
    return info


async def package(backends: Backends, package_id: uuid.UUID, token: str) -> bytes:
    """The ZIP behind a download link (the token is the credential): 404 wrong link, 410 expired."""
    url = f"{backends.settings.dsar_url}/v1/packages/{package_id}/download"
    response = await _raw(backends, str(httpx.URL(url, params={"token": token})))
    return response.content


async def change_feed(backends: Backends, tenant: str) -> bytes:
    """The Atom feed of the tenant's subprocessor changes, as the subprocessor service publishes it."""
    response = await _raw(backends, f"{backends.settings.subprocessor_url}/public/{tenant}/subprocessors.atom")
    return response.content


def _notice_url(backends: Backends, notice_id: uuid.UUID) -> str:
    return f"{backends.settings.subprocessor_url}/public/notices/{notice_id}"


async def notice(backends: Backends, notice_id: uuid.UUID, token: str) -> dict[str, Any]:
    """A change notice as its customer sees it (the token the notice carries is the credential)."""
    result: dict[str, Any] = await backends.call(
        "GET", _notice_url(backends, notice_id), headers={"X-Notice-Token": token}
    )
    return result


async def acknowledge(backends: Backends, notice_id: uuid.UUID, token: str) -> dict[str, Any]:
    """The customer acknowledges the notice."""
    url = _notice_url(backends, notice_id) + "/acknowledgement"
    result: dict[str, Any] = await backends.call("POST", url, headers={"X-Notice-Token": token})
    return result


async def object_to(backends: Backends, notice_id: uuid.UUID, token: str, reason: str) -> dict[str, Any]:
    """The customer objects to the notice's change, with its reason."""
    url = _notice_url(backends, notice_id) + "/objection"
    result: dict[str, Any] = await backends.call(
        "POST", url, headers={"X-Notice-Token": token}, json={"reason": reason}
    )
    return result


async def record_child_consent(
    backends: Backends, tenant: str, subject: dict[str, str], purpose: str, child: ChildConsent, proof: dict[str, str]
) -> dict[str, Any]:
    """Record a grant with the person's country and age, and the guardian's consent when Art. 8 needs it.

    The consent API keeps the guardian as its ``guardian`` evidence (consent given, and how it was
    checked); it has no field for the guardian's name or address, so the guardian's address receives
    the signed receipt (``receipt_to``: kept only until the mail is delivered), which tells them of the
    consent given in their name and lets them withdraw it.
    """
    body: dict[str, Any] = {
        "subject": subject,
        "purpose": purpose,
        "decision": "granted",
        "channel": "web",
        "collector": "privacy-center",
        "proof": proof,
        "country": child.country,
        "age": child.age,
    }
    if child.needs_guardian:
        body["guardian"] = {"consent": True, "verification_method": "email_confirmation"}
        body["receipt_to"] = child.guardian_email
    result: dict[str, Any] = await backends.center(
        "POST", backends.settings.consent_url, "/v1/consents", tenant, json=body
    )
    return result
