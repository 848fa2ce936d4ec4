"""`orderlint serve`: run the migrations once, then uvicorn with N workers sharing only the database."""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import sys
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess
from uvicorn.supervisors.multiprocess import Process

from linter.settings import get_settings
from linter.store.migrate import upgrade

log = logging.getLogger("orderlint.serve")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_server(host: str, port: int, workers: int, insecure_no_auth: bool, reload: bool = False) -> int:
    settings = get_settings()
    if not settings.auth_enabled and not is_loopback(host):
        if not insecure_no_auth:
            print(
                f"orderlint serve: refusing to listen on {host} without authentication. "
                "Configure ORDERLINT_TRUSTED_ISSUERS (issuer -> JWKS URL or file), bind to 127.0.0.1, "
                "or pass --insecure-no-auth if you really mean it.",
                file=sys.stderr,
            )
            return 2
        print(f"orderlint serve: WARNING: listening on {host} with authentication OFF", file=sys.stderr)
    if not settings.auth_enabled:
        print(
            "orderlint serve: WARNING: authentication is off (ORDERLINT_TRUSTED_ISSUERS unset)",
            file=sys.stderr,
        )
    try:
        upgrade(settings.database_url)
    except Exception as exc:
        print(f"orderlint serve: database migration failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    # The workers are new processes: they read the environment, and need not migrate again.
    os.environ["ORDERLINT_MIGRATE_ON_START"] = "false"
    proxy: dict[str, Any] = {}
    if settings.workbench_trusted_proxies:
        # X-Forwarded-For/-Proto are believed from the workbench's trusted proxies only (uvicorn's default
        # trusts any local process, which could then pose as the proxy and send identity headers).
        proxy["forwarded_allow_ips"] = ",".join(settings.workbench_trusted_proxies)
    if reload:
        uvicorn.run(
            "linter.api.main:app_factory",
            factory=True,
            host=host,
            port=port,
            reload=True,
            log_level="info",
            server_header=False,
            **proxy,
        )
        return 0
    serve_app("linter.api.main:app_factory", host=host, port=port, workers=workers, log_level="info", **proxy)
    return 0


class NoDelayConfig(uvicorn.Config):
    """uvicorn binds the shared socket itself when it runs several workers, and asyncio then leaves Nagle's
    algorithm on for the accepted connections: every response waited ~40 ms for the client's delayed ACK.
    TCP_NODELAY on the listening socket is inherited by accepted sockets (Linux)."""

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


def serve_app(app: str, *, host: str, port: int, workers: int, **options: Any) -> None:
    """uvicorn.run's sequence (one process, or a supervisor of N workers) with NoDelayConfig; N workers each
    listen on a socket of their own where the system spreads connections (SpreadMultiprocess)."""
    config = NoDelayConfig(app, factory=True, host=host, port=port, workers=workers, server_header=False, **options)
    server = uvicorn.Server(config)
    if config.workers > 1 and hasattr(socket, "SO_REUSEPORT") and config.uds is None and config.fd is None:
        SpreadMultiprocess(config, reuseport_sockets(config, config.workers)).run()
    elif config.workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        server.run()


def reuseport_sockets(config: uvicorn.Config, count: int) -> list[socket.socket]:
    """`count` TCP sockets bound to config's address with SO_REUSEPORT (the kernel hashes each new connection
    to one of them), TCP_NODELAY as NoDelayConfig; port 0: the first one's port for all."""
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sockets: list[socket.socket] = []
    port = config.port
    for _ in range(count):
        sock = socket.socket(family=family)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind((config.host, port))
        except OSError as exc:
            log.error("cannot listen on %s:%s: %s", config.host, port, exc)
            sys.exit(STARTUP_FAILURE)
        port = sock.getsockname()[1]
        sock.set_inheritable(True)
        sockets.append(sock)
    # uvicorn's own start-up line (its logger, configured by uvicorn), which its bind_socket would have written
    address = f"[{config.host}]" if family == socket.AF_INET6 else config.host
    scheme = "https" if config.is_ssl else "http"
    logging.getLogger("uvicorn.error").info(
        "Uvicorn running on %s://%s:%d, one socket per worker (Press CTRL+C to quit)", scheme, address, port
    )
    return sockets


class SpreadMultiprocess(Multiprocess):
    """uvicorn's supervisor, with worker i listening on socket i of a SO_REUSEPORT group instead of every
    worker on one shared socket. On one shared socket, the first worker to wake accepts every pending
    connection: 16 keep-alive connections opened together landed 16/0, 14/2, 16/0, 16/0, 13/3 on two workers
    (bench/README.md, service_load), so a client that keeps a few connections (an EHR's gateway) got one core.
    The kernel hashes each connection to a socket instead. A worker that replaces worker i (it died, or SIGHUP)
    takes socket i, which stays open and listening meanwhile: connections hashed to it wait in its queue, none
    is refused. SIGTTIN/SIGTTOU (more or fewer workers) are declined: a socket without a worker would hold its
    connections unanswered. uvicorn's own methods, with the socket chosen by the worker's index."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets=sockets)
        self.worker_sockets = sockets

    def _start(self, idx: int) -> Process:
        process = Process(self.config, [self.worker_sockets[idx]])
        process.start()
        return process

    def init_processes(self) -> None:
        self.processes = [self._start(idx) for idx in range(self.processes_num)]

    def restart_all(self) -> None:
        """Each worker replaced by one on its socket, ready before the old one retires (as uvicorn's)."""
        for idx, old_process in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new_process = self._start(idx)
            if not new_process.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                new_process.kill()
                new_process.join()
                if not self.should_exit.is_set():
                    log.error("worker [%s] was not ready in time; keeping [%s]", new_process.pid, old_process.pid)
                return
            old_process.terminate()
            old_process.join()
            self.processes[idx] = new_process

    def keep_subprocess_alive(self) -> None:
        """A dead or hung worker replaced on its socket (as uvicorn's); one that failed to start stops all."""
        if self.should_exit.is_set():
            return
        for idx, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                log.error("worker [%s] failed to start, stopping", process.pid)
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            log.info("worker [%s] died, replacing it", process.pid)
            self.processes[idx] = self._start(idx)

    def handle_ttin(self) -> None:
        log.warning("SIGTTIN ignored: the number of workers is fixed (each has its own socket); restart with --workers")

    def handle_ttou(self) -> None:
        log.warning("SIGTTOU ignored: the number of workers is fixed (each has its own socket); restart with --workers")
