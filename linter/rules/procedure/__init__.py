"""Rule family: procedure. MODULES lists the family's rule modules, sorted by code."""

from __future__ import annotations

from types import ModuleType

from linter.rules.procedure import (
    pr501_revascularization_for_claudication,
    pr502_no_symptomatic_indication,
    pr503_bare_metal_stent_infrapopliteal,
    pr504_stent_without_documented_indication,
    pr505_abi_in_dialysis_patient,
    pr506_no_supervised_exercise,
    pr507_paclitaxel_dcb_in_clti,
    pr508_tibial_atherectomy,
)

MODULES: tuple[ModuleType, ...] = (
    pr501_revascularization_for_claudication,
    pr502_no_symptomatic_indication,
    pr503_bare_metal_stent_infrapopliteal,
    pr504_stent_without_documented_indication,
    pr505_abi_in_dialysis_patient,
    pr506_no_supervised_exercise,
    pr507_paclitaxel_dcb_in_clti,
    pr508_tibial_atherectomy,
)
