"""Pure rules of the portal: what each right asks for, how a form becomes a request, how urgent a deadline is."""

from services.portal.domain.forms import FormError, consent_choice, request_body
from services.portal.domain.rights import JURISDICTIONS, RIGHTS, STATE_LABELS, Right, right_of
from services.portal.domain.urgency import Urgency, days_left, urgency

__all__ = [
    "JURISDICTIONS",
    "RIGHTS",
    "STATE_LABELS",
    "FormError",
    "Right",
    "Urgency",
    "consent_choice",
    "days_left",
    "request_body",
    "right_of",
    "urgency",
]
