"""The consent hot paths: ``GET /v1/checks`` and ``POST /v1/consents`` as one statement each.

Product backends call these on every page view, so they bypass the ORM and FastAPI's routing:

- ``direct.py``: the asyncpg pool (no ORM pre-ping, BEGIN or COMMIT) and what the handlers need;
- ``checks.py``: the check, one prepared statement joining purposes, projection and subject flags;
- ``write.py``: a decision as one statement (record, projection, event, audit entry, relay wake-up),
  also used by the routes inside their transaction;
- ``cache.py``: the purpose rules the write needs, cached and checked by revision in the write;
- ``endpoints.py``: the ASGI handlers (``HOT_PATHS``), which answer what they fully understand and
  leave everything else to the FastAPI routes in ``api/``.
"""
