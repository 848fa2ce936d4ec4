"""Who an order set is for: the patient's display name, identifier (MRN when one is typed so) and birth date,
read from the Patient resource in the bundle or prefetch, and the names of the procedures under review.

Rules never need these and never see them: they are read here from the originals kept beside the order set
(fhir_io.ReadOrderSet / batch.LintedSet), and attached at report level by the caller, for people allowed to
see them. Where they are shown:

- the workbench results page, to signed-in users only (a named user of the workbench's login: Basic, OIDC or a
  trusted proxy); the open, login-less development workbench shows none;
- never the downloads, never the CLI's reports: `orderlint lint --format html|csv|json` and the workbench's
  downloads stay identical byte for byte and carry file names, order-set labels and resource references only
  (the safer reading: a report file travels further than the page);
- never logs: nothing here logs, and callers must not log what it returns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from linter.model import OrderSet, Originals

if TYPE_CHECKING:
    from linter.batch import FileResult

MAX_TEXT = 120  # a name or identifier longer than this is cut: the page shows a row, not a record
MR_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0203"
NAME_USES = ("official", "usual")  # preferred HumanName.use, in this order; then any name


@dataclass(frozen=True, slots=True)
class Demographics:
    name: str | None
    identifier: str | None
    identifier_kind: str | None  # "MRN" when typed MR, else the identifier's type text or None
    birth_date: str | None
    procedures: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "identifier": self.identifier,
            "identifierKind": self.identifier_kind,
            "birthDate": self.birth_date,
            "procedures": list(self.procedures),
        }


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    cleaned = " ".join(value.split())
    return cleaned[:MAX_TEXT] or None


def _strings(value: object) -> list[str]:
    return [t for v in value if (t := _text(v))] if isinstance(value, list) else []


def display_name(patient: Mapping[str, Any]) -> str | None:
    """`text`, or `Family, Given Middle` of the official (else usual, else first) HumanName."""
    names = (
        [n for n in patient.get("name") or [] if isinstance(n, Mapping)]
        if isinstance(patient.get("name"), list)
        else []
    )
    if not names:
        return None
    ranked = sorted(names, key=lambda n: NAME_USES.index(n["use"]) if n.get("use") in NAME_USES else len(NAME_USES))
    name = ranked[0]
    if text := _text(name.get("text")):
        return text
    family = _text(name.get("family"))
    given = " ".join(_strings(name.get("given")))
    if family and given:
        return f"{family}, {given}"[:MAX_TEXT]
    return family or given or None


def _is_mrn(identifier: Mapping[str, Any]) -> bool:
    kind = identifier.get("type")
    if not isinstance(kind, Mapping) or not isinstance(kind.get("coding"), list):
        return False
    return any(
        isinstance(c, Mapping) and c.get("code") == "MR" and c.get("system") in (MR_SYSTEM, None)
        for c in kind["coding"]
    )


def identifier(patient: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(value, kind): the MRN when one is typed MR, else the first identifier with a value (kind: its type's
    text, or None)."""
    raw = patient.get("identifier")
    found = [i for i in raw if isinstance(i, Mapping) and _text(i.get("value"))] if isinstance(raw, list) else []
    if not found:
        return None, None
    mrn = next((i for i in found if _is_mrn(i)), None)
    if mrn is not None:
        return _text(mrn.get("value")), "MRN"
    first = found[0]
    kind = first.get("type")
    return _text(first.get("value")), _text(kind.get("text")) if isinstance(kind, Mapping) else None


def _patient(order_set: OrderSet, originals: Originals) -> Mapping[str, Any] | None:
    for ref in (order_set.patient.patient_ref, order_set.subject_ref):
        if ref and isinstance(found := originals.get(ref), Mapping) and found.get("resourceType") == "Patient":
            return found
    patients = [r for r in originals.values() if r.get("resourceType") == "Patient"]
    return patients[0] if len(patients) == 1 else None


def demographics(order_set: OrderSet, originals: Originals) -> Demographics | None:
    """The patient of one order set (None when it names none: a template, or no Patient resource sent) and the
    procedures under review."""
    patient = _patient(order_set, originals)
    procedures = tuple(dict.fromkeys(p.name for p in order_set.procedures if p.code.label))[:3]  # named ones
    if patient is None and not procedures:
        return None
    if patient is None:
        return Demographics(None, None, None, None, procedures)
    value, kind = identifier(patient)
    return Demographics(display_name(patient), value, kind, _text(patient.get("birthDate")), procedures)


def report_people(results: Sequence[FileResult]) -> dict[str, list[dict[str, Any] | None]]:
    """Report-level attachment for the HTML renderer: file path -> one entry per order set (in file order).
    Two inputs under one name cannot be told apart in the report: they get no demographics rather than
    perhaps another input's patient."""
    people: dict[str, list[dict[str, Any] | None]] = {}
    paths = Counter(r.path for r in results)
    for r in results:
        if paths[r.path] > 1:
            people[r.path] = [None] * len(r.sets)
            continue
        entries = []
        for s in r.sets:
            found = demographics(s.order_set, s.originals)
            entries.append(None if found is None else found.as_json())
        people[r.path] = entries
    return people
