"""The hook route lints inline (one thread hop only for a large request) and queues the cards it issued for
the batch writer; an orderly shutdown writes every queued card (issue 11 §3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select

from linter.api.routes import hooks
from linter.settings import Settings
from linter.store.models import IssuedCard

from .conftest import full_prefetch, heparin_order, hook_request

SIGN = "/cds-services/btk-angioplasty-order-sign"


def test_every_card_is_recorded_by_shutdown(make_settings: Callable[..., Settings]) -> None:
    from linter.api.main import create_app  # imported late: it pulls in the whole engine

    settings = make_settings()
    issued: list[str] = []
    with TestClient(create_app(settings)) as client:
        for _ in range(40):
            response = client.post(SIGN, json=hook_request(prefetch=full_prefetch()))
            assert response.status_code == 200
            issued += [c["uuid"] for c in response.json()["cards"]]
    # the lifespan has ended (Store.dispose): the queue was flushed before the connections closed
    engine = create_engine(settings.database_url)
    with engine.connect() as conn:
        stored = set(conn.execute(select(IssuedCard.card_uuid)).scalars())
        assert conn.execute(select(func.count()).select_from(IssuedCard)).scalar_one() == len(issued)
    engine.dispose()
    assert len(issued) >= 40 and stored == set(issued)


def test_a_usual_request_takes_no_thread_hop_a_huge_one_takes_one(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    hops: list[Any] = []
    real = hooks.run_in_threadpool

    async def counting(func: Any, *args: Any) -> Any:
        hops.append(func)
        return await real(func, *args)

    monkeypatch.setattr(hooks, "run_in_threadpool", counting)
    small = client.post(SIGN, json=hook_request(prefetch=full_prefetch()))
    assert small.status_code == 200 and small.json()["cards"] and hops == []
    big_order = heparin_order()
    big_order["note"] = [{"text": "x" * (hooks.INLINE_MAX_BYTES + 1)}]
    big = client.post(SIGN, json=hook_request(orders=[big_order], prefetch=full_prefetch()))
    assert big.status_code == 200 and hops == [hooks.lint]
    assert {c["source"]["topic"]["code"] for c in big.json()["cards"]} >= {"HEP201"}
