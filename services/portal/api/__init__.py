"""The portal's routers: the privacy center (public) and the console (signed in), one module per console area."""

from services.portal.api.center import router as center_router
from services.portal.api.console import router as console_router
from services.portal.api.console_audit import router as console_audit_router
from services.portal.api.console_breaches import router as console_breaches_router
from services.portal.api.console_consent import router as console_consent_router
from services.portal.api.console_consent_notices import router as console_consent_notices_router
from services.portal.api.console_contract_ends import router as console_contract_ends_router
from services.portal.api.console_demands import router as console_demands_router
from services.portal.api.console_evidence import router as console_evidence_router
from services.portal.api.console_individuals import router as console_individuals_router
from services.portal.api.console_requests import router as console_requests_router
from services.portal.api.console_retention import router as console_retention_router
from services.portal.api.console_vendors import router as console_vendors_router

ROUTERS = [
    center_router,
    console_router,
    console_requests_router,
    console_breaches_router,
    console_vendors_router,
    console_retention_router,
    console_consent_router,
    console_audit_router,
    console_demands_router,
    console_contract_ends_router,
    console_evidence_router,
    console_individuals_router,
    console_consent_notices_router,
]
