"""Context detection: is this order set in BTK revascularization context, or in PAD context?

RULES.md "Terms" and "Codes that identify the context". BTK revascularization is recognized from CPT
(legacy 37228-37235 and the verified 2026 tibial/peroneal codes), HCPCS C9772, ICD-10-PCS patterns, and
SNOMED CT procedure concepts post-coordinated with a tibial/peroneal bodySite. When no code matches, the
order's text is matched with care (a vessel word *and* a procedure word: "anterior tibial PTA"), and
DQ903 says it was matched by text.

Reading taken where the catalog is silent: a CPT code used outside its date window (legacy code on a 2026
date of service) still identifies the procedure; what it means clinically does not change on 1 January.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import cache
from typing import Literal

from linter.model import (
    Concept,
    ConditionRecord,
    ContextEvidence,
    ProcedureIdentity,
    ProcedureOrder,
)
from linter.patterns import compile_pattern
from linter.terminology import Terminology, phrase_pattern, terminology

REVASC_KINDS = frozenset({"angioplasty", "stent", "atherectomy", "lithotripsy", "bypass"})
PAD_CATEGORIES = ("pad", "claudication", "clti")
CONTEXT_PROCEDURE_WINDOW = timedelta(days=30)


class _ProcedureIndex:
    def __init__(self, t: Terminology) -> None:
        pf = t.procedure_file
        self.t = t
        self.billing = {("cpt", c.code): c for c in pf.cpt} | {("hcpcs", c.code): c for c in pf.hcpcs}
        self.pcs = [(compile_pattern(p.pattern), p) for p in pf.icd10pcs]
        self.snomed = {p.code: p for p in pf.snomed_procedure}
        self.body_sites = {b.code: b for b in pf.snomed_body_site}
        self.obs = {(o.system, o.code): o for o in pf.observation_procedure}
        self.text = {k: phrase_pattern(v) for k, v in pf.text.items()}

    def text_kinds(self, text: str) -> set[str]:
        return {k for k, pat in self.text.items() if pat is not None and pat.search(text)}


@cache
def _index() -> _ProcedureIndex:
    return _ProcedureIndex(terminology())


def identify_procedure(
    code: Concept, body_sites: Iterable[Concept] = (), extra_text: Iterable[str] = ()
) -> ProcedureIdentity:
    """What kind of procedure an order is, and whether it is infrapopliteal (BTK)."""
    idx = _index()
    t = idx.t
    site_btk = False
    site_known_not_btk = False
    for site in body_sites:
        for c in site.codings:
            if t.system_key(c.system) == "snomed" and (c.code or "") in idx.body_sites:
                if idx.body_sites[c.code or ""].btk:
                    site_btk = True
                else:
                    site_known_not_btk = True
    kinds: set[str] = set()
    btk = False
    matched: str | None = None
    system_used: str | None = None
    for c in code.codings:
        system = t.system_key(c.system)
        value = (c.code or "").strip()
        if system in ("cpt", "hcpcs") and (system, value) in idx.billing:
            entry = idx.billing[(system, value)]
            kinds.update(entry.kinds)
            btk = btk or entry.btk
            matched, system_used = f"{system.upper()} {value}", system
        elif system == "icd10pcs":
            flat = value.replace(".", "").upper()
            for pat, pcs in idx.pcs:
                if pat.match(flat):
                    kinds.update(pcs.kinds)
                    btk = btk or pcs.btk
                    matched, system_used = f"ICD-10-PCS {flat}", system
        elif system == "snomed" and value in idx.snomed:
            entry2 = idx.snomed[value]
            kinds.update(entry2.kinds)
            btk = btk or (site_btk if entry2.btk_needs_body_site else True)
            matched, system_used = f"SNOMED CT {value}", system
        full = t.systems[system].uri if system else (c.system or "")
        if (full, value) in idx.obs:
            kinds.add(idx.obs[(full, value)].key)
            matched, system_used = matched or f"{system or c.system} {value}", system_used or system
    if kinds:
        return ProcedureIdentity(
            btk=btk and bool(kinds & REVASC_KINDS),
            kinds=frozenset(kinds),
            matched_by="code",
            matched=matched,
            code_system=system_used,
        )
    # Text: the order's own words, and the body-site words.
    text = " ".join([code.all_text(), *(s.all_text() for s in body_sites), *extra_text])
    found = idx.text_kinds(text)
    vessel = "btk_vessel" in found
    found.discard("btk_vessel")
    if not found:
        return ProcedureIdentity()
    is_revasc = bool(found & REVASC_KINDS) or bool(found & {"dcb", "des", "bms"})
    if found & {"dcb"}:
        found.add("angioplasty")
    if found & {"des", "bms"}:
        found.add("stent")
    btk_text = is_revasc and (vessel or site_btk) and not site_known_not_btk
    return ProcedureIdentity(
        btk=btk_text, kinds=frozenset(found), matched_by="text", matched=_snippet(text), code_system=None
    )


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "..."


def btk_evidence(
    under_review: Iterable[ProcedureOrder],
    history: Iterable[ProcedureOrder],
    now: datetime,
) -> ContextEvidence | None:
    """BTK context: an order under review, or a Procedure in context within 30 days, that is BTK
    revascularization (RULES.md "BTK revascularization context")."""
    best: ContextEvidence | None = None
    for p in under_review:
        if p.identity.btk:
            ev = ContextEvidence(
                "btk",
                f"{p.ref} {p.identity.matched or p.name}",
                p.ref,
                by_text=p.identity.matched_by == "text",
            )
            if not ev.by_text:
                return ev
            best = best or ev
    for p in history:
        if not p.identity.btk or p.status in (
            "entered-in-error",
            "not-done",
            "revoked",
            "cancelled",
            "stopped",
        ):
            continue
        if p.occurrence is not None:
            when = p.occurrence if p.occurrence.tzinfo else p.occurrence.replace(tzinfo=now.tzinfo)
            if not (now - CONTEXT_PROCEDURE_WINDOW <= when <= now + CONTEXT_PROCEDURE_WINDOW):
                continue
        elif p.status not in ("draft", "active", "preparation", "in-progress", "on-hold"):
            continue  # an undated completed procedure could be years old
        ev = ContextEvidence(
            "btk",
            f"{p.ref} {p.identity.matched or p.name} (in context)",
            p.ref,
            by_text=p.identity.matched_by == "text",
        )
        if not ev.by_text:
            return ev
        best = best or ev
    return best


def pad_evidence(btk: ContextEvidence | None, conditions: Iterable[ConditionRecord]) -> ContextEvidence | None:
    """PAD context: BTK revascularization context, or an active Condition of PAD (incl. claudication, CLTI)."""
    if btk is not None:
        return ContextEvidence("pad", f"BTK revascularization: {btk.how}", btk.ref, btk.by_text)
    for cond in conditions:
        if any(cat in cond.categories for cat in PAD_CATEGORIES):
            return ContextEvidence("pad", f"{cond.ref} {cond.concept.label}", cond.ref, cond.matched_by == "text")
    return None


def forced(kind: Literal["btk", "pad"]) -> tuple[ContextEvidence | None, ContextEvidence]:
    """Context forced by the user (CLI --context, the page's form field) for order-set templates."""
    how = f"forced with --context {kind} (order-set template review)"
    btk = ContextEvidence("btk", how) if kind == "btk" else None
    return btk, ContextEvidence("pad", how)
