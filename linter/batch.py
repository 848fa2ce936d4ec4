"""Linting files in bulk: collect inputs (files, directories, stdin), lint each, keep bad files as error
rows while the rest still runs. Shared by the CLI and the upload API/page so their reports agree."""

from __future__ import annotations

import sys
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from linter.engine import run
from linter.errors import InputError
from linter.fhir_io import ContextKind, Mode, load_bytes
from linter.model import Finding, OrderSet
from linter.profiles import Profile

INPUT_SUFFIXES = (".json", ".ndjson", ".jsonl")


@dataclass
class LintedSet:
    order_set: OrderSet
    findings: list[Finding]


@dataclass
class FileResult:
    path: str
    sets: list[LintedSet] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return [f for s in self.sets for f in s.findings]


@dataclass(frozen=True)
class LintOptions:
    mode: Mode = "strict"
    context: ContextKind | None = None
    select: Collection[str] | None = None
    ignore: Collection[str] = ()
    now: datetime | None = None


def iter_inputs(paths: Sequence[str]) -> Iterator[tuple[str, bytes | InputError]]:
    """(name, bytes) per input; directories are walked recursively for .json/.ndjson files; `-` is stdin."""
    for raw in paths:
        if raw == "-":
            yield "<stdin>", sys.stdin.buffer.read()
            continue
        path = Path(raw)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if child.suffix.lower() in INPUT_SUFFIXES and not child.name.endswith(".expected.json"):
                    yield from _read(child)
        else:
            yield from _read(path)


def _read(path: Path) -> Iterator[tuple[str, bytes | InputError]]:
    try:
        yield str(path), path.read_bytes()
    except FileNotFoundError:
        yield str(path), InputError("no such file", None, str(path))
    except OSError as exc:
        yield str(path), InputError(f"cannot read: {exc.strerror}", None, str(path))


def lint_bytes(name: str, data: bytes, profile: Profile, options: LintOptions) -> FileResult:
    loaded = load_bytes(data, name, mode=options.mode, context=options.context, now=options.now)
    result = FileResult(name, errors=list(loaded.errors))
    for order_set in loaded.order_sets:
        findings = run(order_set, profile, select=options.select, ignore=options.ignore)
        result.sets.append(LintedSet(order_set, findings))
    return result


def lint_paths(paths: Sequence[str], profile: Profile, options: LintOptions) -> list[FileResult]:
    out = []
    for name, data in iter_inputs(paths):
        if isinstance(data, InputError):
            out.append(FileResult(name, errors=[data]))
        else:
            out.append(lint_bytes(name, data, profile, options))
    return out
