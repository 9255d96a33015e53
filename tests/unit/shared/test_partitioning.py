"""The relay's murmur2 gives the Kafka client's partitions: one key at a time and many keys side by side."""

from __future__ import annotations

import random

from aiokafka.partitioner import murmur2 as kafka_murmur2

from shared.bus.relay import LANES_FROM, murmur2, murmur2_many


def test_one_key_hashes_as_the_kafka_client_does() -> None:
    rng = random.Random(7)
    for length in range(0, 80):
        for _ in range(20):
            key = rng.randbytes(length)
            assert murmur2(key) == kafka_murmur2(key)


def test_many_keys_hash_side_by_side_as_one_at_a_time() -> None:
    rng = random.Random(11)
    keys = [rng.randbytes(length) for length in range(0, 75) for _ in range(LANES_FROM + length % 3)]
    keys += [f"acme:{rng.randbytes(32).hex()}".encode() for _ in range(2000)]  # a batch of subject keys
    keys += [rng.randbytes(9) for _ in range(LANES_FROM - 1)]  # too few of one length: one at a time
    keys += [b"\xff" * 70] * 40  # every bit set: no lane may carry into the next
    rng.shuffle(keys)
    assert murmur2_many(keys) == [kafka_murmur2(key) for key in keys]
    assert murmur2_many([]) == []
