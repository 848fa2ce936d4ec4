"""`frozen_model`: the model's frozen slotted classes, built at import for a fraction of what `dataclasses` costs.

`@dataclass(frozen=True, slots=True)` cost some 6 M instructions for a 10-field class: `exec` of each generated
method (`__init__`, `__repr__`, `__eq__`, `__hash__`, `__setattr__`, `__delattr__`), `inspect.signature` for the
class docstring, the class built twice (once more for `__slots__`), then `linter.model_fast.fast_init` compiled
another `__init__` and dropped the refusing `__setattr__`/`__delattr__`. The CLI paid that for some 40 classes
before linting anything (issue 11 §5; a `--jobs N` parent pays it before forking, so it capped the scaling).

`frozen_model` builds the slotted class once, from the class statement's namespace, with:
- `__init__`: plain stores to the slots, same signature, defaults and factories as the dataclass's. It is not
  compiled per class: one template per shape (how many fields, which have a factory, which store through a
  setter) is compiled once a process and renamed to the class's fields with `CodeType.replace`, which costs
  what building a tuple does. Frozen by declaration: `typing.dataclass_transform(frozen_default=True)` makes
  mypy treat each class as a frozen dataclass and refuse any assignment; at run time there is no refusing
  `__setattr__` (a class with one makes every store in `__init__` a Python call).
- `__eq__`, `__hash__`, `__repr__` and `__reduce__` (pickling, `copy`): closures over one C-level
  `operator.attrgetter` of the fields, with the dataclass's semantics (same class only, the tuple of the fields;
  `hash` of that tuple; `Name(field=value, ...)` with its guard against recursion; rebuilt by calling the class).
- What `dataclasses` reads, built on first use: `__dataclass_fields__` (so `dataclasses.fields`, `replace`,
  `asdict` and `is_dataclass` work as on the dataclass) and `__dataclass_params__`; `__doc__` when the class
  has none; `__match_args__`.
tests/test_model_class.py compares every model class with the dataclass it replaces.
"""

from __future__ import annotations

import _thread
import operator
from collections.abc import Callable, Mapping
from types import CodeType, FunctionType
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")


class _Factory:
    """The default of a field with a default_factory (its factory is called when the caller gives none)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<factory>"


FACTORY: Any = _Factory()
_MISSING: Any = object()


class _FieldSpec:
    """What `field(default_factory=...)` leaves in the class body for `frozen_model` to read."""

    __slots__ = ("default_factory",)

    def __init__(self, default_factory: Callable[[], Any]) -> None:
        self.default_factory = default_factory


def field(*, default_factory: Callable[[], T]) -> T:
    """`dataclasses.field(default_factory=...)` for a `frozen_model` class."""
    return _FieldSpec(default_factory)  # type: ignore[return-value]  # read by frozen_model, never a value


# --- __init__ from one template per shape ------------------------------------------------------------------

_TEMPLATES: dict[str, CodeType] = {}


def _template(shape: str) -> CodeType:
    """The code of `__init__(self, _p0, _p1, ...)` for a shape: per field "s" (a plain store), "f" (a store of
    its factory's result when the argument is FACTORY) or "t" (through the setter `_t<i>`)."""
    code = _TEMPLATES.get(shape)
    if code is None:
        lines = []
        for i, kind in enumerate(shape):
            if kind == "s":
                lines.append(f" self._p{i} = _p{i}")
            elif kind == "f":
                lines.append(f" self._p{i} = _f{i}() if _p{i} is _FACTORY else _p{i}")
            else:
                lines.append(f" _t{i}(self, _p{i})")
        params = "".join(f", _p{i}" for i in range(len(shape)))
        source = f"def __init__(self{params}):\n" + ("\n".join(lines) or " pass") + "\n"
        module = compile(source, "<model init template>", "exec")
        code = _TEMPLATES[shape] = next(c for c in module.co_consts if isinstance(c, CodeType))
    return code


def build_init(
    cls: type,
    names: tuple[str, ...],
    defaults: tuple[Any, ...],
    factories: Mapping[str, Callable[[], Any]],
    through: Mapping[str, Callable[[Any, Any], None]] | None = None,
    module: str | None = None,
) -> FunctionType:
    """An `__init__(self, *names)` that stores each argument in the slot of that name (`through`: by calling
    the given setter), `defaults` for the last parameters (FACTORY where `factories` has the field)."""
    env: dict[str, Any] = {"__name__": module or cls.__module__, "_FACTORY": FACTORY}
    shape = []
    for i, name in enumerate(names):
        if name == "self" or name.startswith("_"):  # pragma: no cover - the template's own names
            raise TypeError(f"{cls.__name__}: field {name!r} cannot be a model field")
        if through and name in through:
            if name in factories:  # pragma: no cover - the model has none
                raise TypeError(f"{cls.__name__}.{name}: a factory and a setter")
            env[f"_t{i}"] = through[name]
            shape.append("t")
        elif name in factories:
            env[f"_f{i}"] = factories[name]
            shape.append("f")
        else:
            shape.append("s")
    template = _template("".join(shape))
    renamed = {f"_p{i}": name for i, name in enumerate(names)}
    code = template.replace(
        co_names=tuple(renamed.get(n, n) for n in template.co_names),
        co_varnames=("self", *names),
        co_filename=f"<fast_init {cls.__qualname__}>",
        co_qualname=f"{cls.__qualname__}.__init__",
    )
    init = FunctionType(code, env, "__init__", defaults or None)
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


# --- __eq__, __hash__, __repr__, __reduce__ ------------------------------------------------------------------


def _methods(names: tuple[str, ...], box: list[type]) -> dict[str, Callable[..., Any]]:
    """The dataclass's `__eq__`, `__hash__`, `__repr__` and a `__reduce__` for the class in `box[0]`, reading
    the fields with one attrgetter (always as a tuple)."""
    if len(names) > 1:
        values: Callable[[Any], tuple[Any, ...]] = operator.attrgetter(*names)
    elif names:
        one = operator.attrgetter(names[0])

        def values(obj: Any) -> tuple[Any, ...]:
            return (one(obj),)

    else:

        def values(obj: Any) -> tuple[Any, ...]:
            return ()

    running: set[tuple[int, int]] = set()

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(values(self))

    def __repr__(self: Any) -> str:
        key = id(self), _thread.get_ident()
        if key in running:
            return "..."
        running.add(key)
        try:
            pairs = ", ".join([f"{n}={v!r}" for n, v in zip(names, values(self), strict=True)])
        finally:
            running.discard(key)
        return f"{self.__class__.__qualname__}({pairs})"

    def __reduce__(self: Any) -> tuple[type, tuple[Any, ...]]:
        return box[0], values(self)

    return {"__eq__": __eq__, "__hash__": __hash__, "__repr__": __repr__, "__reduce__": __reduce__}


# --- what dataclasses reads, on first use ---------------------------------------------------------------------

_SPECS: dict[type, tuple[dict[str, Any], tuple[Any, ...], dict[str, Callable[[], Any]]]] = {}
_PARAMS: list[Any] = []


class _Lazy:
    """A class attribute computed on first read (then stored on the class in its place)."""

    __slots__ = ("build", "name")

    def __init__(self, name: str, build: Callable[[type], Any]) -> None:
        self.name, self.build = name, build

    def __get__(self, obj: object, owner: type) -> Any:
        value = self.build(owner)
        setattr(owner, self.name, value)  # in place of this placeholder: later reads are plain
        return value


def _dataclass_fields(cls: type) -> dict[str, Any]:
    import dataclasses  # lazy: only a caller of dataclasses.fields/replace/asdict needs them

    annotations, defaults, factories = _SPECS[cls]
    first_default = len(annotations) - len(defaults)
    out: dict[str, Any] = {}
    for i, (name, annotation) in enumerate(annotations.items()):
        if name in factories:
            f = dataclasses.field(default_factory=factories[name])
        elif i >= first_default:
            f = dataclasses.field(default=defaults[i - first_default])
        else:
            f = dataclasses.field()
        f.name, f.type, f.kw_only = name, annotation, False
        f._field_type = dataclasses._FIELD  # type: ignore[attr-defined]  # what dataclass sets on a field
        out[name] = f
    return out


def _dataclass_params(cls: type) -> Any:
    if not _PARAMS:
        import dataclasses  # lazy, as in _dataclass_fields

        @dataclasses.dataclass(frozen=True, slots=True)
        class Params:  # the parameters every frozen_model class declares, as the dataclass records them
            pass

        _PARAMS.append(Params.__dataclass_params__)  # type: ignore[attr-defined]
    return _PARAMS[0]


def _doc(cls: type) -> str:
    """The docstring the dataclass gives a class without one: its name and signature."""
    annotations, defaults, factories = _SPECS[cls]
    first_default = len(annotations) - len(defaults)
    params = []
    for i, (name, annotation) in enumerate(annotations.items()):
        text = f"{name}: {annotation!r}"
        if name in factories:
            text += " = <factory>"
        elif i >= first_default:
            text += f" = {defaults[i - first_default]!r}"
        params.append(text)
    return f"{cls.__name__}({', '.join(params)})"


# --- the decorator -----------------------------------------------------------------------------------------


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def frozen_model(cls: type[T]) -> type[T]:
    """The frozen slotted dataclass of `cls`'s annotated fields (see the module docstring)."""
    ns = dict(cls.__dict__)
    annotations: dict[str, Any] = ns.get("__annotations__", {})
    names = tuple(annotations)
    if cls.__bases__ != (object,):  # pragma: no cover - the model has no class hierarchy
        raise TypeError(f"{cls.__name__}: a frozen_model class derives from object only")
    defaults: list[Any] = []
    factories: dict[str, Callable[[], Any]] = {}
    for name in names:
        value = ns.pop(name, _MISSING)
        if isinstance(value, _FieldSpec):
            factories[name] = value.default_factory
            value = FACTORY
        if value is not _MISSING:
            defaults.append(value)
        elif defaults:
            raise TypeError(f"non-default argument {name!r} follows default argument")
    for own in ("__dict__", "__weakref__"):
        ns.pop(own, None)
    box: list[type] = []
    ns.update(_methods(names, box))
    ns["__slots__"] = ns["__match_args__"] = names
    ns["__init__"] = build_init(cls, names, tuple(defaults), factories)
    ns["__dataclass_fields__"] = _Lazy("__dataclass_fields__", _dataclass_fields)
    ns["__dataclass_params__"] = _Lazy("__dataclass_params__", _dataclass_params)
    if ns.get("__doc__") is None:
        ns["__doc__"] = _Lazy("__doc__", _doc)
    new = type(cls.__name__, cls.__bases__, ns)
    new.__qualname__ = cls.__qualname__
    box.append(new)
    _SPECS[new] = (annotations, tuple(defaults), factories)
    return new


def model_spec(cls: type) -> tuple[tuple[str, ...], tuple[Any, ...], dict[str, Callable[[], Any]]] | None:
    """A `frozen_model` class's field names, defaults (of the last fields) and factories; None for another."""
    spec = _SPECS.get(cls)
    return None if spec is None else (tuple(spec[0]), spec[1], spec[2])
