"""Response models: what the service answers, declared on the routes (`response_model=`) so that the OpenAPI
document is the contract (tests/api/test_schemathesis.py checks every answer against it).

They describe; they do not serialize. A handler builds its answer as plain data (linter.render.cards,
linter.render.report) and returns it pre-serialized with orjson (`json_response`); FastAPI skips its own
validation and serialization for a returned `Response`, so declaring the model costs nothing per request and
the answer's bytes are exactly what the renderers produce. tests/api/test_response_models.py validates real
answers against these models, so the declaration cannot drift from the bytes.

Card fields follow CDS Hooks 2.0.1 §Card (and linter.render.cards: optional fields are omitted, never null).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Answer(BaseModel):
    # Documented fields only; a client must tolerate others (CDS Hooks extensions), so the schema allows them.
    model_config = ConfigDict(extra="allow")


class Coding(_Answer):
    system: str
    code: str
    display: str


class Link(_Answer):
    label: str
    url: str
    type: Literal["absolute", "smart"]
    appContext: str | None = None


class Source(_Answer):
    label: str
    url: str | None = Field(default=None, description="The rule's page (GET /rules/{code}).")
    topic: Coding | None = Field(default=None, description="The rule: system RULE_CODE_SYSTEM, code, name.")


class Action(_Answer):
    type: Literal["create", "update", "delete"]
    description: str
    resource: dict[str, Any] | None = None
    resourceId: str | None = None


class Suggestion(_Answer):
    label: str
    uuid: str | None = None
    isRecommended: bool | None = None
    actions: list[Action] | None = None


class Card(_Answer):
    uuid: str | None = None
    summary: str = Field(max_length=140)
    detail: str | None = Field(default=None, description="Markdown.")
    indicator: Literal["info", "warning", "critical"]
    source: Source
    suggestions: list[Suggestion] | None = None
    selectionBehavior: Literal["at-most-one", "any"] | None = None
    overrideReasons: list[Coding] | None = None
    links: list[Link] | None = None
    extension: dict[str, Any] | None = Field(
        default=None, description="`https://orderlint.dev/cds-hooks/extension/orders`: the orders the card concerns."
    )


class CardsResponse(_Answer):
    """A CDS Hooks 2.0 response: the cards, critical first; `{"cards": []}` when nothing was found."""

    cards: list[Card]
    systemActions: list[Action] | None = None


class FindingAction(_Answer):
    ref: str
    title: str | None = None
    definition: str | None = None
    expression: str | None = None


class FindingCoding(_Answer):
    system: str | None = None
    code: str | None = None
    display: str | None = None


class FindingSuggestion(_Answer):
    label: str


class Finding(_Answer):
    """One finding, as `orderlint lint --format json` prints it (linter.render.report.finding_json)."""

    code: str
    name: str
    indicator: Literal["info", "warning", "critical"]
    summary: str
    detail: str
    refs: list[str]
    order: str = Field(description="The order's drug or procedure name ('' when it has none).")
    confidence: Literal["definite", "inferred"]
    citation: str = Field(description="The rule's sources, `FILE:LINE; FILE:LINE`.")
    action: FindingAction | None = None
    values: dict[str, Any] | None = None
    suggestion: FindingSuggestion | None = None
    override_reasons: list[FindingCoding] | None = None


class LintedOrderSet(_Answer):
    source: str
    findings: list[Finding]


class LintResponse(_Answer):
    """Findings per order set (with `Accept: application/fhir+json`: OperationOutcome(s) instead)."""

    profile: str
    orderSets: list[LintedOrderSet]
