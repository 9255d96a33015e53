"""HTTP endpoints of the consent service (thin: validation in schemas, rules in domain, work in service)."""

from services.consent.api.checks import router as checks_router
from services.consent.api.consents import router as consents_router
from services.consent.api.imports import router as imports_router
from services.consent.api.notices import router as notices_router
from services.consent.api.public_notices import router as public_notices_router
from services.consent.api.purposes import router as purposes_router
from services.consent.api.receipts import router as receipts_router

# The check router comes first: routes are matched in order, and checks are the hot path.
ROUTERS = [
    checks_router,
    purposes_router,
    notices_router,
    consents_router,
    receipts_router,
    imports_router,
    public_notices_router,
]
