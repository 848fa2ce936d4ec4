"""Ready means ready (issue 8 §5): the app loads what a lint needs before it accepts a request. Checked in a
fresh interpreter, by what is loaded once the app has started and before any hook call; the speed itself is
measured by bench/first_call.py, not here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from linter.api.warmup import sample_request, warm
from linter.profiles import available_profiles
from tests.conftest import ROOT

PROBE = """
import sys
from fastapi.testclient import TestClient
from linter.api.main import create_app
from linter.settings import Settings
import linter.units as units
settings = Settings(_env_file=None, database_url="sqlite:///{db}", warm_on_start={warm})
with TestClient(create_app(settings)) as client:
    loaded = [
        units._registry.cache_info().currsize == 1,  # the pint registry (fallback units)
        "fhir.resources.R4B.medicationrequest" in sys.modules,  # strict path and suggestion validation
        units._factor.cache_info().currsize > 0,  # conversions done once
    ]
    assert client.get("/readyz").status_code == 200
print(loaded)
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("warm_on_start", "expected"), [(True, "[True, True, True]"), (False, "[False, False, False]")]
)
def test_the_app_is_warm_before_it_answers(tmp_path: Path, warm_on_start: bool, expected: str) -> None:
    code = PROBE.format(db=tmp_path / "w.db", warm=warm_on_start)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == expected


def test_the_warmup_request_exercises_the_dose_rules_and_suggestions() -> None:
    result = warm(list(available_profiles().values()))
    assert result["cards"] >= 4 * len(available_profiles())  # HEP201, AT106 and more, in fast and strict mode
    assert sample_request()["context"]["patientId"] == "warmup"  # synthetic: no real patient
