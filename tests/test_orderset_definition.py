"""Order-set definitions (issue 14): PlanDefinition + ActivityDefinitions and RequestGroups read as template
orders at their actions; the default path and each selectable action judged; alternatives never combined;
findings at the action, named by its title, with a corrected ActivityDefinition as the suggestion.

The fixture files under fixtures/plandef/ and fixtures/spec-examples/ are checked finding by finding by
tests/test_fixtures.py; here: the semantics, the reports and the CLI."""

from __future__ import annotations

import copy
import csv
import io
import json
import subprocess
import sys
from typing import Any

import pytest
from fhir.resources.R4B.activitydefinition import ActivityDefinition

from linter.batch import LintOptions, lint_paths
from linter.engine import run
from linter.fhir_io import load_bytes
from linter.fixes import suggestion_actions
from linter.model import Finding, OrderSet, Scope
from linter.profiles import load_profile
from linter.render.html import render_report_body
from linter.render.report import report_doc
from linter.rules import RULES_BY_CODE
from tests.conftest import FIXTURE_NOW, FIXTURES, ROOT

PLANDEF = FIXTURES / "plandef"
CLEAN = json.loads((PLANDEF / "btk-os-clean.json").read_text())
PROFILE = load_profile("btk-angioplasty")


def lint_doc(doc: dict[str, Any], mode: str = "strict") -> tuple[OrderSet, list[Finding]]:
    result = load_bytes(json.dumps(doc).encode(), "test.json", mode=mode, now=FIXTURE_NOW)  # type: ignore[arg-type]
    assert not result.errors, [str(e) for e in result.errors]
    (order_set,) = result.order_sets
    return order_set, run(order_set, PROFILE)


def codes(findings: list[Finding]) -> list[tuple[str, str]]:
    return sorted((f.code, f.primary_ref) for f in findings)


def resource(doc: dict[str, Any], rid: str) -> dict[str, Any]:
    return next(e["resource"] for e in doc["entry"] if e["resource"].get("id") == rid)


def action(doc: dict[str, Any], *path: int) -> dict[str, Any]:
    node: dict[str, Any] = resource(doc, "btk-os")
    for i in path:
        node = node["action"][i]
    return node


OS = "PlanDefinition/btk-os"


def test_each_activity_definition_is_a_template_order_at_its_action() -> None:
    order_set, findings = lint_doc(CLEAN)
    assert findings == []
    by_ref = {m.ref: m for m in order_set.medications}
    heparin = by_ref[f"{OS} action[1].action[0]"]
    assert heparin.is_("heparin") and heparin.origin is not None
    assert heparin.origin.title == "Heparin 80 units/kg IV bolus"
    assert heparin.origin.definition == "ActivityDefinition/heparin-bolus"
    aspirin = by_ref[f"{OS} action[2].action[0]"]  # productReference to a contained Medication
    assert aspirin.is_("aspirin") and aspirin.drug.strength is not None and aspirin.drug.strength.value == 81
    (pta,) = order_set.procedures[:1]
    assert pta.ref == f"{OS} action[0].action[0]" and pta.identity.btk
    assert order_set.btk_context is not None and order_set.btk_context.ref == pta.ref  # the set's own procedure
    assert order_set.patient.weight is None  # no patient: a template
    assert [t.source_ref for t in order_set.patient.act_targets] == [f"{OS} goal[0]"]


def test_clean_and_seeded_requestgroups_give_the_same_findings_as_the_plandefinitions() -> None:
    for name, rg_prefix, pd_prefix in (
        ("btk-os-seeded", "RequestGroup/btk-os-seeded-applied", "PlanDefinition/btk-os-seeded"),
        ("btk-os-clean", "RequestGroup/btk-os-applied", OS),
    ):
        _, pd = lint_doc(json.loads((PLANDEF / f"{name}.json").read_text()))
        _, rg = lint_doc(json.loads((PLANDEF / f"{name}-requestgroup.json").read_text()))
        assert [(c, r.replace(pd_prefix, "X")) for c, r in codes(pd)] == [
            (c, r.replace(rg_prefix, "X")) for c, r in codes(rg)
        ]
    assert len(pd) == 0 and len(rg) == 0


def test_alternatives_of_an_exactly_one_group_are_never_combined() -> None:
    doc = copy.deepcopy(CLEAN)
    action(doc, 2, 1, 1)["precheckBehavior"] = "yes"  # both P2Y12 pre-checked, but exactly-one
    order_set, findings = lint_doc(doc)
    assert findings == []
    assert order_set.definition is not None
    default = order_set.definition.configurations[0]
    assert f"{OS} action[2].action[1].action[0]" in default.refs  # the first pre-checked one
    assert f"{OS} action[2].action[1].action[1]" not in default.refs


def test_two_p2y12_inhibitors_pre_checked_in_an_any_group_are_combined() -> None:
    doc = copy.deepcopy(CLEAN)
    action(doc, 2, 1)["selectionBehavior"] = "any"
    action(doc, 2, 1, 1)["precheckBehavior"] = "yes"
    _, findings = lint_doc(doc)
    assert codes(findings) == [("AT110", f"{OS} action[2].action[1].action[1]")]


def test_a_required_choice_with_nothing_pre_checked_is_judged_with_its_first_alternative() -> None:
    doc = copy.deepcopy(CLEAN)
    del action(doc, 2, 1, 0)["precheckBehavior"]  # neither clopidogrel nor ticagrelor pre-checked
    order_set, findings = lint_doc(doc)
    assert findings == []  # no AT105 "DAPT missing": a P2Y12 inhibitor must be chosen
    assert order_set.definition is not None
    p2y12 = order_set.definition.actions[2].children[1]
    assert p2y12.children[0].default and p2y12.children[0].assumed and not p2y12.children[1].default


def test_an_optional_alternative_is_judged_with_the_defaults_and_says_so() -> None:
    doc = copy.deepcopy(CLEAN)
    aspirin = resource(doc, "aspirin-daily")
    aspirin["dosage"][0]["doseAndRate"][0]["doseQuantity"]["value"] = 325  # fine alone, not with ticagrelor
    aspirin["dosage"][0].pop("text")
    _, findings = lint_doc(doc)
    # DQ905: the product is still the 81 mg tablet
    assert codes(findings) == [("AT113", f"{OS} action[2].action[0]"), ("DQ905", f"{OS} action[2].action[0]")]
    at113 = next(f for f in findings if f.code == "AT113")
    assert (
        "Judged with **Ticagrelor 90 mg twice daily** selected in place of Clopidogrel 75 mg daily for 90 "
        "days" in at113.detail
    )


def test_an_optional_action_that_is_not_pre_checked_is_still_judged() -> None:
    doc = copy.deepcopy(CLEAN)
    action(doc, 3, 0)["precheckBehavior"] = "no"
    resource(doc, "nitroglycerin-ia")["dosage"][0]["doseAndRate"][0]["doseQuantity"] = {
        "value": 200,
        "unit": "mg",
        "system": "http://unitsofmeasure.org",
        "code": "mg",
    }
    order_set, findings = lint_doc(doc)
    assert codes(findings) == [("VD301", f"{OS} action[3].action[0]")]
    assert order_set.definition is not None
    assert f"{OS} action[3].action[0]" not in order_set.definition.configurations[0].refs


@pytest.mark.parametrize(
    "canonical",
    [
        "http://example.org/fhir/ActivityDefinition/heparin-bolus",  # URL without version
        "http://example.org/fhir/ActivityDefinition/heparin-bolus|1.0.0",
        "ActivityDefinition/heparin-bolus",  # by id within the input
    ],
)
def test_definition_canonical_resolves_by_url_with_or_without_version_or_by_id(canonical: str) -> None:
    doc = copy.deepcopy(CLEAN)
    action(doc, 1, 0)["definitionCanonical"] = canonical
    resource(doc, "heparin-bolus")["dosage"][0]["doseAndRate"][0]["doseQuantity"]["value"] = 150
    _, findings = lint_doc(doc)
    assert codes(findings) == [("HEP201", f"{OS} action[1].action[0]")]


def test_contained_activity_definition_resolves_by_local_reference() -> None:
    doc = copy.deepcopy(CLEAN)
    pd = resource(doc, "btk-os")
    heparin = resource(doc, "heparin-bolus")
    doc["entry"] = [e for e in doc["entry"] if e["resource"] is not heparin]
    pd["contained"] = [heparin]
    action(doc, 1, 0)["definitionCanonical"] = "#heparin-bolus"
    heparin["dosage"][0]["doseAndRate"][0]["doseQuantity"]["value"] = 150
    _, findings = lint_doc(doc)
    assert codes(findings) == [("HEP201", f"{OS} action[1].action[0]")]


@pytest.mark.parametrize(
    "canonical",
    [
        "http://example.org/fhir/ActivityDefinition/heparin-bolus|2.0.0",
        "#heparin-bolus",
        "http://elsewhere.example/ActivityDefinition/x",
    ],
)
def test_a_definition_not_in_the_input_is_reported_not_checked_never_passed(canonical: str) -> None:
    doc = copy.deepcopy(CLEAN)
    action(doc, 1, 0)["definitionCanonical"] = canonical
    order_set, findings = lint_doc(doc)
    (f,) = findings
    assert (f.code, f.primary_ref) == ("DQ904", f"{OS} action[1].action[0]")
    assert "not checked" in f.detail and canonical in f.detail
    assert all(m.ref != f.primary_ref for m in order_set.medications)


def test_fast_mode_reports_a_wrong_dose_type_at_the_activity_definition_dosage() -> None:
    doc = copy.deepcopy(CLEAN)
    resource(doc, "heparin-bolus")["dosage"][0]["doseAndRate"][0]["doseQuantity"]["value"] = "80"
    for mode in ("strict", "fast"):
        order_set, findings = lint_doc(doc, mode)
        assert [(f.code, f.primary_ref) for f in findings] == [("DQ904", f"{OS} action[1].action[0]")]
    (bad,) = order_set.invalid
    assert ".dosage[0].doseAndRate[0].doseQuantity.value" in bad.path


def test_suggestion_is_a_corrected_activity_definition_valid_fhir() -> None:
    seeded = json.loads((PLANDEF / "btk-os-seeded.json").read_text())
    (read,) = load_bytes(json.dumps(seeded).encode(), "test.json", now=FIXTURE_NOW).read
    order_set = read.order_set
    findings = run(order_set, PROFILE)
    assert (order_set, findings) == lint_doc(seeded)
    checked = 0
    for f in findings:
        for a in suggestion_actions(f, order_set, read.originals, PROFILE):
            if a["type"] != "update":
                continue
            corrected = a["resource"]
            assert corrected["resourceType"] == "ActivityDefinition"
            ActivityDefinition.model_validate(corrected)
            original = resource(seeded, corrected["id"])
            assert corrected["dosage"] != original["dosage"]
            assert {k: v for k, v in corrected.items() if k != "dosage"} == {
                k: v for k, v in original.items() if k != "dosage"
            }
            checked += 1
    assert checked == 3  # VD301 (100 mcg), AT101 and AT113 (aspirin 81 mg once daily)


def orderlint(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "linter.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )


def test_cli_lints_the_seeded_definition_at_its_actions_named_by_title() -> None:
    result = orderlint("lint", "-q", "fixtures/plandef/btk-os-seeded.json")
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 5
    assert (
        "fixtures/plandef/btk-os-seeded.json: PlanDefinition/btk-os-seeded action[1].action[0] "
        '"Heparin 15,000 units IV bolus": HEP202 warning'
    ) in result.stdout
    assert all(" action[" in line and '"' in line for line in lines)
    clean = orderlint(
        "lint", "-q", "fixtures/plandef/btk-os-clean.json", "fixtures/plandef/btk-os-clean-requestgroup.json"
    )
    assert (clean.returncode, clean.stdout) == (0, ""), clean.stderr


def test_cli_json_csv_html_and_outcome_name_the_action_title() -> None:
    path = "fixtures/plandef/btk-os-seeded.json"
    doc = json.loads(orderlint("lint", "-q", "--format", "json", path).stdout)
    (order_set,) = doc["files"][0]["order_sets"]
    hep = next(f for f in order_set["findings"] if f["code"] == "HEP202")
    assert hep["order"] == "Heparin 15,000 units IV bolus"
    assert hep["action"]["definition"] == "ActivityDefinition/heparin-bolus"
    assert hep["detail"].startswith(
        'Order-set action: `PlanDefinition/btk-os-seeded action[1].action[0]` "Heparin '
        '15,000 units IV bolus", defined by `ActivityDefinition/heparin-bolus`.'
    )
    assert order_set["definition"]["actions"][1]["actions"][0]["title"] == "Heparin 15,000 units IV bolus"
    rows = list(csv.DictReader(io.StringIO(orderlint("lint", "-q", "--format", "csv", path).stdout)))
    assert {r["drug"] for r in rows} >= {"Heparin 15,000 units IV bolus", "Aspirin 325 mg twice daily"}
    html = orderlint("lint", "-q", "--format", "html", path).stdout
    assert "Heparin 15,000 units IV bolus" in html and 'class="definition-tree"' in html
    outcome = json.loads(orderlint("lint", "-q", "--format", "outcome", path).stdout)
    issue = next(i for i in outcome["issue"] if i["details"]["coding"][0]["code"] == "HEP202")
    assert issue["details"]["text"].startswith("Heparin 15,000 units IV bolus: ")
    assert issue["expression"] == ["Bundle.entry[0].resource.action[1].action[0]"]


def test_spec_examples_lint_without_error_and_without_btk_findings() -> None:
    result = orderlint("lint", "-q", "--format", "json", "fixtures/spec-examples")
    assert result.returncode in (0, 1), result.stderr
    doc = json.loads(result.stdout)
    assert len(doc["files"]) == 4 and all(not f["errors"] for f in doc["files"])
    btk = {c for c, r in RULES_BY_CODE.items() if r.META.scope is not Scope.ANY}
    found = {f["code"] for file in doc["files"] for s in file["order_sets"] for f in s["findings"]}
    assert not found & btk and found <= {"DQ903", "DQ904"}


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path] if path else []
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, child in children:
        out.extend(_paths(child, (*path, key)))
    return out


def test_wrong_json_types_anywhere_in_a_definition_never_crash() -> None:
    """Every field of the PlanDefinition's antiplatelet branch and of one ActivityDefinition, replaced by a value
    of the wrong type: the result is findings (DQ904) or a clear InputError, never an exception."""
    pd = json.loads((PLANDEF / "btk-os-seeded.json").read_text())
    rg = json.loads((PLANDEF / "btk-os-seeded-requestgroup.json").read_text())
    targets = [
        (pd, 0, ("resource", "action", 2)),
        (pd, 0, ("resource", "goal")),
        (pd, 5, ("resource",)),
        (rg, 0, ("resource", "action", 2)),
        (rg, 4, ("resource",)),
    ]
    tried = 0
    for seeded, entry, prefix in targets:
        base: Any = seeded["entry"][entry]
        for key in prefix:
            base = base[key]
        for sub in _paths(base):
            for bad in (7, "x", [], {"a": 1}):
                doc = copy.deepcopy(seeded)
                node: Any = doc["entry"][entry]
                for key in (*prefix, *sub[:-1]):
                    node = node[key]
                node[sub[-1]] = bad
                for mode in ("strict", "fast"):
                    result = load_bytes(json.dumps(doc).encode(), "fuzz.json", mode=mode, now=FIXTURE_NOW)  # type: ignore[arg-type]
                    for order_set in result.order_sets:
                        run(order_set, PROFILE)
                tried += 1
    assert tried > 200


def test_ndjson_lines_of_a_definition_are_read_together() -> None:
    seeded = json.loads((PLANDEF / "btk-os-seeded.json").read_text())
    ndjson = b"\n".join(json.dumps(e["resource"]).encode() for e in seeded["entry"])
    result = load_bytes(ndjson, "os.ndjson", now=FIXTURE_NOW)
    assert not result.errors
    (order_set,) = result.order_sets
    assert order_set.source == "os.ndjson:line 1-9"
    got = sorted((f.code, f.primary_ref) for f in run(order_set, PROFILE))
    _, want = lint_doc(seeded)
    assert got == codes(want) and len(got) == 5


def test_spec_cardiology_order_set_reads_metoprolol_tablets_of_the_contained_medication() -> None:
    data = (FIXTURES / "spec-examples" / "PlanDefinition-example-cardiology-os.json").read_bytes()
    (order_set,) = load_bytes(data, "cardiology-os.json", now=FIXTURE_NOW).order_sets
    os_ref = "PlanDefinition/example-cardiology-os"
    meto = next(m for m in order_set.medications if m.ref == f"{os_ref} action[0].action[1].action[1].action[0]")
    assert meto.drug.strength is not None and (meto.drug.strength.value, meto.drug.strength.unit) == (25, "mg")
    assert meto.dosages[0].dose is not None and meto.dosages[0].dose.unit == "{tbl}"
    assert order_set.btk_context is None and order_set.pad_context is None
    assert order_set.definition is not None and len(order_set.definition.configurations) == 5  # nothing default
    assert order_set.definition.configurations[0].refs == frozenset()


def test_a_nested_plandefinition_adds_its_actions_under_the_action() -> None:
    doc = copy.deepcopy(CLEAN)
    statin = action(doc, 4)
    nested = {
        "resourceType": "PlanDefinition",
        "id": "lipids",
        "url": "http://example.org/fhir/PlanDefinition/lipids",
        "status": "draft",
        "contained": [copy.deepcopy(resource(doc, "atorvastatin-80"))],
        "action": [{"title": "Atorvastatin 80 mg daily (nested)", "definitionCanonical": "#atorvastatin-80"}],
    }
    nested["contained"][0]["dosage"][0]["doseAndRate"][0]["doseQuantity"]["value"] = 20  # not high-intensity
    doc["entry"].append({"fullUrl": nested["url"], "resource": nested})
    statin["action"] = [{"title": "Lipid order set", "definitionCanonical": nested["url"]}]
    order_set, findings = lint_doc(doc)
    ref = f"{OS} action[4].action[0].definition.action[0]"
    assert ref in {m.ref for m in order_set.medications}
    assert codes(findings) == [("DQ905", ref), ("LL402", ref)]  # DQ905: the 80 mg tablet product, dosed 20 mg


def test_results_page_body_shows_the_tree_with_each_finding_linked_to_its_row() -> None:
    results = lint_paths([str(PLANDEF / "btk-os-seeded.json")], PROFILE, LintOptions(now=FIXTURE_NOW))
    body = render_report_body(report_doc(results, PROFILE))
    tree = body[body.index('<section class="definition-tree"') : body.index('<section class="findings"')]
    assert tree.count('data-finding-row="') == 5  # every finding on its action
    for row in ("f1", "f2", "f3", "f4", "f5"):
        assert f'href="#{row}-detail"' in tree and f'id="{row}-detail"' in body
    assert "Heparin 15,000 units IV bolus" in tree and "pre-checked" in tree and "choose: any" in tree
