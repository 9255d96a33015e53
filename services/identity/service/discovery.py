"""The issuer's metadata (OpenID Connect Discovery 1.0 §3, RFC 8414 §2)."""

from __future__ import annotations

from typing import Any

from services.identity.domain.tokens import ALGORITHM
from services.identity.service.tokens import GRANT_TYPES
from services.identity.settings import IdentitySettings
from shared.rules.scopes import every_scope


def metadata(settings: IdentitySettings) -> dict[str, Any]:
    """What a client needs to know to use this issuer."""
    issuer = settings.issuer
    return {
        "issuer": issuer,
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "token_endpoint": f"{issuer}/oauth/token",
        "grant_types_supported": list(GRANT_TYPES),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": every_scope(),
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "privops_document_jwks_uri_template": f"{issuer}/.well-known/privops/tenants/{{tenant}}/jwks.json",
    }
