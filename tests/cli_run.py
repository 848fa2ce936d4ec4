"""Running the real `orderlint` console script of the venv, piped or on a pseudo-terminal, for the CLI tests."""

from __future__ import annotations

import errno
import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from pathlib import Path

ORDERLINT = str(Path(sys.executable).with_name("orderlint"))
DATA = Path(__file__).resolve().parent / "workbench" / "data"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def env(**extra: str) -> dict[str, str]:
    """The test's environment without COLUMNS/LINES (so the width comes from the terminal) plus `extra`."""
    out = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR")}
    out.update(extra)
    return out


def piped(*args: str, cwd: Path = DATA, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """`orderlint ARGS` with stdout and stderr piped (not a terminal)."""
    return subprocess.run(
        [ORDERLINT, *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False, env=env(**extra_env)
    )


@dataclass
class TerminalRun:
    returncode: int
    raw: str  # everything written to the terminal, escape codes included

    @property
    def text(self) -> str:
        return ANSI.sub("", self.raw).replace("\r\n", "\n").replace("\r", "")

    @property
    def lines(self) -> list[str]:
        return [line.rstrip() for line in self.text.splitlines()]


def on_terminal(*args: str, columns: int = 100, cwd: Path = DATA, **extra_env: str) -> TerminalRun:
    """`orderlint ARGS` with stdin, stdout and stderr on one pseudo-terminal of `columns` columns."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    proc = subprocess.Popen(
        [ORDERLINT, *args], cwd=cwd, stdin=slave, stdout=slave, stderr=slave, env=env(TERM="xterm", **extra_env),
        close_fds=True,
    )  # fmt: skip
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 300
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError as exc:  # EIO: the child closed the terminal
            if exc.errno != errno.EIO:
                raise
            break
        if not chunk:
            break
        chunks.append(chunk)
        if time.monotonic() > deadline:  # pragma: no cover - a hung child
            proc.kill()
            break
    os.close(master)
    return TerminalRun(proc.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace"))
