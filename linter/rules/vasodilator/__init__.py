"""Rule family: vasodilator (VD). MODULES lists the family's rule modules, sorted by code."""

from __future__ import annotations

from types import ModuleType

from linter.rules.vasodilator import vd301_nitroglycerin_ia_dose, vd302_nitrate_with_pde5_inhibitor

MODULES: tuple[ModuleType, ...] = (vd301_nitroglycerin_ia_dose, vd302_nitrate_with_pde5_inhibitor)
