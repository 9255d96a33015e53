"""Request and response shapes of the identity API (each request with examples for /docs)."""

from services.identity.schemas.clients import ClientCreatedOut, ClientIn, ClientOut
from services.identity.schemas.evidence import EvidencePackIn
from services.identity.schemas.oauth import JwksOut, OAuthErrorOut, RotationOut, TokenOut
from services.identity.schemas.signatures import SignatureIn, SignatureOut
from services.identity.schemas.users import UserIn, UserInvitedOut, UserOut, UserPatch

__all__ = [
    "ClientCreatedOut",
    "ClientIn",
    "ClientOut",
    "EvidencePackIn",
    "JwksOut",
    "OAuthErrorOut",
    "RotationOut",
    "SignatureIn",
    "SignatureOut",
    "TokenOut",
    "UserIn",
    "UserInvitedOut",
    "UserOut",
    "UserPatch",
]
