"""The local Spark JVM's class-data archive (linter.spark.jvm_cache): where it lives, when it is trusted, and
that a run recording it and a run mapping it give the same findings through the real `orderlint spark`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from linter.spark import jvm_cache
from tests.spark.conftest import Run

ORDERLINT = str(Path(sys.executable).parent / "orderlint")


def _spark_home(tmp_path: Path, jars: dict[str, int]) -> Path:
    home = tmp_path / "spark"
    (home / "jars").mkdir(parents=True)
    for name, size in jars.items():
        (home / "jars" / name).write_bytes(b"x" * size)
    return home


def test_no_directory_no_cache(tmp_path: Path) -> None:
    assert jvm_cache.prepare(None, _spark_home(tmp_path, {"a.jar": 1})) is None


def test_the_first_run_records_into_a_private_directory_then_runs_map_the_archive(tmp_path: Path) -> None:
    home = _spark_home(tmp_path, {"a.jar": 1})
    cache = tmp_path / "cache" / "spark-jvm"
    first = jvm_cache.prepare(cache, home)
    assert first is not None and first.recording is not None
    assert oct(cache.stat().st_mode & 0o777) == "0o700"
    assert f"-XX:ArchiveClassesAtExit={first.recording}" in first.java_options
    assert "-XX:+IgnoreUnrecognizedVMOptions" in first.java_options  # a JVM before 13 must still start
    first.archive.write_bytes(b"archive")  # what finish() renames into place
    first.archive.chmod(0o400)
    second = jvm_cache.prepare(cache, home)
    assert second is not None and second.recording is None
    assert f"-XX:SharedArchiveFile={first.archive}" in second.java_options


def test_another_spark_or_java_gets_another_archive(tmp_path: Path) -> None:
    a = _spark_home(tmp_path / "a", {"spark-core.jar": 10})
    b = _spark_home(tmp_path / "b", {"spark-core.jar": 11})
    assert jvm_cache.archive_key("/usr/bin/java", a / "jars") != jvm_cache.archive_key("/usr/bin/java", b / "jars")
    assert jvm_cache.archive_key("/usr/bin/java", a / "jars") != jvm_cache.archive_key("/opt/java", a / "jars")


def test_the_jvm_runs_from_a_private_spark_home_without_the_ml_jar(tmp_path: Path) -> None:
    home = _spark_home(tmp_path, {"spark-core_2.13-4.0.0.jar": 10, "spark-mllib_2.13-4.0.0.jar": 20})
    (home / "bin").mkdir()
    cache = tmp_path / "cache"
    first = jvm_cache.prepare(cache, home)
    assert first is not None and first.spark_home is not None
    trimmed = first.spark_home
    assert trimmed.parent == cache and oct(trimmed.stat().st_mode & 0o777) == "0o700"
    assert sorted(p.name for p in (trimmed / "jars").iterdir()) == ["spark-core_2.13-4.0.0.jar"]
    assert (trimmed / "bin").resolve() == (home / "bin").resolve()
    # the archive is keyed by the jars the JVM loads: the trimmed set
    assert first.archive.name == f"spark-{jvm_cache.archive_key(jvm_cache._java(), trimmed / 'jars')}.jsa"
    again = jvm_cache.prepare(cache, home)
    assert again is not None and again.spark_home == trimmed
    assert jvm_cache.prepare(cache, _spark_home(tmp_path / "plain", {"a.jar": 1})).spark_home is None  # type: ignore[union-attr]


def test_an_archive_or_directory_others_can_write_is_never_used(tmp_path: Path) -> None:
    home = _spark_home(tmp_path, {"a.jar": 1})
    cache = tmp_path / "cache"
    first = jvm_cache.prepare(cache, home)
    assert first is not None
    first.archive.write_bytes(b"archive")
    first.archive.chmod(0o666)
    assert jvm_cache.prepare(cache, home) is None  # the JVM would trust classes anyone could have put there
    first.archive.chmod(0o400)
    cache.chmod(0o777)
    assert jvm_cache.prepare(cache, home) is None


@pytest.mark.spark
def test_a_recording_run_and_a_mapping_run_give_the_same_findings(fixture_run: Run, tmp_path: Path) -> None:
    cache = tmp_path / "jvm"

    def orderlint_spark(out: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ORDERLINT, "spark", str(fixture_run.export), "--output", str(out), "--master", "local[2]",
             "--mode", "fast", "--jvm-cache", str(cache)],
            capture_output=True, text=True, timeout=600, check=False,
            env={**os.environ, "PYSPARK_PYTHON": sys.executable},
        )  # fmt: skip

    first = orderlint_spark(tmp_path / "first")
    assert first.returncode in (1, 2), first.stderr[-2000:]  # the fixtures have findings and bad lines
    archives = [p for p in cache.iterdir() if p.is_file()]
    assert [p.suffix for p in archives] == [".jsa"] and archives[0].stat().st_size > 0  # renamed once complete
    assert [p.name.startswith("home-") for p in cache.iterdir() if p.is_dir()] == [True]  # the trimmed Spark home
    second = orderlint_spark(tmp_path / "second")
    assert second.returncode == first.returncode
    assert "[cds]" not in first.stdout + second.stdout  # the JVM's archive warnings stay off the terminal

    def rows(out: Path) -> list[str]:
        return sorted(
            line for part in sorted((out / "findings.csv").glob("*.csv")) for line in part.read_text().splitlines()
        )

    assert rows(tmp_path / "first") == rows(tmp_path / "second") != []


def test_a_wrong_profile_is_said_before_any_jvm_starts(tmp_path: Path) -> None:
    done = subprocess.run(
        [ORDERLINT, "spark", str(tmp_path), "--output", str(tmp_path / "out"), "--profile", "no-such-profile",
         "--jvm-cache", str(tmp_path / "jvm")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "no profile named 'no-such-profile'" in done.stderr
    assert "log4j" not in done.stderr and not (tmp_path / "jvm").exists()  # no JVM, no archive directory


def test_a_recording_a_killed_run_left_is_removed_once_stale(tmp_path: Path) -> None:
    home = _spark_home(tmp_path, {"a.jar": 1})
    cache = tmp_path / "cache"
    first = jvm_cache.prepare(cache, home)
    assert first is not None and first.recording is not None
    stale = first.archive.with_name(f"{first.archive.name}.1.recording")
    fresh = first.archive.with_name(f"{first.archive.name}.2.recording")  # maybe a run still recording
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    old = time.time() - 3 * jvm_cache.JVM_EXIT_SECONDS
    os.utime(stale, (old, old))
    jvm_cache.prepare(cache, home)
    assert not stale.exists() and fresh.exists()
