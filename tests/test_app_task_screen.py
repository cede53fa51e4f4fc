"""The task screen in real Chromium, driven over the real WebSocket by a scripted publisher.

Each test attaches a :class:`~motorlab.ui.web.live.LiveBuffer` to the server's hub,
publishes schema snapshots and samples the way a recorder will, and checks what
the page draws: bar fractions on the fixed kg scale, the band, pen ink pixels, the
steady-hold dot, alerts in words, the countdown, and the commands keys send back.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from motorlab.ui.web.live import DeviceState, LiveBuffer, StepState

from .app_fixtures import AppServer
from .app_publisher import grip_snapshot, hold_snapshot, pen_snapshot, push_line

BAR_JS = """() => {
  const bar = document.getElementById('bar');
  const frac = (el) => 1 - el.offsetTop / bar.clientHeight;
  const band = document.getElementById('bar-band');
  return {
    fill: document.getElementById('bar-fill').offsetHeight / bar.clientHeight,
    best: frac(document.getElementById('bar-best')),
    target: frac(document.getElementById('bar-target')),
    bandLo: band.hidden ? null : 1 - (band.offsetTop + band.offsetHeight) / bar.clientHeight,
    bandHi: band.hidden ? null : frac(band),
  };
}"""

DARK_PIXELS_JS = """([id, r, g, b]) => {
  const c = document.getElementById(id);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4)
    if (Math.abs(d[i] - r) < 30 && Math.abs(d[i + 1] - g) < 30 && Math.abs(d[i + 2] - b) < 30) n++;
  return n;
}"""


@pytest.fixture
def screen(clinic_root, probe):
    srv = AppServer(clinic_root).start()
    buf = LiveBuffer()
    srv.hub.attach(buf)
    page = probe.page
    page.goto(srv.app.url)
    page.goto(f"{srv.base}/task")
    try:
        yield srv, buf, page
    finally:
        srv.stop()
    assert probe.errors == []


def _text(page, selector: str, text: str) -> None:
    page.wait_for_function(
        "([s, t]) => document.querySelector(s) && document.querySelector(s).textContent === t",
        arg=[selector, text],
        timeout=10_000,
    )


def test_grip_bar_fills_on_the_fixed_kg_scale_with_the_trial_curve(screen, artifacts_dir):
    _srv, buf, page = screen
    t = np.arange(160) / 80.0  # 2 s at 80 Hz
    buf.push_force(t, 5.0 * t)  # ramp to 10 kg
    buf.publish(grip_snapshot(10.0, peak=10.0, previous_best=20.0, target=30.0, scale_max=40.0))
    _text(page, "#force-now", "10.0")
    geo = page.evaluate(BAR_JS)
    assert geo["fill"] == pytest.approx(0.25, abs=0.01)
    assert geo["best"] == pytest.approx(0.50, abs=0.01)
    assert geo["target"] == pytest.approx(0.75, abs=0.01)
    bar = page.locator("#bar")
    assert bar.get_attribute("data-fraction") == "0.2500"
    assert (bar.get_attribute("aria-valuemax"), bar.get_attribute("aria-valuetext")) == ("40", "10.0 kg")
    assert page.locator("#bar-scale span").all_inner_texts() == ["0", "10", "20", "30", "40", "kg"]
    assert page.locator("#force-best").inner_text() == "20.0 kg"
    assert page.locator("#force-target").inner_text() == "30.0 kg"
    assert page.locator("#trial-info").inner_text() == "Trial 2 of 6 · right hand"
    assert page.locator("#task-title").inner_text() == "Squeeze as hard as you can"
    assert page.locator("#emulated").is_visible()
    assert page.locator("#step-text").inner_text() == "Squeeze!"
    # the whole trial's curve, decimated (80 Hz fits in the 50 buckets/s of min/max pairs)
    assert int(page.locator("#curve").get_attribute("data-points")) >= 100
    assert page.evaluate(DARK_PIXELS_JS, ["curve", 16, 42, 67]) > 200
    page.screenshot(path=str(artifacts_dir / "app_task_grip.png"), full_page=True)
    # the scale never moves: a value above it fills the bar and is still shown as a number
    buf.publish(grip_snapshot(50.0, peak=50.0, scale_max=40.0))
    _text(page, "#force-now", "50.0")
    assert page.evaluate(BAR_JS)["fill"] == pytest.approx(1.0, abs=0.005)
    assert "over" in page.locator("#bar-fill").get_attribute("class")
    assert page.locator("#bar-scale span").all_inner_texts()[-2:] == ["40", "kg"]


def test_sustained_grip_shows_the_band_and_says_what_to_do(screen, artifacts_dir):
    _, buf, page = screen
    for now, words in (
        (12.0, "A bit harder!"),
        (17.0, "Great – hold it in the green band"),
        (22.0, "A bit softer!"),
    ):
        buf.publish(grip_snapshot(now, view="force_hold", band=(15.0, 20.0), previous_best=None, target=None))
        _text(page, "#band-hint", words)
        geo = page.evaluate(BAR_JS)
        assert geo["fill"] == pytest.approx(now / 40.0, abs=0.01)
        assert geo["bandLo"] == pytest.approx(15 / 40, abs=0.01) and geo["bandHi"] == pytest.approx(
            20 / 40, abs=0.01
        )
        if now == 17.0:
            page.screenshot(path=str(artifacts_dir / "app_task_sustained.png"), full_page=True)
    assert page.locator("#bar-best").is_hidden() and page.locator("#bar-target").is_hidden()
    assert page.locator("#task-title").inner_text() == "Keep squeezing"


def _ink_pixel(page, x_mm: float, y_mm: float) -> list[int]:
    return page.evaluate(
        """([x, y]) => {
          const c = document.getElementById('ink');
          const s = Math.min(c.width / 200, c.height / 120);
          const ox = (c.width - 200 * s) / 2, oy = (c.height - 120 * s) / 2;
          return [...c.getContext('2d').getImageData(Math.round(ox + x * s), Math.round(oy + y * s), 1, 1).data];
        }""",
        [x_mm, y_mm],
    )


def test_pen_strokes_are_drawn_as_they_arrive(screen, artifacts_dir):
    _, buf, page = screen
    t = push_line(buf, 0.0, 20.0, 30.0, 180.0, 30.0)
    buf.publish(pen_snapshot(down=False, strokes=1))
    _text(page, "#strokes", "1")
    push_line(buf, t + 0.2, 100.0, 60.0, 100.0, 110.0)
    buf.publish(pen_snapshot(down=True, strokes=2, force=1.2))
    _text(page, "#strokes", "2")
    assert page.locator("#pen-state").inner_text() == "Pen down"
    assert page.locator("#tip-force").inner_text() == "1.20 N"
    assert float(page.locator("#tip-meter").get_attribute("aria-valuenow")) == pytest.approx(0.3)
    ink = (11, 61, 145)
    for x, y in ((100, 30), (30, 30), (170, 30), (100, 90)):
        px = _ink_pixel(page, x, y)
        assert all(abs(a - b) < 40 for a, b in zip(px[:3], ink)), (x, y, px)
    for x, y in ((50, 90), (150, 100), (100, 45)):  # nothing was written there
        assert _ink_pixel(page, x, y)[:3] == [255, 253, 246], (x, y)
    page.screenshot(path=str(artifacts_dir / "app_task_pen.png"), full_page=True)
    # an IMU pen has no tip position: nothing is drawn, and the screen says why
    buf.publish(pen_snapshot(down=False, strokes=2, force=None, has_position=False))
    _text(page, "#tip-force", "not measured")
    assert page.locator("#no-position").is_visible() and page.locator("#ink").is_hidden()
    assert page.locator("#pen-state").inner_text() == "Pen up"


def test_steady_hold_view(screen, artifacts_dir):
    _, buf, page = screen
    buf.publish(hold_snapshot(0.5, 0.0, 0.2))
    _text(page, "#hold-words", "Very steady")
    assert page.locator("#hold").get_attribute("data-dot") == "0.500,0.000"
    assert page.locator("#hold-rms").inner_text() == "0.20"
    assert page.locator("#hold-unit").inner_text() == "m/s²"
    page.screenshot(path=str(artifacts_dir / "app_task_hold.png"), full_page=True)
    buf.publish(hold_snapshot(3.0, 4.0, 0.8))
    _text(page, "#hold-words", "Wobbly")
    assert page.locator("#hold").get_attribute("data-dot") == "0.600,0.800"  # kept on the circle's edge


def test_faults_show_at_once_in_words_and_the_countdown_is_big(screen, artifacts_dir):
    _, buf, page = screen
    device = DeviceState(
        "sim://grip", emulated=True, link="lost", battery_pct=12, battery_low=True, write_error="disk full"
    )
    buf.publish(
        grip_snapshot(
            None,
            step=StepState("countdown", "Get ready", 2.4, 3.0, 3),
            device=device,
            alerts=("Trial 2 was marked invalid.",),
        )
    )
    _text(page, "#countdown", "3")
    alerts = page.locator("#alerts p").all_inner_texts()
    assert alerts == [
        "The device is not connected. Check it is on and close by.",
        "Battery low (12 %): charge the device soon.",
        "The recording cannot be saved: disk full. Stop the task (Q) and check the disk.",
        "Trial 2 was marked invalid.",
    ]
    assert page.locator("#countdown").is_visible()
    z = page.evaluate(
        "() => ['alerts', 'countdown'].map(id => +getComputedStyle(document.getElementById(id)).zIndex)"
    )
    assert z[0] > z[1]  # the faults stay readable above the big countdown
    assert page.evaluate("parseFloat(getComputedStyle(document.getElementById('countdown')).fontSize)") > 200
    assert page.locator("#force-now").inner_text() == "–"  # no value before the first sample, not 0
    page.screenshot(path=str(artifacts_dir / "app_task_faults.png"), full_page=True)
    buf.publish(grip_snapshot(1.0, device=DeviceState("sim://grip", link="reconnecting")))
    _text(page, "#alerts", "Lost the device – reconnecting…")
    assert page.locator("#countdown").is_hidden() and page.locator("#emulated").is_hidden()


def _wait(cond, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_keys_and_buttons_send_the_terminals_commands(screen):
    _, buf, page = screen
    buf.publish(grip_snapshot(3.0))
    _text(page, "#force-now", "3.0")
    for key in ("Space", "r", "x", "q"):
        page.keyboard.press(key)
    _wait(lambda: len(buf.commands) == 4)
    assert buf.commands == ["space", "repeat", "invalid", "quit"]
    _text(page, "#ack", "Sent: stop.")
    page.click("button[data-command=repeat]")
    _wait(lambda: len(buf.commands) == 5)
    page.keyboard.press("Space")  # the clicked button gave focus back: one command, not two
    _wait(lambda: len(buf.commands) == 6)
    # typing a note sends no commands
    page.fill("#note", "")
    page.click("#note")
    page.keyboard.type("r x q")
    page.click("#note-form button[type=submit]")
    _wait(lambda: buf.notes == ["r x q"])
    _text(page, "#ack", "Note saved.")
    time.sleep(0.3)
    assert buf.commands == ["space", "repeat", "invalid", "quit", "repeat", "space"]
    assert page.locator("#note").input_value() == ""
    assert page.locator("#sound").get_attribute("aria-pressed") == "false"  # sound cues are off by default
    page.click("#sound")
    assert page.locator("#sound").inner_text() == "Sound cues: on"


def test_idle_screen_and_lost_server(clinic_root, probe):
    srv = AppServer(clinic_root).start()
    page = probe.page
    page.goto(srv.app.url)
    page.goto(f"{srv.base}/task")
    _text(page, "#idle", "No task is running.")
    assert page.locator("#view-force").is_hidden() and page.locator("#view-pen").is_hidden()
    buf = LiveBuffer()
    srv.hub.attach(buf)
    buf.publish(grip_snapshot(4.0))
    _text(page, "#force-now", "4.0")
    srv.hub.detach()
    page.wait_for_function("() => document.getElementById('task').dataset.state === 'idle'", timeout=10_000)
    assert page.locator("#idle").inner_text() == "No task is running."
    assert page.locator("#view-force").is_hidden()
    srv.stop()
    page.wait_for_function(
        "() => document.getElementById('alerts').textContent.includes('connection to motorlab was lost')",
        timeout=15_000,
    )
    assert page.locator("#conn").inner_text() == "Not connected"
