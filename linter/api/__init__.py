"""The CDS Hooks 2.0 service (FastAPI): discovery, order-select, order-sign, feedback, and POST /lint."""
