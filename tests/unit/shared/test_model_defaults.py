"""Building a table model asks about each default factory once, not once per row."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic import Field as PydanticField
from pydantic._internal import _fields, _typing_extra
from sqlalchemy import Column
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

import shared.runtime.db  # noqa: F401  (installs the memo)
from shared.runtime.db import new_id, service_registry


class _Own(SQLModel, registry=service_registry()):
    """This test's models: kept out of the platform tables' metadata (the migrations check reads it)."""


class Row(_Own, table=True):
    __tablename__ = "unit_test_model_defaults_row"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSONB))
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB))


def test_the_factories_signature_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    Row()  # the first build of a kind reads each factory's signature
    calls = []
    real = _typing_extra.signature_no_eval
    monkeypatch.setattr(_typing_extra, "signature_no_eval", lambda f: calls.append(f) or real(f))
    rows = [Row() for _ in range(50)]
    assert calls == []
    assert len({r.id for r in rows}) == 50  # each row still gets its own default
    assert rows[0].tags == [] and rows[0].tags is not rows[1].tags
    assert rows[0].detail == {} and rows[0].detail is not rows[1].detail


def test_the_answer_is_the_factorys_own() -> None:
    assert getattr(_fields.takes_validated_data_argument, "remembers", False)
    assert _fields.takes_validated_data_argument(dict) is False
    assert _fields.takes_validated_data_argument(lambda data: data["a"]) is True


def test_a_factory_taking_the_validated_data_still_gets_it() -> None:
    class Model(BaseModel):
        a: int
        b: int = PydanticField(default_factory=lambda data: data["a"] + 1)

    assert Model(a=1).b == 2
    assert Model.model_construct(a=4).b == 5
