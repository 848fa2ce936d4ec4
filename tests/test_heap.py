"""The garbage collector tuning of a lint process (linter.heap): the orderlint process itself freezes what its
start built and widens the young generation; a program that calls `main(argv)` keeps its collector as it was."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

from linter import heap
from linter.cli import main

ONE_FILE = Path(__file__).resolve().parent.parent / "fixtures" / "HEP201" / "fail-15000-units-70kg.json"

# The lint process ends with os._exit once its output is out (linter.cli._end_process): the state is reported
# from there (and from a return, should main ever return instead).
_REPORT_GC = """
import gc, os, sys
end = os._exit
def report(code):
    print(code, gc.isenabled(), gc.get_threshold(), gc.get_freeze_count() > 0, sep="|", file=sys.stderr)
    sys.stderr.flush()
    end(code)
os._exit = report
from linter.cli import main
sys.argv = ["orderlint", "lint", "-q", "--mode", "fast", sys.argv[1]]
report(main())
"""


def test_the_lint_process_freezes_its_start_and_widens_the_young_generation() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _REPORT_GC, str(ONE_FILE)], capture_output=True, text=True, timeout=60, check=False
    )
    code, enabled, threshold, frozen = done.stderr.strip().splitlines()[-1].split("|")
    assert code == "1"  # HEP201's fixture fires a critical finding
    assert enabled == "True"
    assert threshold == str((heap.YOUNG_THRESHOLD, *heap.OLDER_THRESHOLDS))
    assert frozen == "True"


def test_a_caller_passing_argv_keeps_its_collector(capsys: object) -> None:
    before = (gc.isenabled(), gc.get_threshold())
    frozen = gc.get_freeze_count()
    assert main(["lint", "-q", "--mode", "fast", str(ONE_FILE)]) == 1
    assert (gc.isenabled(), gc.get_threshold()) == before
    # Nothing newly frozen. Not equal: when an earlier test froze this process's heap (a service's warm-up, e.g.
    # tests/workbench/test_zip_linear.py's app), frozen objects the lint frees leave the permanent generation.
    assert gc.get_freeze_count() <= frozen
