"""The one exception type for unusable input. The CLI prints it as one line; the API maps it to a 400
with a FHIR OperationOutcome (linter.render.outcome.error_outcome)."""

from __future__ import annotations


class InputError(Exception):
    """Input that cannot be linted at all: not JSON, not FHIR, not a CDS Hooks request.

    `path` is a JSON path into the input ("entry[2].resource.status", "line 7") when one applies.
    """

    def __init__(self, message: str, path: str | None = None, source: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.source = source

    def __str__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        return f"{self.message}{where}"


class ProfileError(Exception):
    """A profile file that does not validate. The message names the file and the key."""
