"""Fixtures for the ``motorlab app`` tests: a real server on 127.0.0.1 and real Chromium.

The server is the same uvicorn server ``motorlab app`` runs (``prepare(...).run()``),
in a thread of the test process so a test can attach a live publisher to its hub.
Chromium is Debian's ``/usr/bin/chromium`` driven by Playwright (no browser download).
"""

from __future__ import annotations

import http.client
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from motorlab.ui.web.hub import LiveHub
from motorlab.ui.web.server import RunningApp, prepare

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


class AppServer:
    """``motorlab app``'s server running in a thread (stop() ends it)."""

    def __init__(self, root: Path, lan_host: str | None = None, hub: LiveHub | None = None):
        self.root = root
        self.hub = hub or LiveHub()
        self.app: RunningApp = prepare(root, 0, lan_host, self.hub)
        self.thread = threading.Thread(target=self.app.run, name="motorlab-app", daemon=True)

    @property
    def port(self) -> int:
        return self.app.access.port

    @property
    def token(self) -> str:
        return self.app.access.token

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def cookie(self) -> str:
        return f"{self.app.access.cookie_name}={self.token}"

    def start(self) -> AppServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.app.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("motorlab app server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.app.server.should_exit = True
        self.thread.join(15)

    def request(
        self,
        method: str,
        path: str,
        *,
        host: str | None = None,
        headers: dict[str, str] | None = None,
        body: str | None = None,
        connect: str = "127.0.0.1",
    ) -> tuple[int, dict[str, str], str]:
        """One HTTP request with an explicit Host header; (status, lower-case headers, body text)."""
        conn = http.client.HTTPConnection(connect, self.port, timeout=30)
        try:
            hdrs = {"Host": host if host is not None else f"{connect}:{self.port}", **(headers or {})}
            if body is not None:
                hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read().decode("utf-8", errors="replace")
            out_headers: dict[str, str] = {}
            for k, v in resp.getheaders():
                k = k.lower()
                out_headers[k] = f"{out_headers[k]}, {v}" if k in out_headers else v
            return resp.status, out_headers, data
        finally:
            conn.close()


@pytest.fixture
def clinic_root(tmp_path: Path) -> Path:
    root = tmp_path / "clinic"
    root.mkdir()
    return root


@pytest.fixture
def app_server(clinic_root: Path) -> Iterator[AppServer]:
    srv = AppServer(clinic_root).start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """A headless Chromium (Playwright's sync API, Debian's binary)."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (CI installs it via .ci/run)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


class PageProbe:
    """A page plus what the browser complained about (console errors, CSP violations, page errors)."""

    def __init__(self, browser: Any, width: int = 1100, height: int = 900):
        self.context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("requestfailed", lambda r: self.errors.append(f"failed: {r.url}"))
        self.page.on("response", self._response)

    def _console(self, m: Any) -> None:
        # a page answered 4xx on purpose (a refused form) is asserted by the test itself;
        # a failing sub-resource is caught by _response
        if m.type == "error" and not m.text.startswith("Failed to load resource"):
            self.errors.append(f"console: {m.text}")

    def _response(self, r: Any) -> None:
        if r.status >= 400 and r.request.resource_type != "document":
            self.errors.append(f"{r.status}: {r.url}")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def probe(chromium: Any) -> Iterator[PageProbe]:
    p = PageProbe(chromium)
    try:
        yield p
    finally:
        p.close()
