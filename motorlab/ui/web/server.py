"""Run the app: bind the socket(s), start uvicorn, print the URL, open the browser.

The listening sockets are bound here (so the port, and hence the URL, is known
before the server starts and no other program can take the port in between)
and handed to uvicorn. Without ``--lan`` the only socket is 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from ...errors import MotorlabError
from .app import create_app
from .hub import LiveHub
from .security import LOOPBACK_HOST, Access

#: largest WebSocket message accepted from a screen (bytes)
WS_MAX_BYTES = 64 * 1024


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: a free one); MotorlabError if impossible."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise MotorlabError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def primary_lan_address() -> str:
    """This machine's address on its default route (no packet is sent); MotorlabError if none."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("10.255.255.255", 1))
        addr = s.getsockname()[0]
    except OSError:
        addr = ""
    finally:
        s.close()
    if not addr or addr.startswith("127.") or addr == "0.0.0.0":
        raise MotorlabError("no network interface found for --lan; give its address, e.g. --lan 192.168.1.20")
    return addr


@dataclass
class RunningApp:
    """A bound, configured server (call :meth:`run` to serve until stopped)."""

    root: Path
    access: Access
    sockets: list[socket.socket]
    server: uvicorn.Server

    @property
    def url(self) -> str:
        return self.access.url

    def run(self) -> None:
        """Serve until SIGINT/SIGTERM (uvicorn's handlers), then close the sockets."""
        try:
            asyncio.run(self.server.serve(sockets=self.sockets))
        finally:
            for s in self.sockets:
                s.close()


def prepare(
    root: str | Path,
    port: int = 0,
    lan_host: str | None = None,
    hub: LiveHub | None = None,
    on_started: Callable[[], None] | None = None,
) -> RunningApp:
    """Bind 127.0.0.1 (and ``lan_host`` if given) on ``port`` and build the uvicorn server."""
    loop_sock = bind(LOOPBACK_HOST, port)
    sockets = [loop_sock]
    bound_port = loop_sock.getsockname()[1]
    if lan_host is not None:
        try:
            sockets.append(bind(lan_host, bound_port))
        except MotorlabError:
            loop_sock.close()
            raise
    access = Access(bound_port, lan_host=lan_host)
    app = create_app(root, access, hub)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        ws="websockets-sansio",
        ws_max_size=WS_MAX_BYTES,
        proxy_headers=False,  # no proxy: the peer address is the client
        server_header=False,
        timeout_graceful_shutdown=3,
        lifespan="on",
    )
    server = _Server(config, on_started)
    return RunningApp(Path(root), access, sockets, server)


class _Server(uvicorn.Server):
    """uvicorn's server, telling us once it accepts connections."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None] | None) -> None:
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self._on_started is not None:
            self._on_started()


def open_browser_later(url: str) -> Callable[[], None]:
    """A callback that opens ``url`` in the default browser without blocking the server."""

    def go() -> None:
        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()

    return go
