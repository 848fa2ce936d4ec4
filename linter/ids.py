"""Card and suggestion uuids: unique, valid RFC 4122 version-4 strings, from 16 random bytes per process.

CDS Hooks asks for a unique `uuid` per card and suggestion, not an unpredictable one, and `uuid.uuid4()`
(16 bytes from os.urandom and a UUID object per call) was 2.5-4.4% of a hook call's CPU (issue 11 §3). Here
the process draws 122 random bits once (again in a forked child) and each id adds a counter to the low 62:
ids within a process are distinct until 2**62 calls, and two processes collide only if their 60 random high
bits agree. The version nibble is 4 and the variant bits 10, so every id parses as a version-4 UUID.
"""

from __future__ import annotations

import itertools
import os

_LOW_MASK = (1 << 62) - 1
_BYTE_HEX = tuple(f"{i:02x}" for i in range(256))
_NO_BLOCK: tuple[int, str] = (-1, "")


def _seed() -> tuple[str, int, itertools.count[int]]:
    hi = int.from_bytes(os.urandom(8), "big")
    hi = (hi & ~(0xF << 12)) | (0x4 << 12)  # version 4 in bits 12-15 of the high half
    h = f"{hi:016x}"
    prefix = f"{h[:8]}-{h[8:12]}-{h[12:16]}-"
    low = int.from_bytes(os.urandom(8), "big") & _LOW_MASK
    return prefix, low, itertools.count()


_prefix, _low, _counter = _seed()
# (the low half without its last byte, the id's text up to that byte): an id is that text and the last byte's
# two hex digits. Formatting the 64-bit low half cost two thirds of an id (~0.8 us, 11 ids per hook call).
_block = _NO_BLOCK


def _reseed() -> None:
    global _prefix, _low, _counter, _block
    _prefix, _low, _counter = _seed()
    _block = _NO_BLOCK


os.register_at_fork(after_in_child=_reseed)


def new_uuid() -> str:
    """A new unique UUID string (version 4, variant RFC 4122)."""
    global _block
    low = (_low + next(_counter)) & _LOW_MASK
    block = _block  # one read: another thread may replace it (with its own, equally valid, pair)
    if block[0] != low >> 8:
        h = f"{(2 << 62) | (low & ~0xFF):016x}"  # variant bits 10
        block = _block = (low >> 8, f"{_prefix}{h[:4]}-{h[4:14]}")
    return block[1] + _BYTE_HEX[low & 0xFF]
