"""The identity service: application factory."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import FastAPI

from services.identity.api import ROUTERS
from services.identity.api.oauth import OAUTH_RESPONSES
from services.identity.handlers import SUBSCRIPTIONS
from services.identity.jobs import JOBS
from services.identity.service import bootstrap
from services.identity.service.evidence import EVIDENCE
from services.identity.service.keys import OwnTokenKeys, ensure_token_key
from services.identity.service.tokens import own_token
from services.identity.settings import IdentitySettings
from shared.rules.clock import Clock
from shared.runtime.auth import TokenVerifier
from shared.runtime.jobs import JobContext
from shared.runtime.service import ServiceSpec, create_service_app
from shared.runtime.settings import load_settings
from shared.runtime.tokens import service_tokens

SPEC = ServiceSpec(
    name="identity",
    title="privops identity",
    description="The platform's token issuer and the only holder of private keys: OAuth 2.0 client credentials "
    "for services, stores and backends, an OpenID Connect provider for people signing in to the console, "
    "Ed25519 (EdDSA) access tokens published through a JWKS, and each tenant's "
    "document signatures (certificates of erasure, consent receipts), verifiable by anyone for ever.",
    routers=ROUTERS,
    subscriptions=SUBSCRIPTIONS,
    jobs=JOBS,
    evidence=EVIDENCE,
    openapi_tags=[
        {"name": "oauth", "description": "The token endpoint (RFC 6749); its errors are OAuth errors, not problems"},
        {"name": "discovery", "description": "JWKS of the token keys and of each tenant's document keys; metadata"},
        {"name": "sign-in", "description": "OpenID Connect: the login form, userinfo, invitations (pages for people)"},
        {"name": "clients", "description": "Clients of a tenant (or of every tenant): register, rotate, disable"},
        {"name": "users", "description": "People of a tenant, their roles, passwords and invitations"},
        {"name": "keys", "description": "Key rotation"},
        {"name": "signatures", "description": "Documents signed with the tenant's key"},
    ],
)


def create_app(settings: IdentitySettings | None = None, clock: Clock | None = None) -> FastAPI:
    """Build the identity service from the environment (or the given settings and clock)."""
    the_settings = settings or load_settings(IdentitySettings)
    bootstrap.declared(the_settings)  # refuse to start on a bad file or inline JSON, before anything runs
    app = create_service_app(SPEC, the_settings, clock=clock)
    # The service verifies its own EdDSA tokens with its own keys, read from its database: no HTTP round trip.
    app.state.token_verifier = TokenVerifier(
        the_settings.jwt_secret.get_secret_value() if the_settings.jwt_secret else None,
        jwks_url=the_settings.jwt_jwks_url,
        audience=the_settings.jwt_audience,
        issuer=the_settings.jwt_issuer,
        key_resolver=OwnTokenKeys(lambda: app.state.database),
    )
    app.router.lifespan_context = _starting(app.router.lifespan_context)
    app.openapi = _oauth_errors_documented(app.openapi)  # type: ignore[method-assign]
    return app


def _starting(lifespan: Callable[[FastAPI], Any]) -> Callable[[FastAPI], Any]:
    """The factory's lifespan, then: the bootstrap file loaded, a token key ready to sign, its own tokens."""

    @contextlib.asynccontextmanager
    async def starting(app: FastAPI) -> AsyncIterator[None]:
        async with lifespan(app):
            state = app.state
            context = JobContext(database=state.database, clock=state.clock, settings=state.settings)
            await bootstrap.load(context)
            await ensure_token_key(context)
            # Its DSAR store calls the DSAR service like any store, with a token it signs itself.
            service_tokens(state.settings).issue_locally(functools.partial(own_token, context))
            yield

    return starting


def _oauth_errors_documented(document: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """The OpenAPI document with the token endpoint's errors in the OAuth format (RFC 6749 §5.2)."""

    def openapi() -> dict[str, Any]:
        schema = document()
        responses = schema["paths"]["/oauth/token"]["post"]["responses"]
        for code, response in OAUTH_RESPONSES.items():
            responses[str(code)] = response
        return schema

    return openapi
