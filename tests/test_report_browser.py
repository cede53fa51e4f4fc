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


# ------------------------------------------------------------- what the pages say (issue 13)
class _Page:
    """One report file opened in headless Chromium; ``js`` evaluates an expression in it."""

    def __init__(self, path, profile):
        self.cdp = CdpPipe(profile)
        target = self.cdp.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.ses = self.cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.cdp.send(f"{domain}.enable", session=self.ses)
        self.cdp.send("Page.navigate", {"url": path.resolve().as_uri()}, session=self.ses)
        self.cdp.wait_event("Page.loadEventFired")

    def js(self, expr: str) -> Any:
        res = self.cdp.send("Runtime.evaluate", {"expression": expr, "returnByValue": True}, session=self.ses)
        return res["result"].get("value")

    def print_pdf(self) -> bytes:
        res = self.cdp.send(
            "Page.printToPDF", {"preferCSSPageSize": True, "printBackground": True}, session=self.ses
        )
        return base64.b64decode(res["data"])

    def close(self) -> list[str]:
        errors = _errors(self.cdp.events)
        self.cdp.close()
        return errors


_PROGRESS_JS = """[...document.querySelectorAll('#progress figure')].map(f => {
  const d = {...f.dataset};
  let p = f.nextElementSibling;
  while (p && !(p.tagName === 'P' && p.classList.contains('plain'))) p = p.nextElementSibling;
  d.text = p ? p.innerText : '';
  return d;
})"""


def test_no_chart_draws_a_change_the_text_calls_no_meaningful_change(report, tmp_path):
    page = _Page(report.html, tmp_path / "profile")
    try:
        charts = page.js(_PROGRESS_JS)
    finally:
        assert page.close() == []
    assert len(charts) >= 3
    said_no_change = 0
    for chart in charts:
        lo, hi = (float(x) for x in chart["ylim"].split(","))
        for key, verdict in chart.items():
            if not key.startswith("verdict"):
                continue
            hand = key[len("verdict") :].lower()  # dataset keys: verdictRight -> right
            values = [float(v) for v in chart[f"series{hand.capitalize()}"].split(",")]
            change = values[-1] - values[0]
            band = float(chart.get(f"band{hand.capitalize()}", "nan"))
            words = f"{hand} hand" if hand != "na" else ""
            sentence = (
                next(s for s in chart["text"].split(". ") if s.lower().startswith(words)) if words else ""
            )
            if verdict == "no meaningful change":
                said_no_change += 1
                assert "no meaningful change" in (sentence or chart["text"])
                # inside the drawn band, or under 5 % of the fixed axis: nothing that looks like a change
                assert abs(change) <= band or abs(change) / (hi - lo) < 0.05, (chart["metric"], hand)
            else:
                assert "no meaningful change" not in sentence
    assert said_no_change >= 2  # left grip, spiral tremor, rest tremor in the sample


def test_gas_is_not_interpreted_at_baseline_in_the_browser(tmp_path):
    root = tmp_path / "clinic"
    write_sample_clinic(root)
    first = build_report(root, "P007", session="01", out_dir=tmp_path / "s1")
    later = build_report(root, "P007", session="02", out_dir=tmp_path / "s2")
    texts = {}
    for name, files in (("first", first), ("later", later)):
        page = _Page(files.html, tmp_path / f"profile-{name}")
        try:
            texts[name] = page.js("document.querySelector('#goals').innerText")
            texts[name + "-parent"] = ""
        finally:
            assert page.close() == []
        page = _Page(files.parent_html, tmp_path / f"profile-{name}-parent")
        try:
            texts[name + "-parent"] = page.js("document.querySelector('#goals').innerText")
        finally:
            assert page.close() == []
    assert "not calculated at baseline" in texts["first"] and "GAS T-score: " not in texts["first"].replace(
        "GAS T-score: not calculated", ""
    )
    assert "progress on the goals is" not in texts["first"] and "starting point" in texts["first"]
    assert "baseline: scored from the next session" in texts["first-parent"]
    assert "expected" not in texts["first-parent"]
    assert f"GAS T-score: {later.data.gas_tscore:.1f}" in texts["later"]
    assert "progress on the goals is" in texts["later"]


def test_norm_wording_matches_the_table_used_in_the_browser(tmp_path):
    from motorlab.clinic import ClientRegistry, make_client
    from motorlab.clinic.dataset import clinic_grip_norms_path

    root = tmp_path / "clinic"
    write_sample_clinic(root, goals=False)
    ClientRegistry(root).add(make_client("P007", 2017, "M", "right"), replace=True)  # a boy of 9
    without = build_report(root, "P007", out_dir=tmp_path / "without")
    table = clinic_grip_norms_path(root)
    table.parent.mkdir(parents=True)
    src = "made-up test table, not clinical data"
    table.write_text(
        f"# source: {src}\nage_lo,age_hi,sex,hand,mean_kg,sd_kg\n8,10,M,R,17.0,3.0\n8,10,M,L,16.0,3.0\n"
    )
    with_table = build_report(root, "P007", out_dir=tmp_path / "with")
    seen = {}
    for name, files in (("without", without), ("with", with_table)):
        page = _Page(files.html, tmp_path / f"profile-{name}")
        try:
            seen[name] = page.js("document.querySelector('#results').innerText")
        finally:
            assert page.close() == []
    assert "There is no norm for age 9" in seen["without"] and "grip_norms.csv" in seen["without"]
    assert "50 in 100" not in seen["without"] and "Mathiowetz" not in seen["without"]
    assert f"the clinic's table: {src}" in seen["with"] and "Mathiowetz" not in seen["with"]
    assert "boys aged 8–10" in seen["with"] and " men " not in seen["with"]


def test_parent_page_is_one_a4_page(report, tmp_path):
    import re
    import subprocess

    if shutil.which("pdfinfo") is None:
        pytest.skip("poppler-utils not installed")
    info = subprocess.run(["pdfinfo", str(report.parent_pdf)], capture_output=True, text=True, check=True)
    assert re.search(r"Pages:\s+1\n", info.stdout) and "595.28 x 841.89 pts (A4)" in info.stdout
    page = _Page(report.parent_html, tmp_path / "profile")
    try:
        sections = page.js("[...document.querySelectorAll('h2')].map(h => h.innerText)")
        printed = page.print_pdf()
    finally:
        assert page.close() == []
    assert sections == [
        "What we measured",
        "What it means",
        "Progress on goals",
        "The writing as drawn",  # the sample clinic's spiral is drawn on a tablet surface
        "Next steps",
        "Therapist's note",
    ]
    out = tmp_path / "printed.pdf"
    out.write_bytes(printed)
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Pages:\s+1\n", info) and "(A4)" in info  # Chromium prints it on one A4 sheet too
