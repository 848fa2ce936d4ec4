"""The per-rule fixture catalog: fixtures/<CODE>/{fail,pass}-*.json with <name>.expected.json beside them.

An expected file holds the exact findings (code, indicator, ref) the default profile must produce for the
fixture, plus strings each finding's detail must contain (the computed numbers), and optionally
"profile", "context" (btk|pad) and "mode".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import FIXTURES


@dataclass(frozen=True)
class Case:
    path: Path
    expected: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.path.parent.name}/{self.path.name}"


def fixture_files() -> list[Path]:
    return sorted(
        p
        for p in FIXTURES.glob("*/*.json")
        if not p.name.endswith(".expected.json")
    )


def cases() -> list[Case]:
    out = []
    for path in fixture_files():
        exp_path = path.with_name(path.name.removesuffix(".json") + ".expected.json")
        expected = json.loads(exp_path.read_text()) if exp_path.exists() else {}
        out.append(Case(path, expected))
    return out
