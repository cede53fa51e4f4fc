"""The HTML report opened in real headless Chromium through the DevTools protocol.

Chromium is driven over ``--remote-debugging-pipe`` (CDP messages as NUL-terminated
JSON on file descriptors 3 and 4), so no extra Python package is needed. The test
collects console errors, uncaught exceptions and browser log errors, checks the
report's sections and figures in the DOM, and saves a full-page screenshot to
``test-artifacts/``.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from motorlab.report import build_report
from motorlab.report.build import SECTION_TITLES
from motorlab.sim.sample_clinic import write_sample_clinic

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (CI installs it via .ci/run)"
)

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--remote-debugging-pipe",
]


class CdpPipe:
    """Minimal Chrome DevTools Protocol client over the remote-debugging pipe."""

    def __init__(self, profile: Path, timeout_s: float = 60.0):
        self.timeout_s = timeout_s
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def wire_fds() -> None:  # in the child: its fd 3 reads commands, fd 4 writes replies
            a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=wire_fds,
            close_fds=False,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from chromium")
            ready, _, _ = select.select([self._from_chrome], [], [], left)
            if ready:
                chunk = os.read(self._from_chrome, 1 << 20)
                if not chunk:
                    raise RuntimeError(
                        f"chromium closed the pipe: {self.proc.stderr.read().decode()[-2000:]}"
                    )
                self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict[str, Any]:
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout_s
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str) -> dict[str, Any]:
        for ev in self.events:
            if ev.get("method") == method:
                return ev
        deadline = time.monotonic() + self.timeout_s
        while True:
            ev = self._read_message(deadline)
            self.events.append(ev)
            if ev.get("method") == method:
                return ev

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_chrome, self._from_chrome):
            try:
                os.close(fd)
            except OSError:
                pass


def _errors(events: list[dict[str, Any]]) -> list[str]:
    out = []
    for ev in events:
        m, p = ev.get("method"), ev.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            out.append(
                "console: " + " ".join(str(a.get("value", a.get("description"))) for a in p.get("args", []))
            )
        elif m == "Runtime.exceptionThrown":
            out.append("exception: " + p.get("exceptionDetails", {}).get("text", ""))
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            out.append("log: " + p["entry"].get("text", ""))
    return out


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("clinic")
    write_sample_clinic(root)
    return build_report(root, "P007")


def test_report_renders_in_chromium_without_errors(report, tmp_path, artifacts_dir):
    cdp = CdpPipe(tmp_path / "profile")
    try:
        target = cdp.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        ses = cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            cdp.send(f"{domain}.enable", session=ses)
        cdp.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1000, "height": 1200, "deviceScaleFactor": 1, "mobile": False},
            session=ses,
        )
        cdp.send("Page.navigate", {"url": report.html.resolve().as_uri()}, session=ses)
        cdp.wait_event("Page.loadEventFired")

        def js(expr: str) -> Any:
            res = cdp.send("Runtime.evaluate", {"expression": expr, "returnByValue": True}, session=ses)
            return res["result"].get("value")

        titles = js("[...document.querySelectorAll('section > h2')].map(h => h.textContent)")
        images = js("[...document.images].map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
        plain = js("document.querySelectorAll('p.plain').length")
        text = js("document.body.innerText")
        height = js("Math.ceil(document.documentElement.scrollHeight)")
        cdp.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1000, "height": int(height), "deviceScaleFactor": 1, "mobile": False},
            session=ses,
        )
        shot = cdp.send(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session=ses
        )
        errors = _errors(cdp.events)
    finally:
        cdp.close()

    png = base64.b64decode(shot["data"])
    out = artifacts_dir / "report_screenshot.png"
    out.write_bytes(png)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000

    assert errors == []
    assert titles == list(SECTION_TITLES.values())
    # every embedded figure decoded by the browser: force curves (1), pen trace (1), tremor (1),
    # progress charts (grip, time to peak, spiral, rest tremor), goal chart
    assert len(images) == len(
        report.document
        and [b for s in report.document.sections for b in s.blocks if type(b).__name__ == "Figure"]
    )
    assert images and all(ok and w > 100 and h > 50 for ok, w, h in images)
    assert plain >= 5
    assert "P007" in text and "GAS T-score" in text
