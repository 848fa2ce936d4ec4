"""linter.batch's value classes, written by hand instead of with `@dataclass`: the same equality, repr, hash and
pickling (linter.batch re-exports them; its InputSource is one too).

`@dataclass` writes each class's `__init__`, `__repr__`, `__eq__` (and for a frozen class `__hash__`,
`__setattr__`, `__delattr__`) as source text and compiles it when the module is imported: linter.batch's five
classes cost ~17 M instructions (5-9 ms) of every `orderlint lint` start. A `Record` subclass lists its fields
in `__slots__` and writes its `__init__` by hand, one parameter per field; the rest comes from here, computed from
`__init__`'s parameters once per class (an attrgetter), with what `@dataclass(eq=True)` gives:

- equality only with an object of the same class, field by field; otherwise NotImplemented;
- `repr` as `Name(field=value, ...)`;
- no hash for a mutable record (`Record`), the fields' tuple's hash for a frozen one (`FrozenRecord`), which is
  frozen by declaration as linter.model_fast's classes are: its fields are `Final`, so mypy refuses any
  assignment after `__init__` (a refusing `__setattr__` would make `__init__` go through `object.__setattr__`);
- pickling by calling the class with the fields (positional, in `__init__`'s order).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Final

if TYPE_CHECKING:
    from linter.errors import InputError
    from linter.fhir_io import ContextKind, Mode
    from linter.model import Finding, OrderSet, Originals


class Record:
    __slots__ = ()
    _names: ClassVar[tuple[str, ...]]  # the fields, in __init__'s order
    _fields: ClassVar[Callable[..., tuple[Any, ...]]]  # an instance's field values, in that order

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__slots__:  # a base (FrozenRecord)
            return
        code = cls.__init__.__code__
        cls._names = code.co_varnames[1 : code.co_argcount]
        if sorted(cls._names) != sorted(cls.__slots__) or len(cls._names) < 2:  # pragma: no cover - a class error
            raise TypeError(f"{cls.__name__}: __init__ takes every slot, and a Record has two or more")
        cls._fields = staticmethod(operator.attrgetter(*cls._names))

    def __eq__(self, other: object) -> bool:  # (defining __eq__ leaves the class unhashable, as it should)
        if other.__class__ is self.__class__:
            return bool(self._fields(self) == self._fields(other))
        return NotImplemented

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={v!r}" for n, v in zip(self._names, self._fields(self), strict=True))
        return f"{self.__class__.__qualname__}({fields})"

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        return self.__class__, self._fields(self)


class FrozenRecord(Record):
    __slots__ = ()

    def __hash__(self) -> int:
        return hash(self._fields(self))


class LintedSet(Record):
    __slots__ = ("findings", "order_set", "originals")

    def __init__(self, order_set: OrderSet, findings: list[Finding], originals: Originals) -> None:
        self.order_set = order_set
        self.findings = findings
        self.originals = originals  # the resources as read, for suggestions (never handed to rules)


class FileResult(Record):
    __slots__ = ("errors", "path", "sets")

    def __init__(self, path: str, sets: list[LintedSet] | None = None, errors: list[InputError] | None = None) -> None:
        self.path = path
        self.sets: list[LintedSet] = [] if sets is None else sets
        self.errors: list[InputError] = [] if errors is None else errors

    @property
    def findings(self) -> list[Finding]:
        return [f for s in self.sets for f in s.findings]


class LintOptions(FrozenRecord):
    __slots__ = ("context", "ignore", "mode", "now", "select")

    def __init__(
        self,
        mode: Mode = "strict",
        context: ContextKind | None = None,
        select: Collection[str] | None = None,
        ignore: Collection[str] = (),
        now: datetime | None = None,
    ) -> None:
        self.mode: Final = mode
        self.context: Final = context
        self.select: Final = select
        self.ignore: Final = ignore
        self.now: Final = now


class ZipLimits(FrozenRecord):
    """What an archive may hold. A member over a limit is an error row; an archive over one is refused whole."""

    __slots__ = ("max_member_bytes", "max_members", "max_ratio", "max_total_bytes")

    def __init__(
        self,
        max_members: int = 10_000,
        max_member_bytes: int = 64 * 1024 * 1024,
        max_total_bytes: int = 512 * 1024 * 1024,
        max_ratio: int = 200,
    ) -> None:
        self.max_members: Final = max_members  # files (json/ndjson) in one archive
        self.max_member_bytes: Final = max_member_bytes  # one member, inflated
        self.max_total_bytes: Final = max_total_bytes  # the whole archive, inflated
        self.max_ratio: Final = max_ratio  # inflated / compressed; FHIR JSON compresses ~10-30x, bombs ~1000x
