"""HTTP endpoints of the notify service."""

from services.notify.api.messages import router as messages_router
from services.notify.api.profile import router as profile_router
from services.notify.api.templates import router as templates_router

ROUTERS = [messages_router, profile_router, templates_router]
