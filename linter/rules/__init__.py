"""The rule registry: the one sorted list of rule modules (`<family>.<module>` under linter/rules/, sorted by
code). A rule lands complete: module, docs, META with citation, fixtures, profile entry, and its line here.
`scripts/new-rule` writes the line; tests/test_registry.py checks that every rule module under
linter/rules/ is listed here, that the list is sorted, and that every listed rule has fixtures, docs and a
profile entry.
"""

from __future__ import annotations

from importlib import import_module

from linter.rules._base import RuleModule, as_rule

# One line per rule, sorted by code (scripts/new-rule inserts new lines in order).
RULE_MODULES: tuple[str, ...] = (
    "antithrombotic.at101_aspirin_daily_dose",
    "antithrombotic.at102_clopidogrel_maintenance_dose",
    "antithrombotic.at103_clopidogrel_duration",
    "antithrombotic.at104_antiplatelet_missing",
    "antithrombotic.at105_dapt_missing",
    "antithrombotic.at106_rivaroxaban_low_dose_regimen",
    "antithrombotic.at107_dpi_without_aspirin",
    "antithrombotic.at108_oac_without_antiplatelet",
    "antithrombotic.at109_triple_therapy",
    "antithrombotic.at110_duplicate_p2y12",
    "antithrombotic.at111_cilostazol_daily_dose",
    "antithrombotic.at112_cilostazol_heart_failure",
    "antithrombotic.at113_aspirin_dose_with_ticagrelor_or_dpi",
    "antithrombotic.at114_dpi_clopidogrel_duration",
    "antithrombotic.at115_prasugrel_prior_stroke",
    "data_quality.dq901_dose_not_machine_readable",
    "data_quality.dq902_dose_unit_not_convertible",
    "data_quality.dq903_identified_by_text",
    "data_quality.dq904_invalid_fhir_resource",
    "data_quality.dq905_code_contradicts_dose",
    "data_quality.dq906_context_data_unavailable",
    "heparin.hep201_heparin_bolus_dose",
    "heparin.hep202_heparin_bolus_no_weight",
    "heparin.hep203_act_target_missing",
    "heparin.hep204_act_target_out_of_range",
    "heparin.hep205_heparin_dose_not_in_units",
    "heparin.hep206_heparin_with_hit",
    "lipid.ll401_statin_missing",
    "lipid.ll402_statin_not_high_intensity",
    "procedure.pr501_revascularization_for_claudication",
    "procedure.pr502_no_symptomatic_indication",
    "procedure.pr503_bare_metal_stent_infrapopliteal",
    "procedure.pr504_stent_without_documented_indication",
    "procedure.pr505_abi_in_dialysis_patient",
    "procedure.pr506_no_supervised_exercise",
    "procedure.pr507_paclitaxel_dcb_in_clti",
    "procedure.pr508_tibial_atherectomy",
    "vasodilator.vd301_nitroglycerin_ia_dose",
    "vasodilator.vd302_nitrate_with_pde5_inhibitor",
)

RULES: tuple[RuleModule, ...] = tuple(as_rule(import_module(f"{__name__}.{name}")) for name in RULE_MODULES)
RULES_BY_CODE: dict[str, RuleModule] = {r.META.code: r for r in RULES}
RULE_NAMES: dict[str, str] = {r.META.code: r.META.name for r in RULES}  # for callers of the store's stats

if len(RULES_BY_CODE) != len(RULES):  # pragma: no cover - guarded by tests/test_registry.py
    raise RuntimeError("duplicate rule code in the registry")
if [r.META.code for r in RULES] != sorted(RULES_BY_CODE):  # pragma: no cover - guarded by tests/test_registry.py
    raise RuntimeError("the rule registry is not sorted by code")

__all__ = ["RULES", "RULES_BY_CODE", "RULE_MODULES", "RULE_NAMES"]
