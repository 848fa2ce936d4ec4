"""Small values of the normalized model: codings, quantities, and the suggestions a finding carries (data,
applied to the original FHIR resource by linter.fixes). Split from linter.model (which re-exports them) to keep
each module under 500 lines."""

from __future__ import annotations

from dataclasses import dataclass

from linter.model_fast import compact_pickle, fast_init


@dataclass(frozen=True, slots=True)
class Coding:
    system: str | None
    code: str | None
    display: str | None = None


@dataclass(frozen=True, slots=True)
class Quantity:
    value: float
    unit: str | None = None  # human unit text as sent
    system: str | None = None
    code: str | None = None  # UCUM code when system is UCUM


# --- suggestions: data, applied to the original FHIR resource by linter.fixes -----------------------------


@dataclass(frozen=True, slots=True)
class SetDose:
    """Replace the dose of one dosageInstruction (index) with `value` `unit` (UCUM code)."""

    dosage_index: int
    value: float
    unit: str
    unit_display: str


@dataclass(frozen=True, slots=True)
class SetFrequency:
    """Set timing.repeat to `frequency` per `period` `period_unit` (and drop timing.code that contradicts it)."""

    dosage_index: int
    frequency: int
    period: float
    period_unit: str
    text: str


@dataclass(frozen=True, slots=True)
class SetDuration:
    """State a treatment duration: dispenseRequest.expectedSupplyDuration and timing.repeat.boundsDuration."""

    days: int


@dataclass(frozen=True, slots=True)
class SetRoute:
    dosage_index: int
    route: Coding


FixChange = SetDose | SetFrequency | SetDuration | SetRoute


@dataclass(frozen=True, slots=True)
class UpdateAction:
    """Update the order `ref` by applying `changes` to the original resource (same id)."""

    ref: str
    description: str
    changes: tuple[FixChange, ...]


@dataclass(frozen=True, slots=True)
class CreateAction:
    """Create a new order from a regimen template in the profile (`template` key)."""

    template: str
    description: str


@dataclass(frozen=True, slots=True)
class DeleteAction:
    ref: str
    description: str


Action = UpdateAction | CreateAction | DeleteAction


@dataclass(frozen=True, slots=True)
class Suggestion:
    label: str
    actions: tuple[Action, ...]


compact_pickle(globals().values(), __name__)  # cheap pickling for --jobs results (linter.model_fast)
fast_init(globals().values(), __name__)  # cheap building (linter.model_fast)
