"""Rule family: lipid. MODULES lists the family's rule modules, sorted by code."""

from __future__ import annotations

from types import ModuleType

from linter.rules.lipid import ll401_statin_missing, ll402_statin_not_high_intensity

MODULES: tuple[ModuleType, ...] = (ll401_statin_missing, ll402_statin_not_high_intensity)
