"""Outgoing clients share the process's one TLS context, and it still verifies servers."""

from __future__ import annotations

import ssl

from shared.runtime.http import http_client, tls_context


async def test_clients_share_one_verifying_tls_context() -> None:
    context = tls_context()
    assert tls_context() is context
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0  # a CA bundle is loaded
    async with http_client(timeout=1.0) as first, http_client(timeout=1.0) as second:
        assert first.timeout.connect == 1.0 and second is not first
