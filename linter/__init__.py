"""orderlint: an order-set linter for BTK angioplasty order sets (FHIR R4 in, CDS Hooks cards out)."""

__version__ = "0.1.0"

# The profile a command uses unless told otherwise. It lives here, not in linter.profiles, so that the CLI can
# build its parser (and answer --version, stats, purge) without importing pydantic and the rule registry.
DEFAULT_PROFILE = "btk-angioplasty"
