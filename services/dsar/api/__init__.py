"""HTTP routes of the DSAR service (thin: rules in domain/, use cases in service/)."""

from services.dsar.api import contract_ends, manual, portability, public, requests, settings, systems, tasks

ROUTERS = [
    requests.router,
    portability.router,
    tasks.router,
    manual.router,
    systems.router,
    settings.router,
    public.router,
    contract_ends.router,
    contract_ends.stores,
]
