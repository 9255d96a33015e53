"""HTTP endpoints of the retention service (thin: shapes in schemas, rules in domain, use cases in service)."""

from services.retention.api.holds import router as holds_router
from services.retention.api.policies import router as policies_router
from services.retention.api.schedules import router as schedules_router
from services.retention.api.sweeps import router as sweeps_router

ROUTERS = [policies_router, schedules_router, holds_router, sweeps_router]

__all__ = ["ROUTERS"]
