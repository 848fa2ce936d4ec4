"""Rule family: lipid. MODULES lists the family's rule modules, sorted by code."""

from __future__ import annotations

from types import ModuleType

MODULES: tuple[ModuleType, ...] = ()
