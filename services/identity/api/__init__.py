"""HTTP endpoints of the identity service."""

from services.identity.api.clients import router as clients_router
from services.identity.api.keys import router as keys_router
from services.identity.api.oauth import router as oauth_router
from services.identity.api.wellknown import router as wellknown_router

ROUTERS = [wellknown_router, oauth_router, clients_router, keys_router]
