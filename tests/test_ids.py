"""Card uuids (linter.ids): valid version-4 UUID strings, unique within a process and across processes."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import uuid

import pytest

from linter.ids import new_uuid


def _valid(text: str) -> bool:
    parsed = uuid.UUID(text)
    return str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_ids_are_valid_version_4_uuids_and_distinct() -> None:
    ids = [new_uuid() for _ in range(100_000)]
    assert len(set(ids)) == len(ids)
    assert all(_valid(i) for i in ids)


def _batch(n: int) -> list[str]:
    return [new_uuid() for _ in range(n)]


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_ids_are_unique_across_processes(method: str) -> None:
    new_uuid()  # the parent has drawn ids before forking: children must not repeat its sequence
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(3) as pool:
        batches = pool.map(_batch, [5_000] * 3)
    ids = [i for b in batches for i in b] + _batch(5_000)
    assert len(set(ids)) == len(ids) == 20_000
    assert all(_valid(i) for i in ids)


def test_a_forked_child_draws_new_random_bits() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.write(write, new_uuid().encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.waitpid(pid, 0)
    assert _valid(child) and child[:19] != new_uuid()[:19]


def test_consecutive_ids_count_up_across_their_last_byte() -> None:
    # new_uuid formats the low half once per 256 ids and appends the last byte: the ids must still be the
    # counter's successive values, past every wrap of that byte
    ids = [new_uuid() for _ in range(2_000)]
    values = [uuid.UUID(i).int for i in ids]
    low = (1 << 62) - 1
    assert len({v >> 64 for v in values}) == 1
    assert all(((b & low) - (a & low)) % (1 << 62) == 1 for a, b in itertools.pairwise(values))
    assert all(_valid(i) for i in ids)
