"""Consent given by a young person: the parent or guardian joins in below the age of their country.

GDPR Art. 8(1) (https://eur-lex.europa.eu/eli/reg/2016/679/oj): below the age of digital consent
(13 to 16, per Member State) the holder of parental responsibility gives or authorises the consent.
The form asks the country and birth year; under the age, the guardian's name, address and consent.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.portal.api.center.common import (
    brand_of,
    form_page,
    from_this_site,
    keep_visitor,
    problem_page,
    refused,
    router,
    visitor_of,
)
from services.portal.api.center.consent import proof_of, subject_of
from services.portal.api.deps import FormDep, Portal, PortalDep
from services.portal.domain import FormError
from services.portal.domain.children import COUNTRIES, child_consent
from services.portal.service import center as backends
from services.portal.service.backends import BackendError
from services.portal.service.center import Brand


async def _purpose(portal: Portal, tenant: str, key: str) -> dict[str, Any]:
    found = next((p for p in await portal.backends.purposes(tenant) if p["key"] == key), None)
    if found is None or found.get("lawful_basis") != "consent":
        raise BackendError(404, "There is no such use of your data to consent to.")
    return found


def _form(
    portal: Portal,
    request: Request,
    tenant: str,
    brand: Brand,
    purpose: dict[str, Any],
    values: dict[str, list[str]],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    countries = sorted(COUNTRIES.items(), key=lambda item: item[1][0])
    shown = {k: v[0] for k, v in values.items() if v and k != "csrf"}
    this_year = portal.clock.now().year
    return form_page(
        portal,
        request,
        tenant,
        "center/child.html",
        status,
        brand=brand,
        purpose=purpose,
        countries=countries,
        values=shown,
        errors=errors,
        this_year=this_year,
    )


@router.get("/consent/{purpose}/child", response_class=HTMLResponse)
async def child_form(tenant: str, purpose: str, request: Request, portal: PortalDep) -> Response:
    """The form of a young person's consent to one purpose."""
    try:
        brand = await brand_of(portal, tenant)
        found = await _purpose(portal, tenant, purpose)
    except BackendError as exc:
        return problem_page(portal, tenant, exc)
    return _form(portal, request, tenant, brand, found, {}, {})


@router.post("/consent/{purpose}/child", response_class=HTMLResponse)
async def child_consent_given(
    tenant: str, purpose: str, form: FormDep, request: Request, portal: PortalDep
) -> Response:
    """Record the consent with the age and, under the country's age, the guardian; then the history."""
    visitor, new = visitor_of(request)
    try:
        brand = await brand_of(portal, tenant)
        if not from_this_site(request, portal, form):
            return refused(portal, tenant, brand)
        found = await _purpose(portal, tenant, purpose)
    except BackendError as exc:
        return problem_page(portal, tenant, exc)
    try:
        child = child_consent(form, portal.clock.now().year)
        proof = proof_of(request, "privacy-center/guardian" if child.needs_guardian else "privacy-center/age")
        await backends.record_child_consent(portal.backends, tenant, subject_of(visitor), purpose, child, proof)
    except FormError as exc:
        return _form(portal, request, tenant, brand, found, form, exc.errors, 422)
    except BackendError as exc:
        if exc.status not in (400, 409, 422):
            return problem_page(portal, tenant, exc, brand)
        return _form(portal, request, tenant, brand, found, form, {"form": exc.detail}, 422)
    done = RedirectResponse(f"/p/{tenant}/consent/history", status_code=303)
    return keep_visitor(done, request, portal, tenant, visitor) if new else done
