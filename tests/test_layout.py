"""The layout the issue asks for, read from the source: rules import nothing from the reader, only the strict
validator imports fhir.resources, no module in linter/ is over 500 lines, and an import inside a function says
why it is there (a comment on its line or the line above)."""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

LINTER = Path(__file__).resolve().parent.parent / "linter"
MAX_LINES = 500


def _imported_modules(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def test_rules_import_nothing_from_the_reader() -> None:
    offenders = {
        str(p.relative_to(LINTER)): sorted(m for m in _imported_modules(p) if m.startswith("linter.fhir_io"))
        for p in (LINTER / "rules").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_the_strict_validator_imports_fhir_resources() -> None:
    importers = sorted(
        str(p.relative_to(LINTER))
        for p in LINTER.rglob("*.py")
        if any(m == "fhir.resources" or m.startswith("fhir.resources.") for m in _imported_modules(p))
    )
    assert importers == ["fhir_io/strict.py"]


def test_no_module_over_500_lines() -> None:
    long = {
        str(p.relative_to(LINTER)): n
        for p in LINTER.rglob("*.py")
        if (n := len(p.read_text("utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


# Another helper's file at the time this check was added (issue 9): its two report imports are being moved.
# Remove the entry once linter/workbench/jobs.py explains or hoists them.
_UNEXPLAINED_ALLOWED = {"workbench/jobs.py": 2}


def _comment_lines(source: str) -> tuple[set[int], set[int]]:
    """Lines holding a comment, and lines holding nothing but a comment."""
    any_comment: set[int] = set()
    only_comment: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            any_comment.add(tok.start[0])
            if not tok.line[: tok.start[1]].strip():
                only_comment.add(tok.start[0])
    return any_comment, only_comment


def unexplained_function_imports(source: str) -> list[int]:
    """Line numbers of imports inside a function with no reason given: a comment on one of the import's lines,
    a comment line right above it, or an import right above it (in the same function) that is explained, so
    that one comment can explain a block of imports."""
    tree = ast.parse(source)
    any_comment, only_comment = _comment_lines(source)
    out: list[int] = []
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        explained_ends: set[int] = set()
        nested = [
            n
            for n in ast.walk(func)
            if isinstance(n, ast.Import | ast.ImportFrom) and _enclosing_function(tree, n) is func
        ]
        for node in sorted(nested, key=lambda n: n.lineno):
            end = node.end_lineno or node.lineno
            own = any(line in any_comment for line in range(node.lineno, end + 1))
            above = node.lineno - 1
            if own or above in only_comment or above in explained_ends:
                explained_ends.add(end)
            else:
                out.append(node.lineno)
    return sorted(out)


def _enclosing_function(tree: ast.AST, target: ast.AST) -> ast.AST | None:
    found: ast.AST | None = None

    def visit(node: ast.AST, func: ast.AST | None) -> None:
        nonlocal found
        for child in ast.iter_child_nodes(node):
            if child is target:
                found = func
                return
            visit(child, child if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else func)

    visit(tree, None)
    return found


def test_no_unexplained_import_inside_a_function() -> None:
    offenders: dict[str, list[int]] = {}
    for path in sorted(LINTER.rglob("*.py")):
        lines = unexplained_function_imports(path.read_text("utf-8"))
        name = str(path.relative_to(LINTER))
        if lines and len(lines) != _UNEXPLAINED_ALLOWED.get(name):
            offenders[name] = lines
    assert offenders == {}, "imports inside functions need a comment on the line or the line above saying why"


def test_the_function_import_check_can_fail() -> None:
    source = (
        "import os\n"
        "def a():\n"
        "    import json\n"  # no reason: flagged
        "def b():\n"
        "    import csv  # lazy: only for this format\n"
        "    import io\n"  # right below an explained import: one comment explains the block
        "def c():\n"
        "    x = 1  # a comment on another statement\n"
        "    import re\n"  # the line above has code and a comment: not a reason for this import
        "def d():\n"
        "    # pyspark is optional\n"
        "    from pyspark import sql\n"
        "    def inner():\n"
        "        import zlib\n"  # the nested function's own import: flagged
    )
    assert unexplained_function_imports(source) == [3, 9, 14]
