"""A cache that lives for one engine run, so that rules can share work on the same order set (the dose
phases of an order, the ACT targets of the request) without sharing state between requests.

Outside a run (a rule called directly in a test) nothing is cached.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

_MISSING = object()
_RUN_CACHE: ContextVar[dict[Hashable, Any] | None] = ContextVar("orderlint_run_cache", default=None)


class RunScope:
    """`with RunScope():` gives the block a fresh cache. A class, not `@contextmanager`: entered once per order
    set, and a generator-based context manager costs about three times as much to enter and leave."""

    __slots__ = ("_token",)

    def __enter__(self) -> None:
        self._token = _RUN_CACHE.set({})

    def __exit__(self, *exc: object) -> None:
        _RUN_CACHE.reset(self._token)


# The run's cache, or None outside a run: for helpers that keep a reading under a fixed key (the C-level get, no
# Python frame).
run_cache = _RUN_CACHE.get


def memo(key: Hashable, compute: Callable[..., T], *args: Any) -> T:
    """`compute(*args)` once per run for `key` (keys hold ids of objects that live for the whole run). The
    arguments are passed, not captured by a lambda: a closure is built on every call, hit or miss."""
    cache = _RUN_CACHE.get()
    if cache is None:
        return compute(*args)
    value = cache.get(key, _MISSING)  # one lookup: ~30 calls per order set
    if value is _MISSING:
        value = cache[key] = compute(*args)
    return value  # type: ignore[no-any-return]


def order_set_reading(key: str, read: Callable[[Any], T], order_set: Any) -> T:
    """`read(order_set)` once per run, kept under the fixed `key` with the order set it read (checked by identity):
    no tuple of ids to build and hash per call (`id()` is audited in this interpreter, dearer than a look-up).
    For the readings several rules ask for many times per order set (heparin orders, ACT targets, BTK orders)."""
    cache = _RUN_CACHE.get()
    if cache is None:
        return read(order_set)
    known = cache.get(key)
    if known is None or known[0] is not order_set:
        known = cache[key] = (order_set, read(order_set))
    return known[1]
