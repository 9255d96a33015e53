"""The portal's routers: the privacy center (public) and the console (signed in)."""

from services.portal.api.center import router as center_router
from services.portal.api.console import router as console_router

ROUTERS = [center_router, console_router]
