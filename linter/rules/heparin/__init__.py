"""Rule family: heparin and ACT (HEP). MODULES lists the family's rule modules, sorted by code."""

from __future__ import annotations

from types import ModuleType

from linter.rules.heparin import (
    hep201_heparin_bolus_dose,
    hep202_heparin_bolus_no_weight,
    hep203_act_target_missing,
    hep204_act_target_out_of_range,
    hep205_heparin_dose_not_in_units,
    hep206_heparin_with_hit,
)

MODULES: tuple[ModuleType, ...] = (
    hep201_heparin_bolus_dose,
    hep202_heparin_bolus_no_weight,
    hep203_act_target_missing,
    hep204_act_target_out_of_range,
    hep205_heparin_dose_not_in_units,
    hep206_heparin_with_hit,
)
