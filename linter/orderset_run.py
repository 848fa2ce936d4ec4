"""How an order-set definition is judged: what a clinician can order from it (docs/readings.md).

- **Default path**: the actions that are ordered when the clinician accepts the defaults. A top-level action
  or a child of a group without a selectionBehavior (or with `all`) is on it unless it says `precheckBehavior:
  no` or `requiredBehavior: could`; a child of a choice group (`any`, `exactly-one`, `at-most-one`,
  `one-or-more`, `all-or-none`) is on it when it is `requiredBehavior: must` / `must-unless-documented` or
  `precheckBehavior: yes`. A child is on it only if its group is. In an `exactly-one` / `at-most-one` group
  only the first pre-checked alternative is; a group on the default path that needs a choice (`exactly-one`,
  `one-or-more`) and has nothing pre-checked stands in its first alternative (marked "assumed"): the order
  set cannot be signed without a choice, so its regimen is judged with one.
- **Configurations**: the default path, then for every other action that defines an order, the default path
  with that action selected. Selecting an action displaces the default alternatives of every `exactly-one`
  or `at-most-one` group it belongs to: alternatives are never combined with each other. Two actions both
  pre-checked in an `any` group are both on the default path, so they are combined.
- Each configuration is one engine run with every order in it under review (dose rules and regimen rules
  alike); findings are merged, one per rule per action, the most urgent kept, the default path's wording
  first. A finding that holds only with a non-default action selected says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

from linter.model import Finding, OrderSet
from linter.orderset_model import ActionNode, Configuration, OrderSetDefinition

CHOICE = frozenset({"any", "exactly-one", "at-most-one", "one-or-more", "all-or-none"})
EXCLUSIVE = frozenset({"exactly-one", "at-most-one"})
MUST_CHOOSE = frozenset({"exactly-one", "one-or-more"})
REQUIRED = frozenset({"must", "must-unless-documented"})


def _chosen_by_default(node: ActionNode, parent_selection: str | None) -> bool:
    if node.precheck == "no":
        return False
    if node.required in REQUIRED or node.precheck == "yes":
        return True
    if parent_selection in CHOICE:
        return False
    return node.required != "could"


def mark_defaults(
    nodes: tuple[ActionNode, ...], parent_default: bool = True, parent_selection: str | None = None
) -> tuple[ActionNode, ...]:
    """The tree with `default` (and `assumed`) set on every action of the default path."""
    chosen = [parent_default and _chosen_by_default(n, parent_selection) for n in nodes]
    assumed = [False] * len(nodes)
    if parent_selection in EXCLUSIVE and sum(chosen) > 1:
        first = chosen.index(True)
        chosen = [i == first for i in range(len(nodes))]
    if parent_default and parent_selection in MUST_CHOOSE and nodes and not any(chosen):
        chosen[0] = assumed[0] = True
    out = []
    for n, on, guess in zip(nodes, chosen, assumed, strict=True):
        children = mark_defaults(n.children, on, n.selection)
        out.append(replace(n, default=on, assumed=guess, children=children))
    return tuple(out)


def _walk(
    nodes: Iterable[ActionNode], ancestors: tuple[ActionNode, ...] = ()
) -> Iterator[tuple[ActionNode, tuple[ActionNode, ...]]]:
    for n in nodes:
        yield n, ancestors
        yield from _walk(n.children, (*ancestors, n))


def _orders_under(node: ActionNode) -> set[str]:
    return {n.ref for n, _ in _walk([node]) if n.ref}


def configurations(nodes: tuple[ActionNode, ...]) -> tuple[Configuration, ...]:
    every = list(_walk(nodes))
    defaults = frozenset(n.ref for n, anc in every if n.ref and n.default and all(a.default for a in anc))
    out = [Configuration(defaults)]
    for n, ancestors in every:
        if not n.ref or n.ref in defaults:
            continue
        displaced: set[str] = set()
        lineage = (*ancestors, n)
        for depth, group in enumerate(ancestors):
            if group.selection in EXCLUSIVE:
                branch = lineage[depth + 1]
                displaced |= {r for c in group.children if c is not branch for r in _orders_under(c)}
        kept = defaults - displaced
        titles = tuple(m.title for m, _ in every if m.ref in defaults & displaced)
        out.append(Configuration(kept | {n.ref}, n.ref, n.title, titles))
    return tuple(out)


def _subset(order_set: OrderSet, config: Configuration) -> OrderSet:
    """The orders of one configuration (orders that are not actions, if any, are in every one)."""
    return replace(
        order_set,
        medications=tuple(m for m in order_set.medications if m.origin is None or m.ref in config.refs),
        procedures=tuple(p for p in order_set.procedures if p.origin is None or p.ref in config.refs),
        definition=None,
    )


def _with_configuration(f: Finding, config: Configuration) -> Finding:
    note = f"Judged with **{config.chosen_title or config.chosen}** selected"
    note += (
        f" in place of {', '.join(config.replaces)}" if config.replaces else ""
    ) + " and the order set's other default selections."
    return replace(f, detail=f"{note}\n\n{f.detail}")


def run_definition(order_set: OrderSet, run_one: Callable[[OrderSet], list[Finding]]) -> list[Finding]:
    """Every configuration through the engine (`run_one`), merged: one finding per rule per action."""
    assert order_set.definition is not None  # noqa: S101 - the engine calls this for definitions only
    definition = order_set.definition
    best: dict[tuple[str, str], Finding] = {}
    for config in definition.configurations:
        for f in run_one(_subset(order_set, config)):
            if not f.refs:
                f = replace(f, refs=(definition.ref,))
            key = (f.code, f.primary_ref)
            if key in best and not best[key].indicator < f.indicator:
                continue
            best[key] = f if config.chosen is None else _with_configuration(f, config)
    return sorted(
        (_at_action(f, definition) for f in best.values()), key=lambda f: (-f.indicator.rank, f.code, f.primary_ref)
    )


def _at_action(f: Finding, definition: OrderSetDefinition) -> Finding:
    """Name the action and the definition behind it in the finding's detail (every report shows it)."""
    origin = definition.origin(f.primary_ref)
    if origin is None:
        return f
    return replace(
        f, detail=f'Order-set action: `{origin.ref}` "{origin.title}", defined by `{origin.definition}`.\n\n{f.detail}'
    )


__all__ = ["configurations", "mark_defaults", "run_definition"]
