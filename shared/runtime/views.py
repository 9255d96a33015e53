"""A response model made from a table row: the row's loaded values, read once, not asked one by one.

``Schema.model_validate(row)`` with ``from_attributes`` asks the row for every field of the schema
with ``getattr``. A field the view computes and the row lacks (a count, a list of children, a flag
folded from a column) raises ``AttributeError`` through pydantic's ``__getattr__`` of the table
model, and the exception is most of the cost: a breach incident's view took 33 µs that way and
8 µs from its values (pydantic 2, CPython 3.11). A list of fifty incidents with their clocks paid
it a few hundred times per request.

``from_row(Schema, row, **values)`` gives the same model: each field the row's mapping has as a
column is read from the instance's loaded state (SQLAlchemy keeps a loaded column's value in the
instance's ``__dict__``; one that is not loaded is read through its attribute, as ``getattr``
would), any other attribute the model class defines (a property) through ``getattr``, and the
fields the caller computes are given as ``values``. Validation is pydantic's, unchanged.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import inspect as sa_inspect

S = TypeVar("S", bound=BaseModel)

# (schema, model) → ((key in the schema's input and attribute of the row, whether the row's class has it), …)
_PLANS: dict[tuple[type[BaseModel], type[Any]], tuple[tuple[str, bool], ...]] = {}


def _plan(schema: type[BaseModel], model: type[Any]) -> tuple[tuple[str, bool], ...]:
    found = _PLANS.get((schema, model))
    if found is not None:
        return found
    columns = {prop.key for prop in sa_inspect(model).column_attrs}
    plan = []
    for name, field in schema.model_fields.items():
        alias = field.validation_alias if isinstance(field.validation_alias, str) else field.alias
        key = alias or name  # from_attributes asks the row for the alias, when the field has one
        plan.append((key, key in columns or hasattr(model, key)))
    _PLANS[(schema, model)] = found = tuple(plan)
    return found


def from_row(schema: type[S], row: Any, /, **values: Any) -> S:
    """``schema`` made from the table row ``row`` (an ORM instance), with ``values`` for the fields it computes."""
    state = row.__dict__
    data: dict[str, Any] = {}
    for key, declared in _plan(schema, type(row)):
        if key in values:
            continue
        if key in state:
            data[key] = state[key]
        elif declared:
            data[key] = getattr(row, key)  # not loaded, or a property: asked as from_attributes asks
    data.update(values)
    return schema.model_validate(data, from_attributes=True)
