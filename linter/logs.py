"""Loggers for the code a lint runs, without importing `logging` until something is logged.

`import logging` brings threading, traceback, string, weakref and their regexes: ~5 ms of every CLI start,
paid alone before `--jobs` workers fork (issue 11), for messages a lint writes only when a rule or a
finding's text raises, or a suggestion is dropped. `error_with_stack` and `warning` import it then. The
CLI's format (`CLI_FORMAT` on stderr) is set the same way: `main` calls `configure_on_first_use()` for its
light commands and `logging.basicConfig` at once for the others (the service, the workbench, purge log
through `logging` directly).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from logging import Logger

CLI_FORMAT = "%(levelname)s %(name)s: %(message)s"

_configure_on_use = False


def configure_on_first_use() -> None:
    """The CLI's stderr format, applied when the first message is logged through this module (at once when
    `logging` is already imported: something else may log through it)."""
    global _configure_on_use
    if "logging" in sys.modules:
        _basic_config()
    else:
        _configure_on_use = True


def _basic_config() -> None:
    import logging  # lazy: see the module docstring

    logging.basicConfig(level=logging.WARNING, format=CLI_FORMAT)


def warning(name: str, message: str, *args: object) -> None:
    """`logging.getLogger(name).warning(message, *args)`, importing logging now."""
    _logger(name).warning(message, *args)


def error_with_stack(name: str, message: str, exc: BaseException, *args: object) -> None:
    """`logging.getLogger(name).error(message, *args, stack)`, importing logging now: the message's last `%s`
    is the exception's stack, its frames only (an exception's message may quote patient data)."""
    import traceback  # lazy: as logging (~2 ms of the CLI's start, for a rule that raises)

    _logger(name).error(message, *args, "".join(traceback.format_tb(exc.__traceback__)))


def _logger(name: str) -> Logger:
    global _configure_on_use
    import logging  # lazy: see the module docstring

    if _configure_on_use:
        _configure_on_use = False
        _basic_config()
    return logging.getLogger(name)
