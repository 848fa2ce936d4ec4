"""Rule documentation for clinicians and pharmacists, rendered from the rules themselves.

Each rule's docstring (sections What it checks / Why it matters / Example / Options / Source / Limitations),
its META (scope, default indicator, status, the quoted source sentences with FILE:LINE) and the active
profile's thresholds with their citations. Three views:

- `explain_text(code, profile)`: plain text for the terminal (`orderlint explain CODE [--profile P]`);
- `rules_markdown(profile)`: the whole catalog as markdown (`orderlint rules --format markdown`, committed as
  `docs/rules.md`; `tests/test_docs.py` fails when the committed file is stale);
- `rules_table(profile)`: one row per rule for `orderlint rules` (text / JSON).

The points of the source documents that no order can be checked against (RULES.md "Not order-level") are
listed as "documented, not checked", with the reason.

Regenerate docs/rules.md: `orderlint rules --format markdown > docs/rules.md`
(or `python -m linter.docs > docs/rules.md`).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any

from linter.model import Citation
from linter.profiles import DEFAULT_PROFILE, Profile, load_profile
from linter.rules import RULES, RULES_BY_CODE
from linter.rules._base import REQUIRED_SECTIONS, RuleModule, rule_summary
from linter.sources import citation_text

NOT_CHECKED_STATUS = "documented, not checked"

SCOPE_TEXT = {
    "any": "any: whenever its drug or procedure is among the orders under review",
    "pad": "pad: only in PAD context (BTK revascularization context, or an active PAD Condition)",
    "btk": "btk: only in BTK revascularization context",
}


@dataclass(frozen=True, slots=True)
class NotChecked:
    """A point of the source documents that orderlint documents but does not check (RULES.md "Not
    order-level")."""

    name: str
    title: str
    reason: str
    citations: tuple[Citation, ...]


NOT_CHECKED: tuple[NotChecked, ...] = (
    NotChecked(
        name="pierce-technique",
        title="Inner PIERCE technique for calcified BTK/BTA lesions",
        reason="A procedural technique (needle puncture through the calcified lesion), chosen by the operator "
        "during the procedure: it gives no order-checkable rule.",
        citations=(
            Citation(
                "004_aa54da322e4d534c.txt",
                "The novel inner PIERCE technique is a safe and feasible method for "
                "disrupting calcified BTK and BTA lesions.",
                "23",
            ),
        ),
    ),
    NotChecked(
        name="balloon-diameter-and-inflation-time",
        title="Tibial balloon diameter (2-3 mm) and inflation time (2-3 min vs at least 1 min)",
        reason="Device details that order sets rarely carry, and the sources disagree on the inflation time "
        "(2-3 minutes in 000, at least 1 minute in 002).",
        citations=(
            Citation(
                "000_db9ef64a206b36dc.txt",
                "For the intervention, low-profile balloons (2-3mm diameter) "
                "specifically designed for tibial vessels are recommended, with inflation times of 2-3 minutes "
                "at nominal pressure.",
                "25",
            ),
            Citation(
                "002_6cec19d6dc2f6528.txt",
                "The dilation time was decided by the operator but was at least 1 "
                "minute in all patients to avoid dissection.",
                "62",
            ),
        ),
    ),
)


# ---------------------------------------------------------------------------------------------------------
# Reading a rule's docstring
# ---------------------------------------------------------------------------------------------------------

_SECTION = re.compile(r"^## (?P<name>.+?)\s*$", re.MULTILINE)


def rule_sections(rule: RuleModule) -> tuple[str, dict[str, str]]:
    """(first line, {section name: body}) of a rule's docstring."""
    doc = (rule.__doc__ or "").strip()
    first, _, rest = doc.partition("\n")
    sections: dict[str, str] = {}
    matches = list(_SECTION.finditer(rest))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(rest)
        sections[m.group("name")] = rest[m.end() : end].strip()
    return first.strip(), sections


def missing_sections(rule: RuleModule) -> list[str]:
    """Required doc sections that are absent or empty (used by the catalog meta-test)."""
    _, sections = rule_sections(rule)
    return [s for s in REQUIRED_SECTIONS if not sections.get(s)]


def _one_line(rule: RuleModule) -> str:
    first, _ = rule_sections(rule)
    return first.split(": ", 1)[1] if ": " in first else rule_summary(rule, None)


# ---------------------------------------------------------------------------------------------------------
# Profile thresholds
# ---------------------------------------------------------------------------------------------------------


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v == int(v):
        return str(int(v))
    return str(v)


def thresholds(code: str, profile: Profile) -> list[tuple[str, str, str]]:
    """(option, value, citation) for every option the profile sets for `code`."""
    cfg = profile.rule(code)
    if cfg is None:
        return []
    return [(key, _value(value), cfg.cite.get(key, "(no citation)")) for key, value in cfg.options.items()]


def _status(code: str, profile: Profile) -> str:
    rule = RULES_BY_CODE[code]
    cfg = profile.rule(code)
    if cfg is None or not cfg.enabled:
        return "disabled"
    return rule.META.status.value


def _overrides(code: str, profile: Profile) -> list[str]:
    cfg = profile.rule(code)
    if cfg is None:
        return []
    return [f"{a.value} -> {b.value}" for a, b in cfg.indicator_overrides.items()]


# ---------------------------------------------------------------------------------------------------------
# Plain text (terminal)
# ---------------------------------------------------------------------------------------------------------


def _plain(text: str) -> str:
    return text.replace("**", "").replace("`", "")


def _indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line if line else "" for line in text.splitlines())


def _quote_lines_text(citations: tuple[Citation, ...]) -> list[str]:
    out = []
    for c in citations:
        out.append(f'  "{c.quote}"')
        out.append(f"      -- {c.label}")
    return out


def explain_text(code: str, profile: Profile) -> str:
    """A rule's documentation for the terminal, with the active profile's thresholds and their citations.
    Raises KeyError for an unknown code."""
    code = code.strip().upper()
    rule = RULES_BY_CODE.get(code)
    if rule is None:
        raise KeyError(f"no rule {code} (see `orderlint rules`)")
    meta = rule.META
    _, sections = rule_sections(rule)
    status = _status(code, profile)
    out = [
        f"{meta.code} {meta.name}: {_one_line(rule)}",
        "",
        f"Family:            {meta.family}",
        f"Scope:             {SCOPE_TEXT[meta.scope.value]}",
        f"Default indicator: {meta.default_indicator.value}",
        f"Status:            {status} (since {meta.since})",
        f"Profile:           {profile.id} {profile.version} ({profile.status}, {profile.date.isoformat()})",
    ]
    overrides = _overrides(code, profile)
    if overrides:
        out.append(f"Indicator overrides in this profile: {', '.join(overrides)}")
    for name in ("What it checks", "Why it matters"):
        out += ["", name.upper(), _indent(_plain(sections.get(name, "(not documented)")))]
    out += ["", "SOURCE", *_quote_lines_text(meta.citations)]
    if sections.get("Source"):
        out += ["", _indent(_plain(sections["Source"]))]
    out += ["", f"THRESHOLDS (profile {profile.id} {profile.version})"]
    rows = thresholds(code, profile)
    defaults = _default_thresholds(code, profile)
    if rows:
        for key, value, cite in rows:
            out.append(f"  {key} = {value}")
            out.append(f"      cited: {cite}")
            if key in defaults and defaults[key] != value:
                out.append(f"      default profile: {defaults[key]}")
        if any(key in defaults and defaults[key] != value for key, value, _cite in rows):
            out.append(f"  The text above quotes the default profile ({DEFAULT_PROFILE}); where it differs,")
            out.append("  the values listed here are the ones this profile applies.")
    else:
        out.append("  (none: this rule has no tunable thresholds)")
    for name in ("Limitations", "Example"):
        out += ["", name.upper(), _indent(_plain(sections.get(name, "(not documented)")))]
    return "\n".join(out).rstrip() + "\n"


def _default_thresholds(code: str, profile: Profile) -> dict[str, str]:
    """The default profile's values for `code` (empty when `profile` is the default): rule texts quote them."""
    if profile.id == DEFAULT_PROFILE:
        return {}
    return {key: value for key, value, _cite in thresholds(code, load_profile(DEFAULT_PROFILE))}


# ---------------------------------------------------------------------------------------------------------
# Markdown (docs/rules.md)
# ---------------------------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _quote_block(citations: tuple[Citation, ...]) -> list[str]:
    out = []
    for c in citations:
        shown = citation_text(c)
        where = f" (`{c.label}`)" if c.source.endswith(".txt") else ""  # the file, for whoever opens it
        out += [f"> {c.quote}", ">", f"> — {shown}{where}", ""]
    return out


def rule_markdown(code: str, profile: Profile) -> str:
    """One rule's documentation as markdown, with `profile`'s thresholds and their citations: what
    `orderlint explain CODE` prints, for the rule page the cards link to (`GET /rules/{code}`).
    Raises KeyError for an unknown code."""
    rule = RULES_BY_CODE.get(code.strip().upper())
    if rule is None:
        raise KeyError(f"no rule {code[:20]}")
    lines = _rule_markdown(rule, profile)
    lines[0] = lines[0].replace("## ", "# ", 1)
    return "\n".join(lines).rstrip() + "\n"


def _rule_markdown(rule: RuleModule, profile: Profile) -> list[str]:
    meta = rule.META
    _, sections = rule_sections(rule)
    out = [
        f"## {meta.code} {meta.name}",
        "",
        f"**{_one_line(rule)}**",
        "",
        f"- Family: {meta.family}",
        f"- Scope: {SCOPE_TEXT[meta.scope.value]}",
        f"- Default indicator: `{meta.default_indicator.value}`",
        f"- Status: {_status(meta.code, profile)} (since {meta.since})",
    ]
    overrides = _overrides(meta.code, profile)
    if overrides:
        out.append(f"- Indicator overrides in this profile: {', '.join(overrides)}")
    out.append("")
    for name in ("What it checks", "Why it matters"):
        out += [f"### {name}", "", sections.get(name, "(not documented)"), ""]
    out += ["### Source", "", *_quote_block(meta.citations)]
    if sections.get("Source"):
        out += [sections["Source"], ""]
    out += [f"### Thresholds (profile `{profile.id}` {profile.version})", ""]
    rows = thresholds(meta.code, profile)
    if rows:
        out += ["| option | value | citation |", "| --- | --- | --- |"]
        out += [f"| `{k}` | {_cell(v)} | {_cell(c)} |" for k, v, c in rows]
    else:
        out.append("None: this rule has no tunable thresholds.")
    out.append("")
    for name in ("Limitations", "Example"):
        out += [f"### {name}", "", sections.get(name, "(not documented)"), ""]
    return out


def rules_markdown(profile: Profile) -> str:
    """The catalog as markdown: an index table, one section per rule, and the points documented but not
    checked. Deterministic (no timestamps), so that a test can compare it with the committed file."""
    out = [
        f"# orderlint rules (profile `{profile.id}` {profile.version})",
        "",
        "<!-- Generated by `orderlint rules --format markdown`; do not edit by hand. "
        "tests/test_docs.py fails when this file is stale. -->",
        "",
        f"{profile.title}. Profile status {profile.status}, dated {profile.date.isoformat()}, "
        f"published by {profile.publisher}.",
        "",
        "Indicators follow CDS Hooks: `info` < `warning` < `critical`. Thresholds come from the profile, each with "
        "its citation; sources are the documents in `knowledge/sources` (FILE:LINE) or the external references "
        "recorded in `knowledge/reference`.",
        "",
        "| code | name | scope | indicator | status | source |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for rule in RULES:
        m = rule.META
        cites = "; ".join(c.label for c in m.citations)
        out.append(
            f"| [{m.code}](#{m.code.lower()}-{m.name}) | {m.name} | {m.scope.value} | "
            f"{m.default_indicator.value} | {_status(m.code, profile)} | {_cell(cites)} |"
        )
    for item in NOT_CHECKED:
        cites = "; ".join(c.label for c in item.citations)
        out.append(f"| — | {item.name} | — | — | {NOT_CHECKED_STATUS} | {_cell(cites)} |")
    out.append("")
    for rule in RULES:
        out += _rule_markdown(rule, profile)
    out += [
        "## Documented, not checked",
        "",
        'Points of the source documents that no order can be checked against (RULES.md "Not order-level").',
        "",
    ]
    for item in NOT_CHECKED:
        out += [f"### {item.title}", "", f"Why not checked: {item.reason}", "", *_quote_block(item.citations)]
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------------------------------------------------
# Table (orderlint rules)
# ---------------------------------------------------------------------------------------------------------


def rules_table(profile: Profile) -> list[dict[str, str]]:
    """One row per rule (code, name, family, scope, indicator, citation, status, summary), then the points
    documented but not checked (code "—", status "documented, not checked", with `reason`)."""
    rows: list[dict[str, str]] = []
    for rule in RULES:
        m = rule.META
        rows.append(
            {
                "code": m.code,
                "name": m.name,
                "family": m.family,
                "scope": m.scope.value,
                "indicator": m.default_indicator.value,
                "citation": "; ".join(c.label for c in m.citations),
                "status": _status(m.code, profile),
                "summary": rule_summary(rule, profile.options(m.code) if profile.rule(m.code) else None),
            }
        )
    for item in NOT_CHECKED:
        rows.append(
            {
                "code": "—",
                "name": item.name,
                "family": "not order-level",
                "scope": "—",
                "indicator": "—",
                "citation": "; ".join(c.label for c in item.citations),
                "status": NOT_CHECKED_STATUS,
                "summary": item.title,
                "reason": item.reason,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    """`python -m linter.docs [PROFILE]`: print docs/rules.md for PROFILE (default profile if omitted)."""
    args = sys.argv[1:] if argv is None else argv
    sys.stdout.write(rules_markdown(load_profile(args[0] if args else DEFAULT_PROFILE)))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
