"""An order-set definition's action tree with the findings on its actions, for the HTML report and the
workbench's results page (template `_definition_tree.html`, script `definition_tree.js`). Built from the
JSON report document (`definition` of an order set), so the page and the downloads agree."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def _flags(node: Mapping[str, Any]) -> list[str]:
    out = []
    if node.get("selection"):
        out.append(f"choose: {node['selection']}")
    if node.get("required"):
        out.append(f"required: {node['required']}")
    if node.get("precheck") == "yes":
        out.append("pre-checked")
    if node.get("assumed"):
        out.append("default (assumed: nothing pre-checked in a required choice)")
    elif node.get("default") and node.get("ref"):
        out.append("default")
    elif node.get("ref"):
        out.append("optional")
    return out


def _node(node: Mapping[str, Any], by_ref: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "title": node.get("title") or "(untitled action)",
        "path": node["path"],
        "ref": node.get("ref"),
        "definition": node.get("definition"),
        "note": node.get("note"),
        "flags": _flags(node),
        "findings": by_ref.get(node.get("ref") or "", []),
        "children": [_node(c, by_ref) for c in node.get("actions", [])],
    }


def definition_trees(doc: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One tree per order-set definition in the report; each action lists its findings with the id of the
    table row that holds the finding's detail."""
    row_of = {id(r["finding"]): r["id"] for r in rows if r.get("finding") is not None}
    trees = []
    for file in doc["files"]:
        for order_set in file["order_sets"]:
            definition = order_set.get("definition")
            if not definition:
                continue
            by_ref: dict[str, list[dict[str, Any]]] = {}
            for f in order_set["findings"]:
                ref = f["refs"][0] if f["refs"] else ""
                by_ref.setdefault(ref, []).append(
                    {"code": f["code"], "indicator": f["indicator"], "summary": f["summary"], "row": row_of.get(id(f))}
                )
            unplaced = [f for ref, fs in by_ref.items() for f in fs if ref == definition["ref"]]
            trees.append(
                {
                    "file": file["path"],
                    "title": definition["title"],
                    "ref": definition["ref"],
                    "configurations": definition["configurations"],
                    "findings": unplaced,
                    "nodes": [_node(n, by_ref) for n in definition["actions"]],
                }
            )
    return trees
