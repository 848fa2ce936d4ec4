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


def _seed() -> tuple[str, int, itertools.count[int]]:
    hi = int.from_bytes(os.urandom(8), "big")
    hi = (hi & ~(0xF << 12)) | (0x4 << 12)  # version 4 in bits 12-15 of the high half
    h = f"{hi:016x}"
    prefix = f"{h[:8]}-{h[8:12]}-{h[12:16]}-"
    low = int.from_bytes(os.urandom(8), "big") & _LOW_MASK
    return prefix, low, itertools.count()


_prefix, _low, _counter = _seed()


def _reseed() -> None:
    global _prefix, _low, _counter
    _prefix, _low, _counter = _seed()


os.register_at_fork(after_in_child=_reseed)


def new_uuid() -> str:
    """A new unique UUID string (version 4, variant RFC 4122)."""
    low = (2 << 62) | ((_low + next(_counter)) & _LOW_MASK)  # variant bits 10
    h = f"{low:016x}"
    return f"{_prefix}{h[:4]}-{h[4:]}"
