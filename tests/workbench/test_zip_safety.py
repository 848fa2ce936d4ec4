"""Zip archives: members listed in order; bombs, lying sizes and path tricks refused as error rows."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from linter.batch import ZipLimits, collect_inputs, unsafe_member_name, zip_members
from linter.errors import InputError

DATA = Path(__file__).parent / "data"


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../x.json", "'..'"),
        ("a/../../x.json", "'..'"),
        ("/etc/x.json", "absolute"),
        ("C:/x.json", "drive letter"),
        ("a\\..\\x.json", "backslash"),
        ("a\x00.json", "NUL"),
    ],
)
def test_path_tricks_are_named(name: str, why: str) -> None:
    reason = unsafe_member_name(name)
    assert reason is not None and why in reason


def test_ordinary_names_pass() -> None:
    assert unsafe_member_name("sets/HEP201/fail-overdose.json") is None


def test_members_sorted_and_filtered(tmp_path: Path) -> None:
    archive = _zip(
        tmp_path / "a.zip",
        {"b.json": b"{}", "a.ndjson": b"{}", "notes.txt": b"x", "__MACOSX/._a.json": b"x", "inner.zip": b"PK"},
    )
    sources = zip_members(archive, "a.zip", ZipLimits())
    assert [s.name for s in sources] == ["a.zip!a.ndjson", "a.zip!b.json", "a.zip!inner.zip"]
    assert sources[2].error is not None and "nested" in sources[2].error


def test_zip_bomb_ratio_is_refused(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "bomb.zip", {"bomb.json": b" " * (20 * 1024 * 1024)})
    [src] = zip_members(archive, "bomb.zip", ZipLimits())
    assert src.error is not None and "zip bomb" in src.error


def test_archive_over_total_limit_is_refused_whole(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "big.zip", {f"{i}.json": b"{}" * 600 for i in range(3)})
    [src] = zip_members(archive, "big.zip", ZipLimits(max_total_bytes=3000))
    assert src.name == "big.zip" and src.error is not None and "refused" in src.error


def test_too_many_members(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "many.zip", {f"{i}.json": b"{}" for i in range(5)})
    [src] = zip_members(archive, "many.zip", ZipLimits(max_members=4))
    assert src.error is not None and "5 files" in src.error


def test_symlink_member_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("link.json")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    [src] = zip_members(archive, "link.zip", ZipLimits())
    assert src.error is not None and "symbolic link" in src.error


def test_member_that_inflates_beyond_its_declared_size_is_refused(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "liar.zip", {"x.json": b"{}" * 100})
    [src] = zip_members(archive, "liar.zip", ZipLimits())
    lying = type(src)(src.name, path=src.path, member=src.member, member_size=10)
    with pytest.raises(InputError, match="more than it declares"):
        lying.read(ZipLimits())


def test_not_a_zip_is_an_error_row(tmp_path: Path) -> None:
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 truncated")
    [src] = collect_inputs([str(tmp_path / "broken.zip")])
    assert src.error == "not a readable zip archive"


def test_directories_walk_into_archives(tmp_path: Path) -> None:
    _zip(tmp_path / "z.zip", {"one.json": (DATA / "heparin-low.json").read_bytes()})
    (tmp_path / "two.json").write_bytes(b"{}")
    names = [s.name for s in collect_inputs([str(tmp_path)])]
    assert names == [f"{tmp_path}/two.json", f"{tmp_path}/z.zip!one.json"]
