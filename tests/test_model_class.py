"""linter.model_class: every `frozen_model` class of the model is, to every reader, the frozen slotted dataclass
its class statement would have made: checked against that dataclass, rebuilt here from the same source with
`@dataclasses.dataclass(frozen=True, slots=True)` (fields, parameters, docstring, signature, equality, hash,
repr, pickling, copying, `dataclasses.replace`/`asdict`)."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from types import ModuleType
from typing import Any

import pytest

from linter import model, model_values, orderset_model
from linter.model_class import field, frozen_model, model_spec
from linter.model_fast import copy_with

MODULES = (model, model_values, orderset_model)
CLASSES = list(  # each class once (linter.model re-exports linter.model_values), in the order defined
    {
        cls: None
        for module in MODULES
        for cls in vars(module).values()
        if isinstance(cls, type) and cls.__module__ == module.__name__ and model_spec(cls) is not None
    }
)


def _module(cls: type) -> ModuleType:
    return next(m for m in MODULES if m.__name__ == cls.__module__)


def _dataclass_twin(cls: type) -> Any:
    """The class `cls`'s own source makes with the dataclass decorator in place of `frozen_model`."""
    source = inspect.getsource(cls).replace("@frozen_model", "@_dc.dataclass(frozen=True, slots=True)", 1)
    namespace = dict(vars(_module(cls)), _dc=dataclasses, field=dataclasses.field)
    exec(compile(source, f"<twin {cls.__name__}>", "exec"), namespace)  # noqa: S102 - the model's own source
    return namespace[cls.__name__]


def _sample(cls: type) -> tuple[Any, ...]:
    """Arguments for every field: distinct strings for the required ones, a tuple and a number for the rest."""
    names, defaults, _ = model_spec(cls)  # type: ignore[misc]
    required = len(names) - len(defaults)
    return tuple(f"{n}-{i}" for i, n in enumerate(names[:required])) + tuple(
        (i, "x") if i % 2 else float(i) for i in range(len(defaults))
    )


def _field_record(f: dataclasses.Field[Any]) -> tuple[Any, ...]:
    return (
        f.name,
        f.type,
        f.default,
        f.default_factory,
        f.init,
        f.repr,
        f.hash,
        f.compare,
        dict(f.metadata),
        f.kw_only,
        f._field_type,  # type: ignore[attr-defined]
    )


def test_the_model_is_built_by_frozen_model() -> None:
    assert len(CLASSES) > 30
    assert frozen_model.__dataclass_transform__["kwargs"] == {"frozen_default": True}  # type: ignore[attr-defined]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_a_model_class_reads_like_its_dataclass(cls: type) -> None:
    twin = _dataclass_twin(cls)
    assert dataclasses.is_dataclass(cls)
    assert [_field_record(f) for f in dataclasses.fields(cls)] == [_field_record(f) for f in dataclasses.fields(twin)]
    assert repr(cls.__dataclass_params__) == repr(twin.__dataclass_params__)  # type: ignore[attr-defined]
    assert cls.__doc__ == twin.__doc__
    assert cls.__slots__ == twin.__slots__ and cls.__match_args__ == twin.__match_args__  # type: ignore[attr-defined]
    assert not hasattr(cls, "__dict__") or "__dict__" not in cls.__dict__
    ours = [(p.name, p.kind, repr(p.default)) for p in inspect.signature(cls).parameters.values()]
    theirs = [(p.name, p.kind, repr(p.default)) for p in inspect.signature(twin).parameters.values()]
    assert ours == theirs


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_a_model_object_behaves_like_its_dataclass_object(cls: type) -> None:
    twin = _dataclass_twin(cls)
    args = _sample(cls)
    obj, same, other = cls(*args), cls(*args), cls(*args[:-1], "other")
    reference = twin(*args)
    assert repr(obj) == repr(reference)
    assert obj == same and (obj != same) is False and obj != other and obj != reference
    assert obj.__eq__(reference) is NotImplemented
    assert hash(obj) == hash(same) == hash(reference)  # the same tuple of fields
    assert pickle.loads(pickle.dumps(obj)) == obj  # noqa: S301 - our own bytes
    assert copy.copy(obj) == obj and copy.deepcopy(obj) == obj
    assert dataclasses.asdict(obj) == dataclasses.asdict(reference)
    last = cls.__match_args__[-1]  # type: ignore[attr-defined]
    assert dataclasses.replace(obj, **{last: "other"}) == other == copy_with(obj, **{last: "other"})
    keywords = dict(zip(cls.__match_args__, args, strict=True))  # type: ignore[attr-defined]
    assert cls(**keywords) == obj


def test_defaults_and_factories_are_the_dataclass_ones() -> None:
    d1, d2 = model.Dosage(0), model.Dosage(index=1)
    assert d1.timing == model.Timing() and d1.timing is not d2.timing  # a fresh default from the factory
    assert d1.extra_text == () and d1.as_needed is False
    f1, f2 = (model.Finding("X1", model.Indicator.INFO, "s", "d") for _ in range(2))
    assert f1.values == {} and f1.values is not f2.values
    with pytest.raises(TypeError):
        model.Quantity()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        model.Quantity(1.0, nope=2)  # type: ignore[call-arg]


def test_repr_of_an_object_that_contains_itself_stops_as_the_dataclass_does() -> None:
    values: dict[str, Any] = {}
    finding = model.Finding("X1", model.Indicator.INFO, "s", "d", values=values)
    values["me"] = finding
    assert repr(finding).count("values={'me': ...}") == 1


def test_a_non_default_field_after_a_default_one_is_refused_as_by_dataclass() -> None:
    with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):

        @frozen_model
        class Bad:
            a: int = 0
            b: int

        raise AssertionError(Bad)  # pragma: no cover - not reached: frozen_model refuses the class

    @frozen_model
    class Good:
        a: int
        b: list[int] = field(default_factory=list)

    assert Good(1) == Good(1, []) and Good(1).b is not Good(1).b
    assert repr(Good(1)) == f"{Good.__qualname__}(a=1, b=[])"  # the qualified name, as the dataclass's repr
