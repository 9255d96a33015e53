"""Outgoing HTTP clients of the services: one TLS context per process, not one per client.

``httpx.AsyncClient()`` builds a fresh SSL context and loads the CA bundle into it each time, which
costs 10–80 ms of CPU on this project's reference machine, more than the call it is made for. The
services open a client per call in many places (a certificate's signature, a claim check, an
export's upload, a round of webhook deliveries), so they take it from here with the process's one
context, built the way httpx builds its default (certifi's bundle, ``SSL_CERT_FILE`` honoured).
"""

from __future__ import annotations

import functools
import ssl
from typing import Any

import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The process's TLS context for outgoing calls, made on first use."""
    return httpx.create_ssl_context()


def http_client(**options: Any) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` with ``options``, verifying servers with the process's TLS context."""
    options.setdefault("verify", tls_context())
    return httpx.AsyncClient(**options)
