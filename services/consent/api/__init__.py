"""HTTP endpoints of the consent service (thin: validation in schemas, rules in domain, work in service)."""

from services.consent.api.checks import router as checks_router
from services.consent.api.consents import router as consents_router
from services.consent.api.imports import router as imports_router
from services.consent.api.purposes import router as purposes_router

ROUTERS = [purposes_router, consents_router, checks_router, imports_router]
