"""The stored validated data files (linter/terminology/validated.py) are what the pydantic schemas make of the
shipped TOML files today, and a changed file is validated again instead of read from them. When this fails
after editing a data file or a schema, regenerate: python scripts/gen_validated.py."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from linter.terminology import drug_keys, records, validated
from linter.terminology.schema import FILE_SCHEMAS

REGENERATE = "stale: run python scripts/gen_validated.py"


@pytest.mark.parametrize("name", sorted(FILE_SCHEMAS))
def test_the_stored_form_is_the_schemas_validation_of_the_shipped_file(name: str) -> None:
    data = (records.HERE / name).read_bytes()
    assert validated.SOURCES[name] == records.digest(data), REGENERATE
    assert validated.DATA[name] == records.validated_json(name, data), REGENERATE
    model = FILE_SCHEMAS[name].model_validate(tomllib.loads(data.decode("utf-8")))
    loaded = records.load_file(name)
    assert repr(loaded) == repr(model)  # the same fields, values and order, shown as the model shows them
    assert type(loaded).__name__ == type(model).__name__


def test_a_record_is_frozen_and_compared_by_value() -> None:
    systems = records.load_file("systems.toml")
    with pytest.raises(AttributeError):
        systems.systems = {}  # type: ignore[misc]
    assert systems == records.load_file.__wrapped__("systems.toml")
    assert systems != records.load_file("timing.toml")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the data files that the loader reads instead (its cache cleared before and after)."""
    for name in FILE_SCHEMAS:
        (tmp_path / name).write_bytes((records.HERE / name).read_bytes())
    records.load_file.cache_clear()
    monkeypatch.setattr(records, "HERE", tmp_path)
    yield tmp_path
    monkeypatch.undo()
    records.load_file.cache_clear()


def test_a_changed_data_file_is_validated_again(data_dir: Path) -> None:
    path = data_dir / "drugs.toml"
    path.write_text(path.read_text("utf-8") + '\n[drugs.testdrug]\ndisplay = "test drug"\nclasses = ["other"]\n')
    assert records.stored_json("drugs.toml", path.read_bytes()) is None
    assert records.load_file("drugs.toml").drugs["testdrug"].display == "test drug"
    assert records.load_file("timing.toml") == records.load_file.__wrapped__("timing.toml")  # still stored


def test_a_changed_data_file_with_an_unknown_key_fails_as_before(data_dir: Path) -> None:
    path = data_dir / "routes.toml"
    path.write_text(path.read_text("utf-8") + '\n[routes.nasal]\ndisplay = "Nasal"\ntypo = 1\n')
    with pytest.raises(ValidationError, match="typo"):
        records.load_file("routes.toml")


def test_drug_keys_of_a_changed_drugs_file_are_read_without_validating(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import linter.terminology as terminology_module  # the module itself: its HERE is patched for this test

    monkeypatch.setattr(terminology_module, "HERE", data_dir)
    assert drug_keys() == frozenset(records.load_file("drugs.toml").drugs)
    path = data_dir / "drugs.toml"
    path.write_text(path.read_text("utf-8") + '\n[drugs.testdrug]\ndisplay = "test drug"\n')  # no classes: invalid
    assert "testdrug" in drug_keys()
