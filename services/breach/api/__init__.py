"""HTTP endpoints of the breach service."""

from services.breach.api.incidents import router as incidents_router
from services.breach.api.individuals import router as individuals_router
from services.breach.api.notices import router as notices_router
from services.breach.api.settings import router as settings_router

ROUTERS = [incidents_router, notices_router, individuals_router, settings_router]
