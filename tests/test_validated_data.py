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


# ---- profiles (linter/profiles_validated.py) ----------------------------------------------------------------


def _shipped_profiles() -> list[Path]:
    return sorted((Path(__file__).resolve().parent.parent / "profiles").glob("*.toml"))


@pytest.mark.parametrize("path", _shipped_profiles(), ids=lambda p: p.stem)
def test_a_shipped_profile_is_read_as_the_schema_validates_it(path: Path) -> None:
    from linter import profiles, profiles_validated

    assert profiles.file_digest(path) in profiles_validated.SOURCES, REGENERATE
    stored = profiles._stored_dump(path)
    assert stored is not None, REGENERATE  # the file and the profiles it extends are the ones stored
    validated_profile = profiles.profile_from_dump(profiles.validated_dump(path))
    stored_profile = profiles.profile_from_dump({**stored, "path": str(path)})
    assert stored_profile == validated_profile, REGENERATE
    assert repr(stored_profile) == repr(validated_profile), REGENERATE  # 81 and 81.0 are ==, not the same value
    assert repr(profiles.load_profile_file(path)) == repr(validated_profile)


@pytest.fixture
def profile_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped profiles, the profiles directory for the test."""
    for path in _shipped_profiles():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    monkeypatch.setenv("ORDERLINT_PROFILES_DIR", str(tmp_path))
    return tmp_path


def test_a_changed_profile_is_validated_again(profile_dir: Path) -> None:
    from linter import profiles

    path = profile_dir / "btk-angioplasty.toml"
    assert profiles._stored_dump(path) is not None
    path.write_text(path.read_text("utf-8").replace("max_mg_per_day = 325", "max_mg_per_day = 300", 1), "utf-8")
    assert profiles._stored_dump(path) is None
    assert profiles.load_profile_file(path).rules["AT101"].options["max_mg_per_day"] == 300


def test_a_profile_whose_parent_changed_is_validated_again(profile_dir: Path) -> None:
    from linter import profiles

    jp, parent = profile_dir / "btk-angioplasty-jp.toml", profile_dir / "btk-angioplasty.toml"
    assert profiles._stored_dump(jp) is not None
    parent.write_text(parent.read_text("utf-8").replace("[rules.AT102]", '[rules.AT102]\nnote = "changed"', 1), "utf-8")
    assert profiles._stored_dump(jp) is None
    assert profiles.load_profile_file(jp).rules["AT102"].note == "changed"


def test_a_changed_profile_with_an_unknown_key_fails_with_the_schemas_message(profile_dir: Path) -> None:
    from linter import profiles
    from linter.errors import ProfileError

    path = profile_dir / "btk-angioplasty.toml"
    path.write_text(path.read_text("utf-8").replace("publisher = ", 'publsher = "x"\npublisher = ', 1), "utf-8")
    with pytest.raises(ProfileError, match=r"btk-angioplasty.toml: publsher: Extra inputs are not permitted"):
        profiles.load_profile_file(path)


def test_a_changed_data_file_is_read_with_values_json_has_not(data_dir: Path) -> None:
    path = data_dir / "routes.toml"
    path.write_text(path.read_text("utf-8").replace("[meta]", "[meta]\nreviewed = 2026-11-30", 1), "utf-8")
    assert str(records.load_file("routes.toml").meta["reviewed"]) == "2026-11-30"


def test_a_changed_data_file_gives_the_records_the_stored_form_gives(data_dir: Path) -> None:
    for name in FILE_SCHEMAS:
        path = data_dir / name
        path.write_bytes(path.read_bytes() + b"\n# changed\n")
    records.load_file.cache_clear()
    for name in FILE_SCHEMAS:
        assert records.stored_json(name, (data_dir / name).read_bytes()) is None
        validated_again = records.load_file(name)
        stored = records.json.loads(validated.DATA[name], object_hook=records._from_json)
        assert validated_again == stored and repr(validated_again) == repr(stored)
