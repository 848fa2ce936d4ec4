"""The per-process caches never change a finding: a file's findings, texts and suggestions are the same whatever the
process linted before it.

The reader keeps the products and dosages it reads per process, by their JSON as sent, and rules keep readings of
them by identity (a bolus's conversions, a daily dose, a dosage's texts): a second patient's order with the same
dosage reuses the first one's reading. What such a cache holds must be a function of its key alone (never of the
patient's weight, another order or the profile's options unless they are in the key). Here the same files are
linted by the real CLI in three orders, forward, reversed and shuffled, in fast and strict mode, and every file's
report must be identical: the bench's bundles repeat dosages across weights on purpose, and the fixtures hold the
odd shapes.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, ROOT


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    directory = tmp_path_factory.mktemp("corpus")
    files = []
    for n, src in enumerate(sorted(FIXTURES.rglob("*.json"))):
        if src.name.endswith(".expected.json"):
            continue
        dst = directory / f"f{n:04d}.json"
        shutil.copyfile(src, dst)
        files.append(dst)
    sys.path.insert(0, str(ROOT / "bench"))
    from lint_bench import make_bundle  # the bench's own bundles (bench/ is not a package)

    rng = random.Random(17)
    for n in range(80):  # the same heparin, aspirin, clopidogrel... dosages under different weights
        dst = directory / f"b{n:03d}.json"
        dst.write_bytes(make_bundle(rng, 20))
        files.append(dst)
    return files


def _per_file(files: list[Path], mode: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "linter.cli", "lint", "--quiet", "--format", "json", "--mode", mode, *map(str, files)],
        capture_output=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode in (0, 1), done.stderr.decode()[-2000:]
    report = json.loads(done.stdout)
    return {f["path"]: f for f in report["files"]}


@pytest.mark.parametrize("mode", ["fast", "strict"])
def test_a_files_report_does_not_depend_on_what_was_linted_before(corpus: list[Path], mode: str) -> None:
    shuffled = list(corpus)
    random.Random(3).shuffle(shuffled)
    forward = _per_file(corpus, mode)
    assert len(forward) == len(corpus)
    assert sum(1 for f in forward.values() for s in f["order_sets"] for _ in s["findings"]) > 300  # rules fired
    for other in (_per_file(list(reversed(corpus)), mode), _per_file(shuffled, mode)):
        different = [path for path in forward if forward[path] != other[path]]
        assert not different, f"{len(different)} files differ, e.g. {different[:3]}"
