"""Class data sharing for the local Spark JVM: the classes it loads, archived once and mapped at every start.

A local `orderlint spark` starts a JVM that loads and verifies thousands of classes (Spark SQL, Hadoop,
Parquet) from 280 jars on every run: 3.3 s to a ready session and 1.8 s for its first query on this
machine, a serial cost paid before any core lints. The JDK's dynamic AppCDS archive (JDK 13 and later:
`-XX:ArchiveClassesAtExit`, then `-XX:SharedArchiveFile`) maps them already parsed and verified: 1.9 s
and 0.8 s (bench/README.md, "Spark").

- The first local run of a (Java, Spark) pair records the archive when its JVM exits: that run waits for
  the JVM to write it (~150 MB, a few seconds) and renames it into place only once it is complete.
- Where: `--jvm-cache DIR` (default `$XDG_CACHE_HOME/orderlint/spark-jvm`, else
  `~/.cache/orderlint/spark-jvm`), created for this user only (0700). An archive not owned by this user,
  or writable by anyone else, is never used: the JVM trusts the classes in it. `--jvm-cache off`: none.
- One archive per Java binary and Spark jar set (the file name hashes them); the JVM checks the archive
  against its own build and class path too, and runs without it, silently, when they differ.
- The JVM runs from a trimmed Spark home beside the archive (`home-<key>`: links to every entry of the real
  one, its jars but spark-mllib's): that jar registers a session extension (ML functions) whose setup
  initialises Scala reflection at every session start, about 12 % of the JVM's CPU at 5,000 patients on one
  core (local[1], alternated: 20.0-20.7 instead of 23.3-23.4 CPU s under load). orderlint uses no ML.
- Only for a local master this process starts: a cluster's executors, and a driver that spark-submit
  started, are JVMs orderlint does not launch. `-XX:+IgnoreUnrecognizedVMOptions`: a JVM older than 13
  ignores the options instead of refusing to start.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import time
from dataclasses import dataclass
from pathlib import Path

# The CDS log tags off: on a dump the JVM warns, on stdout, about every class it cannot archive.
_QUIET = "-XX:+IgnoreUnrecognizedVMOptions -Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off"
JVM_EXIT_SECONDS = 300  # how long the recording run waits for the JVM to write its archive


@dataclass(frozen=True)
class JvmCache:
    archive: Path
    recording: Path | None  # this run records the archive here (a temporary name), renamed by finish()
    spark_home: Path | None = None  # the trimmed Spark home the JVM runs from (None: the real one)

    @property
    def java_options(self) -> str:
        if self.recording is not None:
            return f"{_QUIET} -XX:ArchiveClassesAtExit={self.recording}"
        return f"{_QUIET} -XX:SharedArchiveFile={self.archive}"


def default_directory() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "orderlint" / "spark-jvm"


def _java() -> str:
    """The java that Spark's launcher runs: $JAVA_HOME/bin/java, else the one on PATH."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else (shutil.which("java") or "java")
    return os.path.realpath(java)


def archive_key(java: str, jars: Path) -> str:
    """A digest of the java binary and of the Spark jars (names and sizes): a new Java or Spark, a new key."""
    h = hashlib.sha256(java.encode())
    for jar in sorted(jars.glob("*.jar")):
        h.update(f"\0{jar.name}\0{jar.stat().st_size}".encode())
    return h.hexdigest()[:16]


def _private_directory(directory: Path) -> bool:
    """Create the directory for this user only; False when it exists but others could write in it."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return _trusted(directory)


def _trusted(path: Path) -> bool:
    st = path.stat()
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def prepare(directory: Path | None, spark_home: Path) -> JvmCache | None:
    """The cache for this run: map the archive when a trusted one exists, else record one. None: no cache
    (turned off, or a directory that cannot be created or is writable by others)."""
    if directory is None:
        return None
    try:
        if not _private_directory(directory):
            return None
        home = trimmed_home(directory, spark_home)
        archive = directory / f"spark-{archive_key(_java(), (home or spark_home) / 'jars')}.jsa"
        if archive.exists():
            return JvmCache(archive, None, home) if _trusted(archive) else None
        _remove_stale_recordings(directory)
    except OSError:  # the archive is an optimisation: an unreadable cache means none
        return None
    return JvmCache(archive, archive.with_name(f"{archive.name}.{os.getpid()}.recording"), home)


# Jars a local orderlint run leaves out: spark-mllib registers a session extension (ML functions) through
# META-INF/services, set up by Scala reflection when each session starts.
UNUSED_JARS = ("spark-mllib_",)


def trimmed_home(directory: Path, spark_home: Path) -> Path | None:
    """A Spark home in `directory` (private) that links to every entry of `spark_home` and to each of its jars
    but UNUSED_JARS; None when there is nothing to leave out or it cannot be built (the real home is used).
    Built under a temporary name and renamed into place, so a concurrent run sees it whole or not at all."""
    jars = spark_home / "jars"
    if not jars.is_dir() or not any(j.name.startswith(UNUSED_JARS) for j in jars.glob("*.jar")):
        return None
    home = directory / f"home-{archive_key('', jars)}"
    if home.is_dir():
        return home if _trusted(home) else None
    building = directory / f"{home.name}.{os.getpid()}.building"
    shutil.rmtree(building, ignore_errors=True)
    try:
        building.mkdir(mode=0o700)
        (building / "jars").mkdir(mode=0o700)
        for entry in spark_home.iterdir():
            if entry.name != "jars":
                (building / entry.name).symlink_to(entry.resolve())
        for jar in jars.iterdir():
            if not jar.name.startswith(UNUSED_JARS):
                (building / "jars" / jar.name).symlink_to(jar.resolve())
        os.rename(building, home)
    except OSError:  # no symlinks here, or another run renamed its own first
        shutil.rmtree(building, ignore_errors=True)
        return home if home.is_dir() and _trusted(home) else None
    return home


def _remove_stale_recordings(directory: Path) -> None:
    """Recordings a killed run left behind (the JVM wrote them at its exit, nobody renamed them)."""
    too_old = time.time() - 2 * JVM_EXIT_SECONDS
    for left in directory.glob("spark-*.jsa.*.recording"):
        if left.stat().st_mtime < too_old:
            left.unlink(missing_ok=True)


def finish(cache: JvmCache | None) -> None:
    """After spark.stop(): when this run records the archive, end the JVM (its gateway's stdin closed, as
    when Python exits), wait for it to write the archive, and move the archive into place."""
    if cache is None or cache.recording is None:
        return
    from pyspark import SparkContext  # lazy: pyspark is an extra, loaded by linter.spark.launch already

    gateway = SparkContext._gateway
    proc = getattr(gateway, "proc", None)
    if gateway is None or proc is None:
        return
    try:
        gateway.shutdown()
        if proc.stdin is not None:
            proc.stdin.close()  # the gateway server exits on end of input
        proc.wait(timeout=JVM_EXIT_SECONDS)
    except Exception:  # the archive is an optimisation: a failure here must not fail the run
        proc.kill()
    finally:
        SparkContext._gateway = None  # a later session in this process starts a new JVM
        SparkContext._jvm = None
    recording = cache.recording
    if recording.exists() and recording.stat().st_size > 0 and proc.returncode == 0:
        os.replace(recording, cache.archive)
    else:
        recording.unlink(missing_ok=True)
