# ruff: noqa
"""Names vulture reports as unused that are used, by a framework or by data, not by a Python call it can see.

vulture (configured in pyproject.toml `[tool.vulture]`, run by scripts/check and .ci/run) reads this file as
code: every name below counts as used. Route handlers, exception handlers, pydantic validators, pytest fixtures and
SQLAlchemy event listeners are skipped by decorator and `model_config` / `pytestmark` by name (pyproject); the
alembic revision scripts are excluded. Add a name here only with the reason it is used; a function that nothing
calls is deleted, not listed. This file is never imported.
"""

# Entry points named by a string: uvicorn factories ("linter.api.main:app_factory", "service_load:bench_app").
app_factory
bench_app

# Hooks that the standard library and the servers call on our subclasses and objects.
_.do_GET  # http.server.BaseHTTPRequestHandler (the loopback FHIR servers of the tests and the bench)
_.log_message  # http.server.BaseHTTPRequestHandler: silenced
_.daemon_threads  # socketserver.ThreadingMixIn
_.background  # starlette Response.background: the task runs after the response is sent
_.should_exit  # uvicorn.Server: stops a server started in a test thread
_.__init_subclass__  # Python calls it on each subclass (linter.profiles._Frozen reads the subclass's fields)
exc_type  # __exit__(self, exc_type, exc, tb): the context-manager protocol's parameters
tb  # idem

# Data fields: read by a validator, a serializer, the database or a TOML schema, never by attribute access.
token_type  # CDS Hooks fhirAuthorization (api/schemas.py): part of the request body we accept
expires_in  # idem
encounterId  # CDS Hooks context (api/schemas.py)
unknownCards  # feedback answer (api/schemas.py): built by keyword, read as JSON by the client
received_at  # store/models.py: a column, set on insert and filtered on by retention
package_volume_ml  # terminology TOML schema (extra="forbid": a key the data files carry must be declared)
valid_from  # idem, billing codes
valid_to  # idem
intent  # MedicationOrder / ProcedureOrder: the order's FHIR intent, kept in the model; no rule reads it yet
code_system  # ProcedureIdentity: which code system matched; no rule reads it yet

# Vocabulary: the lifecycle a rule's META.status can take (only STABLE is used by today's rules).
PREVIEW
DEPRECATED
REMOVED

# Typed FastAPI dependencies (issue 9 item 6 asks handlers to take these); no handler takes them yet.
WorkbenchUserDep

# Response models (api/responses.py): they document the answers in the OpenAPI document (`response_model=`)
# and the tests validate real answers against them; the fields are read by the schema generator, not by code.
appContext
resourceId
isRecommended
suggestions
selectionBehavior
overrideReasons
extension
systemActions
orderSets

# uvicorn's supervisor calls these on linter.api.serve.SpreadMultiprocess: init_processes and
# keep_subprocess_alive from run(), restart_all from handle_hup(), handle_<signal> by name from handle_signals().
init_processes
restart_all
keep_subprocess_alive
handle_ttin
handle_ttou
