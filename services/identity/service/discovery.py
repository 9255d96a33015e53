"""The issuer's metadata (OpenID Connect Discovery 1.0 §3, RFC 8414 §2)."""

from __future__ import annotations

from typing import Any

from services.identity.domain.logins import OIDC_SCOPES
from services.identity.domain.pkce import METHOD
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
        "authorization_endpoint": f"{issuer}/authorize",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "subject_types_supported": ["public"],
        "code_challenge_methods_supported": [METHOD],
        "authorization_response_iss_parameter_supported": True,
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "email",
            "name",
            "tenant",
            "roles",
        ],
        "grant_types_supported": list(GRANT_TYPES),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": [*OIDC_SCOPES, *every_scope()],
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "privops_document_jwks_uri_template": f"{issuer}/.well-known/privops/tenants/{{tenant}}/jwks.json",
    }
