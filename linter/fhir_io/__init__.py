"""FHIR in: Bundle / resource / NDJSON / CDS Hooks request -> the normalized model (linter.model).

Two modes:
- strict (CLI and upload default): every resource is validated by fhir.resources (`strict`, the only module
  that imports it); one that fails is reported (DQ904: which field, why) and not checked.
- fast (service default): only the fields the rules read are read and type-checked (`fields`); a wrong type in
  one of them is DQ904 for that resource. Both modes build the same model, so findings are the same on
  valid input.

Modules, in the order data flows through them: `documents` (files, NDJSON, hook requests) -> `entries` (Bundle
entries, references) -> `assemble` (one OrderSet) -> `medications`, `procedures`, `context_records` (one resource
each) -> `dosage` -> `fields` (typed JSON readers). Rules never import this package.
"""

from linter.fhir_io.assemble import (
    ContextKind,
    Mode,
    ReadOrderSet,
    Role,
    build_order_set,
    order_set_from_resources,
    upload_role,
)
from linter.fhir_io.documents import (
    LoadResult,
    load_bytes,
    order_set_from_document,
    order_set_from_hook,
    order_sets_from_bytes,
    parse_documents,
)
from linter.fhir_io.entries import Entry, bundle_entries
from linter.fhir_io.strict import READ_TYPES, InvalidFhir, strict_error, validate_resource

__all__ = [
    "READ_TYPES",
    "ContextKind",
    "Entry",
    "InvalidFhir",
    "LoadResult",
    "Mode",
    "ReadOrderSet",
    "Role",
    "build_order_set",
    "bundle_entries",
    "load_bytes",
    "order_set_from_document",
    "order_set_from_hook",
    "order_set_from_resources",
    "order_sets_from_bytes",
    "parse_documents",
    "strict_error",
    "upload_role",
    "validate_resource",
]
