"""HTTP endpoints of the subprocessor service."""

from services.subprocessor.api.changes import router as changes_router
from services.subprocessor.api.demands import router as demands_router
from services.subprocessor.api.public import router as public_router
from services.subprocessor.api.register import router as register_router

ROUTERS = [register_router, changes_router, demands_router, public_router]
