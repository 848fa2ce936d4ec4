"""Rule family: antithrombotic. MODULES lists the family's rule modules, sorted by code."""

from __future__ import annotations

from types import ModuleType

from linter.rules.antithrombotic import (
    at101_aspirin_daily_dose,
    at102_clopidogrel_maintenance_dose,
    at103_clopidogrel_duration,
    at104_antiplatelet_missing,
    at105_dapt_missing,
    at106_rivaroxaban_low_dose_regimen,
    at107_dpi_without_aspirin,
    at108_oac_without_antiplatelet,
    at109_triple_therapy,
    at110_duplicate_p2y12,
    at111_cilostazol_daily_dose,
    at112_cilostazol_heart_failure,
    at113_aspirin_dose_with_ticagrelor_or_dpi,
    at114_dpi_clopidogrel_duration,
    at115_prasugrel_prior_stroke,
)

MODULES: tuple[ModuleType, ...] = (
    at101_aspirin_daily_dose,
    at102_clopidogrel_maintenance_dose,
    at103_clopidogrel_duration,
    at104_antiplatelet_missing,
    at105_dapt_missing,
    at106_rivaroxaban_low_dose_regimen,
    at107_dpi_without_aspirin,
    at108_oac_without_antiplatelet,
    at109_triple_therapy,
    at110_duplicate_p2y12,
    at111_cilostazol_daily_dose,
    at112_cilostazol_heart_failure,
    at113_aspirin_dose_with_ticagrelor_or_dpi,
    at114_dpi_clopidogrel_duration,
    at115_prasugrel_prior_stroke,
)
