"""HTTP routes of the DSAR service (thin: rules in domain/, use cases in service/)."""

from services.dsar.api import manual, public, requests, systems, tasks

ROUTERS = [requests.router, tasks.router, manual.router, systems.router, public.router]
