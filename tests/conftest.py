"""Shared test fixtures: the default profile, a fixed evaluation time, and the fixture catalog."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import authlib.deprecate  # noqa: F401 - see below
import pytest

from linter.profiles import Profile, load_profile

# authlib.deprecate installs a warnings filter of its own ("always" for Authlib's deprecation warnings) when it
# is first imported. Imported here, before any test module, so that pytest's filterwarnings (pyproject.toml)
# stay in front of it and the loopback OIDC test provider's `from authlib import jose` warns no more.

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
# Fixtures are judged at a fixed time, so "a Procedure within 30 days" never depends on the day tests run.
FIXTURE_NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def profile() -> Profile:
    return load_profile("btk-angioplasty")
