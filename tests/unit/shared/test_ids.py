"""Bulk identifiers: random version-4 UUIDs that behave as ``uuid.UUID`` everywhere they go."""

from __future__ import annotations

import uuid

from pydantic import BaseModel

from shared.runtime.db import new_id, new_ids


class Holder(BaseModel):
    id: uuid.UUID


def test_bulk_ids_are_distinct_random_version_4_uuids() -> None:
    ids = new_ids(20_000)
    assert len(set(ids)) == len(ids) == 20_000
    assert all(isinstance(i, uuid.UUID) and i.version == 4 and i.variant == uuid.RFC_4122 for i in ids)
    # Every one of the 122 random bits varies across the batch (none is stuck by the bit setting).
    varying = 0
    for one in ids:
        varying |= one.int ^ ids[0].int
    assert bin(varying).count("1") == 122
    assert new_ids(0) == []


def test_a_bulk_id_equals_and_hashes_as_the_same_uuid_and_round_trips_as_text() -> None:
    (one,) = new_ids(1)
    same = uuid.UUID(str(one))
    assert one == same and same == one and hash(one) == hash(same) and {one} == {same}
    assert Holder(id=one).model_dump(mode="json") == {"id": str(same)}
    assert Holder.model_validate_json(Holder(id=one).model_dump_json()).id == same
    assert isinstance(new_id(), uuid.UUID) and new_id().version == 4
