"""The medication-use evaluation (MUE) report: per rule and per month, orders checked, findings by indicator,
the rate per 100 order sets and the top drugs; as JSON and as one self-contained HTML page (inline CSS,
server-rendered SVG charts, no script, nothing fetched).

Both engines feed it the same counts (`MueCounts`): the CLI counts its rows in Python (`counts_from_records`),
the Spark job with group-bys over the same rows (linter.spark.job), so the two reports are equal.

Definitions: an *order set* is one patient's orders under review (linter.bulk); in a month, the order sets
are the patients with an order under review authored that month. A finding counts in the month of the order
it concerns (an order-set finding: the month the order set was evaluated). Rates are findings per 100 order
sets of the same month (of the whole run for the totals).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any

INDICATORS = ("critical", "warning", "info")
COLOURS = {"critical": "#8a1020", "warning": "#b36b00", "info": "#4a6a8a"}
TOP = 5


@dataclass
class MueCounts:
    order_sets: int = 0
    orders: int = 0
    undated: int = 0
    errors: int = 0
    months: dict[str, tuple[int, int]] = field(default_factory=dict)  # month -> (order sets, orders)
    findings: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (code, month, indicator) -> n
    rule_drugs: dict[tuple[str, str], int] = field(default_factory=dict)  # (code, drug) -> findings
    order_drugs: dict[str, int] = field(default_factory=dict)  # drug -> orders under review


def counts_from_records(records: Iterable[Mapping[str, Any]]) -> MueCounts:
    """The counts of linter.bulk rows, in Python (the CLI's `--format mue`)."""
    sets: set[str] = set()
    month_sets: dict[str, set[str]] = {}
    month_orders: Counter[str] = Counter()
    c = MueCounts()
    findings: Counter[tuple[str, str, str]] = Counter()
    rule_drugs: Counter[tuple[str, str]] = Counter()
    order_drugs: Counter[str] = Counter()
    for r in records:
        kind = r["kind"]
        if kind == "order":
            sets.add(r["patient_hmac"])
            month_sets.setdefault(r["month"], set()).add(r["patient_hmac"])
            month_orders[r["month"]] += 1
            order_drugs[r["drug"] or ""] += 1
        elif kind == "finding":
            findings[(r["code"], r["month"], r["indicator"])] += 1
            rule_drugs[(r["code"], r["drug"] or "")] += 1
        elif kind == "undated":
            c.undated += 1
        elif kind == "error":
            c.errors += 1
    c.order_sets = len(sets)
    c.orders = sum(month_orders.values())
    c.months = {m: (len(month_sets[m]), month_orders[m]) for m in month_sets}
    c.findings, c.rule_drugs, c.order_drugs = dict(findings), dict(rule_drugs), dict(order_drugs)
    return c


def _rate(n: int, sets: int) -> float | None:
    return round(100.0 * n / sets, 1) if sets else None


def _top(counter: Mapping[str, int], n: int = TOP) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def mue_doc(
    counts: MueCounts,
    profile: Any,
    since: str | None = None,
    until: str | None = None,
    names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The MUE report's data. `names`: rule code -> rule name (the caller knows the registry; render does not)."""
    months = sorted(counts.months)
    by_rule: dict[str, dict[str, dict[str, int]]] = {}
    for (code, month, ind), n in counts.findings.items():
        by_rule.setdefault(code, {}).setdefault(month, dict.fromkeys(INDICATORS, 0))[ind] = n
    all_months = sorted(set(months) | {m for rule in by_rule.values() for m in rule})
    rules = []
    for code in sorted(by_rule):
        per_month = by_rule[code]
        rows: list[dict[str, Any]] = []
        for m in all_months:
            inds = per_month.get(m, dict.fromkeys(INDICATORS, 0))
            sets, orders = counts.months.get(m, (0, 0))
            rows.append(
                {
                    "month": m,
                    "order_sets": sets,
                    "orders_checked": orders,
                    "by_indicator": inds,
                    "findings": sum(inds.values()),
                    "rate_per_100_order_sets": _rate(sum(inds.values()), sets),
                }
            )
        total = {i: sum(r["by_indicator"][i] for r in rows) for i in INDICATORS}
        drugs = {d: n for (c, d), n in counts.rule_drugs.items() if c == code}
        rules.append(
            {
                "code": code,
                "name": (names or {}).get(code, code),
                "findings": sum(total.values()),
                "by_indicator": total,
                "rate_per_100_order_sets": _rate(sum(total.values()), counts.order_sets),
                "months": rows,
                "top_drugs": [{"drug": d, "findings": n} for d, n in _top(drugs)],
            }
        )
    by_ind = {i: sum(n for (_, _, ind), n in counts.findings.items() if ind == i) for i in INDICATORS}
    return {
        "profile": {"id": profile.id, "version": profile.version},
        "window": {"since": since, "until": until},
        "totals": {
            "order_sets": counts.order_sets,
            "orders_checked": counts.orders,
            "orders_undated_not_checked": counts.undated,
            "errors": counts.errors,
            "findings": sum(by_ind.values()),
            "by_indicator": by_ind,
            "rate_per_100_order_sets": _rate(sum(by_ind.values()), counts.order_sets),
        },
        "months": [
            {"month": m, "order_sets": counts.months[m][0], "orders_checked": counts.months[m][1]} for m in months
        ],
        "rules": rules,
        "top_drugs": [{"drug": d, "orders": n} for d, n in _top(counts.order_drugs)],
    }


# --- HTML ------------------------------------------------------------------------------------------------

WIDTH, HEIGHT, LEFT, BOTTOM, TOP_PAD = 720, 170, 40, 30, 12

CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1d232b}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid #c9ced6;padding:.25rem .5rem;text-align:right}th:first-child,td:first-child{text-align:left}
.muted{color:#4a5360}svg text{font-size:11px;fill:#1d232b}.chart{display:block;margin:.5rem 0}
"""


def month_chart(rule: Mapping[str, Any]) -> str:
    """Findings per month, stacked by indicator (each with its own colour and its own label in the legend),
    with the rate per 100 order sets in each bar's tooltip."""
    rows = rule["months"]
    peak = max((r["findings"] for r in rows), default=0) or 1
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP_PAD
    step = plot_w / max(len(rows), 1)
    bar_w = max(step * 0.7, 1.0)
    cid = f"chart-{escape(rule['code'])}"
    first, last = (rows[0]["month"], rows[-1]["month"]) if rows else ("", "")
    parts = [
        f'<svg class="chart" role="img" aria-labelledby="{cid}-t {cid}-d" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" style="max-width:{WIDTH}px" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{cid}-t">{escape(rule["code"])}: findings per month by indicator</title>',
        f'<desc id="{cid}-d">{rule["findings"]} findings from {escape(first)} to {escape(last)}.</desc>',
        f'<line x1="{LEFT}" y1="{TOP_PAD + plot_h}" x2="{WIDTH - 8}" y2="{TOP_PAD + plot_h}" stroke="#4a5360"/>',
        f'<text x="{LEFT - 4}" y="{TOP_PAD + 8}" text-anchor="end">{peak}</text>',
        f'<text x="{LEFT - 4}" y="{TOP_PAD + plot_h}" text-anchor="end">0</text>',
    ]
    for i, r in enumerate(rows):
        x = LEFT + i * step + (step - bar_w) / 2
        y = TOP_PAD + plot_h
        rate = r["rate_per_100_order_sets"]
        for ind in INDICATORS:
            n = r["by_indicator"][ind]
            if not n:
                continue
            h = plot_h * n / peak
            y -= h
            label = f"{escape(r['month'])}: {n} {ind} of {r['findings']} findings, {rate} per 100 order sets"
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{COLOURS[ind]}" '
                f'data-month="{escape(r["month"])}" data-indicator="{ind}" data-count="{n}">'
                f"<title>{label}</title></rect>"
            )
    if rows:
        parts.append(f'<text x="{LEFT}" y="{HEIGHT - 16}">{escape(first)}</text>')
        parts.append(f'<text x="{WIDTH - 8}" y="{HEIGHT - 16}" text-anchor="end">{escape(last)}</text>')
    for j, ind in enumerate(INDICATORS):
        lx = WIDTH // 2 - 120 + j * 90
        parts.append(
            f'<rect x="{lx}" y="{HEIGHT - 12}" width="10" height="10" fill="{COLOURS[ind]}"/>'
            f'<text x="{lx + 14}" y="{HEIGHT - 3}">{ind}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _cell(value: Any, test_id: str = "") -> str:
    shown = "-" if value is None else escape(str(value))
    attr = f' data-testid="{escape(test_id)}"' if test_id else ""
    return f"<td{attr}>{shown}</td>"


def mue_html(doc: Mapping[str, Any]) -> str:
    t = doc["totals"]
    window = doc["window"]
    span = (
        f"orders authored from {window['since'] or 'the start'} until {window['until'] or 'the end'}"
        if window["since"] or window["until"]
        else "orders under review (draft, active, on-hold)"
    )
    out = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>orderlint medication-use evaluation</title><style>{CSS}</style></head><body><main>",
        "<h1>Medication-use evaluation</h1>",
        f'<p class="muted">Profile {escape(doc["profile"]["id"])} {escape(str(doc["profile"]["version"]))}; '
        f"{escape(span)}.</p>",
        '<table id="totals"><tr><th>order sets</th><th>orders checked</th><th>findings</th>'
        + "".join(f"<th>{i}</th>" for i in INDICATORS)
        + "<th>per 100 order sets</th><th>undated, not checked</th><th>unreadable lines</th></tr><tr>",
        _cell(t["order_sets"], "order_sets"),
        _cell(t["orders_checked"], "orders_checked"),
        _cell(t["findings"], "findings"),
        *(_cell(t["by_indicator"][i], f"total-{i}") for i in INDICATORS),
        _cell(t["rate_per_100_order_sets"], "rate"),
        _cell(t["orders_undated_not_checked"], "undated"),
        _cell(t["errors"], "errors"),
        "</tr></table>",
        "<h2>Per rule</h2>",
        '<table id="rules"><tr><th>rule</th><th>name</th><th>findings</th>'
        + "".join(f"<th>{i}</th>" for i in INDICATORS)
        + "<th>per 100 order sets</th><th>top drugs</th></tr>",
    ]
    for r in doc["rules"]:
        drugs = ", ".join(f"{d['drug'] or '(unnamed)'} ({d['findings']})" for d in r["top_drugs"])
        out.append(
            f'<tr data-code="{escape(r["code"])}"><td><a href="#rule-{escape(r["code"])}">{escape(r["code"])}</a></td>'
            f"<td>{escape(r['name'])}</td>"
            + _cell(r["findings"], f"{r['code']}-findings")
            + "".join(_cell(r["by_indicator"][i], f"{r['code']}-{i}") for i in INDICATORS)
            + _cell(r["rate_per_100_order_sets"])
            + f"<td>{escape(drugs)}</td></tr>"
        )
    out.append("</table>")
    for r in doc["rules"]:
        out.append(f'<section id="rule-{escape(r["code"])}"><h2>{escape(r["code"])} {escape(r["name"])}</h2>')
        out.append(month_chart(r))
        out.append(
            "<table><tr><th>month</th><th>order sets</th><th>orders checked</th>"
            + "".join(f"<th>{i}</th>" for i in INDICATORS)
            + "<th>per 100 order sets</th></tr>"
        )
        for m in r["months"]:
            out.append(
                f"<tr><td>{escape(m['month'])}</td>"
                + _cell(m["order_sets"])
                + _cell(m["orders_checked"])
                + "".join(_cell(m["by_indicator"][i]) for i in INDICATORS)
                + _cell(m["rate_per_100_order_sets"])
                + "</tr>"
            )
        out.append("</table></section>")
    out.append("<h2>Drugs most ordered</h2><table><tr><th>drug</th><th>orders under review</th></tr>")
    out.extend(f"<tr><td>{escape(d['drug'] or '(unnamed)')}</td>{_cell(d['orders'])}</tr>" for d in doc["top_drugs"])
    out.append("</table></main></body></html>\n")
    return "".join(out)
