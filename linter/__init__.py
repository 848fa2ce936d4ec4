"""orderlint: an order-set linter for BTK angioplasty order sets (FHIR R4 in, CDS Hooks cards out)."""

__version__ = "0.1.0"
