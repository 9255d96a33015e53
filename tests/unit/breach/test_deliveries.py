"""A delivery's status moves only forward on the notify service's outcomes."""

from __future__ import annotations

import pytest

from services.breach.domain.deliveries import DeliveryStatus, after_outcome

R, S, D, F, P = (
    DeliveryStatus.REQUESTED,
    DeliveryStatus.SENT,
    DeliveryStatus.DELIVERED,
    DeliveryStatus.FAILED,
    DeliveryStatus.SUBMITTED,
)


@pytest.mark.parametrize(
    ("current", "outcome", "expected"),
    [
        (R, S, S),
        (R, D, D),  # delivered told first (outcomes are keyed per message, but a retry may overtake)
        (S, D, D),
        (R, F, F),
        (S, F, F),
        (D, F, F),  # a bounce reported after the mailbox took it: the bounce is the truth
        (S, S, None),  # the same fact again
        (D, D, None),
        (D, S, None),  # a late "sent" does not move a delivered message back
        (F, D, None),  # given up is final
        (F, S, None),
        (P, D, None),  # a person's portal submission is not notify's to change
    ],
)
def test_outcomes_move_a_delivery_forward_only(
    current: DeliveryStatus, outcome: DeliveryStatus, expected: DeliveryStatus | None
) -> None:
    assert after_outcome(current, outcome) is expected


def test_plain_strings_as_stored() -> None:
    assert after_outcome("requested", "delivered") is DeliveryStatus.DELIVERED
    with pytest.raises(ValueError):
        after_outcome("lost", "sent")
