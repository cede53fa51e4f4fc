"""The browser as a digitiser, end to end: Debian's headless Chromium writes with a synthetic pen.

Pen input is sent through CDP ``Input.dispatchMouseEvent`` with ``pointerType: "pen"``, force,
tilt, twist and explicit timestamps at 200 Hz (Playwright has no pen API: research/tablet.md
§1.7). The events are fired without waiting for each one, so Chromium coalesces them into
fewer ``pointermove`` s and the page must recover every sample with ``getCoalescedEvents()``.
The page streams the samples over the real WebSocket of the real uvicorn server; the stored
BIDS recording must reproduce every sent sample, and the features computed from it must
equal the features computed from the sent trajectory.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from motorlab.analysis.handwriting_features import pen_features, pen_features_recording
from motorlab.analysis.template_deviation import template_deviation, template_of
from motorlab.devices.codecs.browser_pen import UNCALIBRATED_MM_PER_PX, tilt_to_altitude_azimuth
from motorlab.storage.bids import read_header, read_recording

from .app_fixtures import CHROMIUM, CHROMIUM_ARGS, AppServer

FS = 200.0


@pytest.fixture
def pen_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MOTORLAB_CONFIG_DIR", str(tmp_path / "config"))
    root = tmp_path / "clinic"
    root.mkdir()
    srv = AppServer(root).start()
    try:
        yield srv
    finally:
        srv.stop()


def sentence_trajectory() -> list[dict[str, float]]:
    """Four 'words' of joined loops (like 'lllll'), 0.25 s of hover before, between and after them."""
    out: list[dict[str, float]] = []
    x0, y0 = 80.0, 300.0
    for w in range(4):
        for k in range(50):  # hover towards the word
            out.append({"x": x0 - 10 + 0.2 * k, "y": y0 - 20 + 0.4 * k, "down": 0.0})
        n = 160  # 0.8 s of writing
        for k in range(n):
            s = k / FS
            out.append(
                {
                    "x": x0 + 60 * s + 12 * math.sin(2 * math.pi * 2.5 * s),
                    "y": y0 - 40 * math.sin(2 * math.pi * 2.5 * s) ** 2 - 2 * w,
                    "down": 1.0,
                    "force": 0.35 + 0.25 * math.sin(2 * math.pi * 1.7 * s + w),
                }
            )
        x0 += 60 * n / FS + 50
    for k in range(50):
        out.append({"x": x0 + 0.2 * k, "y": y0 - 30, "down": 0.0})
    return out


def spiral_trajectory(cx: float, cy: float) -> list[dict[str, float]]:
    """A 3-turn Archimedean spiral drawn from the centre in 4 s, with a 5 Hz tremor-like wobble."""
    out: list[dict[str, float]] = [{"x": cx - 5 + k * 0.25, "y": cy, "down": 0.0} for k in range(20)]
    n = int(4 * FS)
    for k in range(n):
        th = 2 * math.pi * 3 * k / n
        r = 35 * th / (2 * math.pi) + 0.6 * math.sin(2 * math.pi * 5 * k / FS)
        out.append(
            {"x": cx + r * math.cos(th), "y": cy - r * math.sin(th), "down": 1.0, "force": 0.5 + 0.3 * k / n}
        )
    out += [{"x": cx + 110 + k * 0.3, "y": cy, "down": 0.0} for k in range(20)]
    return out


def cdp_events(traj: list[dict[str, float]], t0: float) -> list[dict[str, Any]]:
    """CDP mouse events with pointerType pen: press at the first down sample, release at the first
    up sample after a down run; every field repeated on every event (omitted ones fall back to 0)."""
    events, was_down = [], False
    for i, s in enumerate(traj):
        down = bool(s["down"])
        typ = "mouseMoved"
        if down and not was_down:
            typ = "mousePressed"
        elif was_down and not down:
            typ = "mouseReleased"
        was_down = down
        events.append(
            {
                "type": typ,
                "x": s["x"],
                "y": s["y"],
                "pointerType": "pen",
                "timestamp": t0 + i / FS,
                "button": "left" if typ != "mouseMoved" else "none",
                "buttons": 1 if down else 0,
                "clickCount": 1 if typ != "mouseMoved" else 0,
                "force": s.get("force", 0.0) if down else 0.0,
                "tiltX": 10 + (i // 40) % 30,
                "tiltY": -20 + (i // 25) % 35,
                "twist": (3 * i) % 360,
            }
        )
    return events


#: inked pixels of the template canvas (its 2-D context, read in the page)
TEMPLATE_INK = (
    "(() => { const c = document.getElementById('pen-template');"
    " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
    " let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; })()"
)


async def _write(
    srv: AppServer, url: str, traj_of: Any, calibrate_box: float | None, screenshot: Path | None = None
) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            ctx = await browser.new_context(viewport={"width": 1100, "height": 900}, device_scale_factor=1)
            page = await ctx.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            await page.goto(f"{srv.base}/pen/calibrate?token={srv.token}")
            if calibrate_box is not None:
                await page.fill("#card-size", str(calibrate_box))
                await page.dispatch_event("#card-size", "input")
                await page.click("#card-form button[type=submit]")
                await page.wait_for_url("**/pen/calibrate?saved=*")
            await page.goto(srv.base + url)
            await page.wait_for_selector("#pen[data-state=ready]", timeout=15000)
            await page.click("#pen-start")
            await page.wait_for_selector("#pen[data-state=recording]")
            template_pixels = await page.evaluate(TEMPLATE_INK)  # still shown while the child writes
            rect = await page.evaluate(
                "(() => { const r = document.getElementById('pen-ink').getBoundingClientRect();"
                " return {left: r.left, top: r.top, width: r.width, height: r.height}; })()"
            )
            traj = traj_of(rect)
            events = cdp_events(traj, time.time() + 0.05)
            # a finger and a mouse on the surface mid-task: refused, counted, never drawn
            cdp = await ctx.new_cdp_session(page)
            for i in range(0, len(events), 100):  # fired without awaiting each: Chromium coalesces
                await asyncio.gather(*[cdp.send("Input.dispatchMouseEvent", e) for e in events[i : i + 100]])
            await cdp.send(
                "Input.dispatchMouseEvent",
                {
                    "type": "mouseMoved",
                    "x": rect["left"] + 300,
                    "y": rect["top"] + 300,
                    "pointerType": "mouse",
                },
            )
            await page.wait_for_timeout(200)
            if screenshot is not None:
                await page.screenshot(path=str(screenshot))
            await page.click("#pen-stop")
            await page.wait_for_selector("#pen[data-state=saved]", timeout=15000)
            result = json.loads(await page.evaluate("document.getElementById('pen').dataset.result"))
            await page.wait_for_selector("#pen[data-summary]", timeout=15000)
            summary = json.loads(await page.evaluate("document.getElementById('pen').dataset.summary"))
            move_events = int(await page.evaluate("document.getElementById('pen').dataset.moveEvents"))
            ink_img_width = await page.evaluate(
                "(() => { const i = document.getElementById('pen-ink-png');"
                " return i.decode().then(() => i.naturalWidth); })()"
            )
            if screenshot is not None:
                await page.screenshot(
                    path=str(screenshot.with_name(screenshot.stem + "_saved.png")), full_page=True
                )
            assert not errors
            return {
                "rect": rect,
                "traj": traj,
                "events": events,
                "result": result,
                "summary": summary,
                "move_events": move_events,
                "template_pixels": template_pixels,
                "ink_img_width": ink_img_width,
            }
        finally:
            await browser.close()


def _expected(run: dict[str, Any], mm_per_px: float) -> dict[str, np.ndarray]:
    ev, rect = run["events"], run["rect"]
    x_px = np.array([e["x"] for e in ev]) - rect["left"]
    y_px = np.array([e["y"] for e in ev]) - rect["top"]
    down = np.array([e["buttons"] & 1 for e in ev], dtype=float)
    tx = np.array([e["tiltX"] for e in ev], dtype=float)
    ty = np.array([e["tiltY"] for e in ev], dtype=float)
    alt, az = tilt_to_altitude_azimuth(tx, ty)
    return {
        "t": np.array([e["timestamp"] for e in ev]),
        "x_px": x_px,
        "y_px": y_px,
        "x_mm": x_px * mm_per_px,
        "y_mm": (rect["height"] - y_px) * mm_per_px,
        "down": down,
        "pressure": np.array([e["force"] for e in ev]) * down,
        "tilt_x": tx,
        "tilt_y": ty,
        "altitude": np.degrees(alt),
        "azimuth": np.degrees(az),
        "twist": np.array([e["twist"] for e in ev], dtype=float),
    }


def _check_samples(rec: Any, exp: dict[str, np.ndarray]) -> None:
    assert rec.n_samples == exp["t"].size  # every sent sample, nothing else (the mouse was refused)
    dt_err_ms = np.abs((rec.timestamps - rec.timestamps[0]) - (exp["t"] - exp["t"][0])) * 1000
    assert dt_err_ms.max() < 1.0
    np.testing.assert_array_equal(rec.channel("pen_down"), exp["down"])
    np.testing.assert_allclose(rec.channel("pressure"), exp["pressure"], atol=1e-6)  # float32 in Chromium
    np.testing.assert_array_equal(rec.channel("tilt_x"), exp["tilt_x"])
    np.testing.assert_array_equal(rec.channel("tilt_y"), exp["tilt_y"])
    np.testing.assert_array_equal(rec.channel("twist"), exp["twist"])
    np.testing.assert_allclose(rec.channel("altitude"), exp["altitude"], atol=1e-3)
    az_err = (rec.channel("azimuth") - exp["azimuth"] + 180) % 360 - 180
    assert np.abs(az_err).max() < 1e-3
    np.testing.assert_allclose(rec.channel("pos_x_px"), exp["x_px"], atol=1e-3)
    np.testing.assert_allclose(rec.channel("pos_y_px"), exp["y_px"], atol=1e-3)
    np.testing.assert_allclose(rec.channel("pos_x") * 10, exp["x_mm"], atol=1e-3)
    np.testing.assert_allclose(rec.channel("pos_y") * 10, exp["y_mm"], atol=1e-3)


def _check_features(rec: Any, exp: dict[str, np.ndarray]) -> dict[str, float]:
    got = pen_features_recording(rec).to_dict()
    want = pen_features(
        np.column_stack([exp["x_mm"], exp["y_mm"]]),
        exp["down"] > 0,
        FS,
        pressure=exp["pressure"],
        altitude_deg=exp["altitude"],
        azimuth_deg=exp["azimuth"],
    ).to_dict()
    for name, value in want.items():
        assert got[name] == pytest.approx(value, rel=2e-3, abs=1e-3, nan_ok=True), name
    return got


@pytest.mark.timeout(180)
def test_sentence_written_with_a_cdp_pen_is_stored_sample_for_sample(
    pen_server: AppServer, artifacts_dir: Path
) -> None:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed")
    box_w = 340.0  # the card fitted over 340 CSS px -> 85.60 / 340 mm per px
    run = asyncio.run(
        _write(
            pen_server,
            "/pen?participant=P001&task=sentence&age=9&lang=en&hand=right",
            lambda rect: [
                {**s, "x": s["x"] + rect["left"], "y": s["y"] + rect["top"]} for s in sentence_trajectory()
            ],
            box_w,
            artifacts_dir / "pen_sentence.png",
        )
    )
    mm_per_px = 85.60 / box_w
    assert run["template_pixels"] > 1000  # the ruled line is drawn
    assert run["result"]["n_samples"] == len(run["events"]) and run["result"]["lost"] == 0
    path = next(pen_server.root.rglob("*task-handwriting*_motion.tsv"))
    rec = read_recording(path)
    exp = _expected(run, mm_per_px)
    _check_samples(rec, exp)
    head = read_header(path)
    side = head.sidecar
    assert side["MotorlabStatus"] == "complete"
    assert side["SamplingFrequency"] == pytest.approx(FS, rel=1e-3)
    timing = side["MotorlabSamplingTime"]
    assert timing["median_interval_ms"] == pytest.approx(5.0, abs=0.01)
    assert timing["sd_interval_ms"] < 0.05 and timing["duplicates"] == 0
    cap = side["MotorlabPenCapture"]
    # Chromium merged the moves fired together: fewer pointermove events than move samples, the
    # rest came from getCoalescedEvents() (a secure context on 127.0.0.1)
    n_moves = sum(e["type"] == "mouseMoved" for e in run["events"])
    print(f"{n_moves} pen moves arrived in {run['move_events']} pointermove events")
    assert cap["coalesced_events"] is True and run["move_events"] < n_moves / 2
    assert cap["calibration"]["mm_per_px"] == pytest.approx(mm_per_px)
    assert head.metadata.calibration_id == cap["calibration"]["id"] != "n/a"
    codes = [f["code"] for f in head.metadata.extra["quality_flags"]]
    assert codes == ["non_pen_input"]  # calibrated, nothing lost; the mouse sample was refused
    assert side["MotorlabPenStats"]["refused_mouse"] == 1
    assert side["MotorlabTemplate"]["prompt"] == "The quick brown fox jumps over the lazy dog."
    assert [c.units for c in head.data_channels[:2]] == ["cm", "cm"]
    got = _check_features(rec, exp)
    # the trajectory's known shape: 4 words, 3 spaces, ~40 px high loops
    assert got["n_strokes"] == 4 and got["n_word_spaces"] == 3
    assert got["letter_height_mm"] == pytest.approx(40 * mm_per_px, rel=0.02)
    assert got["in_air_time_s"] == pytest.approx(3 * 51 / FS, rel=0.01)
    shown = {r["name"]: r for r in run["summary"]["rows"]}
    assert run["summary"]["n_earlier"] == 0 and shown["speed_mm_s"]["earlier_mean"] is None
    assert run["summary"]["ink_png"] > 1000 and run["ink_img_width"] > 100  # the writing as drawn, shown
    assert shown["speed_mm_s"]["value"] == pytest.approx(got["speed_mm_s"], abs=1e-3)

    # the same writing in a second session: compared with the first, nothing changed
    again = asyncio.run(
        _write(
            pen_server,
            "/pen?participant=P001&task=sentence&age=9&lang=en&hand=right&session=02",
            lambda rect: [
                {**s, "x": s["x"] + rect["left"], "y": s["y"] + rect["top"]} for s in sentence_trajectory()
            ],
            None,  # the screen's calibration is found in the store
        )
    )
    shown = {r["name"]: r for r in again["summary"]["rows"]}
    assert again["summary"]["n_earlier"] == 1
    assert shown["speed_mm_s"]["earlier_mean"] == pytest.approx(got["speed_mm_s"], abs=1e-3)
    assert shown["speed_mm_s"]["change"] == pytest.approx(0.0, abs=2e-3)
    second = read_header(next(pen_server.root.rglob("*ses-02*task-handwriting*_motion.tsv")))
    assert second.metadata.calibration_id == head.metadata.calibration_id


@pytest.mark.timeout(180)
def test_spiral_uncalibrated_says_so_and_keeps_its_template(
    pen_server: AppServer, artifacts_dir: Path
) -> None:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed")
    run = asyncio.run(
        _write(
            pen_server,
            "/pen?participant=P002&task=spiral&variant=dynamic",
            lambda rect: spiral_trajectory(
                rect["left"] + rect["width"] / 2, rect["top"] + rect["height"] / 2
            ),
            None,
            artifacts_dir / "pen_spiral.png",
        )
    )
    assert run["template_pixels"] > 1000  # the spiral template is drawn
    path = next(pen_server.root.rglob("*task-spiraldynamic*_motion.tsv"))
    rec = read_recording(path)
    exp = _expected(run, UNCALIBRATED_MM_PER_PX)
    _check_samples(rec, exp)
    head = read_header(path)
    assert head.sidecar["MotorlabPenCapture"]["calibration"]["uncalibrated"] is True
    assert "screen_uncalibrated" in [f["code"] for f in head.metadata.extra["quality_flags"]]
    blinks = [e.trial_type for e in rec.events if e.trial_type.startswith("template_")]
    assert blinks and set(blinks) <= {"template_shown", "template_hidden"}  # the blinking is on record
    tpl = head.sidecar["MotorlabTemplate"]
    assert tpl["variant"] == "dynamic" and tpl["blink_period_s"] == 1.0
    assert tpl["template"]["turns"] == 3.0 and len(tpl["template"]["polylines"][0]) > 300
    got = _check_features(rec, exp)
    assert got["n_strokes"] == 1 and got["niv_per_stroke"] >= 1
    # deviation from the stored template: the stored path and the sent one give the same
    polylines = template_of(head.sidecar)
    stored = template_deviation(
        np.column_stack([rec.channel("pos_x"), rec.channel("pos_y")]) * 10,
        rec.channel("pen_down") > 0,
        polylines,
    )
    sent = template_deviation(np.column_stack([exp["x_mm"], exp["y_mm"]]), exp["down"] > 0, polylines)
    assert (
        stored.mean_mm == pytest.approx(sent.mean_mm, abs=1e-3) and stored.n_samples == sent.n_samples == 800
    )
