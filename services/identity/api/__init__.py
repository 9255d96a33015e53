"""HTTP endpoints of the identity service."""

from services.identity.api.clients import router as clients_router
from services.identity.api.evidence import router as evidence_router
from services.identity.api.keys import router as keys_router
from services.identity.api.login import router as login_router
from services.identity.api.oauth import router as oauth_router
from services.identity.api.users import router as users_router
from services.identity.api.wellknown import router as wellknown_router

ROUTERS = [wellknown_router, oauth_router, login_router, clients_router, users_router, keys_router, evidence_router]
