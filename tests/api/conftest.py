"""Fixtures for the CDS Hooks service: app factory, a small local FHIR server, JWT signing keys, and
the heparin-overdose order-sign request used throughout."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient

from linter.settings import Settings

SPEC_EXAMPLES = Path(__file__).parent / "spec_examples"
PUBLIC_BASE = "https://cds.test.example"
ISSUER = "https://ehr.test.example/"
PATIENT_ID = "pat-7734"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def spec_example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SPEC_EXAMPLES / name).read_text())
    return data


# --- requests ------------------------------------------------------------------------------------------


def heparin_order(dose: float = 15000, order_id: str = "hep-1") -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": order_id,
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "5224", "display": "heparin"}]},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "dosageInstruction": [
            {
                "route": {
                    "coding": [{"system": "http://snomed.info/sct", "code": "47625008", "display": "intravenous"}]
                },
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": dose,
                            "unit": "units",
                            "system": "http://unitsofmeasure.org",
                            "code": "[iU]",
                        }
                    }
                ],
            }
        ],
    }


def angioplasty_order(order_id: str = "sr-1") -> dict[str, Any]:
    return {
        "resourceType": "ServiceRequest",
        "id": order_id,
        "status": "draft",
        "intent": "order",
        "code": {
            "coding": [
                {
                    "system": "http://www.ama-assn.org/go/cpt",
                    "code": "37228",
                    "display": "Revascularization, tibial/peroneal artery, transluminal angioplasty",
                }
            ]
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
    }


def weight_observation(kg: float = 70) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": "wt-1",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}]},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": "2025-01-01T08:00:00Z",
        "valueQuantity": {"value": kg, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
    }


def searchset(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [{"resource": r} for r in resources],
    }


def full_prefetch(kg: float = 70) -> dict[str, Any]:
    return {
        "patient": {
            "resourceType": "Patient",
            "id": PATIENT_ID,
            "gender": "female",
            "birthDate": "1950-03-02",
        },
        "weight": searchset(weight_observation(kg)),
        "conditions": searchset(),
        "medications": searchset(),
        "procedures": searchset(),
        "goals": searchset(),
    }


def hook_request(
    hook: str = "order-sign",
    orders: list[dict[str, Any]] | None = None,
    prefetch: dict[str, Any] | None = None,
    **top: Any,
) -> dict[str, Any]:
    drafts = orders if orders is not None else [heparin_order(), angioplasty_order()]
    context: dict[str, Any] = {
        "userId": "Practitioner/example",
        "patientId": PATIENT_ID,
        "encounterId": "enc-1",
        "draftOrders": {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": r} for r in drafts],
        },
    }
    if hook == "order-select":
        context["selections"] = [f"{drafts[0]['resourceType']}/{drafts[0]['id']}"]
    body: dict[str, Any] = {"hook": hook, "hookInstance": str(uuid.uuid4()), "context": context}
    if prefetch is not None:
        body["prefetch"] = prefetch
    body.update(top)
    return body


# --- app -----------------------------------------------------------------------------------------------


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": f"sqlite:///{tmp_path / 'api.db'}",
            "patient_id_salt": None,
            "public_base_url": PUBLIC_BASE,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return build


@pytest.fixture
def make_client(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    from linter.api.main import create_app  # imported late: it pulls in the whole engine

    def build(**overrides: Any) -> TestClient:
        client = TestClient(create_app(make_settings(**overrides)), base_url=PUBLIC_BASE)
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


# --- a small FHIR server on 127.0.0.1 ------------------------------------------------------------------


@dataclass
class FhirRoute:
    status: int = 200
    body: Any = None
    delay_s: float = 0.0


@dataclass
class FakeFhirServer:
    base_url: str
    routes: dict[str, FhirRoute] = field(default_factory=dict)  # resource type (or full path) -> answer
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path?query, Authorization)
    default_delay_s: float = 0.0

    def answer(self, path: str) -> FhirRoute:
        key = urlsplit(path).path.strip("/").split("/", 1)[-1] if "/fhir/" in path else path
        for candidate in (path, key, key.split("?")[0].split("/")[0]):
            if candidate in self.routes:
                return self.routes[candidate]
        return FhirRoute(
            404, {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-found"}]}
        )


@pytest.fixture
def fhir_server() -> Iterator[FakeFhirServer]:
    state: dict[str, FakeFhirServer] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server = state["server"]
            server.requests.append((self.path, self.headers.get("Authorization")))
            route = server.answer(self.path)
            delay = route.delay_s or server.default_delay_s
            if delay:
                time.sleep(delay)
            payload = json.dumps(route.body).encode() if route.body is not None else b""
            try:
                self.send_response(route.status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    port = httpd.server_address[1]
    state["server"] = FakeFhirServer(base_url=f"http://127.0.0.1:{port}/fhir")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state["server"]
    httpd.shutdown()
    httpd.server_close()


def fhir_routes_for_full_prefetch(server: FakeFhirServer) -> None:
    data = full_prefetch()
    server.routes.update(
        {
            "Patient": FhirRoute(body=data["patient"]),
            "Observation": FhirRoute(body=data["weight"]),
            "Condition": FhirRoute(body=data["conditions"]),
            "MedicationRequest": FhirRoute(body=data["medications"]),
            "Procedure": FhirRoute(body=data["procedures"]),
            "Goal": FhirRoute(body=data["goals"]),
        }
    )


# --- JWT -----------------------------------------------------------------------------------------------


@dataclass
class Signer:
    """A CDS client: its private keys and a JWKS file the service trusts."""

    jwks_path: Path
    ec_key: ec.EllipticCurvePrivateKey
    rsa_key: rsa.RSAPrivateKey
    issuer: str = ISSUER

    def token(
        self,
        aud: str,
        *,
        alg: str = "ES384",
        kid: str | None = None,
        exp_in: int = 300,
        iat_offset: int = 0,
        jti: str | None = None,
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        now = int(time.time()) + iat_offset
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "aud": aud,
            "iat": now,
            "exp": now + exp_in,
            "jti": jti or str(uuid.uuid4()),
        }
        payload.update(claims)
        key: Any = self.rsa_key if alg.startswith("RS") else self.ec_key
        header = {"typ": "JWT", "kid": kid or ("rsa-1" if alg.startswith("RS") else "ec-1")}
        header.update(headers or {})
        return jwt.encode(payload, key, algorithm=alg, headers=header)


@pytest.fixture(scope="session")
def client_keys() -> tuple[ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey]:
    return ec.generate_private_key(ec.SECP384R1()), rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def signer(tmp_path: Path, client_keys: tuple[ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey]) -> Signer:
    ec_key, rsa_key = client_keys
    ec_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key()))
    rsa_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    ec_jwk.update({"kid": "ec-1", "use": "sig", "alg": "ES384"})
    rsa_jwk.update({"kid": "rsa-1", "use": "sig", "alg": "RS384"})
    path = tmp_path / "client-jwks.json"
    path.write_text(json.dumps({"keys": [ec_jwk, rsa_jwk]}))
    return Signer(path, ec_key, rsa_key)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
