"""Schemas of the terminology data files (drugs.toml, conditions.toml, procedures.toml, routes.toml,
timing.toml, dose_forms.toml, systems.toml) and of sources.toml: every table rejects unknown keys, so a typo in
a data file fails at load time instead of silently dropping a code."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Verification = Literal["V", "V2", "PV"]


class _Strict(BaseModel):
    # defer_build: the validators are built when a file is first validated (terminology()), not at import, so
    # the commands that never build the terminology (`orderlint rules`, `explain`) do not pay for them.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


# ---- schemas of the data files ---------------------------------------------------------------------------


class SystemEntry(_Strict):
    uri: str
    aliases: list[str] = []


class CodeRef(_Strict):
    code: str
    verification: Verification
    source: str
    display: str = ""
    note: str = ""


class Product(_Strict):
    code: str
    display: str
    strength: float
    unit: str
    per_unit: str = ""
    form: str
    verification: Verification
    source: str
    also: list[str] = []
    package_volume_ml: float | None = None
    note: str = ""


class Drug(_Strict):
    display: str
    classes: list[str]
    names: list[str] = []
    atc: list[str] = []
    ingredients: list[CodeRef] = []
    products: list[Product] = []
    note: str = ""


class DrugFile(_Strict):
    meta: dict[str, object] = {}
    drugs: dict[str, Drug]


class ConditionCategory(_Strict):
    display: str
    snomed: list[CodeRef] = []
    icd10cm_prefixes: list[str] = []
    text: list[str] = []
    also_in: list[str] = []
    note: str = ""


class ConditionFile(_Strict):
    meta: dict[str, object] = {}
    categories: dict[str, ConditionCategory]


class BillingCode(_Strict):
    code: str
    display: str
    kinds: list[str]
    btk: bool
    valid_from: str = ""
    valid_to: str = ""
    verification: Verification
    source: str
    note: str = ""


class PcsPattern(_Strict):
    pattern: str
    display: str
    kinds: list[str]
    btk: bool
    verification: Verification
    source: str
    note: str = ""


class SnomedProcedure(_Strict):
    code: str
    display: str
    kinds: list[str]
    btk_needs_body_site: bool
    verification: Verification
    source: str
    note: str = ""


class BodySite(_Strict):
    code: str
    display: str
    btk: bool
    verification: Verification
    source: str
    note: str = ""


class ObservationProcedure(_Strict):
    key: str
    system: str
    code: str
    display: str
    verification: Verification
    source: str
    note: str = ""


class ProcedureFile(_Strict):
    meta: dict[str, object] = {}
    cpt: list[BillingCode] = []
    hcpcs: list[BillingCode] = []
    icd10pcs: list[PcsPattern] = []
    snomed_procedure: list[SnomedProcedure] = []
    snomed_body_site: list[BodySite] = []
    observation_procedure: list[ObservationProcedure] = []
    text: dict[str, list[str]] = Field(default_factory=dict)


class Route(_Strict):
    display: str
    snomed: list[CodeRef] = []
    text: list[str] = []
    note: str = ""


class RouteFile(_Strict):
    meta: dict[str, object] = {}
    routes: dict[str, Route]


class TimingCode(_Strict):
    frequency: int
    period: float
    period_unit: str
    display: str
    text: list[str] = []
    note: str = ""


class OnceEntry(_Strict):
    text: list[str]


class TimingFile(_Strict):
    meta: dict[str, object] = {}
    codes: dict[str, TimingCode]
    once: OnceEntry


class SystemFile(_Strict):
    systems: dict[str, SystemEntry]


class CountUnit(_Strict):
    display: str
    plural: str
    fits: list[str]
    ucum: list[str] = []
    text: list[str] = []
    v3_orderable_drug_form: list[str] = []


class DoseFormFile(_Strict):
    meta: dict[str, object] = {}
    counts: dict[str, CountUnit]
    product_families: dict[str, list[str]]


class SourceDocument(_Strict):
    file: str
    index_title: str
    short_title: str


class SourceReference(_Strict):
    prefix: str
    title: str


class SourcesFile(_Strict):
    """sources.toml: the short titles that texts for clinicians give the documents and references the rules
    cite (linter.sources)."""

    document: list[SourceDocument]
    reference: list[SourceReference]


# The schema of each data file the terminology reads (linter.terminology.records) and of sources.toml.
FILE_SCHEMAS: dict[str, type[_Strict]] = {
    "systems.toml": SystemFile,
    "drugs.toml": DrugFile,
    "conditions.toml": ConditionFile,
    "procedures.toml": ProcedureFile,
    "routes.toml": RouteFile,
    "timing.toml": TimingFile,
    "dose_forms.toml": DoseFormFile,
    "sources.toml": SourcesFile,
}
