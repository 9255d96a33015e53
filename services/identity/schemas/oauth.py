"""Shapes of the OAuth 2.0 token endpoint and the discovery documents."""

from __future__ import annotations

from pydantic import BaseModel, Field


class TokenOut(BaseModel):
    """A successful token response (RFC 6749 §5.1)."""

    access_token: str
    token_type: str = Field(description="Bearer")
    expires_in: int = Field(description="Seconds until the access token expires")
    scope: str = Field(description="The granted scopes, space-separated")
    id_token: str | None = Field(default=None, description="OpenID Connect id token (authorization code grant)")


class OAuthErrorOut(BaseModel):
    """An error of the token endpoint (RFC 6749 §5.2: not an RFC 9457 problem, the OAuth format)."""

    error: str = Field(description="invalid_request, invalid_client, invalid_grant, unauthorized_client, …")
    error_description: str | None = None


class Jwk(BaseModel):
    """An Ed25519 public key (RFC 8037 §2)."""

    kty: str
    crv: str
    x: str
    kid: str
    alg: str
    use: str


class JwksOut(BaseModel):
    """A JSON Web Key Set (RFC 7517 §5)."""

    keys: list[Jwk]


class RotationOut(BaseModel):
    """The key now signing, and the one it replaced."""

    kid: str
    retired: str | None
