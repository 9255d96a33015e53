"""Kafka's default partitioner for the relay: murmur2 of the record key, as the Java client computes it."""

from __future__ import annotations

import array
import struct
import sys
from collections.abc import Sequence

_M = 0x5BD1E995
_MASK = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 of a key (the Java client's ``Utils.murmur2``, as aiokafka's partitioner computes it).

    The same result as ``aiokafka.partitioner.murmur2``, reading the key four bytes at a time instead
    of byte by byte: the relay hashes every key it publishes.
    """
    length = len(data)
    h = 0x9747B28C ^ length
    body = length & ~3
    for k in struct.unpack_from(f"<{length >> 2}I", data):
        k = (k * _M) & _MASK
        k = ((k ^ (k >> 24)) * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    extra = length & 3
    if extra:
        if extra == 3:
            h ^= data[body + 2] << 16
        if extra >= 2:
            h ^= data[body + 1] << 8
        h = ((h ^ data[body]) * _M) & _MASK
    h = ((h ^ (h >> 13)) * _M) & _MASK
    return h ^ (h >> 15)


LANES_FROM = 32  # keys of one length from which hashing them side by side pays


def murmur2_many(keys: Sequence[bytes]) -> list[int]:
    """``murmur2`` of each key; keys of the same length (a batch's subject keys) are hashed side by side."""
    hashes = [0] * len(keys)
    by_length: dict[int, list[int]] = {}
    for index, key in enumerate(keys):
        by_length.setdefault(len(key), []).append(index)
    for length, indexes in by_length.items():
        if length == 0 or len(indexes) < LANES_FROM:
            for index in indexes:
                hashes[index] = murmur2(keys[index])
            continue
        for index, hashed in zip(indexes, _murmur2_lanes([keys[i] for i in indexes], length), strict=True):
            hashes[index] = hashed
    return hashes


def _murmur2_lanes(keys: list[bytes], length: int) -> list[int]:
    """``murmur2`` of keys of one ``length``, computed on all of them at once.

    One Python integer holds a 64-bit lane per key, each carrying a 32-bit value: a product of two
    32-bit values fits in its lane, so multiplying, masking, shifting (masked) and xoring the whole
    integer does the step for every key (about 0.4 µs per key instead of 4.4). Word ``j`` of every
    key is gathered into the lanes with strided slices of the joined keys.
    """
    count = len(keys)
    joined = b"".join(keys)
    low = int.from_bytes(b"\xff\xff\xff\xff\x00\x00\x00\x00" * count, "little")

    def column(offset: int, width: int) -> int:
        lanes = bytearray(8 * count)
        for byte in range(width):
            lanes[byte::8] = joined[offset + byte :: length]  # that byte of every key
        return int.from_bytes(lanes, "little")

    h = (0x9747B28C ^ length) * int.from_bytes(b"\x01\x00\x00\x00\x00\x00\x00\x00" * count, "little")
    body = length & ~3
    for offset in range(0, body, 4):
        k = (column(offset, 4) * _M) & low
        k = ((((k >> 24) & low) ^ k) * _M) & low
        h = ((h * _M) & low) ^ k
    extra = length & 3
    if extra:
        if extra == 3:
            h ^= column(body + 2, 1) << 16
        if extra >= 2:
            h ^= column(body + 1, 1) << 8
        h = ((h ^ column(body, 1)) * _M) & low
    h = ((((h >> 13) & low) ^ h) * _M) & low
    h ^= (h >> 15) & low
    lanes = array.array("Q", h.to_bytes(8 * count, "little"))
    if sys.byteorder == "big":
        lanes.byteswap()
    return lanes.tolist()
