"""A response model made from a table row's values is the model ``from_attributes`` makes, and cheaper."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import Field as ModelField
from sqlmodel import SQLModel

from shared.runtime.db import new_id, service_registry
from shared.runtime.views import from_row


class _Own(SQLModel, registry=service_registry()):
    """This test's models: kept out of the platform tables' metadata (the migrations check reads it)."""


class Thing(_Own, table=True):
    __tablename__ = "unit_test_views_thing"

    id: uuid.UUID = ModelField(default_factory=new_id, primary_key=True)
    name: str
    size: int | None = None
    at: datetime

    @property
    def label(self) -> str:
        return f"{self.name} ({self.size})"


class ThingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    size: int | None
    at: datetime
    label: str  # a property of the model
    parts: list[str] = []  # computed by the caller
    flagged: bool = False  # computed by the caller
    kind: str = Field(default="plain", alias="kind_of")  # neither a column nor an attribute: the default


def _thing() -> Thing:
    return Thing(name="box", size=3, at=datetime(2026, 12, 6, tzinfo=UTC))


def test_the_same_model_as_from_attributes() -> None:
    thing = _thing()
    expected = ThingOut.model_validate(thing)
    expected.parts, expected.flagged = ["lid"], True
    made = from_row(ThingOut, thing, parts=["lid"], flagged=True)
    assert made == expected
    assert made.model_dump() == expected.model_dump()
    assert made.label == "box (3)" and made.kind == "plain"


def test_a_value_given_wins_over_the_row_and_is_validated() -> None:
    thing = _thing()
    assert from_row(ThingOut, thing, size=9).size == 9
    with pytest.raises(ValidationError):
        from_row(ThingOut, thing, size="nine")


def test_a_value_not_in_the_state_is_asked_through_the_attribute() -> None:
    thing = _thing()
    del thing.__dict__["size"]  # as a column expired or deferred: the attribute answers (None on a new row)
    assert from_row(ThingOut, thing).size == ThingOut.model_validate(thing).size
