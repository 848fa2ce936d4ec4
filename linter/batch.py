"""Linting files in bulk: collect inputs (files, directories, zip archives, stdin), lint each, keep bad files
as error rows while the rest still runs. Shared by the CLI and the workbench page so their reports agree.

Inputs are collected first (`collect_inputs`: names only, nothing read) so that progress has a total, then
linted in order, in this process or in N worker processes (`lint_sources(..., jobs=N)`); either way the
results come back in input order and are identical. A file found in a directory may be a zip archive whatever
its name: it is told by its first bytes when it is read for linting (`lint_input`), by the process that lints
it, not opened once more while collecting (the one serial step of `--jobs`); such an archive's members then
take its place, in order.

Zip archives are read member by member in memory, never extracted to disk, each archive opened once per
process (`ArchiveReader`: opening parses the whole central directory, so reopening it per member made an
N-member archive cost O(N^2)), and refused (as error rows) when they look hostile: too many members, too
many bytes once inflated, an inflation ratio no real FHIR file has,
sizes that lie, or member names that try to escape (absolute, `..`, drive letters, backslashes, symlinks).
"""

from __future__ import annotations

import os
import stat
import sys
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import TYPE_CHECKING, Final, Protocol, TypeVar

from linter.batch_records import FileResult as FileResult
from linter.batch_records import FrozenRecord
from linter.batch_records import LintedSet as LintedSet
from linter.batch_records import LintOptions as LintOptions
from linter.batch_records import ZipLimits as ZipLimits
from linter.engine import run
from linter.errors import InputError
from linter.fhir_io import load_bytes
from linter.profiles import Profile

if TYPE_CHECKING:
    import zipfile
    from multiprocessing.context import BaseContext

INPUT_SUFFIXES = (".json", ".ndjson", ".jsonl")
ARCHIVE_SUFFIXES = (".zip",)
ZIP_MEMBER_SEP = "!"  # "orders.zip!HEP201/fail-overdose.json"


class _Named(Protocol):
    @property
    def path(self) -> str: ...  # the input's name, as reports show it


T = TypeVar("T", bound=_Named)


class InputSource(FrozenRecord):
    """One input to lint, not yet read: a file on disk, a member of a zip archive, stdin bytes, or an error
    found while collecting (missing file, refused archive member)."""

    __slots__ = ("data", "error", "error_path", "maybe_archive", "member", "member_size", "name", "path")

    def __init__(
        self,
        name: str,
        path: str | None = None,
        member: str | None = None,
        data: bytes | None = None,
        error: str | None = None,
        error_path: str | None = None,
        member_size: int = 0,
        maybe_archive: bool = False,
    ) -> None:
        self.name: Final = name  # what reports show
        self.path: Final = path  # file on disk (the archive, for a member)
        self.member: Final = member  # zip member name
        self.data: Final = data  # stdin
        self.error: Final = error
        self.error_path: Final = error_path
        self.member_size: Final = member_size  # declared inflated size of a member
        self.maybe_archive: Final = maybe_archive  # a file from a directory: a zip archive if its bytes say so

    def read(self, limits: ZipLimits, archives: ArchiveReader | None = None) -> bytes:
        """The input's bytes; archive members through `archives` (open archives kept for the batch), or by
        opening the archive for this one member when none is given."""
        if self.error is not None:
            raise InputError(self.error, self.error_path, self.name)
        if self.data is not None:
            return self.data
        if self.path is None:  # pragma: no cover - constructors always set one of them
            raise InputError("nothing to read", None, self.name)
        if self.member is None:
            return _read_file(self.path, self.name)
        if archives is not None:
            return _read_member(archives, self.path, self.member, self.member_size, self.name, limits)
        with ArchiveReader() as once:
            return _read_member(once, self.path, self.member, self.member_size, self.name, limits)


class ArchiveReader:
    """Zip archives opened once and kept open while a batch lists and reads their members.

    At most `keep` archives stay open (least recently used closed first), so an upload of many archives does
    not run out of file descriptors; inputs come archive by archive, so each is still opened once. Not shared
    between threads: one reader per batch (and one per worker process)."""

    def __init__(self, keep: int = 8) -> None:
        self.keep = keep
        self._open: OrderedDict[str, zipfile.ZipFile] = OrderedDict()

    def get(self, path: str | Path) -> zipfile.ZipFile:
        """The open archive at `path` (BadZipFile or OSError when it cannot be opened)."""
        key = str(path)
        zf = self._open.get(key)
        if zf is not None:
            self._open.move_to_end(key)
            return zf
        import zipfile  # lazy: a lint of plain files (every start) never needs it

        zf = zipfile.ZipFile(key)
        self._open[key] = zf
        while len(self._open) > self.keep:
            self._open.popitem(last=False)[1].close()
        return zf

    def close(self) -> None:
        while self._open:
            self._open.popitem()[1].close()

    def __enter__(self) -> ArchiveReader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


ProgressCallback = Callable[[int, int, str], None]  # (done, total, name of the input just finished)


# --- collecting inputs -----------------------------------------------------------------------------------


def collect_inputs(
    paths: Sequence[str], limits: ZipLimits | None = None, archives: ArchiveReader | None = None
) -> list[InputSource]:
    """Every input named on the command line, in order: directories walked recursively (sorted), zip
    archives listed member by member, `-` read from stdin."""
    limits = limits or ZipLimits()
    if archives is None:
        with ArchiveReader() as own:
            return collect_inputs(paths, limits, own)
    out: list[InputSource] = []
    for raw in paths:
        if raw == "-":
            out.append(InputSource("<stdin>", data=sys.stdin.buffer.read()))
            continue
        path = Path(raw)
        if path.is_dir():
            for child, name in _files_under(path):  # what _expand does, without its per-file calls
                lower = name.lower()  # once a file: the two tests below are _expand's and _wanted's
                if lower.endswith(ARCHIVE_SUFFIXES) and _suffix(name).lower() in ARCHIVE_SUFFIXES:
                    out.extend(zip_members(child, child, limits, archives))
                elif lower.endswith(INPUT_SUFFIXES) and not lower.endswith(".expected.json"):  # _wanted(name)
                    # A zip archive under another name is told when read (lint_input).
                    out.append(InputSource(child, child, maybe_archive=True))
        elif not path.exists():
            out.append(InputSource(str(path), error="no such file"))
        else:
            out.extend(_expand(path, str(path), limits, archives))
    return out


def source_for_file(
    path: Path, name: str, limits: ZipLimits | None = None, archives: ArchiveReader | None = None
) -> list[InputSource]:
    """The inputs one uploaded file holds (itself, or an archive's members), under the name it was sent as."""
    if archives is None:
        with ArchiveReader() as own:
            return _expand(path, name, limits or ZipLimits(), own)
    return _expand(path, name, limits or ZipLimits(), archives)


def _files_under(directory: Path) -> list[tuple[str, str]]:
    """(path, file name) of every file under `directory`: what `sorted(p for p in directory.rglob("*") if
    p.is_file())` lists, in its order and spelled as it spells them (symbolic links to files included, to
    directories not followed, unreadable directories skipped), from os.scandir's entries without a stat call
    or a Path object per file (2,010 files: 13 -> 2 ms). Path order compares paths part by part: each
    directory's entries sorted by name, a subdirectory's files listed where its name sorts."""
    base = str(directory)
    found: list[tuple[str, str]] = []

    def walk(listed: str, prefix: str) -> None:
        try:
            with os.scandir(listed) as listing:
                entries = sorted(listing, key=_entry_name)
        except PermissionError:
            return
        for entry in entries:
            try:
                is_file = entry.is_file()  # follows a symbolic link, as Path.is_file
                is_dir = not is_file and entry.is_dir(follow_symlinks=False)
            except OSError:  # a link loop, a vanished entry: not a file (Path.is_file says False)
                continue
            name = entry.name
            if is_file:
                found.append((prefix + name, name))
            elif is_dir:
                walk(prefix + name, prefix + name + "/")

    walk(base, "" if base == "." else base if base.endswith("/") else base + "/")
    return found


def _entry_name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _suffix(name: str) -> str:
    """Path.suffix of a file name."""
    i = name.rfind(".")
    return name[i:] if 0 < i < len(name) - 1 else ""


def _wanted(name: str) -> bool:
    lower = name.lower()
    return lower.endswith(INPUT_SUFFIXES) and not lower.endswith(".expected.json")


def _expand(path: str | Path, name: str, limits: ZipLimits, archives: ArchiveReader) -> list[InputSource]:
    if _suffix(os.path.basename(path)).lower() in ARCHIVE_SUFFIXES or _looks_like_zip(path):
        return zip_members(path, name, limits, archives)
    return [InputSource(name, path=str(path))]


def _looks_like_zip(path: str | Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY)  # no file object: this runs for every input file (~3 us instead of 7)
    except OSError:
        return False
    try:
        head = os.read(fd, 4)
        while 0 < len(head) < 4 and (more := os.read(fd, 4 - len(head))):  # a pipe may give fewer at once
            head += more
        return head == ZIP_MAGIC
    except OSError:  # a directory, an I/O error: not an archive
        return False
    finally:
        os.close(fd)


ZIP_MAGIC = b"PK\x03\x04"  # a zip archive's first bytes (a local file header)


def unsafe_member_name(name: str) -> str | None:
    """Why an archive member name is refused, or None when it is an ordinary relative path."""
    if "\x00" in name:
        return "a NUL character in the name"
    if "\\" in name:
        return "a backslash in the name"
    if name.startswith("/"):
        return "an absolute path"
    if len(name) >= 2 and name[1] == ":":
        return "a drive letter"
    if any(part == ".." for part in PurePosixPath(name).parts):
        return "a '..' path component"
    return None


def zip_members(
    path: str | Path, name: str, limits: ZipLimits, archives: ArchiveReader | None = None
) -> list[InputSource]:
    """The members of an archive as inputs (not read yet), or error rows for what is refused. The archive
    stays open in `archives` for reading the members."""
    if archives is None:
        with ArchiveReader() as own:
            return zip_members(path, name, limits, own)
    import zipfile  # lazy, as in ArchiveReader.get

    try:
        infos = archives.get(path).infolist()
    except zipfile.BadZipFile:
        return [InputSource(name, error="not a readable zip archive")]
    except OSError as exc:
        return [InputSource(name, error=f"cannot read: {exc.strerror or exc}")]
    files = [i for i in infos if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
    if len(files) > limits.max_members:
        return [
            InputSource(
                name,
                error=f"archive refused: it holds {len(files)} files, more than the limit of {limits.max_members}",
            )
        ]
    declared = sum(i.file_size for i in files)
    if declared > limits.max_total_bytes:
        return [
            InputSource(
                name,
                error=f"archive refused: it inflates to {declared} bytes, more than the limit of "
                f"{limits.max_total_bytes} bytes (zip bomb?)",
            )
        ]
    out: list[InputSource] = []
    for info in sorted(files, key=lambda i: i.filename):
        member_name = f"{name}{ZIP_MEMBER_SEP}{info.filename}"
        problem = _refused_member(info, limits)
        if problem is not None:
            out.append(InputSource(member_name, error=problem))
        elif info.filename.lower().endswith(ARCHIVE_SUFFIXES):
            out.append(InputSource(member_name, error="archive member refused: nested archives are not opened"))
        elif _wanted(PurePosixPath(info.filename).name):
            out.append(InputSource(member_name, path=str(path), member=info.filename, member_size=info.file_size))
    return out


def _refused_member(info: zipfile.ZipInfo, limits: ZipLimits) -> str | None:
    unsafe = unsafe_member_name(info.filename)
    if unsafe is not None:
        return f"archive member refused: {unsafe}"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "archive member refused: a symbolic link"
    if info.flag_bits & 0x1:
        return "archive member refused: encrypted"
    if info.file_size > limits.max_member_bytes:
        return (
            f"archive member refused: {info.file_size} bytes inflated, more than the limit of "
            f"{limits.max_member_bytes} bytes"
        )
    if info.file_size > 1024 * 1024 and info.file_size > limits.max_ratio * max(info.compress_size, 1):
        return (
            f"archive member refused: it inflates {info.file_size // max(info.compress_size, 1)}x, more "
            f"than the limit of {limits.max_ratio}x (zip bomb?)"
        )
    return None


def _read_file(path: str, name: str) -> bytes:
    try:
        with open(path, "rb", buffering=0) as fh:  # Path.read_bytes without a Path and a buffer per input
            return fh.readall()
    except FileNotFoundError:
        raise InputError("no such file", None, name) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", None, name) from None


def _read_member(archives: ArchiveReader, path: str, member: str, declared: int, name: str, limits: ZipLimits) -> bytes:
    """Inflate one member, never more than it declared (headers can lie) nor more than the member limit."""
    cap = min(declared, limits.max_member_bytes)
    import zipfile  # lazy, as in ArchiveReader.get

    try:
        with archives.get(path).open(member) as fh:
            data = fh.read(cap + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError) as exc:
        raise InputError(f"archive member unreadable: {exc}", None, name) from None
    except KeyError:
        raise InputError("archive member missing", None, name) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", None, name) from None
    if len(data) > cap:
        raise InputError("archive member refused: it inflates to more than it declares (zip bomb?)", None, name)
    return data


# --- linting ---------------------------------------------------------------------------------------------


def lint_bytes(name: str, data: bytes, profile: Profile, options: LintOptions) -> FileResult:
    loaded = load_bytes(data, name, mode=options.mode, context=options.context, now=options.now)
    result = FileResult(name, errors=list(loaded.errors))
    for read in loaded.read:
        findings = run(read.order_set, profile, select=options.select, ignore=options.ignore)
        result.sets.append(LintedSet(read.order_set, findings, read.originals))
    return result


def lint_source(
    src: InputSource, profile: Profile, options: LintOptions, limits: ZipLimits, archives: ArchiveReader | None = None
) -> FileResult:
    try:
        data = src.read(limits, archives)
    except InputError as exc:
        return FileResult(src.name, errors=[exc])
    return lint_bytes(src.name, data, profile, options)


def lint_input(
    src: InputSource, profile: Profile, options: LintOptions, limits: ZipLimits, archives: ArchiveReader | None = None
) -> list[FileResult]:
    """The results of one collected input: its own, or for a file found in a directory that turns out to be a
    zip archive (its first bytes; whatever its name), its members', in order, as collect_inputs would have
    listed them (a file that cannot be read is its own error row, as before)."""
    if not src.maybe_archive:
        return [lint_source(src, profile, options, limits, archives)]
    try:
        data = src.read(limits, archives)
    except InputError as exc:
        return [FileResult(src.name, errors=[exc])]
    if data[:4] != ZIP_MAGIC:
        return [lint_bytes(src.name, data, profile, options)]
    members = zip_members(src.path or src.name, src.name, limits, archives)  # (a file's source has a path)
    return [lint_source(m, profile, options, limits, archives) for m in members]


def lint_sources(
    sources: Sequence[InputSource],
    profile: Profile,
    options: LintOptions,
    *,
    jobs: int = 1,
    limits: ZipLimits | None = None,
    progress: ProgressCallback | None = None,
    mp_context: BaseContext | None = None,
    archives: ArchiveReader | None = None,
) -> list[FileResult]:
    """Lint every source in order. With jobs > 1 the work runs in that many worker processes; results come
    back in input order and equal those of jobs=1 (the evaluation time is fixed once for the whole batch).
    Archives are opened once: through `archives` (the reader that listed them) in this process, once per
    worker process otherwise."""
    if jobs <= 1 or len(sources) <= 1:
        return lint_each(sources, profile, options, _whole, limits=limits, progress=progress, archives=archives)
    from linter.batch_pool import for_reports, unpack  # lazy: the pool's module only for --jobs

    packed = lint_each(
        sources, profile, options, for_reports, jobs=jobs, limits=limits, progress=progress, mp_context=mp_context
    )
    return list(map(unpack, packed))


def lint_each(
    sources: Sequence[InputSource],
    profile: Profile,
    options: LintOptions,
    finish: Callable[[int, FileResult], T],
    *,
    jobs: int = 1,
    limits: ZipLimits | None = None,
    progress: ProgressCallback | None = None,
    mp_context: BaseContext | None = None,
    archives: ArchiveReader | None = None,
) -> list[T]:
    """`finish(index, result)` of every source's result, in input order, computed where the source was linted
    (in this process, or with jobs > 1 in the worker process that linted it: `finish` then is a picklable
    module-level function or a partial of one, and what it returns crosses the process boundary). `index` is
    the source's place in `sources`; the members of a file that turns out to be an archive (lint_input) share
    it, and progress's total grows by them. What `finish` returns has the input's name as `.path` (the progress
    callback shows it)."""
    limits = limits or ZipLimits()
    if options.now is None:
        options = LintOptions(options.mode, options.context, options.select, options.ignore, datetime.now(UTC))
    if jobs > 1 and len(sources) > 1:
        if _forks(mp_context):
            # Lazy: the forking runner only for --jobs.
            from linter.batch_fork import in_forks

            return in_forks(sources, profile, options, limits, finish, jobs, progress)
        # Lazy: multiprocessing (~20 ms to import) and the pool's module only for another start method.
        from linter.batch_pool import in_workers

        return in_workers(sources, profile, options, limits, finish, jobs, progress, mp_context)
    out: list[T] = []
    with ArchiveReader() as own:
        for index, src in enumerate(sources):
            results = lint_input(src, profile, options, limits, archives or own)
            total = len(sources) + len(out) - index + len(results) - 1  # with the archives' members found so far
            for result in results:
                out.append(finish(index, result))
                if progress:
                    progress(len(out), total, result.path)
    return out


def _forks(mp_context: BaseContext | None) -> bool:
    """Whether --jobs runs in this process and forked ones (linter.batch_fork): with a fork context, or with
    none where fork is multiprocessing's default (Linux and other Unix systems, not macOS); a forkserver or
    spawn context (the workbench's service, which runs threads) gets the process pool (linter.batch_pool)."""
    if mp_context is not None:
        return mp_context.get_start_method() == "fork"
    return os.name == "posix" and sys.platform != "darwin"


def _whole(_index: int, result: FileResult) -> FileResult:
    return result


def lint_paths(
    paths: Sequence[str],
    profile: Profile,
    options: LintOptions,
    *,
    jobs: int = 1,
    progress: ProgressCallback | None = None,
) -> list[FileResult]:
    limits = ZipLimits()
    with ArchiveReader() as archives:
        sources = collect_inputs(paths, limits, archives)
        return lint_sources(sources, profile, options, jobs=jobs, limits=limits, progress=progress, archives=archives)
