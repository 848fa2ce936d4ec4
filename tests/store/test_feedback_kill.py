"""Exactly-once feedback across server kills: a real `orderlint serve` (uvicorn) on 127.0.0.1 with a SQLite
file or a PostgreSQL schema, killed with SIGKILL (1) right after it committed a batch but before its answer
reached the client, and (2) in the middle of a client's stream of batches. The client retries whatever was
not acknowledged once the server is back; every item ends up stored exactly once."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from linter.store.models import CardFeedback, IssuedCard
from tests.api.conftest import full_prefetch, hook_request

pytestmark = pytest.mark.slow

SIGN = "/cds-services/btk-angioplasty-order-sign"


def free_port() -> int:
    """A free port below the kernel's ephemeral range. The server is killed and started again on its port:
    a port from the ephemeral range (what binding port 0 gives) can meanwhile become the local end of any
    outgoing connection on this machine (the readiness polls, a parallel test), and the restart then fails
    with "address already in use" (uvicorn exits with 3)."""
    low = _ephemeral_low()
    for port in random.Random().sample(range(max(1024, low - 12000), low), 200):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


class Server:
    """`orderlint serve` as a child process that can be SIGKILLed and started again on the same port."""

    def __init__(self, database_url: str, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERLINT_")}
        self.env |= {"ORDERLINT_DATABASE_URL": database_url, "ORDERLINT_UPLOAD_DIR": str(workdir / "uploads")}
        self.process: subprocess.Popen[bytes] | None = None
        self.kills = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        script = Path(sys.executable).parent / "orderlint"
        log_path = self.workdir / f"serve-{self.kills}.log"
        log = log_path.open("wb")
        self.process = subprocess.Popen(
            [str(script), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = log_path.read_text(errors="replace")[-3000:]
                pytest.fail(f"orderlint serve exited with {self.process.returncode}; its output:\n{tail}")
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        pytest.fail("orderlint serve did not become ready within 60 s")

    def kill9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        assert self.process.wait(timeout=10) == -signal.SIGKILL
        self.kills += 1

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class AnswerCutter:
    """A TCP relay between the client and the server. While `armed`, the first bytes of the server's answer
    (sent only after the batch was committed) trigger `on_answer` (the kill), and the client's connection is
    closed without them: committed, never acknowledged."""

    def __init__(self, upstream_port: int, on_answer: Callable[[], None]) -> None:
        self.upstream_port = upstream_port
        self.on_answer = on_answer
        self.armed = False
        self.cut = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        except OSError:
            client.close()
            return
        threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
        try:
            while data := upstream.recv(65536):
                if self.armed:
                    self.armed = False
                    self.cut += 1
                    self.on_answer()
                    break
                client.sendall(data)
        except OSError:
            pass
        finally:
            client.close()
            upstream.close()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass

    def close(self) -> None:
        self.listener.close()


class RetryingClient:
    """What a CDS client should do: resend a batch until it is acknowledged (a 200), through connection
    errors, lost answers and a server that is restarting."""

    def __init__(self, base: str, deadline_s: float = 90) -> None:
        self.base = base
        self.deadline_s = deadline_s
        self.failed_attempts = 0

    def send(self, batch: list[dict[str, Any]]) -> dict[str, Any]:
        deadline = time.monotonic() + self.deadline_s
        while True:
            try:
                response = httpx.post(f"{self.base}{SIGN}/feedback", json={"feedback": batch}, timeout=30)
                if response.status_code == 200:
                    ack: dict[str, Any] = response.json()
                    return ack
                assert response.status_code >= 500, response.text  # a 4xx would be our bug: never retried
            except httpx.TransportError:
                pass
            self.failed_attempts += 1
            if time.monotonic() > deadline:
                pytest.fail("feedback never acknowledged")
            time.sleep(0.2)


def issue_cards(server: Server, database_url: str, hooks: int = 1) -> list[dict[str, Any]]:
    cards: list[dict[str, Any]] = []
    for _ in range(hooks):
        response = httpx.post(f"{server.base}{SIGN}", json=hook_request(prefetch=full_prefetch()), timeout=30)
        assert response.status_code == 200, response.text
        cards += response.json()["cards"]
    engine = create_engine(database_url)
    deadline = time.monotonic() + 20  # cards are recorded after the answer is sent
    with engine.connect() as conn:
        while conn.execute(select(func.count()).select_from(IssuedCard)).scalar_one() < len(cards):
            assert time.monotonic() < deadline, "cards were not recorded"
            time.sleep(0.1)
    engine.dispose()
    return cards


def feedback_items(cards: list[dict[str, Any]], n: int, start: int = 0) -> list[dict[str, Any]]:
    """n distinct events: the issued cards overridden then accepted over time, and cards from elsewhere."""
    items: list[dict[str, Any]] = []
    for i in range(start, start + n):
        card = cards[i % len(cards)]["uuid"] if i % 4 else str(uuid.uuid4())
        when = f"2026-11-21T10:{(i // 60) % 60:02d}:{i % 60:02d}Z"
        if i % 2:
            items.append(
                {
                    "card": card,
                    "outcome": "overridden",
                    "overrideReason": {"reason": {"system": "https://x", "code": "c"}, "userComment": f"#{i}"},
                    "outcomeTimestamp": when,
                }
            )
        else:
            items.append(
                {"card": card, "outcome": "accepted", "acceptedSuggestions": [{"id": "s"}], "outcomeTimestamp": when}
            )
    return items


def stored_events(database_url: str) -> list[tuple[str, str, str, str]]:
    """(card, outcome, outcomeTimestamp, comment) of every stored row."""
    engine = create_engine(database_url)
    columns = (CardFeedback.card_uuid, CardFeedback.outcome, CardFeedback.outcome_timestamp, CardFeedback.user_comment)
    with engine.connect() as conn:
        rows = conn.execute(select(*columns)).all()
    engine.dispose()
    return [(r[0], r[1], r[2].strftime("%H:%M:%S"), r[3] or "") for r in rows]


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    running = Server(database_url, tmp_path)
    running.start()
    yield running
    running.stop()


def test_killed_after_commit_before_the_answer_then_retried(server: Server, database_url: str) -> None:
    cards = issue_cards(server, database_url)
    batch = feedback_items(cards, 120)
    restarted = threading.Event()

    def kill_and_restart() -> None:
        server.kill9()
        threading.Thread(target=lambda: (server.start(), restarted.set()), daemon=True).start()

    cutter = AnswerCutter(server.port, kill_and_restart)
    cutter.armed = True
    client = RetryingClient(f"http://127.0.0.1:{cutter.port}")
    ack = client.send(batch)
    cutter.close()

    assert cutter.cut == 1 and server.kills == 1 and restarted.wait(60)
    assert client.failed_attempts >= 1  # the first answer never arrived: the client had to retry
    # the retry found every item already committed by the killed server, and stored none again
    assert ack == {"stored": 120, "duplicates": 120, "unknownCards": ack["unknownCards"]}
    assert len(ack["unknownCards"]) == 30
    events = stored_events(database_url)
    assert len(events) == 120 and len(set(events)) == 120
    assert sorted(e[3] for e in events if e[1] == "overridden") == sorted(f"#{i}" for i in range(1, 120, 2))


def test_killed_mid_stream_then_every_unacknowledged_batch_is_retried(server: Server, database_url: str) -> None:
    cards = issue_cards(server, database_url)
    batches = [feedback_items(cards, 25, start=25 * b) for b in range(24)]
    acks: list[dict[str, Any]] = []
    acked_five = threading.Event()

    def killer() -> None:
        acked_five.wait(120)
        server.kill9()  # while the client is sending its sixth batch, or about to
        server.start()

    kill_thread = threading.Thread(target=killer, daemon=True)
    kill_thread.start()
    client = RetryingClient(server.base)
    for batch in batches:
        acks.append(client.send(batch))
        if len(acks) == 5:
            acked_five.set()
    kill_thread.join(120)

    assert server.kills == 1 and client.failed_attempts >= 1
    assert all(a["stored"] == 25 for a in acks)
    events = stored_events(database_url)
    assert len(events) == 24 * 25 and len(set(events)) == 24 * 25  # nothing lost, nothing twice
    # a batch committed by the killed server and sent again was acknowledged as duplicates, not re-stored
    assert sum(a["duplicates"] for a in acks) in (0, 25)
