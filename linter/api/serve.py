"""`orderlint serve`: run the migrations once, then uvicorn with N workers sharing only the database."""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import sys
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

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
    """uvicorn.run's sequence (one process, or a supervisor of N workers) with NoDelayConfig."""
    config = NoDelayConfig(app, factory=True, host=host, port=port, workers=workers, server_header=False, **options)
    server = uvicorn.Server(config)
    if config.workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        server.run()
