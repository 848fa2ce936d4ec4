"""Server-rendered SVG charts for the dashboard: no script, no library fetched at run time.

One chart per rule: a bar per day (per week over long periods) for the cards issued, with the overridden
part drawn darker and hatched, so it reads without colour; a title and a text description for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from html import escape

from markupsafe import Markup

from linter.store.stats import DayCount, RuleStats

WIDTH, HEIGHT = 720, 160
LEFT, BOTTOM, TOP = 36, 24, 12


def buckets(days: Sequence[DayCount], max_bars: int = 60) -> list[DayCount]:
    """Days grouped into weeks when there are too many bars to read."""
    if len(days) <= max_bars:
        return list(days)
    out: list[DayCount] = []
    for i in range(0, len(days), 7):
        week = days[i : i + 7]
        out.append(
            DayCount(
                week[0].day,
                sum(d.issued for d in week),
                sum(d.accepted for d in week),
                sum(d.overridden for d in week),
            )
        )
    return out


def rule_chart(stats: RuleStats) -> Markup:
    bars = buckets(stats.days)
    weekly = len(bars) < len(stats.days)
    peak = max((b.issued for b in bars), default=0) or 1
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    step = plot_w / max(len(bars), 1)
    bar_w = max(step * 0.7, 1.0)
    cid = f"chart-{escape(stats.code)}"
    rate = "no feedback yet" if stats.override_rate is None else f"{stats.override_rate:.0%} overridden"
    unit = "week" if weekly else "day"
    parts = [
        f'<svg class="chart" role="img" aria-labelledby="{cid}-t {cid}-d" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg">',  # max-width in workbench.css (CSP: no inline style)
        f'<title id="{cid}-t">{escape(stats.code)}: cards issued per {unit}, overridden part hatched</title>',
        f'<desc id="{cid}-d">{stats.issued} cards issued, {stats.accepted} accepted, {stats.overridden} '
        f"overridden ({rate}) from {bars[0].day.isoformat() if bars else ''} to "
        f"{(stats.days[-1].day if stats.days else '')}.</desc>",
        f'<defs><pattern id="{cid}-h" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#8a1020"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#ffffff" stroke-width="2"/></pattern></defs>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - 8}" y2="{TOP + plot_h}" stroke="#4a5360"/>',
        f'<text x="{LEFT - 4}" y="{TOP + 8}" text-anchor="end">{peak}</text>',
        f'<text x="{LEFT - 4}" y="{TOP + plot_h}" text-anchor="end">0</text>',
    ]
    for i, b in enumerate(bars):
        x = LEFT + i * step + (step - bar_w) / 2
        h = plot_h * b.issued / peak
        oh = plot_h * b.overridden / peak
        label = f"{b.day.isoformat()}: {b.issued} issued, {b.overridden} overridden"
        if b.issued:
            parts.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="#7d8da1"><title>{label}</title></rect>'
            )
        if b.overridden:
            parts.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_h - oh:.1f}" width="{bar_w:.1f}" height="{oh:.1f}" '
                f'fill="url(#{cid}-h)"><title>{label}</title></rect>'
            )
    if bars:
        last = bars[-1].day + (timedelta(days=6) if weekly else timedelta())
        parts.append(f'<text x="{LEFT}" y="{HEIGHT - 6}">{bars[0].day.isoformat()}</text>')
        parts.append(f'<text x="{WIDTH - 8}" y="{HEIGHT - 6}" text-anchor="end">{last.isoformat()}</text>')
    legend_x = WIDTH // 2 - 110
    parts.append(
        f'<rect x="{legend_x}" y="{HEIGHT - 16}" width="10" height="10" fill="#7d8da1"/>'
        f'<text x="{legend_x + 14}" y="{HEIGHT - 7}">issued</text>'
        f'<rect x="{legend_x + 70}" y="{HEIGHT - 16}" width="10" height="10" fill="url(#{cid}-h)"/>'
        f'<text x="{legend_x + 84}" y="{HEIGHT - 7}">overridden</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped or a number
