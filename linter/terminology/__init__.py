"""Terminology: drug, condition, procedure, route and timing code sets loaded from the TOML files beside
this module (each code with its source and verification label; see README.md here).

This module answers "what is this coded thing?" for fhir_io and context detection. Rules never look at
codes: they read the resolved identities in linter.model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache, cached_property
from typing import TYPE_CHECKING, Literal, cast

from linter.model import Coding, Concept, DrugIdentity, Strength
from linter.model_class import frozen_model
from linter.patterns import compile_pattern
from linter.terminology.records import HERE, is_shipped, load_file

if TYPE_CHECKING:
    # The records (linter.terminology.records) are read like these models: the same fields, validated by them.
    from linter.terminology.schema import (
        ConditionFile,
        DoseFormFile,
        DrugFile,
        ProcedureFile,
        RouteFile,
        SystemEntry,
        TimingCode,
        TimingFile,
    )

UCUM_URI = "http://unitsofmeasure.org"
V3_ORDERABLE_DRUG_FORM = "http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm"


@frozen_model
class CountForm:
    """A dose unit that counts units of the dose form ("{pill}", "TAB", "ea", "tablet(s)")."""

    key: str
    display: str
    plural: str
    fits: frozenset[str]

    def label(self, value: float) -> str:
        return self.display if value == 1 else self.plural


def drug_keys() -> frozenset[str]:
    """The drug keys of drugs.toml (what a profile's regimens may name), without building the indexes: a
    profile check (`orderlint rules`, `explain`) needs only these, not the terminology a lint needs. A
    drugs.toml other than the shipped one is read without validating it, as the indexes would validate it."""
    if is_shipped("drugs.toml"):
        return frozenset(load_file("drugs.toml").drugs)
    import tomllib  # lazy: only for a drugs.toml that is not the shipped one

    with (HERE / "drugs.toml").open("rb") as fh:
        drugs = tomllib.load(fh).get("drugs")
    return frozenset(drugs) if isinstance(drugs, dict) else frozenset()


# ---- loaded, indexed terminology -----------------------------------------------------------------------


def phrase_pattern(phrases: list[str]) -> re.Pattern[str] | None:
    """One regex matching any of the phrases as whole words, case-insensitive. Longest first (a phrase that
    begins another must not end the match early), then alphabetical: the same pattern text in every process,
    which the stored compiled patterns are looked up by (linter.patterns)."""
    cleaned = sorted({p.strip().lower() for p in phrases if p.strip()}, key=lambda p: (-len(p), p))
    if not cleaned:
        return None
    body = "|".join(re.escape(p) for p in cleaned)
    return compile_pattern(rf"(?<![\w-])(?:{body})(?![\w-])", re.IGNORECASE)


# RxNorm normalized names: "<ingredient> <number> <UNIT>[/<UNIT>] <Dose Form>", optionally led by a package
# quantity ("1 ML heparin ... Injection") and followed by a brand ("[Xarelto]").
_RXNORM_STRENGTH = re.compile(
    r"(?<![\w.])(?P<value>\d+(?:\.\d+)?) (?P<unit>MG|MCG|UNT|G)"
    r"(?:/(?:(?P<per_value>\d+(?:\.\d+)?) )?(?P<per>ML|HR|ACTUAT))?(?= )"
)
_PACKAGE_PREFIX = re.compile(r"^\d+(?:\.\d+)? (?:ML|ACTUAT) ")
_RXNORM_UNIT = {"MG": "mg", "MCG": "ug", "UNT": "[iU]", "G": "g"}
_RXNORM_PER_UNIT = {"ML": "mL", "ACTUAT": ""}  # "" = per unit of the dose form (one actuation)


@frozen_model  # slotted too: nothing sets attributes on it
class ProductInfo:
    drug: str
    also: tuple[str, ...]
    strength: Strength | None
    display: str
    form: str


class Terminology:
    """Indexes over the data files, built once per process."""

    def __init__(self) -> None:
        # Records read like the schema models (cast: load_file's records are typed Any).
        self.systems = cast("dict[str, SystemEntry]", load_file("systems.toml").systems)
        self.drug_file = cast("DrugFile", load_file("drugs.toml"))
        self.condition_file = cast("ConditionFile", load_file("conditions.toml"))
        self.procedure_file = cast("ProcedureFile", load_file("procedures.toml"))
        self.route_file = cast("RouteFile", load_file("routes.toml"))
        self.timing_file = cast("TimingFile", load_file("timing.toml"))
        self.dose_form_file = cast("DoseFormFile", load_file("dose_forms.toml"))
        self._count_ucum: dict[str, CountForm] = {}
        self._count_text: dict[str, CountForm] = {}
        self._count_v3: dict[str, CountForm] = {}
        for key, cu in self.dose_form_file.counts.items():
            form = CountForm(key, cu.display, cu.plural, frozenset(cu.fits))
            self._count_ucum.update({u: form for u in cu.ucum})
            self._count_text.update({t.lower(): form for t in (*cu.text, *cu.ucum)})
            self._count_v3.update({c.upper(): form for c in cu.v3_orderable_drug_form})

        self._system_alias: dict[str, str] = {}
        for key, entry in self.systems.items():
            self._system_alias[entry.uri] = key
            for alias in entry.aliases:
                self._system_alias[alias] = key

        self.drugs = self.drug_file.drugs
        self.rx_ingredient: dict[str, str] = {}
        self.rx_product: dict[str, ProductInfo] = {}
        self.atc: dict[str, str] = {}
        self.drug_classes: dict[str, frozenset[str]] = {}
        for key, drug in self.drugs.items():
            self.drug_classes[key] = frozenset(drug.classes)
            for ing in drug.ingredients:
                self.rx_ingredient[ing.code] = key
            for p in drug.products:
                strength = (
                    Strength(
                        p.strength,
                        p.unit,
                        1.0,
                        p.per_unit or None,
                        source="terminology",
                        origin=f"RxNorm {p.code} ({p.display})",
                        form=p.form,
                    )
                    if p.strength > 0 and p.unit
                    else None
                )
                self.rx_product[p.code] = ProductInfo(key, tuple(p.also), strength, p.display, p.form)
            for code in drug.atc:
                self.atc[code] = key
        self._class_members: dict[str, frozenset[str]] = {}

        self.conditions = self.condition_file.categories
        self._cond_snomed: dict[str, set[str]] = {}
        # ICD-10-CM prefix (dots removed, upper case) -> categories, and the prefix lengths: a code's categories
        # are those of every prefix it starts with, found by slicing the code at each length.
        self._cond_icd: dict[str, set[str]] = {}
        for key, cat in self.conditions.items():
            for ref in cat.snomed:
                self._cond_snomed.setdefault(ref.code, set()).add(key)
            for prefix in cat.icd10cm_prefixes:
                self._cond_icd.setdefault(prefix.replace(".", "").upper(), set()).add(key)
        self._cond_icd_lengths = sorted({len(prefix) for prefix in self._cond_icd})

        self.routes = self.route_file.routes
        self._route_snomed: dict[str, str] = {}
        for key, route in self.routes.items():
            for ref in route.snomed:
                self._route_snomed[ref.code] = key

        self.timing_codes = self.timing_file.codes

    # -- the phrase patterns, each group compiled when first used (a lint that reads only codes needs none) --
    @cached_property
    def _family_patterns(self) -> list[tuple[str, re.Pattern[str]]]:
        return _keyed_patterns(self.dose_form_file.product_families.items())

    @cached_property
    def _drug_names(self) -> list[tuple[str, re.Pattern[str]]]:
        return _keyed_patterns((key, [*drug.names, drug.display]) for key, drug in self.drugs.items())

    @cached_property
    def _any_drug_name(self) -> re.Pattern[str] | None:
        # Every drug name in one pattern with the same word boundaries: where any one name matches, this
        # matches too, so a text it does not match names no drug (most orders of an order set are not ours).
        return phrase_pattern([name for drug in self.drugs.values() for name in (*drug.names, drug.display)])

    @cached_property
    def _cond_text(self) -> list[tuple[str, re.Pattern[str]]]:
        return _keyed_patterns((key, cat.text) for key, cat in self.conditions.items())

    @cached_property
    def _route_text(self) -> list[tuple[str, re.Pattern[str]]]:
        return _keyed_patterns((key, route.text) for key, route in self.routes.items())

    @cached_property
    def _timing_text(self) -> list[tuple[str, re.Pattern[str]]]:
        return _keyed_patterns((key, [*tc.text, key]) for key, tc in self.timing_codes.items())

    @cached_property
    def once_pattern(self) -> re.Pattern[str] | None:
        return phrase_pattern(self.timing_file.once.text)

    def compile_patterns(self) -> None:
        """Compile every phrase pattern now (before worker processes fork and inherit them)."""
        for name in PATTERN_GROUPS:
            getattr(self, name)

    # -- systems --
    def system_key(self, uri: str | None) -> str | None:
        if not uri:
            return None
        return self._system_alias.get(uri.strip().rstrip("/"))

    # -- drugs --
    def identify_drug(self, concepts: list[Concept]) -> DrugIdentity:
        """Resolve a medication from its code(s), falling back to its name text (matched_by 'text')."""
        drugs: set[str] = set()
        product_code = product_display = dose_form = None
        strength: Strength | None = None
        unknown: list[Coding] = []
        for concept in concepts:
            for c in concept.codings:
                system = self.system_key(c.system)
                code = (c.code or "").strip()
                if system == "rxnorm" and code in self.rx_product:
                    info = self.rx_product[code]
                    drugs.add(info.drug)
                    drugs.update(a for a in info.also if a in self.drugs)
                    if product_code is None:
                        product_code, product_display = code, info.display
                        strength, dose_form = info.strength, info.form
                elif system == "rxnorm" and code in self.rx_ingredient:
                    drugs.add(self.rx_ingredient[code])
                elif system == "atc" and code.upper() in self.atc:
                    drugs.add(self.atc[code.upper()])
                elif code:
                    unknown.append(c)
        if drugs:
            return DrugIdentity(
                frozenset(drugs), "code", product_code, product_display, strength, dose_form, tuple(unknown)
            )
        text = " ".join(c.all_text() for c in concepts)
        found = self.drug_names_in(text)
        if found:
            return DrugIdentity(frozenset(found), "text", unknown_codes=tuple(unknown))
        return DrugIdentity(frozenset(), None, unknown_codes=tuple(unknown))

    def drugs_in_class(self, cls: str) -> frozenset[str]:
        members = self._class_members.get(cls)
        if members is None:
            members = frozenset(k for k, classes in self.drug_classes.items() if cls in classes)
            self._class_members[cls] = members
        return members

    def drug_names_in(self, text: str) -> set[str]:
        """Drugs named in `text`; a name inside a longer name of another drug does not count
        ("heparin" in "low molecular weight heparin")."""
        if self._any_drug_name is None or self._any_drug_name.search(text) is None:
            return set()
        spans: list[tuple[int, int, str]] = []
        for key, pat in self._drug_names:
            spans.extend((m.start(), m.end(), key) for m in pat.finditer(text))
        found = set()
        for start, end, key in spans:
            inside_longer = any(k != key and s <= start and end <= e and (e - s) > (end - start) for s, e, k in spans)
            if not inside_longer:
                found.add(key)
        return found

    # -- dose forms --
    def count_form(self, system: str | None, code: str | None, unit: str | None) -> CountForm | None:
        """The dose-form count a Quantity's unit names, or None when it is not a count.

        A UCUM code is matched exactly ({pill}, 1); a v3-orderableDrugForm code by its code (TAB, CAP) or,
        for other codes of that system, by the form its text names; free text case-insensitively."""
        sys_uri = (system or "").strip().rstrip("/")
        if code:
            if sys_uri == V3_ORDERABLE_DRUG_FORM:
                found = self._count_v3.get(code.strip().upper())
                return found or (self._count_text.get(unit.strip().lower()) if unit else None)
            if sys_uri == UCUM_URI:
                return self._count_ucum.get(code.strip())  # a UCUM code is read exactly, never as text
            if not sys_uri:
                found = self._count_ucum.get(code.strip()) or self._count_text.get(code.strip().lower())
                if found is not None:
                    return found
        return self._count_text.get(unit.strip().lower()) if unit else None

    def product_family(self, form: str | None) -> str | None:
        """solid / liquid / inhalation / spray / patch for a product dose form ("Oral Tablet")."""
        if not form:
            return None
        for family, pat in self._family_patterns:
            if pat.search(form):
                return family
        return None

    def strength_from_name(self, name: str | None) -> Strength | None:
        """The strength per unit of the dose form written in an RxNorm normalized name ("rivaroxaban 2.5 MG
        Oral Tablet", "heparin sodium, porcine 1000 UNT/ML Injectable Solution", "Xarelto 2.5 MG Oral Tablet").

        Only RxNorm's own spelling is read (upper-case MG/MCG/UNT/G, a dose form after it); a name with
        several strengths (a combination product) or none gives None: never a guess."""
        if not name:
            return None
        text = _PACKAGE_PREFIX.sub("", name.strip())
        matches = list(_RXNORM_STRENGTH.finditer(text))
        if len(matches) != 1:
            return None
        m = matches[0]
        form = text[m.end() :].split("[", 1)[0].strip().strip(",")
        if not form or self.product_family(form) is None:
            return None
        per_unit = _RXNORM_PER_UNIT.get(m.group("per") or "")
        if m.group("per") and per_unit is None:
            return None  # a rate (MG/HR) or a unit we do not read
        return Strength(
            float(m.group("value")),
            _RXNORM_UNIT[m.group("unit")],
            float(m.group("per_value") or 1.0),
            per_unit or None,
            source="name",
            origin=f"the product name '{name.strip()[:120]}'",
            form=form,
        )

    # -- conditions --
    def condition_categories(self, concept: Concept) -> tuple[frozenset[str], Literal["code", "text"] | None]:
        found: set[str] = set()
        for c in concept.codings:
            system = self.system_key(c.system)
            code = (c.code or "").strip()
            if system == "snomed" and code in self._cond_snomed:
                found |= self._cond_snomed[code]
            elif system == "icd10cm":
                flat = code.replace(".", "").upper()
                for n in self._cond_icd_lengths:
                    if len(flat) >= n and (keys := self._cond_icd.get(flat[:n])) is not None:
                        found |= keys
        how: Literal["code", "text"] | None = "code" if found else None
        if not found:
            text = concept.all_text()
            found = {key for key, pat in self._cond_text if pat.search(text)}
            how = "text" if found else None
        return self._close(found), how

    def text_condition_categories(self, text: str) -> frozenset[str]:
        return self._close({key for key, pat in self._cond_text if pat.search(text)})

    def _close(self, found: set[str]) -> frozenset[str]:
        result = set(found)
        for key in found:
            result.update(self.conditions[key].also_in)
        return frozenset(result)

    # -- routes --
    def route_key(self, concept: Concept | None) -> str | None:
        if concept is None:
            return None
        for c in concept.codings:
            if self.system_key(c.system) == "snomed" and (c.code or "") in self._route_snomed:
                return self._route_snomed[c.code or ""]
        return self.route_key_from_text(concept.all_text())

    def route_key_from_text(self, text: str) -> str | None:
        for key, pat in self._route_text:
            if pat.search(text):
                return key
        return None

    # -- timing --
    def timing_code(self, code: str | None) -> TimingCode | None:
        if not code:
            return None
        return self.timing_codes.get(code.strip().upper())

    def timing_from_text(self, text: str) -> str | None:
        for key, pat in self._timing_text:
            if pat.search(text):
                return key
        return None


PATTERN_GROUPS = (
    "_family_patterns",
    "_drug_names",
    "_any_drug_name",
    "_cond_text",
    "_route_text",
    "_timing_text",
    "once_pattern",
)


def _keyed_patterns(phrases: Iterable[tuple[str, list[str]]]) -> list[tuple[str, re.Pattern[str]]]:
    """(key, pattern) for each key whose phrases make a pattern, in the data file's order."""
    return [(key, pat) for key, words in phrases if (pat := phrase_pattern(words)) is not None]


@cache
def terminology() -> Terminology:
    return Terminology()
