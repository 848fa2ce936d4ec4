"""Pydantic models of the CDS Hooks 2.0 request and feedback bodies.

Requests tolerate unknown fields (clients and Inferno send them); only what we use is typed. Field names
follow the spec's JSON (camelCase).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class FhirAuthorization(_Open):
    access_token: str = Field(min_length=1)
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int | None = None
    scope: str | None = None
    subject: str | None = None
    patient: str | None = None


class HookContext(_Open):
    userId: str | None = None
    patientId: str | None = None
    encounterId: str | None = None
    selections: list[str] | None = None
    draftOrders: dict[str, Any] | None = None


class HookRequest(_Open):
    hook: str = Field(min_length=1)
    hookInstance: str = Field(min_length=1)
    fhirServer: str | None = None
    fhirAuthorization: FhirAuthorization | None = None
    context: HookContext
    prefetch: dict[str, Any] | None = None


class Coding(_Open):
    system: str | None = None
    code: str | None = None
    display: str | None = None


class OverrideReason(_Open):
    reason: Coding | None = None
    userComment: str | None = None

    @model_validator(mode="after")
    def _reason_or_comment(self) -> OverrideReason:
        # cds-fb-3: an override reason carries a coded reason, a comment, or both
        if self.reason is None and not self.userComment:
            raise ValueError("overrideReason needs a reason or a userComment")
        return self


class AcceptedSuggestion(_Open):
    id: str = Field(min_length=1)


class FeedbackItem(_Open):
    card: str = Field(min_length=1)
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[AcceptedSuggestion] | None = None
    overrideReason: OverrideReason | None = None
    outcomeTimestamp: datetime

    @model_validator(mode="after")
    def _accepted_names_suggestions(self) -> FeedbackItem:
        # cds-fb-2: an accepted card says which suggestion(s) were taken
        if self.outcome == "accepted" and not self.acceptedSuggestions:
            raise ValueError("an accepted outcome needs acceptedSuggestions")
        return self


class FeedbackRequest(_Open):
    feedback: list[FeedbackItem] = Field(min_length=1)
