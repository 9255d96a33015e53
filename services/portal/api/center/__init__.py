"""The privacy center: what a person of the public can do for themselves, per tenant (``/p/{tenant}/…``).

Every page is a plain form that works without JavaScript; htmx only swaps the part that changed.
The portal files requests and records decisions with its own client, for the page's tenant. One
module per group of pages; they share one router (``common.router``), in the order paths must match.
"""

from services.portal.api.center import children, consent, consent_records, packages, requests, subprocessors
from services.portal.api.center.common import router

__all__ = ["children", "consent", "consent_records", "packages", "requests", "router", "subprocessors"]
