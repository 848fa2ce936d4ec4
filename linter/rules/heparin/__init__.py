"""Rule family: heparin and ACT (HEP). MODULES lists the family's rule modules, sorted by code."""

from __future__ import annotations

from types import ModuleType

from linter.rules.heparin import hep201_heparin_bolus_dose

MODULES: tuple[ModuleType, ...] = (hep201_heparin_bolus_dose,)
