"""A whole emulated child visit through the browser: real server, real Recorder, real Chromium.

Register a child, set up a visit with the emulated grip dynamometer and the emulated
IMU pen (quick timing), grip with both hands with one repeat, one handwriting task,
a therapist's note, then goals, the report, the parent page and the CSV export. Every
step asserts what the page shows against what was stored on disk (the BIDS files
the Recorder wrote) and the emulator's ground truth. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import csv
import io
import json
import time
import warnings

import numpy as np
import pytest

from motorlab.clinic import ClientRegistry, client_sessions
from motorlab.clinic.measurements import measure_session
from motorlab.report.build import SECTION_TITLES
from motorlab.storage.bids import read_recording
from motorlab.units import newton_to_kgf

from .app_fixtures import AppServer

GRIP_URL = "sim://grip?seed=3&peak_n=150"
PEN_URL = "sim://pen?seed=2"


def _wait(page, js: str, arg=None, timeout_ms: int = 20_000) -> None:
    page.wait_for_function(js, arg=arg, timeout=timeout_ms)


def _wait_step(page, kind: str, info: str | None = None, timeout_ms: int = 20_000) -> None:
    """Until the task screen shows step ``kind`` (and ``info`` as its trial line)."""
    _wait(
        page,
        """([kind, info]) => {
          const r = document.getElementById('task');
          return r.dataset.state === 'live' && r.dataset.step === kind &&
                 (info === null || document.getElementById('trial-info').textContent === info);
        }""",
        [kind, info],
        timeout_ms,
    )


def _press_space_when_waiting(page, info_after: str) -> None:
    _wait_step(page, "waiting")
    assert "Press SPACE" in page.locator("#step-text").inner_text()
    page.keyboard.press(" ")
    _wait_step(page, "trial", info_after)


def _bar(page) -> dict:
    return page.evaluate(
        """() => ({now: document.getElementById('force-now').textContent,
                  fraction: document.getElementById('bar').dataset.fraction,
                  peak: document.getElementById('force-peak').textContent})"""
    )


def _motion(root, task: str):
    (path,) = (root / "sub-P2017" / "ses-01" / "motion").glob(f"*_task-{task}_*_motion.tsv")
    return path


@pytest.fixture
def visit_server(clinic_root):
    srv = AppServer(clinic_root).start()
    try:
        yield srv
    finally:
        srv.stop()


def test_whole_emulated_child_visit_in_the_browser(visit_server, probe, clinic_root, artifacts_dir):
    srv, page = visit_server, probe.page
    shot = lambda name: page.screenshot(path=str(artifacts_dir / f"app_visit_{name}.png"), full_page=True)

    # --- register the child ------------------------------------------------------------------
    page.goto(srv.app.url)
    page.fill("#participant", "P2017")
    page.fill("#birth_year", str(time.gmtime().tm_year - 9))
    page.check("input[name=sex][value=F]")
    page.check("input[name=dominant_hand][value=right]")
    page.click("button[type=submit]")
    page.wait_for_url(f"{srv.base}/clients/P2017")
    assert ClientRegistry(clinic_root).get("P2017").dominant_hand == "right"

    # --- set up the visit: grip on sim://grip, handwriting on sim://pen, quick timing ----------
    page.click("text=Start a visit")
    page.wait_for_url(f"{srv.base}/visit?client=P2017")
    page.check("input[value=grip]")
    page.check("input[value=handwriting]")
    page.fill("#device_force", GRIP_URL)
    page.fill("#device_pen", PEN_URL)
    page.fill("#trials", "1")
    page.check("input[name=timing][value=quick]")
    page.click("#check-visit")
    rows = page.locator("#visit-tasks li")
    assert rows.count() == 2
    assert [rows.nth(i).locator(".badge.emulated").inner_text() for i in range(2)] == ["EMULATED"] * 2
    assert page.locator("#visit-timing").inner_text() == "Grip trials per hand: 1 · timing: quick"
    shot("setup")
    page.click("#start-visit")
    page.wait_for_url(f"{srv.base}/task")

    # --- grip: first trial of the right hand, then a repeat --------------------------------------
    _wait(page, "() => document.getElementById('task-title').textContent === 'Squeeze as hard as you can!'")
    _wait_step(page, "waiting", "Trial 1 of 2 · right hand")
    assert page.locator("#emulated").is_visible() and page.locator("#emulated").inner_text() == "EMULATED"
    _press_space_when_waiting(page, "Trial 1 of 2 · right hand")
    assert page.locator("#bar-scale span").all_inner_texts() == ["0", "10", "20", "30", "40", "kg"]
    assert page.locator("#bar-best").is_hidden()  # a first visit: no previous best
    _wait(page, "() => parseFloat(document.getElementById('force-now').textContent) > 5")
    bar = _bar(page)
    assert float(bar["fraction"]) == pytest.approx(float(bar["now"]) / 40.0, abs=0.0015)
    shot("grip_trial")
    page.keyboard.press("r")
    _wait(page, "() => document.getElementById('ack').textContent === 'Sent: repeat the trial.'")
    # between trials the screen names the next one: the replacement, with the same hand
    _wait(
        page,
        """() => document.getElementById('task').dataset.step !== 'trial' &&
                 document.getElementById('trial-info').textContent === 'Trial 2 of 3 · right hand'""",
    )
    _wait(
        page,
        "() => document.getElementById('alerts').textContent.includes('Trial 1 of 3 (right hand) will be repeated after the rest')",
    )
    shot("grip_repeat")

    # the repeat, with a note; then the left hand
    _press_space_when_waiting(page, "Trial 2 of 3 · right hand")
    page.fill("#note", "needed a reminder to keep the wrist straight")
    page.click("#note-form button")
    _wait(page, "() => document.getElementById('ack').textContent === 'Note saved.'")
    _press_space_when_waiting(page, "Trial 3 of 3 · left hand")
    _wait(page, "() => Number(document.getElementById('curve').dataset.points) > 20")
    # the task's end ("done", shown 2 s) or already the next task: the peak stays as last drawn
    _wait(
        page,
        "() => ['done', 'waiting', 'instruction'].includes(document.getElementById('task').dataset.step)",
    )
    left_peak_shown = float(_bar(page)["peak"].removesuffix(" kg"))
    shot("grip_done")

    # --- the pen task ----------------------------------------------------------------------------
    _wait(page, "() => document.getElementById('task').dataset.view === 'pen'")
    assert page.locator("#task-title").inner_text() == "Copy the sentence"
    assert page.locator("#no-position").is_visible()  # an IMU pen: no ink, pen-down and tip force
    _press_space_when_waiting(page, "Trial 1 of 1 · right hand")
    _wait(page, "() => Number(document.getElementById('strokes').textContent) >= 1")
    assert page.locator("#pen-state").inner_text() in ("Pen up", "Pen down")
    assert page.locator("#tip-force").inner_text().endswith(" N")
    shot("pen")
    _wait(
        page,
        """() => { const r = document.getElementById('task');
                   return r.dataset.state === 'idle' || r.dataset.step === 'done'; }""",
    )
    strokes_shown = int(page.locator("#strokes").inner_text())

    # --- the visit ends: links to the summary, report and parent page -----------------------------
    _wait(page, "() => document.getElementById('task').dataset.state === 'idle'")
    assert page.locator("#idle").inner_text() == "The visit is finished. Well done!"
    assert page.locator("#idle-links a").all_inner_texts() == [
        "Visit summary",
        "Report",
        "Parent page",
        "Export (CSV)",
    ]
    shot("finished")
    page.click("#idle-links >> text=Visit summary")
    page.wait_for_url(f"{srv.base}/visit/current")
    statuses = page.eval_on_selector_all("#visit-tasks tbody tr", "rs => rs.map(r => r.dataset.status)")
    assert statuses == ["done", "done"]
    assert page.locator("#visit-tasks .badge.emulated").count() == 2

    # --- what was stored agrees with what the screen showed ---------------------------------------
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a finalised recording reads without a warning
        grip = read_recording(_motion(clinic_root, "grip"))
        pen = read_recording(_motion(clinic_root, "handwriting"))
    trials = [e for e in grip.events if e.trial_type == "trial"]
    assert [(e.extra["hand"], e.extra["status"]) for e in trials] == [
        ("right", "invalid"),
        ("right", "valid"),
        ("left", "valid"),
    ]
    assert trials[0].extra["reason"] == "repeated"
    notes = [e.extra["note"] for e in grip.events if e.trial_type == "note"]
    assert notes == ["needed a reminder to keep the wrist straight"]
    force = grip.channel("force")
    left = (grip.timestamps >= trials[2].onset) & (grip.timestamps <= trials[2].onset + trials[2].duration)
    assert left_peak_shown == pytest.approx(float(newton_to_kgf(force[left].max())), abs=0.051)
    assert np.diff(grip.timestamps).max() < 1.5 / grip.sampling_rate  # nothing lost
    (hw,) = [e for e in pen.events if e.trial_type == "trial"]
    tip = pen.channel("tip_force")
    in_trial = (pen.timestamps >= hw.onset) & (pen.timestamps <= hw.onset + hw.duration)
    down = tip[in_trial] > 0.05
    strokes_stored = int(np.count_nonzero(down[1:] & ~down[:-1]) + down[0])
    assert strokes_stored >= 1 and abs(strokes_shown - strokes_stored) <= 1
    side = json.loads(_motion(clinic_root, "grip").with_suffix(".json").read_text())
    assert side["MotorlabEmulated"] is True
    truth = [t for t in side["MotorlabEmulatorTruth"] if t.get("peak_n") is not None]
    assert len(truth) == 3  # three squeezes: the repeated one, the repeat, the left hand

    # --- goals, after the visit: a grip goal from today's value ------------------------------------
    (session,) = client_sessions(clinic_root, "P2017")
    measured = measure_session(session)
    right_kg = measured.value("grip_strength_kgf", "right")
    assert right_kg == pytest.approx(newton_to_kgf(truth[1]["peak_n"]), rel=0.03)
    page.goto(f"{srv.base}/clients/P2017/goals")
    page.fill("#title", "Carry her school bag with the right hand")
    page.select_option("#metric", "grip_strength_kgf")
    page.check("input[name=hand][value=right]")
    base = round(right_kg, 1)
    page.fill("#baseline", f"{base}")
    for k in (-2, -1, 0, 1, 2):
        page.fill(f"#thr{k}", f"{base + 0.5 + k:.1f}")
    page.click("form.stack button[type=submit]")
    page.wait_for_url(f"{srv.base}/clients/P2017/goals")
    assert page.locator("#goal-G1 h2").inner_text() == "G1: Carry her school bag with the right hand"

    # --- the report and the parent page ---------------------------------------------------------------
    page.goto(f"{srv.base}/visit/current")
    page.click("#link-report")
    page.wait_for_selector("section#methods")
    assert page.locator("section > h2").all_inner_texts() == list(SECTION_TITLES.values())
    assert "EMULATED" in page.locator("section#overview").inner_text()
    shot("report")
    page.goto(f"{srv.base}/visit/current")
    page.click("#link-parent")
    page.wait_for_url(f"{srv.base}/clients/P2017/parent?session=01")
    # the report's one-page parent summary (motorlab.report.parent)
    assert page.locator("h1").inner_text() == "Visit summary"
    assert page.locator("p.sub").inner_text().startswith("Client P2017 · visit 01 · ")
    assert (
        page.locator("p.warn").inner_text()
        == "Emulated data (a virtual client) – not for clinical decisions."
    )
    assert page.locator("section > h2").all_inner_texts() == [
        "What we measured",
        "What it means",
        "Progress on goals",
        "Next steps",
        "Therapist's note",
    ]
    tasks_listed = page.locator("#measured li").all_inner_texts()
    assert tasks_listed[0].startswith("Grip strength") and tasks_listed[1].startswith("Handwriting")
    meaning = page.locator("#meaning").inner_text()
    assert f"{right_kg:.1f} kg" in meaning  # today's right-hand grip, as the report computed it
    goals = page.locator("#goals li").all_inner_texts()
    # the goal was set after today's session: today is its baseline, GAS scores from the next session
    assert goals == ["Carry her school bag with the right hand: baseline: scored from the next session"]
    # the note typed on the task screen is on the page, with its task and time
    assert "needed a reminder to keep the wrist straight" in page.locator("#note").inner_text()
    resp = page.request.get(f"{srv.base}/clients/P2017/parent.pdf?session=01")
    assert resp.status == 200 and resp.body()[:5] == b"%PDF-"
    shot("parent")

    # --- the export: every session's headline measures -------------------------------------------------
    resp = page.request.get(f"{srv.base}/clients/P2017/export.csv")
    assert resp.status == 200 and resp.headers["content-type"].startswith("text/csv")
    assert 'filename="motorlab_P2017_measures.csv"' in resp.headers["content-disposition"]
    rows_csv = list(csv.DictReader(io.StringIO(resp.text())))
    got = {(r["measure"], r["hand"]): float(r["value"]) for r in rows_csv if r["value"]}
    assert got[("grip_strength_kgf", "right")] == pytest.approx(right_kg, abs=1e-3)
    assert got[("grip_strength_kgf", "left")] == pytest.approx(
        measured.value("grip_strength_kgf", "left"), abs=1e-3
    )
    assert {r["session"] for r in rows_csv} == {"01"} and {
        r["unit"] for r in rows_csv if r["task"] == "grip"
    } == {"kg"}
    assert probe.errors == []


def test_closing_the_tab_mid_trial_keeps_every_sample_and_the_trial_incomplete(clinic_root, probe):
    """No screen for ``abandon_s`` while a trial runs: the visit quits like Q (file finalised)."""
    from motorlab.clinic import make_client

    ClientRegistry(clinic_root).add(make_client("P2018", 2016, "M", "left"))
    srv = AppServer(clinic_root).start()
    srv.app.server.config.app.state.motorlab.abandon_s = 1.0
    try:
        page = probe.page
        page.goto(srv.app.url)
        page.goto(f"{srv.base}/visit?client=P2018")
        page.check("input[value=grip]")
        page.check("input[value=spiral]")
        page.fill("#device_force", "sim://grip?seed=4&peak_n=140")
        page.fill("#device_pen", "sim://pen")
        page.check("input[name=timing][value=standard]")
        page.click("#check-visit")
        page.click("#start-visit")
        page.wait_for_url(f"{srv.base}/task")
        _press_space_when_waiting(page, "Trial 1 of 6 · left hand")  # the dominant hand first
        _wait(page, "() => parseFloat(document.getElementById('force-now').textContent) > 3")
        motion = _motion_of(clinic_root, "P2018", "grip")
        page.close()  # the tab is closed in the middle of the squeeze
        run = srv.app.server.config.app.state.motorlab.visit
        run.join(20)
        assert run.state == "stopped" and run.stop_reason == "no task screen open for 1 s"
        assert [t.status for t in run.tasks] == ["stopped", "skipped"]
    finally:
        srv.stop()
    side = json.loads(motion.with_suffix(".json").read_text())
    assert side["MotorlabStatus"] == "complete"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rec = read_recording(motion)
    (trial,) = [e for e in rec.events if e.trial_type == "trial"]
    assert (trial.extra["trial"], trial.extra["hand"], trial.extra["status"]) == (1, "left", "incomplete")
    assert np.diff(rec.timestamps).max() < 1.5 / rec.sampling_rate  # contiguous up to the stop
    assert rec.timestamps[-1] > trial.onset + 1.0  # the samples after the tab closed are kept too
    assert newton_to_kgf(np.nanmax(rec.channel("force"))) > 3


def _motion_of(root, pid: str, task: str):
    folder = root / f"sub-{pid}" / "ses-01" / "motion"
    end = time.monotonic() + 10
    while time.monotonic() < end:
        found = list(folder.glob(f"*_task-{task}_*_motion.tsv")) if folder.exists() else []
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no {task} recording under {folder}")


def test_link_loss_and_low_battery_appear_at_once_in_words(clinic_root, probe, artifacts_dir):
    """The emulated dynamometer's cable is pulled and put back during the task."""
    from motorlab.clinic import make_client

    ClientRegistry(clinic_root).add(make_client("P2019", 2017, "F", "right"))
    srv = AppServer(clinic_root).start()
    try:
        page = probe.page
        page.goto(srv.app.url)
        page.goto(f"{srv.base}/visit?client=P2019")
        page.check("input[value=grip]")
        page.fill("#device_force", "sim://grip?seed=5&battery=12")
        page.check("input[name=timing][value=quick]")
        page.click("#check-visit")
        page.click("#start-visit")
        page.wait_for_url(f"{srv.base}/task")
        _wait_step(page, "waiting", "Trial 1 of 6 · right hand")
        _wait(page, "() => document.getElementById('alerts').textContent.includes('Battery low (12 %)')")
        run = srv.app.server.config.app.state.motorlab.visit
        device = run._recorder.device
        device.driver.reconnect_backoff_s = 0.05
        run._loop.call_soon_threadsafe(device.emulator.link.vanish)
        _wait(
            page,
            "() => document.getElementById('alerts').textContent.includes('Lost the device – reconnecting…')",
        )
        page.screenshot(path=str(artifacts_dir / "app_visit_link_lost.png"), full_page=True)
        time.sleep(0.5)
        run._loop.call_soon_threadsafe(device.emulator.link.restore)
        _wait(
            page,
            """() => { const a = document.getElementById('alerts').textContent;
                       return a.includes('The link dropped 1 time(s) during this task') && !a.includes('reconnecting'); }""",
        )
        page.keyboard.press("q")  # stop the task: the visit ends
        _wait(page, "() => document.getElementById('task').dataset.state === 'idle'")
        assert run.tasks[0].status == "stopped"
    finally:
        srv.stop()
    rec = read_recording(_motion_of(clinic_root, "P2019", "grip"))
    gaps = [e for e in rec.events if e.trial_type == "gap"]
    assert len(gaps) == 1 and gaps[0].duration > 0.3
    assert probe.errors == []
