"""The normalized model of an order-set *definition*: a FHIR PlanDefinition (type order-set) with its
ActivityDefinitions, or the RequestGroup that `$apply` makes of it.

`linter.orderset_definition` builds these from the input; each action that defines an order becomes a
template MedicationOrder / ProcedureOrder (linter.model) whose `ref` is the action's place in the definition
(`PlanDefinition/btk-os action[2].action[1]`) and whose `origin` says where it came from.
`linter.orderset_run` lints the configurations a clinician can order (the default selections, and each other
selectable action added to them); the renderers name the action's title.
"""

from __future__ import annotations

from typing import Any

from linter.model_class import frozen_model


@frozen_model
class ActionOrigin:
    """Where a template order comes from."""

    ref: str  # "PlanDefinition/btk-os action[2].action[1]": the order's ref
    fhirpath: str  # "PlanDefinition.action[2].action[1]" (OperationOutcome.issue.expression)
    title: str  # the action's title (else its textEquivalent, else the definition's title)
    definition: str  # "ActivityDefinition/heparin-bolus" (PlanDefinition) or "MedicationRequest/x" (RequestGroup)


@frozen_model
class ActionNode:
    """One action of the definition's tree, as the workbench shows it."""

    path: str  # "action[2].action[1]"
    title: str
    ref: str | None = None  # the order's ref when the action defines an order orderlint reads
    definition: str | None = None  # the ActivityDefinition / request it points at, as resolved
    note: str | None = None  # "not an order (Questionnaire)", "could not be resolved: ..."
    selection: str | None = None  # selectionBehavior of this group
    required: str | None = None  # requiredBehavior
    precheck: str | None = None  # precheckBehavior
    default: bool = False  # on the default path (required or pre-checked, or the group's stand-in choice)
    assumed: bool = False  # default only because a required choice had nothing pre-checked
    children: tuple[ActionNode, ...] = ()


@frozen_model
class Configuration:
    """One set of actions a clinician can order, linted as one order set."""

    refs: frozenset[str]  # action refs ordered in this configuration
    chosen: str | None = None  # the action selected beyond the default selections (None: the defaults)
    chosen_title: str | None = None
    replaces: tuple[str, ...] = ()  # default alternatives the chosen action displaces (titles)


@frozen_model
class OrderSetDefinition:
    ref: str  # "PlanDefinition/btk-os" or "RequestGroup/btk-os-applied"
    title: str
    actions: tuple[ActionNode, ...]
    configurations: tuple[Configuration, ...]
    origins: tuple[ActionOrigin, ...] = ()

    def origin(self, ref: str) -> ActionOrigin | None:
        for o in self.origins:
            if o.ref == ref:
                return o
        return None


def _node_json(node: ActionNode) -> dict[str, Any]:
    out: dict[str, Any] = {"path": node.path, "title": node.title, "default": node.default}
    for key in ("ref", "definition", "note", "selection", "required", "precheck"):
        if (value := getattr(node, key)) is not None:
            out[key] = value
    if node.assumed:
        out["assumed"] = True
    if node.children:
        out["actions"] = [_node_json(c) for c in node.children]
    return out


def definition_json(definition: OrderSetDefinition) -> dict[str, Any]:
    """The action tree for reports and the workbench (findings are matched to actions by `ref`)."""
    return {
        "ref": definition.ref,
        "title": definition.title,
        "actions": [_node_json(n) for n in definition.actions],
        "configurations": len(definition.configurations),
    }
