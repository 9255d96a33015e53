"""Request and response shapes of the notify API (each request with examples for /docs)."""

from services.notify.schemas.messages import AttemptOut, BounceIn, MessageDetailOut, MessageOut, MessagePage, RetryIn
from services.notify.schemas.profile import ProfileIn, ProfileOut
from services.notify.schemas.templates import OverrideIn, OverrideOut, PreviewIn, PreviewOut, TemplateOut

__all__ = [
    "AttemptOut",
    "BounceIn",
    "MessageDetailOut",
    "MessageOut",
    "MessagePage",
    "OverrideIn",
    "OverrideOut",
    "PreviewIn",
    "PreviewOut",
    "ProfileIn",
    "ProfileOut",
    "RetryIn",
    "TemplateOut",
]
