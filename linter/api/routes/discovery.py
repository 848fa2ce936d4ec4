"""GET /cds-services: the CDS Hooks discovery document."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from linter.api.deps import ClientDep, ServicesDep
from linter.api.problems import json_response

router = APIRouter(tags=["cds-hooks"])


@router.get("/cds-services")
async def discovery(_client: ClientDep, services: ServicesDep) -> Response:
    return json_response({"services": [s.discovery_entry() for s in services.values()]})
