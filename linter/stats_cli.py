"""`orderlint stats`: the alert-fatigue figures of `/dashboard` in a terminal (text) or as JSON, read from
the card and feedback store configured by ORDERLINT_DATABASE_URL."""

from __future__ import annotations

import json
import sys

from linter.rules import RULE_NAMES
from linter.settings import get_settings
from linter.store.db import make_engine
from linter.store.stats import PeriodStats, has_tables, period, rule_stats


def stats_text(stats: PeriodStats) -> str:
    lines = [f"Cards issued {stats.since:%Y-%m-%d %H:%M} to {stats.until:%Y-%m-%d %H:%M} UTC, per rule"]
    if not stats.rules:
        return lines[0] + ": none.\n"
    header = f"{'rule':<8} {'issued':>7} {'accepted':>9} {'overridden':>11} {'override rate':>14}  top override reasons"
    lines += ["", header, "-" * len(header)]
    for r in stats.rules:
        rate = "-" if r.override_rate is None else f"{r.override_rate:.0%}"
        reasons = "; ".join(f"{label} ({n})" for label, n in r.top_reasons)
        lines.append(f"{r.code:<8} {r.issued:>7} {r.accepted:>9} {r.overridden:>11} {rate:>14}  {reasons}")
    comments = [(r.code, c) for r in stats.rules for c in r.comments]
    if comments:
        lines += ["", "Latest override comments:"]
        lines += [f"  {code}: {comment}" for code, comment in comments]
    return "\n".join(lines) + "\n"


def stats_command(days: int, fmt: str) -> int:
    if days < 1:
        print("orderlint: error: --days must be at least 1", file=sys.stderr)
        return 2
    url = get_settings().database_url
    engine = make_engine(url)
    try:
        if not has_tables(engine):
            print(
                f"orderlint: error: no card store at {engine.url.render_as_string(hide_password=True)} "
                "(set ORDERLINT_DATABASE_URL; `orderlint serve` creates it)",
                file=sys.stderr,
            )
            return 2
        since, until = period(days)
        stats = rule_stats(engine, since, until, RULE_NAMES)
    finally:
        engine.dispose()
    if fmt == "json":
        sys.stdout.write(json.dumps(stats.as_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(stats_text(stats))
    return 0
