"""Copying and pickling the normalized model cheaply (hot paths: the reader, the rules, `--jobs N` results).

`copy_with(obj, **changes)` is `dataclasses.replace` without its per-call introspection of the fields (it
looked them up, with `hasattr` checks, on every call: ~5 us each, several per order set).

Pickling: results of `--jobs N` (linter.batch) cross a process boundary.
A slotted dataclass pickles through Python-level `__getstate__`/`__setstate__` that call
`dataclasses.fields()` for every object, which made sending an order set back from a worker cost half as
much as linting it. `compact_pickle` gives each class a `__reduce__` that reads every field with one C-level
`attrgetter` and rebuilds the object by calling the class with them: the same object, a third of the cost.

Building: the `__init__` that `dataclass(frozen=True)` writes sets each field with
`object.__setattr__(self, "name", value)`, a generic attribute lookup per field (~100 ns each: a 14-field
Dosage cost 1.4 us, and an order set builds ~150 such objects in the reader and the rules). `fast_init`
gives each frozen slotted dataclass an `__init__` of plain stores (`self.name = value`, same signature,
defaults and factories) and removes the dataclass's refusing `__setattr__`/`__delattr__`: a class with its own
`__setattr__` makes every store a Python call, while a plain store to a slot runs specialized in the
interpreter (a MedicationOrder: 0.6 us to build, against 2.8 us through each slot's descriptor and more through
the dataclass's own `__init__`). The classes stay frozen where it is checked, by declaration: mypy refuses any
assignment to a field of a `frozen=True` dataclass; equality, hash, repr and pickling are the dataclass's.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Iterable, Mapping
from types import MemberDescriptorType
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


def _fast_init(cls: type, through: Mapping[str, Callable[[Any, Any], None]] | None = None) -> None:
    """Replace the dataclass `__init__` of frozen slotted `cls` (see the module docstring). `through`: fields
    whose class attribute is no longer the slot (`lazy_text`'s properties), stored through the slot's own setter."""
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    if not (params.frozen and params.init) or "__slots__" not in cls.__dict__ or "__post_init__" in dir(cls):
        return
    fields = dataclasses.fields(cls)
    env: dict[str, Any] = {"_FACTORY": _FACTORY}
    args: list[str] = []
    body: list[str] = []
    for f in fields:
        if not f.init or f.kw_only:  # pragma: no cover - the model has neither
            return
        name = f.name
        if through and name in through:
            env[f"_set_{name}"] = through[name]
            store = f"_set_{name}(self, {{}})"
        elif isinstance(cls.__dict__.get(name), MemberDescriptorType):
            store = f"self.{name} = {{}}"
        else:  # pragma: no cover - every field of a slotted class
            return
        value = name
        if f.default is not dataclasses.MISSING:
            env[f"_default_{name}"] = f.default
            args.append(f"{name}=_default_{name}")
        elif f.default_factory is not dataclasses.MISSING:
            env[f"_factory_{name}"] = f.default_factory
            args.append(f"{name}=_FACTORY")
            value = f"_factory_{name}() if {name} is _FACTORY else {name}"
        else:
            args.append(name)
        body.append("    " + store.format(value))
    source = f"def __init__(self, {', '.join(args)}):\n" + ("\n".join(body) or "    pass") + "\n"
    code = compile(source, f"<fast_init {cls.__qualname__}>", "exec")
    exec(code, env)  # noqa: S102 - generated from the class's own field names, as dataclasses does
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    setattr(cls, "__init__", init)  # noqa: B010 - a method set on the class
    for refusing in ("__setattr__", "__delattr__"):  # frozen by declaration (mypy), see the module docstring
        if refusing in cls.__dict__:
            delattr(cls, refusing)


class _Factory:
    """The default of a field with a default_factory (its factory is called when the caller gives none)."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()


def fast_init(namespace: Iterable[object], module: str) -> None:
    """`_fast_init` every frozen slotted dataclass defined in `module` (found among `namespace`)."""
    for obj in list(namespace):
        if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == module:
            _fast_init(obj)


def compact_pickle(namespace: Iterable[object], module: str) -> None:
    """Give every dataclass defined in `module` (found among `namespace`, a module's globals) the reducer."""
    for obj in list(namespace):
        if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == module:
            setattr(obj, "__reduce__", _reducer(obj))  # noqa: B010 - a method set on the class, for pickle


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
