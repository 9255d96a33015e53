"""Request and response shapes of the consent API (each with examples for /docs)."""

from services.consent.schemas.consents import ConsentIn, ConsentOut, SubjectIdentifier

__all__ = ["ConsentIn", "ConsentOut", "SubjectIdentifier"]
