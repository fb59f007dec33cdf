"""A bounded memory of info hashes already seen, so a hash is fetched once, not every time.

The DHT repeats itself: the same popular hashes come back in every sample and
every lookup, millions of times a day. Remembering them exactly costs about 100
bytes each in a Python set; a Bloom filter costs about 2 bytes at a 0.1 % false
positive rate. Two filters rotate: new hashes go into the current one, lookups
check both, and when the current one holds its share of the capacity the older
is dropped. Memory stays fixed, and the oldest half of what was seen is forgotten
first (it may be looked at again, which only costs one more lookup: what is in
the index is skipped by the crawler's database check anyway).

Bit positions come from BLAKE2b keyed with a random key per process, so peers
that choose the hashes they advertise cannot aim at our filter.
"""

from __future__ import annotations

import hashlib
import math
import os

DEFAULT_ERROR_RATE = 0.001


class BloomFilter:
    """A fixed-size Bloom filter of byte strings."""

    def __init__(self, capacity: int, error_rate: float, key: bytes) -> None:
        if capacity < 1 or not 0 < error_rate < 1:
            raise ValueError("capacity must be >= 1 and error_rate in (0, 1)")
        self.capacity = capacity
        bits = math.ceil(-capacity * math.log(error_rate) / math.log(2) ** 2)
        self._bits = bytearray((bits + 7) // 8)
        self._size = len(self._bits) * 8
        self._probes = max(1, round(bits / capacity * math.log(2)))
        self._key = key
        self.count = 0

    @property
    def nbytes(self) -> int:
        """Memory held by the bit array."""
        return len(self._bits)

    def _positions(self, item: bytes) -> list[int]:
        digest = hashlib.blake2b(item, key=self._key, digest_size=16).digest()
        first = int.from_bytes(digest[:8], "little")
        step = int.from_bytes(digest[8:], "little") | 1  # double hashing (Kirsch-Mitzenmacher)
        return [(first + i * step) % self._size for i in range(self._probes)]

    def __contains__(self, item: bytes) -> bool:
        bits = self._bits
        return all(bits[p >> 3] & (1 << (p & 7)) for p in self._positions(item))

    def add(self, item: bytes) -> bool:
        """Add `item`; True when it was (probably) not there before."""
        bits = self._bits
        new = False
        for p in self._positions(item):
            mask = 1 << (p & 7)
            if not bits[p >> 3] & mask:
                bits[p >> 3] |= mask
                new = True
        if new:
            self.count += 1
        return new


class SeenFilter:
    """Info hashes seen lately, in fixed memory (two rotating Bloom filters)."""

    def __init__(self, capacity: int, error_rate: float = DEFAULT_ERROR_RATE) -> None:
        """Remember at least `capacity // 2` and at most `capacity` of the latest hashes."""
        if capacity < 2:
            raise ValueError("capacity must be at least 2")
        self._half = capacity // 2
        self._error_rate = error_rate
        self._key = os.urandom(32)
        self._current = BloomFilter(self._half, error_rate, self._key)
        self._previous: BloomFilter | None = None

    @property
    def nbytes(self) -> int:
        """Memory held by both filters."""
        return self._current.nbytes * 2

    def __len__(self) -> int:
        """About how many hashes are remembered now."""
        return self._current.count + (self._previous.count if self._previous else 0)

    def __contains__(self, info_hash: str) -> bool:
        item = bytes.fromhex(info_hash)
        return item in self._current or (self._previous is not None and item in self._previous)

    def add(self, info_hash: str) -> bool:
        """Remember a hash; True when it was new (not seen lately)."""
        item = bytes.fromhex(info_hash)
        known = self._previous is not None and item in self._previous
        added = self._current.add(item)  # a hash still being seen moves to the newer filter
        if self._current.count >= self._half:
            self._previous = self._current
            self._current = BloomFilter(self._half, self._error_rate, self._key)
        return added and not known
