"""Pydantic models of the CDS Hooks 2.0 request and feedback bodies.

Requests tolerate unknown fields (clients and Inferno send them); only what we use is typed. Field names
follow the spec's JSON (camelCase). Feedback bodies are stored, so their models keep the spec's fields only:
unknown fields are accepted and dropped (`extra="ignore"`), never stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator


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

    @field_validator("draftOrders")
    @classmethod
    def _bundle(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        # the one check of its shape here; its entries are read (and judged) by the reader
        if value is not None and value.get("resourceType") != "Bundle":
            raise ValueError("must be a FHIR Bundle")
        return value


class HookRequest(_Open):
    """A CDS Hooks 2.0 request, validated once by the service (linter.api.routes.hooks) and passed on as is:
    the prefetch resolver, the medication fetcher and the reader all take this object."""

    hook: str = Field(min_length=1)
    hookInstance: str = Field(min_length=1)
    fhirServer: str | None = None
    fhirAuthorization: FhirAuthorization | None = None
    context: HookContext
    prefetch: dict[str, Any] | None = None

    def reader_view(self) -> dict[str, Any]:
        """The request as linter.fhir_io.order_set_from_hook reads it (a JSON mapping), made from the fields
        validated here: no second parse, and the orders themselves are not copied."""
        ctx = self.context
        context: dict[str, Any] = {"draftOrders": ctx.draftOrders}
        if ctx.selections is not None:
            context["selections"] = ctx.selections
        if ctx.patientId is not None:
            context["patientId"] = ctx.patientId
        return {"hook": self.hook, "hookInstance": self.hookInstance, "context": context, "prefetch": self.prefetch}


# --- feedback (CDS Hooks 2.0 §Feedback) ----------------------------------------------------------------


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold U+0000: refuse it here (a 400) rather than fail in the database (a 500).
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (U+0000)")
    return value


StoredText = Annotated[str, AfterValidator(_no_nul)]


class _SpecOnly(BaseModel):
    """Feedback is stored: the spec's fields only, anything else a client adds is dropped here."""

    model_config = ConfigDict(extra="ignore")


class Coding(_SpecOnly):
    system: Annotated[StoredText, Field(max_length=500)] | None = None
    code: Annotated[StoredText, Field(max_length=200)] | None = None
    display: StoredText | None = None


class OverrideReason(_SpecOnly):
    reason: Coding | None = None
    userComment: StoredText | None = None

    @model_validator(mode="after")
    def _reason_or_comment(self) -> OverrideReason:
        # cds-fb-3: an override reason carries a coded reason, a comment, or both
        if self.reason is None and not self.userComment:
            raise ValueError("overrideReason needs a reason or a userComment")
        return self


class AcceptedSuggestion(_SpecOnly):
    id: Annotated[StoredText, Field(min_length=1, max_length=200)]


class FeedbackItem(_SpecOnly):
    card: Annotated[StoredText, Field(min_length=1, max_length=200)]
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[AcceptedSuggestion] | None = None
    overrideReason: OverrideReason | None = None
    outcomeTimestamp: datetime

    @field_validator("outcomeTimestamp")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        # RFC 3339 UTC per the spec; an offset is converted, a naive time is taken as UTC.
        try:
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        except OverflowError:
            raise ValueError("is out of range once converted to UTC") from None

    @model_validator(mode="after")
    def _accepted_names_suggestions(self) -> FeedbackItem:
        # cds-fb-2: an accepted card says which suggestion(s) were taken
        if self.outcome == "accepted" and not self.acceptedSuggestions:
            raise ValueError("an accepted outcome needs acceptedSuggestions")
        return self


class FeedbackRequest(_SpecOnly):
    feedback: list[FeedbackItem] = Field(min_length=1)


class FeedbackAck(BaseModel):
    """Our answer (the spec defines none): every item is stored once, now or by an earlier identical call."""

    stored: int = Field(ge=0, description="items in this request, all of them now stored (each exactly once)")
    duplicates: int = Field(
        ge=0,
        description="of those, items stored by an earlier call with the same card, outcome and outcomeTimestamp "
        "(a retry): acknowledged, not stored again",
    )
    unknownCards: list[str] = Field(description="card uuids this service never issued (stored, flagged)")
