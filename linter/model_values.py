"""Small values of the normalized model: codings, quantities, and the suggestions a finding carries (data,
applied to the original FHIR resource by linter.fixes). Split from linter.model (which re-exports them) to keep
each module under 500 lines."""

from __future__ import annotations

from linter.model_class import frozen_model


@frozen_model
class Coding:
    system: str | None
    code: str | None
    display: str | None = None


@frozen_model
class Quantity:
    value: float
    unit: str | None = None  # human unit text as sent
    system: str | None = None
    code: str | None = None  # UCUM code when system is UCUM


# --- suggestions: data, applied to the original FHIR resource by linter.fixes -----------------------------


@frozen_model
class SetDose:
    """Replace the dose of one dosageInstruction (index) with `value` `unit` (UCUM code)."""

    dosage_index: int
    value: float
    unit: str
    unit_display: str


@frozen_model
class SetFrequency:
    """Set timing.repeat to `frequency` per `period` `period_unit` (and drop timing.code that contradicts it)."""

    dosage_index: int
    frequency: int
    period: float
    period_unit: str
    text: str


@frozen_model
class SetDuration:
    """State a treatment duration: dispenseRequest.expectedSupplyDuration and timing.repeat.boundsDuration."""

    days: int


@frozen_model
class SetRoute:
    dosage_index: int
    route: Coding


FixChange = SetDose | SetFrequency | SetDuration | SetRoute


@frozen_model
class UpdateAction:
    """Update the order `ref` by applying `changes` to the original resource (same id)."""

    ref: str
    description: str
    changes: tuple[FixChange, ...]


@frozen_model
class CreateAction:
    """Create a new order from a regimen template in the profile (`template` key)."""

    template: str
    description: str


@frozen_model
class DeleteAction:
    ref: str
    description: str


Action = UpdateAction | CreateAction | DeleteAction


@frozen_model
class Suggestion:
    label: str
    actions: tuple[Action, ...]
