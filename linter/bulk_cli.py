"""The CLI's side of Bulk Data exports: `orderlint lint --export` (one machine), `--format mue|mue-json` and
the `orderlint spark` command (pyspark imported only when it runs)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from datetime import UTC, datetime

from linter.batch import FileResult, LintOptions
from linter.bulk import ExportOptions, Record, Window, lint_export, records_from_results
from linter.profiles import Profile
from linter.render.mue import MueCounts, counts_from_records, mue_doc, mue_html
from linter.rules import RULE_NAMES


def installation_salt() -> str:
    """The salt of the store's patient HMAC: ORDERLINT_PATIENT_ID_SALT, else the one the service generated
    and keeps in its database (ORDERLINT_DATABASE_URL; created there, migrations first, when missing)."""
    from linter.settings import get_settings  # settings and the store are only needed for these formats

    settings = get_settings()
    if settings.patient_id_salt:
        return settings.patient_id_salt
    # Lazy: the store (SQLAlchemy) only when the salt is not in the environment.
    from linter.store.migrate import upgrade
    from linter.store.repository import Store

    upgrade(settings.database_url)
    store = Store.from_url(settings.database_url)
    try:
        return store.salt()
    finally:
        store.dispose()


def window_of(args: argparse.Namespace) -> Window:
    return Window(getattr(args, "since", None), getattr(args, "until", None))


def export_options(options: LintOptions, window: Window) -> ExportOptions:
    return ExportOptions(
        mode=options.mode,
        context=options.context,
        select=list(options.select) if options.select is not None else None,
        ignore=list(options.ignore),
        now=options.now or datetime.now(UTC),
        window=window,
    )


def export_results(
    paths: Sequence[str], profile: Profile, options: LintOptions, window: Window, salt: str
) -> tuple[list[FileResult], list[Record]]:
    """`orderlint lint --export` with every order set kept (--summary's tables; linter.bulk_stream writes the
    other formats patient by patient): the input is grouped on disk, the results are kept in memory."""
    run = lint_export(paths, profile, export_options(options, window), salt)
    return run.file_results(", ".join(paths)), run.records


def mue_output(
    fmt: str, results: list[FileResult], records: list[Record] | None, profile: Profile, window: Window
) -> str:
    """`--format mue` (the HTML page) or `mue-json`; rows from the export run, or from any other input."""
    rows = records if records is not None else records_from_results(results, installation_salt())
    return mue_text(fmt, counts_from_records(rows), profile, window)


def mue_text(fmt: str, counts: MueCounts, profile: Profile, window: Window) -> str:
    doc = mue_doc(
        counts,
        profile,
        window.since.isoformat() if window.since else None,
        window.until.isoformat() if window.until else None,
        RULE_NAMES,
    )
    if fmt == "mue-json":
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    return mue_html(doc)
