"""Persistence for the CDS Hooks service: cards issued, feedback, JWT ids seen, the patient-id salt.

SQLAlchemy 2 models (`models`), Alembic migrations shipped in the package (`migrations/`, run by
`migrate.upgrade`), and the few queries the API needs (`repository`).
"""
