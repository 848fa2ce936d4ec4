"""Copying and building the normalized model cheaply (hot paths: the reader, the rules, `--jobs N` results).

`copy_with(obj, **changes)` is `dataclasses.replace` without its per-call introspection of the fields (it
looked them up, with `hasattr` checks, on every call: ~5 us each, several per order set).

Building: the `__init__` that `dataclass(frozen=True)` writes sets each field with
`object.__setattr__(self, "name", value)`, a generic attribute lookup per field (~100 ns each: a 14-field
Dosage cost 1.4 us, and an order set builds ~150 such objects in the reader and the rules). `fast_init`
gives each frozen slotted dataclass an `__init__` of plain stores (`self.name = value`, same signature,
defaults and factories; built as `linter.model_class.frozen_model` builds its classes' `__init__`) and removes
the dataclass's refusing `__setattr__`/`__delattr__`: a class with its own `__setattr__` makes every store a
Python call, while a plain store to a slot runs specialized in the interpreter (a MedicationOrder: 0.6 us to
build, against 2.8 us through each slot's descriptor and more through the dataclass's own `__init__`). The
classes stay frozen where it is checked, by declaration: mypy refuses any assignment to a field of a
`frozen=True` dataclass; equality, hash, repr and pickling are the dataclass's. The model's own classes
(linter.model, linter.model_values, linter.orderset_model) are `frozen_model` classes, which are built that
way from the start and pickle through one C-level `attrgetter` (results of `--jobs N` cross a process
boundary: a slotted dataclass's own `__getstate__` calls `dataclasses.fields()` for every object).
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Iterable, Mapping
from types import MemberDescriptorType
from typing import Any, TypeVar

from linter.model_class import FACTORY, build_init, model_spec

T = TypeVar("T")

_LAYOUT: dict[type, tuple[Callable[[Any], Any], dict[str, int]]] = {}


def _one_field(name: str) -> Callable[[Any], tuple[Any]]:
    return lambda obj: (getattr(obj, name),)


def _field_names(cls: type) -> tuple[str, ...]:
    spec = model_spec(cls)
    if spec is not None:
        return spec[0]
    return tuple(f.name for f in dataclasses.fields(cls))


def copy_with(obj: T, **changes: Any) -> T:
    """`dataclasses.replace(obj, **changes)` for the model's classes (every field an init field)."""
    cls = type(obj)
    layout = _LAYOUT.get(cls)
    if layout is None:
        names = _field_names(cls)
        getter: Callable[[Any], Any] = operator.attrgetter(*names) if len(names) > 1 else _one_field(names[0])
        layout = _LAYOUT[cls] = (getter, {n: i for i, n in enumerate(names)})
    getter, index = layout
    values = list(getter(obj))
    for name, value in changes.items():
        if name not in index:
            raise TypeError(f"{cls.__name__} has no field {name!r}")
        values[index[name]] = value
    return cls(*values)


def _init_spec(cls: type) -> tuple[tuple[str, ...], tuple[Any, ...], dict[str, Callable[[], Any]]] | None:
    """The field names, trailing defaults and factories of a `frozen_model` class or of a frozen slotted
    dataclass whose `__init__` can be plain stores (None for any other class)."""
    spec = model_spec(cls)
    if spec is not None:
        return spec
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    if not (params.frozen and params.init) or "__slots__" not in cls.__dict__ or "__post_init__" in dir(cls):
        return None
    names: list[str] = []
    defaults: list[Any] = []
    factories: dict[str, Callable[[], Any]] = {}
    for f in dataclasses.fields(cls):
        if not f.init or f.kw_only or not isinstance(cls.__dict__.get(f.name), MemberDescriptorType):
            return None  # pragma: no cover - every model field is a slot set by __init__
        names.append(f.name)
        if f.default is not dataclasses.MISSING:
            defaults.append(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            factories[f.name] = f.default_factory
            defaults.append(FACTORY)
    return tuple(names), tuple(defaults), factories


def _fast_init(cls: type, through: Mapping[str, Callable[[Any, Any], None]] | None = None) -> None:
    """Replace the `__init__` of frozen slotted `cls` (see the module docstring). `through`: fields whose
    class attribute is no longer the slot (`lazy_text`'s properties), stored through the slot's own setter."""
    spec = _init_spec(cls)
    if spec is None:
        return
    names, defaults, factories = spec
    setattr(cls, "__init__", build_init(cls, names, defaults, factories, through))  # noqa: B010 - a method
    for refusing in ("__setattr__", "__delattr__"):  # frozen by declaration (mypy), see the module docstring
        if refusing in cls.__dict__:
            delattr(cls, refusing)


def fast_init(namespace: Iterable[object], module: str) -> None:
    """`_fast_init` every frozen slotted dataclass defined in `module` (found among `namespace`)."""
    for obj in list(namespace):
        if (
            isinstance(obj, type)
            and obj.__module__ == module
            and model_spec(obj) is None  # a frozen_model class has that __init__ already
            and dataclasses.is_dataclass(obj)
        ):
            _fast_init(obj)


class LazyText(tuple[Callable[..., tuple[str, str]], tuple[Any, ...]]):
    """The two texts of an object (a finding's summary and detail) before anyone has read them:
    `LazyText((build, args))`, where `build(*args)` returns both. Stored in both slots until the first read of
    either (see `lazy_text`). A tuple: built by the C-level `tuple.__new__`, with no Python `__init__` per finding."""

    __slots__ = ()


def lazy_text(cls: type, first: str, second: str) -> None:
    """Let the slots `first` and `second` of frozen slotted `cls` (its `__init__` then stores them through the
    slots' own descriptors) hold one `LazyText`, built into the two strings on the first read of
    either. Every reader (attribute access, the dataclass `__repr__`/`__eq__`/`__hash__`, `copy_with`,
    `dataclasses.replace`, the pickling reducer) goes through the properties set here, so it sees the same
    strings as if they had been built eagerly; a finding nobody reads the text of never builds it."""
    slot1, slot2 = cls.__dict__[first], cls.__dict__[second]
    if not (isinstance(slot1, MemberDescriptorType) and isinstance(slot2, MemberDescriptorType)):
        raise TypeError(f"{cls.__name__}.{first} and .{second} must be slots")  # pragma: no cover
    get1, set1, get2, set2 = slot1.__get__, slot1.__set__, slot2.__get__, slot2.__set__

    def force(obj: Any, lazy: LazyText) -> tuple[str, str]:
        texts = lazy[0](*lazy[1])  # build(*args)
        set1(obj, texts[0])
        set2(obj, texts[1])
        return texts

    def reader(get: Callable[[Any], Any], which: int) -> Callable[[Any], Any]:
        def read(obj: Any) -> Any:
            value = get(obj)
            if type(value) is LazyText:
                return force(obj, value)[which]
            return value

        return read

    setattr(cls, first, property(reader(get1, 0), doc=f"{cls.__name__}.{first}, built on first read"))
    setattr(cls, second, property(reader(get2, 1), doc=f"{cls.__name__}.{second}, built on first read"))
    _fast_init(cls, {first: set1, second: set2})  # its `__init__` stores these two through their slots
