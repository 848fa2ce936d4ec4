"""A finding's computed values in words: the label table, the confidence explained, the detail without its
source block.

Rules give their computed values as machine keys (`Finding.values`: `units_per_kg 214.3`, `weight_kg 70.0`,
`suggested_dose 5600.0`, `suggested_unit [iU]`); those keys stay as they are in the JSON and CSV reports (they
are API). Text people read (the text format's detail lines, the HTML report, the cards) shows them through the
table below instead: "Dose per kg: 214 units/kg", "Weight: 70 kg (Observation, 2026-11-20)", "Suggested:
5,600 units". Every key any rule emits has an entry (tests/test_value_labels.py runs the engine over fixtures/
and checks); a key whose meaning depends on the rule has a per-rule entry (`(code, key)`), and a key shown
together with another (`suggested_unit` with `suggested_dose`) is marked so. This module reads the finding and
the order set only: it never imports linter.rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from linter.messages import fmt, times_daily
from linter.model import Citation, Finding, OrderSet, Weight
from linter.model_class import frozen_model
from linter.sources import citation_text
from linter.unit_display import display_unit

# (value, all the finding's values, the order set's weight when the value is that weight) -> text, or None to
# leave the line out (a value that does not apply to this finding, such as weight_kg for a dose given per kg).
Shown = Callable[[Any, Mapping[str, Any], "Weight | None"], "str | None"]


@frozen_model
class ValueLabel:
    label: str
    shown: Shown


@frozen_model
class LabelledValue:
    key: str
    label: str
    text: str


def _plain(item: Any) -> str:
    """A list item as people read it: refs and places without the markdown backticks rules put around them."""
    if isinstance(item, float):
        return fmt(item)
    return str(item).replace("`", "")


def _list(empty: str = "none") -> Shown:
    def shown(v: Any, _values: Mapping[str, Any], _w: Weight | None) -> str | None:
        items = [_plain(x) for x in (v or [])]
        return "; ".join(items) if items else empty

    return shown


def _number(unit: str) -> Shown:
    def shown(v: Any, _values: Mapping[str, Any], _w: Weight | None) -> str | None:
        if v is None:
            return None
        return f"{fmt(float(v))} {unit}".rstrip()

    return shown


def _text(v: Any, _values: Mapping[str, Any], _w: Weight | None) -> str | None:
    return None if v is None or v == "" else _plain(v)


def _with(other: str) -> Shown:
    """A key shown as part of another key's line (never on its own)."""

    def shown(_v: Any, _values: Mapping[str, Any], _w: Weight | None) -> str | None:
        return None  # the line of `other` says it

    return shown


def _weight(v: Any, _values: Mapping[str, Any], w: Weight | None) -> str | None:
    if v is None:
        return None  # the dose was given per kg: no weight was used
    text = f"{fmt(float(v))} kg"
    if w is not None and abs(w.kg - float(v)) < 1e-9:
        kind = w.ref.split("/", 1)[0] if "/" in w.ref else w.ref
        when = w.effective.date().isoformat() if w.effective else "date not stated"
        text += f" ({kind}, {when})" if kind else f" ({when})"
    return text


def _weight_issue(v: Any, _values: Mapping[str, Any], _w: Weight | None) -> str | None:
    return f"none usable ({_plain(v)})" if v else "none in the data sent"


def _suggested(v: Any, values: Mapping[str, Any], _w: Weight | None) -> str | None:
    if v is None:
        return None
    unit = values.get("suggested_unit")
    return f"{fmt(float(v))} {display_unit(str(unit))}" if unit else fmt(float(v))


def _range(low_key: str, high_key: str, unit: str) -> Shown:
    def shown(_v: Any, values: Mapping[str, Any], _w: Weight | None) -> str | None:
        low, high = values.get(low_key), values.get(high_key)
        if low is None or high is None:
            return None
        if abs(float(low) - float(high)) < 1e-9:
            return f"{fmt(float(high))} {unit}"
        return f"{fmt(float(low))}-{fmt(float(high))} {unit}"

    return shown


def _dose_ug_range(v: Any, values: Mapping[str, Any], w: Weight | None) -> str | None:
    """VD301's range, only when the order gives a range (the single dose is `dose_ug`)."""
    low, high = values.get("dose_ug_low"), values.get("dose_ug_high")
    if low is None or high is None or abs(float(low) - float(high)) < 1e-9:
        return None
    return _range("dose_ug_low", "dose_ug_high", "mcg")(v, values, w)


def _frequency(v: Any, values: Mapping[str, Any], _w: Weight | None) -> str | None:
    if v is None or values.get("single"):
        return None  # a single administration says so under `single`
    return times_daily(float(v))


def _single(v: Any, _values: Mapping[str, Any], _w: Weight | None) -> str | None:
    return "a single administration" if v else None


def _duration(v: Any, _values: Mapping[str, Any], _w: Weight | None) -> str | None:
    return "not stated" if v is None else f"{fmt(float(v))} days"


def _percent(v: Any, _values: Mapping[str, Any], _w: Weight | None) -> str | None:
    items = [f"{fmt(float(x))}%" for x in (v or [])]
    return ", ".join(items) if items else "not stated"


def _above_percent(v: Any, _values: Mapping[str, Any], _w: Weight | None) -> str | None:
    return None if v is None else f"residual stenosis above {fmt(float(v))}%"


def _route_reading(v: Any, _values: Mapping[str, Any], _w: Weight | None) -> str | None:
    return {
        "coded": "intra-arterial (coded route)",
        "text": "intra-arterial (from the order's text)",
        "assumed": "not stated; read as intra-arterial",
    }.get(str(v), _plain(v))


def _matched_by(v: Any, _values: Mapping[str, Any], _w: Weight | None) -> str | None:
    return {"code": "its code", "text": "its words (no code)"}.get(str(v), _plain(v))


def _heparin_kind(v: Any, _values: Mapping[str, Any], _w: Weight | None) -> str | None:
    return "low-molecular-weight heparin" if v else "unfractionated heparin"


def _dose_kinds(v: Any, _values: Mapping[str, Any], _w: Weight | None) -> str | None:
    words = {"mass": "mass (mg)", "volume": "volume (mL)"}
    items = [words.get(str(k), _plain(k)) for k in (v or [])]
    return ", ".join(items) if items else None


def _drug_names(v: Any, _values: Mapping[str, Any], _w: Weight | None) -> str | None:
    items = [str(x).replace("_", " ") for x in (v or [])]
    return ", ".join(items) if items else "none"


def _drug_name(v: Any, _values: Mapping[str, Any], _w: Weight | None) -> str | None:
    return None if not v else str(v).replace("_", " ")


def _act_targets(v: Any, _values: Mapping[str, Any], _w: Weight | None) -> str | None:
    out = []
    for t in v or []:
        low, high = t.get("low_s"), t.get("high_s")
        if low is not None and high is not None:
            bounds = f" ({fmt(float(low))}-{fmt(float(high))} s)"
        elif low is not None:
            bounds = f" (lower bound {fmt(float(low))} s)"
        elif high is not None:
            bounds = f" (upper bound {fmt(float(high))} s)"
        else:
            bounds = ""
        out.append(f'"{_plain(t.get("as_written", ""))}"{bounds}')
    return "; ".join(out) if out else None


def _gaps(v: Any, _values: Mapping[str, Any], _w: Weight | None) -> str | None:
    items = [f"{_plain(g.get('key', ''))}: {_plain(g.get('reason', ''))}" for g in (v or [])]
    return "; ".join(items) if items else None


def _codes(v: Any, _values: Mapping[str, Any], _w: Weight | None) -> str | None:
    return ", ".join(str(x) for x in (v or [])) or None


# Value key -> label. Keys as the rules emit them (`Finding.values`); `(rule code, key)` entries say what a
# key means for that rule when the generic label would be vague.
LABELS: dict[str | tuple[str, str], ValueLabel] = {
    # doses and weights
    "units_per_kg": ValueLabel("Dose per kg", _number("units/kg")),
    "weight_kg": ValueLabel("Weight", _weight),
    "weight_issue": ValueLabel("Weight", _weight_issue),
    "dose_units_low": ValueLabel("Dose", _range("dose_units_low", "dose_units_high", "units")),
    "dose_units_high": ValueLabel("Dose", _with("dose_units_low")),
    "dose_ug": ValueLabel("Dose", _number("mcg")),
    "dose_ug_low": ValueLabel("Dose range", _dose_ug_range),
    "dose_ug_high": ValueLabel("Dose range", _with("dose_ug_low")),
    "doses": ValueLabel("Dose as written", _list()),
    "kinds": ValueLabel("Dose given as", _dose_kinds),
    "mg_per_day": ValueLabel("Daily dose", _number("mg/day")),
    "aspirin_mg_per_day": ValueLabel("Aspirin daily dose", _number("mg/day")),
    "per_administration_mg": ValueLabel("Dose per administration", _number("mg")),
    "administrations_per_day": ValueLabel("Frequency", _frequency),
    "single": ValueLabel("Frequency", _single),
    "floor_mg_per_day": ValueLabel("High-intensity dose from", _number("mg/day")),
    "statin": ValueLabel("Statin", _drug_name),
    "route_reading": ValueLabel("Route", _route_reading),
    # what the fix proposes
    "suggested_dose": ValueLabel("Suggested", _suggested),
    "suggested_unit": ValueLabel("Suggested", _with("suggested_dose")),
    "suggested_mg": ValueLabel("Suggested", _number("mg")),
    "delete": ValueLabel("Order to stop", _text),
    # durations
    "duration_days": ValueLabel("Duration", _duration),
    "min_duration_days": ValueLabel("Minimum duration", _number("days")),
    "max_duration_days": ValueLabel("Maximum duration", _number("days")),
    # the regimen
    "antiplatelets": ValueLabel("Antiplatelets in the regimen", _drug_names),
    "p2y12": ValueLabel("P2Y12 inhibitors", _drug_names),
    "anticoagulant": ValueLabel("Anticoagulant orders", _list()),
    "partners": ValueLabel("Taken with", _list()),
    ("VD302", "partners"): ValueLabel("PDE-5 inhibitor orders", _list()),
    ("AT113", "partners"): ValueLabel("Ticagrelor or dipyridamole orders", _list()),
    "other_indication": ValueLabel("Other indication for anticoagulation", _list()),
    "lmwh": ValueLabel("Heparin", _heparin_kind),
    # what the chart documents
    "conditions": ValueLabel("Conditions", _list()),
    ("AT112", "conditions"): ValueLabel("Heart failure on record", _list()),
    ("AT115", "conditions"): ValueLabel("Prior stroke or TIA on record", _list()),
    ("HEP206", "conditions"): ValueLabel("Heparin-induced thrombocytopenia on record", _list()),
    "claudication": ValueLabel("Claudication documented in", _list()),
    "clti": ValueLabel("CLTI documented in", _list()),
    "asymptomatic": ValueLabel("Stated asymptomatic in", _list()),
    "symptomatic": ValueLabel("Symptoms documented in", _list()),
    "renal": ValueLabel("Dialysis or kidney failure documented in", _list()),
    "residual_stenosis_stated": ValueLabel("Residual stenosis stated", _percent),
    "residual_stenosis_above_percent": ValueLabel("Stent indicated for", _above_percent),
    "matched_by": ValueLabel("Recognized by", _matched_by),
    "looked_in": ValueLabel("Looked for an ACT target in", _list()),
    "targets": ValueLabel("ACT target", _act_targets),
    # data quality
    "rules": ValueLabel("Needed by", _codes),
    "reason": ValueLabel("Reason", _text),
    "path": ValueLabel("Where", _text),
    "gaps": ValueLabel("Data not available", _gaps),
}


def label_for(code: str, key: str) -> ValueLabel | None:
    return LABELS.get((code, key)) or LABELS.get(key)


def labelled_values(f: Finding, order_set: OrderSet | None = None) -> list[LabelledValue]:
    """The finding's values as labelled lines, in the order the rule gave them. `order_set` says where the
    weight came from (resource type and date). A key with no label is shown under its own name rather than
    dropped (the meta-test keeps that from happening)."""
    weight = order_set.patient.weight if order_set is not None else None
    out: list[LabelledValue] = []
    for key, value in f.values.items():
        entry = label_for(f.code, key)
        if entry is None:
            out.append(LabelledValue(key, key, _plain(value)))
            continue
        text = entry.shown(value, f.values, weight if key == "weight_kg" else None)
        if text is not None:
            out.append(LabelledValue(key, entry.label, text))
    return out


# --- confidence ------------------------------------------------------------------------------------------

DEFINITE_DQ = "definite: a fact about the data as sent"
DEFINITE_WEIGHT = "definite: computed from the order's dose and the recorded weight, nothing assumed"
DEFINITE_DOSE = "definite: computed from the order's dose as sent, nothing assumed"
DEFINITE = "definite: read from what the order set states, nothing assumed"
INFERRED = "inferred: not established from coded data alone; the detail says what it rests on"
# Rules that give "inferred" findings say why in one case each (docs/readings.md).
INFERRED_BY_RULE = {
    "DQ903": "inferred: the drug or procedure was recognized by its name, not by a code",
    "HEP206": "inferred: the heparin-induced thrombocytopenia was recognized by its text, not by a code",
    "PR503": "inferred: the bare-metal stent was read from the order's words, not from a code",
    "VD301": "inferred: no route stated; the single injectable dose is read as intra-arterial",
}
DOSE_KEYS = frozenset(
    {
        "units_per_kg",
        "dose_units_low",
        "dose_ug",
        "mg_per_day",
        "per_administration_mg",
        "aspirin_mg_per_day",
    }
)


def confidence_text(f: Finding) -> str:
    """The finding's confidence in words: what it rests on."""
    if f.confidence == "inferred":
        return INFERRED_BY_RULE.get(f.code, INFERRED)
    if f.code.startswith("DQ"):
        return DEFINITE_DQ
    if f.values.get("weight_kg") is not None:
        return DEFINITE_WEIGHT
    if DOSE_KEYS & set(f.values):
        if f.values.get("route_reading") == "text":
            return DEFINITE_DOSE + "; intra-arterial per the order's text"
        return DEFINITE_DOSE
    return DEFINITE


# --- the source, once -------------------------------------------------------------------------------------

SOURCE_HEADING = "\n\n**Source**\n\n"


def source_block(citations: Sequence[Citation]) -> str:
    """The source block rules append to a detail (heading, then each quote with its titled reference)."""
    quotes = "\n\n".join(f"> {c.quote}\n>\n> — {citation_text(c)}" for c in citations)
    return SOURCE_HEADING + quotes


def detail_body(f: Finding) -> str:
    """The detail without the trailing source block, when the block is exactly the finding's citations (a
    renderer that shows the sources on their own uses this, so each quote appears once); else the detail."""
    if f.citations:
        block = source_block(f.citations)
        if f.detail.endswith(block):
            return f.detail[: -len(block)]
    return f.detail
