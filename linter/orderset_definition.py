"""Order-set definitions in: a FHIR PlanDefinition (with contained or bundled ActivityDefinitions) or a
RequestGroup (the `$apply` result, with contained or bundled requests) -> one OrderSet of template orders.

Each action that defines an order becomes a template order whose `ref` is the action's place in the
definition (`PlanDefinition/btk-os action[2].action[1]`) and whose `origin` names the action's title and the
ActivityDefinition (or request). The reading itself reuses `fhir_io.assemble.build_order_set`: an ActivityDefinition
is written as the draft request `$apply` would make of it (product -> medication[x], dosage ->
dosageInstruction, code and bodySite, the action's `reason` -> reasonCode, the action's and the definition's
texts -> notes), read exactly as a request in a Bundle would be, then renamed back to the action. The
PlanDefinition's goals become Goals (an ACT target stated by the order set counts as stated).

`definitionCanonical` is resolved within the input: `#id` in the PlanDefinition's `contained`, a canonical
URL (with `|version`: that version, or an ActivityDefinition that states none), or `ActivityDefinition/id`.
A definition that cannot be resolved is a DQ904 finding at that action ("not checked"), never a silent pass.
A definitionCanonical naming another PlanDefinition nests its actions under the action.

There is no patient: the orders are templates (`linter.orderset_run` says how they are judged).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

# From the reader's modules, not the package: `linter.fhir_io.documents` imports this module (a definition is
# one kind of document). build_order_set takes the reader's entry records; strict_error gives the field and
# reason of a validation error (validate_resource words it for generated resources).
from linter.errors import InputError
from linter.fhir_io.assemble import ContextKind, Mode, ReadOrderSet, build_order_set
from linter.fhir_io.entries import Entry, bundle_entries
from linter.fhir_io.strict import strict_error
from linter.model import ContextEvidence, InvalidResource
from linter.orderset_model import ActionNode, ActionOrigin, OrderSetDefinition
from linter.orderset_run import configurations, mark_defaults

DEFINITION_TYPES = frozenset({"PlanDefinition", "RequestGroup"})
REQUEST_TYPES = frozenset({"MedicationRequest", "ServiceRequest", "Procedure"})
AD_KIND_REQUEST = {
    "MedicationRequest": "MedicationRequest",
    "ServiceRequest": "ServiceRequest",
    "Procedure": "ServiceRequest",
}
TEMPLATE_SUBJECT = {"display": "order-set definition (no patient)"}
MAX_NESTING = 8  # PlanDefinitions nested through definitionCanonical


def resource_type(doc: Any) -> str | None:
    """`resourceType` when it is a string (a wrong JSON type there is the reader's DQ904/error, not a crash)."""
    rtype = doc.get("resourceType") if isinstance(doc, Mapping) else None
    return rtype if isinstance(rtype, str) else None


def is_definition(doc: Mapping[str, Any]) -> bool:
    """A PlanDefinition or RequestGroup, or a Bundle holding one."""
    rtype = resource_type(doc)
    if rtype in DEFINITION_TYPES:
        return True
    if rtype != "Bundle" or not isinstance(doc.get("entry"), list):
        return False
    return any(
        isinstance(e, dict) and isinstance(e.get("resource"), dict) and resource_type(e["resource"]) in DEFINITION_TYPES
        for e in doc["entry"]
    )


def gather_definition_lines(docs: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """NDJSON: when some lines are a PlanDefinition or RequestGroup, the lines that are single resources are
    read together as one definition (a Bundle of them), so that its ActivityDefinitions and requests resolve."""
    plain = [
        (label, d)
        for label, d in docs
        if isinstance(d, dict)
        and isinstance(d.get("resourceType"), str)
        and d["resourceType"] != "Bundle"
        and not ("hook" in d and "context" in d)
    ]
    if not any(d["resourceType"] in DEFINITION_TYPES for _, d in plain):
        return docs
    taken = {id(d) for _, d in plain}
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": d} for _, d in plain]}
    label = f"{plain[0][0]}-{plain[-1][0].removeprefix('line ')}" if len(plain) > 1 else plain[0][0]
    return [(lb, d) for lb, d in docs if id(d) not in taken] + [(label, bundle)]


class _Bad(Exception):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(reason)
        self.path, self.reason = path, reason


def _get(o: Mapping[str, Any], key: str, kind: type, path: str) -> Any:
    """o[key] when it has the expected JSON type (None when absent); a wrong type is DQ904 in fast mode."""
    v = o.get(key)
    if v is None or isinstance(v, kind):
        return v
    raise _Bad(f"{path}.{key}", f"expected {'an array' if kind is list else kind.__name__}, got {type(v).__name__}")


@dataclass
class _Located:
    resource: Mapping[str, Any]
    path: str  # "PlanDefinition.contained[3]", "Bundle.entry[2].resource"
    container: Mapping[str, Any] | None = None


@dataclass
class _Library:
    """The input's resources under every name a reference or canonical may use."""

    by_key: dict[str, _Located] = field(default_factory=dict)

    def add(self, loc: _Located, full_url: str | None = None) -> None:
        r = loc.resource
        rtype, rid, url, version = r.get("resourceType"), r.get("id"), r.get("url"), r.get("version")
        if loc.container is not None:
            if isinstance(rid, str):
                self.by_key[f"#{id(loc.container)}/{rid}"] = loc
            return
        if isinstance(rtype, str) and isinstance(rid, str):
            self.by_key.setdefault(f"{rtype}/{rid}", loc)
        if full_url:
            self.by_key.setdefault(full_url, loc)
        if isinstance(url, str):
            self.by_key.setdefault(url, loc)
            if isinstance(version, str):
                self.by_key.setdefault(f"{url}|{version}", loc)
        contained = r.get("contained")
        for i, c in enumerate(contained if isinstance(contained, list) else []):
            if isinstance(c, dict):
                self.add(_Located(c, f"{loc.path}.contained[{i}]", r))

    def resolve(self, ref: str, container: Mapping[str, Any]) -> _Located | None:
        if ref.startswith("#"):
            return self.by_key.get(f"#{id(container)}/{ref[1:]}")
        if ref in self.by_key:
            return self.by_key[ref]
        url, _, version = ref.partition("|")
        if version:
            loc = self.by_key.get(url)
            # another version than the one named is not the definition that was asked for
            return loc if loc is not None and loc.resource.get("version") in (None, version) else None
        tail = "/".join(ref.rstrip("/").split("/")[-2:])  # absolute URL -> Type/id
        return self.by_key.get(tail)


def _ref(r: Mapping[str, Any], fallback: str) -> str:
    rid = r.get("id")
    return f"{r.get('resourceType')}/{rid}" if isinstance(rid, str) and rid else fallback


@dataclass
class _Reader:
    mode: Mode
    library: _Library
    review: list[Entry] = field(default_factory=list)
    originals: dict[str, tuple[ActionOrigin, Mapping[str, Any], str]] = field(default_factory=dict)
    invalid: list[InvalidResource] = field(default_factory=list)
    unchecked: list[ActionOrigin] = field(default_factory=list)  # actions with a DQ904 instead of an order
    validated: dict[int, tuple[str, str] | None] = field(default_factory=dict)

    def strict_error(self, loc: _Located) -> tuple[str, str] | None:
        """Strict mode: the resource (its container, for a contained one) as fhir.resources R4B sees it."""
        if self.mode != "strict":
            return None
        target = loc.container if loc.container is not None else loc.resource
        if id(target) not in self.validated:
            self.validated[id(target)] = strict_error(target)
        return self.validated[id(target)]

    # --- the action tree -----------------------------------------------------------------------------

    def actions(
        self, owner: _Located, owner_ref: str, fhir_base: str, raw: Any, prefix: str, depth: int
    ) -> tuple[ActionNode, ...]:
        nodes = []
        for i, a in enumerate(raw or []):
            path = f"{prefix}action[{i}]"
            ref, fpath = f"{owner_ref} {path}", f"{fhir_base}.{path}"
            if not isinstance(a, dict):
                raise _Bad(fpath, "an action must be an object")
            nodes.append(self.action(owner, owner_ref, fhir_base, a, path, ref, fpath, depth))
        return tuple(nodes)

    def action(
        self,
        owner: _Located,
        owner_ref: str,
        fhir_base: str,
        a: Mapping[str, Any],
        path: str,
        ref: str,
        fpath: str,
        depth: int,
    ) -> ActionNode:
        title = next((t for k in ("title", "textEquivalent", "description") if (t := _get(a, k, str, fpath))), "")
        children = self.actions(owner, owner_ref, fhir_base, _get(a, "action", list, fpath), f"{path}.", depth)
        node = ActionNode(
            path=path,
            title=title,
            selection=_get(a, "selectionBehavior", str, fpath),
            required=_get(a, "requiredBehavior", str, fpath),
            precheck=_get(a, "precheckBehavior", str, fpath),
            children=children,
        )
        target, where = self.target(owner, a, fpath)
        if target is None:
            return node
        loc = self.library.resolve(target, owner.resource)
        if loc is None:
            self.invalid.append(
                InvalidResource(
                    ref,
                    where,
                    f"'{target}' names nothing in the input (contained or bundled), so this action was "
                    "not checked; lint the definition together with what it references",
                )
            )
            self.unchecked.append(ActionOrigin(ref, fpath, title or target, target))
            return replace(node, title=title or target, note=f"could not be resolved: {target}")
        r = loc.resource
        rtype = str(r.get("resourceType"))
        def_ref = _ref(r, target)
        title = title or _get(r, "title", str, loc.path) or _get(r, "name", str, loc.path) or def_ref
        node = replace(node, title=title, definition=def_ref)
        if rtype == "PlanDefinition" and depth < MAX_NESTING:
            # its '#id' references are to its own contained resources; refs stay the top definition's
            nested = self.actions(
                loc, owner_ref, fhir_base, _get(r, "action", list, loc.path), f"{path}.definition.", depth + 1
            )
            return replace(node, children=node.children + nested)
        request = self.request_for(loc, a, fpath)
        if request is None:
            kind = r.get("kind") if rtype == "ActivityDefinition" else rtype
            return replace(node, note=f"not an order orderlint reads ({kind})")
        err = self.strict_error(loc)
        if err is not None:
            self.invalid.append(InvalidResource(ref, f"{loc.path}.{err[0]}".rstrip("."), err[1]))
            self.unchecked.append(ActionOrigin(ref, fpath, title, def_ref))
            return replace(node, note="not valid FHIR: not checked")
        origin = ActionOrigin(ref, fpath, title, def_ref)
        synthetic = f"{request['resourceType']}/{request['id']}"
        self.originals[synthetic] = (origin, r, loc.path)
        self.review.append(Entry(request, loc.path))
        return replace(node, ref=ref)

    def target(self, owner: _Located, a: Mapping[str, Any], fpath: str) -> tuple[str | None, str]:
        if owner.resource.get("resourceType") == "RequestGroup":
            res = _get(a, "resource", dict, fpath)
            return (_get(res, "reference", str, f"{fpath}.resource") if res else None), f"{fpath}.resource"
        canonical = _get(a, "definitionCanonical", str, fpath)
        if canonical:
            return canonical, f"{fpath}.definitionCanonical"
        return _get(a, "definitionUri", str, fpath), f"{fpath}.definitionUri"

    # --- ActivityDefinition -> the draft request $apply would make --------------------------------------

    def request_for(self, loc: _Located, a: Mapping[str, Any], fpath: str) -> dict[str, Any] | None:
        r = loc.resource
        rtype = resource_type(r)
        n = len(self.originals)
        meds = _contained_medications(loc)
        if rtype in REQUEST_TYPES:  # a RequestGroup's request: read as it is
            out = {k: v for k, v in r.items() if k != "contained"}
            out["id"] = f"orderset-action-{n}"
            if meds:
                out["contained"] = meds
            return out
        if rtype != "ActivityDefinition":
            return None
        kind = AD_KIND_REQUEST.get(str(_get(r, "kind", str, loc.path)))
        if kind is None:
            return None
        out = {
            "resourceType": kind,
            "id": f"orderset-action-{n}",
            "status": "draft",
            "intent": "proposal",
            "subject": TEMPLATE_SUBJECT,
        }
        texts = [t for t in (_get(a, k, str, fpath) for k in ("title", "description", "textEquivalent")) if t]
        texts += [t for t in (_get(r, k, str, loc.path) for k in ("description", "usage")) if t]
        if texts:
            out["note"] = [{"text": t} for t in dict.fromkeys(texts)]
        if kind == "MedicationRequest":
            if meds:
                out["contained"] = meds
            for src, dst in (
                ("productCodeableConcept", "medicationCodeableConcept"),
                ("productReference", "medicationReference"),
                ("dosage", "dosageInstruction"),
            ):
                if src in r:
                    out[dst] = r[src]
            return out
        for key in ("code", "bodySite"):
            if key in r:
                out[key] = r[key]
        if reasons := _get(a, "reason", list, fpath):
            out["reasonCode"] = reasons
        return out


def _contained_medications(loc: _Located) -> list[Any]:
    """Medications a '#id' product reference may name: the resource's own contained ones, and its
    container's (an ActivityDefinition contained in a PlanDefinition shares the PlanDefinition's)."""
    pools = [loc.resource.get("contained") or []]
    if loc.container is not None:
        pools.append(loc.container.get("contained") or [])
    seen: dict[str, Any] = {}
    for pool in pools:
        for c in pool if isinstance(pool, list) else []:
            if isinstance(c, dict) and c.get("resourceType") == "Medication" and isinstance(c.get("id"), str):
                seen.setdefault(c["id"], c)
    return list(seen.values())


_RENAMED = (
    (".dosageInstruction[", ".dosage["),
    (".medicationCodeableConcept", ".productCodeableConcept"),
    (".medicationReference", ".productReference"),
    (".reasonCode", ".reason"),
)


def _goals(pd: _Located, pd_ref: str) -> list[tuple[Entry, str]]:
    """PlanDefinition.goal -> Goal resources (targets as stated), with the name reports give them."""
    out = []
    for i, g in enumerate(_get(pd.resource, "goal", list, pd.path) or []):
        if not isinstance(g, dict):
            continue
        raw_targets = _get(g, "target", list, f"{pd.path}.goal[{i}]") or []
        targets = [{k: v for k, v in t.items() if k != "due"} for t in raw_targets if isinstance(t, dict)]
        goal = {
            "resourceType": "Goal",
            "id": f"orderset-goal-{i}",
            "lifecycleStatus": "proposed",
            "description": g.get("description") or {"text": "order-set goal"},
            "subject": TEMPLATE_SUBJECT,
            "target": targets,
        }
        out.append((Entry(goal, f"{pd.path}.goal[{i}]"), f"{pd_ref} goal[{i}]"))
    return out


def order_set_from_definition(
    doc: Mapping[str, Any],
    source: str,
    *,
    mode: Mode = "strict",
    context: ContextKind | None = None,
    now: datetime | None = None,
) -> ReadOrderSet:
    """One document holding an order-set definition -> one OrderSet of template orders (`definition` set)."""
    library = _Library()
    roots: list[_Located] = []
    others: list[Entry] = []
    if doc.get("resourceType") == "Bundle":
        for e in bundle_entries(doc, "Bundle"):
            loc = _Located(e.resource, e.path)
            library.add(loc, e.full_url)
            if resource_type(e.resource) in DEFINITION_TYPES:
                roots.append(loc)
            elif e.resource.get("resourceType") != "ActivityDefinition":
                others.append(e)
    else:
        loc = _Located(doc, str(doc.get("resourceType")))
        library.add(loc)
        roots.append(loc)
    roots = _top_level(roots, library)
    reader = _Reader(mode, library)
    nodes: list[ActionNode] = []
    goals: list[tuple[Entry, str]] = []
    for root in roots:
        root_ref = _ref(root.resource, root.path)
        err = reader.strict_error(root)
        if err is not None:
            reader.invalid.append(InvalidResource(root_ref, f"{root.path}.{err[0]}".rstrip("."), err[1]))
            continue
        try:
            nodes.extend(
                reader.actions(root, root_ref, root.path, _get(root.resource, "action", list, root.path), "", 0)
            )
            if root.resource.get("resourceType") == "PlanDefinition":
                goals.extend(_goals(root, root_ref))
        except _Bad as bad:
            reader.invalid.append(InvalidResource(root_ref, bad.path, bad.reason))
    used = {id(r) for _, r, _ in reader.originals.values()}
    context_entries = [e for e in others if id(e.resource) not in used]
    entries = [*reader.review, *(g for g, _ in goals), *context_entries]
    review_ids = {id(e.resource) for e in reader.review}
    read = build_order_set(
        entries,
        source=source,
        role=lambda r: "review" if id(r) in review_ids else "context",
        mode=mode,
        now=now,
        forced_context=context,
        strict_done=[e.path for e in reader.review] + [g.path for g, _ in goals],
    )
    return _renamed(read, reader, goals, roots, mark_defaults(tuple(nodes)))


def _top_level(roots: list[_Located], library: _Library) -> list[_Located]:
    """The definitions no other definition in the input nests (through definitionCanonical)."""
    if not roots:
        raise InputError("no PlanDefinition or RequestGroup found", "$")
    nested: set[int] = set()

    def walk(actions: Any, owner: Mapping[str, Any]) -> None:
        for a in actions if isinstance(actions, list) else []:
            if isinstance(a, dict):
                c = a.get("definitionCanonical")
                if isinstance(c, str) and (loc := library.resolve(c, owner)) is not None:
                    nested.add(id(loc.resource))
                walk(a.get("action"), owner)

    for r in roots:
        walk(r.resource.get("action"), r.resource)
    return [r for r in roots if id(r.resource) not in nested] or roots[:1]


def _renamed(
    read: ReadOrderSet,
    reader: _Reader,
    goals: Sequence[tuple[Entry, str]],
    roots: Sequence[_Located],
    nodes: tuple[ActionNode, ...],
) -> ReadOrderSet:
    """Give the template orders the refs of their actions (and the ACT targets those of the goals)."""
    oset = read.order_set
    names = {k: v[0].ref for k, v in reader.originals.items()}
    names.update({f"Goal/{g.resource['id']}": name for g, name in goals})
    meds = tuple(
        replace(m, ref=names[m.ref], origin=reader.originals[m.ref][0]) if m.ref in names else m
        for m in oset.medications
    )
    procs = tuple(
        replace(p, ref=names[p.ref], origin=reader.originals[p.ref][0]) if p.ref in names else p
        for p in oset.procedures
    )
    raw = {k: v for k, v in read.originals.items() if k not in names}
    paths = {k: v for k, v in oset.resource_paths.items() if k not in names}
    for origin, original, _loc_path in reader.originals.values():
        raw[origin.ref] = original
        raw.setdefault(origin.definition, original)  # the suggestion's diff finds its original by Type/id
        paths[origin.ref] = origin.fhirpath
    invalid = [*reader.invalid]
    for bad in oset.invalid:
        path = bad.path
        if bad.ref in reader.originals and reader.originals[bad.ref][1].get("resourceType") == "ActivityDefinition":
            for old, new in _RENAMED:
                path = path.replace(old, new)
        invalid.append(replace(bad, ref=names.get(bad.ref, bad.ref), path=path))
    patient = replace(
        oset.patient,
        act_targets=tuple(
            replace(t, source_ref=names.get(t.source_ref, t.source_ref)) for t in oset.patient.act_targets
        ),
    )
    origins = (*(v[0] for v in reader.originals.values()), *reader.unchecked)
    root = roots[0].resource
    definition = OrderSetDefinition(
        ref=_ref(root, roots[0].path),
        title=str(root.get("title") or root.get("name") or _ref(root, roots[0].path)),
        actions=nodes,
        configurations=configurations(nodes),
        origins=origins,
    )
    return ReadOrderSet(
        replace(
            oset,
            medications=meds,
            procedures=procs,
            resource_paths=paths,
            invalid=tuple(invalid),
            patient=patient,
            btk_context=_renamed_evidence(oset.btk_context, names),
            pad_context=_renamed_evidence(oset.pad_context, names),
            definition=definition,
        ),
        raw,
    )


def _renamed_evidence(ev: ContextEvidence | None, names: Mapping[str, str]) -> ContextEvidence | None:
    if ev is None or ev.ref is None or ev.ref not in names:
        return ev
    new = names[ev.ref]
    return replace(ev, ref=new, how=ev.how.replace(ev.ref, new))


__all__ = ["gather_definition_lines", "is_definition", "order_set_from_definition"]
