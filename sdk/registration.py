"""A store registers its system in the DSAR registry for each tenant it serves when it starts."""

from __future__ import annotations

import asyncio

import httpx
import structlog

from sdk.client import PrivopsClient, PrivopsError, TokenSource
from sdk.config import WorkerConfig
from sdk.store import Store, SystemRegistration
from sdk.tokens import ClientCredentials, StaticToken, TokenRefused, TokenSigner

log = structlog.get_logger("privops.sdk.worker")


async def register(
    store: Store, config: WorkerConfig, tokens: TokenSource, registration: SystemRegistration, attempts: int = 30
) -> None:
    """Register (or update) ``config.system`` for every tenant, retrying while DSAR starts.

    A refusal (401/403, or the identity service refusing the client) is logged and the store goes on:
    at a contract's end identity deletes the tenant's store clients, while a purge task may still wait
    for this store's answer, which goes out through the broker and needs no token.
    """
    actions, system = store.supported_actions(), config.system
    assert config.dsar_url is not None
    for tenant in config.tenants:
        async with PrivopsClient(tenant=tenant, tokens=tokens, dsar_url=config.dsar_url) as client:
            for attempt in range(1, attempts + 1):
                try:
                    await client.register_system(system, registration, actions)
                    log.info("store.registered", system=system, tenant=tenant, actions=actions)
                    break
                except httpx.TransportError as exc:
                    if attempt == attempts:
                        raise
                    log.warning("store.register_retry", system=system, error=str(exc))
                    await asyncio.sleep(1.0)
                except (TokenRefused, PrivopsError) as exc:
                    if isinstance(exc, PrivopsError) and exc.status not in (401, 403):
                        raise
                    log.error("store.register_refused", system=system, tenant=tenant, error=str(exc))
                    break


def tokens_of(config: WorkerConfig) -> TokenSource:
    """The store's tokens: its client credentials, else a fixed token, else (development) the shared secret."""
    if config.identity_url and config.client_id and config.client_secret:
        return ClientCredentials(config.identity_url, config.client_id, config.client_secret)
    if config.token:
        return StaticToken(config.token)
    assert config.jwt_secret
    return TokenSigner(config.jwt_secret, subject=f"system:{config.system}")
