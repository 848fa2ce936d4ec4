"""The CDS services we advertise: one order-select and one order-sign service per loaded profile."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from linter.profiles import Profile

# 2.0 token syntax only; every key is "better with", never required (see linter.api.prefetch).
PREFETCH_TEMPLATES: dict[str, str] = {
    "patient": "Patient/{{context.patientId}}",
    "weight": "Observation?patient={{context.patientId}}&code=http://loinc.org|29463-7&_sort=-date&_count=1",
    # every Condition, resolved and inactive ones too: AT115 and HEP206 read history (docs/readings.md)
    "conditions": "Condition?patient={{context.patientId}}&_count=100",
    "medications": "MedicationRequest?patient={{context.patientId}}&status=active",
    "procedures": "Procedure?patient={{context.patientId}}&_sort=-date&_count=50",
    "goals": "Goal?patient={{context.patientId}}&lifecycle-status=active",
}

_HOOK_WORDING = {
    "order-select": "when an order is selected; cards concern the selected orders, other drafts are context",
    "order-sign": "when orders are signed; every draft order is checked",
}


@dataclass(frozen=True, slots=True)
class CdsService:
    id: str
    hook: str
    profile: Profile

    def discovery_entry(self) -> dict[str, Any]:
        description = (
            f"{self.profile.description.strip()} Runs {_HOOK_WORDING[self.hook]}. "
            f"Profile {self.profile.id} version {self.profile.version}."
        )
        return {
            "hook": self.hook,
            "title": f"orderlint - {self.profile.title} ({self.hook})",
            "description": description,
            "id": self.id,
            "prefetch": dict(PREFETCH_TEMPLATES),
            "usageRequirements": (
                "Draft orders are required. Patient, weight, conditions, medications, procedures and goals "
                "make the checks complete; missing data gives a 'could not verify' card instead."
            ),
        }


def services_for(profiles: Sequence[Profile]) -> dict[str, CdsService]:
    services: dict[str, CdsService] = {}
    for profile in profiles:
        for hook in ("order-select", "order-sign"):
            service = CdsService(id=f"{profile.id}-{hook}", hook=hook, profile=profile)
            services[service.id] = service
    return services
