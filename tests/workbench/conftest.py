"""The workbench app on a temporary database and upload directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from linter.settings import Settings
from tests.workbench.web import use_csrf

DATA = Path(__file__).parent / "data"


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'wb.db'}",
        "upload_dir": str(tmp_path / "uploads"),
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def wb_client(tmp_path: Path) -> Iterator[TestClient]:
    from linter.api.main import create_app

    with TestClient(create_app(make_settings(tmp_path))) as client:
        yield use_csrf(client)
