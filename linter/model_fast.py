"""Copying and pickling the normalized model cheaply (hot paths: the reader, the rules, `--jobs N` results).

`copy_with(obj, **changes)` is `dataclasses.replace` without its per-call introspection of the fields (it
looked them up, with `hasattr` checks, on every call: ~5 us each, several per order set).

Pickling: results of `--jobs N` (linter.batch) cross a process boundary.
A slotted dataclass pickles through Python-level `__getstate__`/`__setstate__` that call
`dataclasses.fields()` for every object, which made sending an order set back from a worker cost half as
much as linting it. `compact_pickle` gives each class a `__reduce__` that reads every field with one C-level
`attrgetter` and rebuilds the object by calling the class with them: the same object, a third of the cost.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")

_LAYOUT: dict[type, tuple[Callable[[Any], Any], dict[str, int]]] = {}


def _one_field(name: str) -> Callable[[Any], tuple[Any]]:
    return lambda obj: (getattr(obj, name),)


def copy_with(obj: T, **changes: Any) -> T:
    """`dataclasses.replace(obj, **changes)` for the model's dataclasses (every field an init field)."""
    cls = type(obj)
    layout = _LAYOUT.get(cls)
    if layout is None:
        names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
        getter: Callable[[Any], Any] = operator.attrgetter(*names) if len(names) > 1 else _one_field(names[0])
        layout = _LAYOUT[cls] = (getter, {n: i for i, n in enumerate(names)})
    getter, index = layout
    values = list(getter(obj))
    for name, value in changes.items():
        if name not in index:
            raise TypeError(f"{cls.__name__} has no field {name!r}")
        values[index[name]] = value
    return cls(*values)


def _reducer(cls: type) -> Callable[[Any], tuple[type, tuple[Any, ...]]]:
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    if len(names) != len(dataclasses.fields(cls)):  # pragma: no cover - every model field is an init field
        raise TypeError(f"{cls.__name__} has fields outside __init__: cannot rebuild it from its fields")
    if len(names) == 1:
        one = operator.attrgetter(names[0])
        return lambda self: (cls, (one(self),))
    many = operator.attrgetter(*names)
    return lambda self: (cls, many(self))


def compact_pickle(namespace: Iterable[object], module: str) -> None:
    """Give every dataclass defined in `module` (found among `namespace`, a module's globals) the reducer."""
    for obj in list(namespace):
        if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == module:
            setattr(obj, "__reduce__", _reducer(obj))  # noqa: B010 - a method set on the class, for pickle
