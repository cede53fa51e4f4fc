"""The therapist's pages in real Chromium: add a client, set a goal, open the report, start a visit."""

from __future__ import annotations

import re

import pytest

from motorlab.clinic import ClientRegistry, GoalStore
from motorlab.devices import PROTOCOLS
from motorlab.report.build import SECTION_TITLES
from motorlab.sim.sample_clinic import write_sample_clinic

from .app_fixtures import AppServer


def _open(probe, srv: AppServer, path: str = "/"):
    page = probe.page
    page.goto(srv.app.url)  # the link the command prints: token in the URL, then a cookie
    assert "token=" not in page.url  # the token left the address bar
    if path != "/":
        page.goto(srv.base + path)
    return page


def test_add_a_client_through_the_form(app_server, probe, clinic_root, artifacts_dir):
    page = _open(probe, app_server)
    assert page.url == f"{app_server.base}/clients"
    assert page.locator("#no-clients").inner_text() == "No clients yet. Add the first one below."
    # a name is refused with the same words as 'motorlab client add'
    page.fill("#participant", "JaneDoe")
    page.fill("#birth_year", "2016")
    page.check("input[name=sex][value=F]")
    page.check("input[name=dominant_hand][value=left]")
    page.click("button[type=submit]")
    assert "looks like a name; use a pseudonym with digits" in page.locator("#form-error").inner_text()
    assert page.input_value("#participant") == "JaneDoe"  # the form keeps what was typed
    assert page.is_checked("input[name=dominant_hand][value=left]")
    page.fill("#birth_year", "1850")
    page.fill("#participant", "C2016")
    page.click("button[type=submit]")
    assert "birth year 1850 is outside 1900" in page.locator("#form-error").inner_text()
    page.fill("#birth_year", "2016")
    page.click("button[type=submit]")
    page.wait_for_url(f"{app_server.base}/clients/C2016")
    assert page.locator("#client-id").inner_text() == "C2016"
    assert page.locator("dl.facts").inner_text().split() == [
        "Born",
        "2016",
        "Sex",
        "F",
        "Dominant",
        "hand",
        "left",
    ]
    assert page.locator("#no-sessions").is_visible()
    assert ClientRegistry(clinic_root).get("C2016").dominant_hand == "left"
    page.click("text=Clients")
    rows = page.locator("#client-list tbody tr")
    assert rows.count() == 1 and rows.first.inner_text().split("\t")[:5] == [
        "C2016",
        "2016",
        rows.first.inner_text().split("\t")[2],
        "F",
        "left",
    ]
    page.screenshot(path=str(artifacts_dir / "app_clients.png"), full_page=True)
    assert probe.errors == []


def test_set_a_goal_through_the_form(app_server, probe, clinic_root, artifacts_dir):
    ClientRegistry(clinic_root).add(
        __import__("motorlab.clinic", fromlist=["make_client"]).make_client("P042", 2015, "M", "right")
    )
    page = _open(probe, app_server, "/clients/P042/goals")
    assert page.locator("#no-goals").is_visible()
    assert page.is_checked("input[name=hand][value=right]")  # the client's dominant hand
    page.fill("#title", "Open a jar with the right hand")
    page.select_option("#metric", "grip_strength_kgf")
    page.fill("#baseline", "18")
    for k, v in zip((-2, -1, 0, 1, 2), ("18", "20", "19", "24", "26")):
        page.fill(f"#thr{k}", v)
    page.click("form.stack button[type=submit]")
    error = page.locator("#form-error").inner_text()
    assert "level thresholds must all rise" in error and "18, 20, 19, 24, 26" in error
    assert GoalStore(clinic_root, "P042").load() == []
    page.fill("#thr0", "22")
    page.fill("#desc0", "opens the jar most days")
    page.fill("#target_date", "2026-09-30")
    page.click("form.stack button[type=submit]")
    page.wait_for_url(f"{app_server.base}/clients/P042/goals")
    goal = page.locator("#goal-G1")
    assert goal.locator("h2").inner_text() == "G1: Open a jar with the right hand"
    assert "baseline 18.0 kg" in goal.inner_text() and "target 2026-09-30" in goal.inner_text()
    cells = goal.locator("tbody tr").all_inner_texts()
    assert [c.split("\t") for c in cells] == [
        ["-2", "much less than expected", "18.0"],
        ["-1", "somewhat less than expected", "20.0"],
        ["+0", "opens the jar most days", "22.0"],
        ["+1", "somewhat more than expected", "24.0"],
        ["+2", "much more than expected", "26.0"],
    ]
    stored = GoalStore(clinic_root, "P042").load()
    assert [(g.goal_id, g.metric, g.hand, g.baseline) for g in stored] == [
        ("G1", "grip_strength_kgf", "right", 18.0)
    ]
    page.screenshot(path=str(artifacts_dir / "app_goals.png"), full_page=True)
    page.click("text=Remove G1")
    page.wait_for_selector("#no-goals")
    assert GoalStore(clinic_root, "P042").load() == []
    assert probe.errors == []


@pytest.fixture
def sample_server(tmp_path):
    root = tmp_path / "sample"
    write_sample_clinic(root)
    srv = AppServer(root).start()
    try:
        yield srv
    finally:
        srv.stop()


def test_client_page_and_report_generated_on_request(sample_server, probe, artifacts_dir):
    srv = sample_server
    page = _open(probe, srv, "/clients/P007")
    sessions = page.locator("#sessions tbody tr")
    assert sessions.count() >= 2
    assert sessions.first.locator("th").inner_text() == "01"
    assert "grip" in sessions.first.inner_text()
    assert page.locator("#goal-summary li").count() >= 1
    page.screenshot(path=str(artifacts_dir / "app_client.png"), full_page=True)
    page.click("#report-latest")
    page.wait_for_selector("section#methods")
    titles = page.locator("section > h2").all_inner_texts()
    assert titles == list(SECTION_TITLES.values())
    # the report's inline style and data: images are allowed by its own CSP (and nothing else is)
    decoded = page.evaluate("[...document.images].map(i => i.complete && i.naturalWidth > 0)")
    assert decoded and all(decoded)
    color = page.evaluate("getComputedStyle(document.querySelector('header.report h1')).color")
    assert color == "rgb(31, 95, 139)"
    assert re.search(r"P007", page.locator("header.report").inner_text())
    page.screenshot(path=str(artifacts_dir / "app_report.png"), full_page=True)
    status, headers, _ = srv.request("GET", "/clients/P007/report?session=1", headers={"Cookie": srv.cookie})
    assert status == 200 and "script-src" not in headers["content-security-policy"]
    assert headers["content-security-policy"].startswith("default-src 'none'")
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    resp = page.request.get(f"{srv.base}/clients/P007/report.pdf?session=1")
    assert resp.status == 200 and resp.headers["content-type"] == "application/pdf"
    assert resp.body()[:5] == b"%PDF-"
    assert probe.errors == []


def test_report_of_a_client_without_sessions_says_so(app_server, probe, clinic_root):
    from motorlab.clinic import make_client

    ClientRegistry(clinic_root).add(make_client("P003", 1970, "F", "right"))
    page = _open(probe, app_server)
    resp = page.goto(f"{app_server.base}/clients/P003/report")
    assert resp.status == 409
    assert page.locator("p.error").inner_text().endswith("sub-P003: no sessions recorded for P003 yet")
    resp = page.goto(f"{app_server.base}/clients/P999")
    assert resp.status == 404 and "There is no client 'P999'" in page.locator("p.error").inner_text()


def test_visit_page_checks_the_device_and_marks_emulators(app_server, probe, clinic_root, artifacts_dir):
    from motorlab.clinic import make_client

    ClientRegistry(clinic_root).add(make_client("P010", 2017, "F", "left"))
    page = _open(probe, app_server, "/visit?client=P010")
    assert page.locator("#client").input_value() == "P010"
    assert page.locator("text=EMULATED").count() >= 7  # every built-in emulator is labelled
    page.check("input[value=grip]")
    page.check("input[value=spiral]")
    page.fill("#device_force", "serial:///dev/ttyUSB0")
    page.fill("#device_pen", "sim://pen")
    page.click("#check-visit")
    assert (
        page.locator("#form-error").inner_text()
        == "Force device (grip and pinch tasks): serial:///dev/ttyUSB0: add ?protocol=NAME "
        f"({', '.join(sorted(PROTOCOLS))})"
    )
    assert {"mark10", "motorlab"} <= set(PROTOCOLS)
    assert page.is_checked("input[value=spiral]") and page.input_value("#device_pen") == "sim://pen"
    page.fill("#device_force", "sim://nosuch")
    page.click("#check-visit")
    assert "unknown emulator" in page.locator("#form-error").inner_text()
    page.fill("#device_force", "serial:///dev/ttyUSB0?protocol=motorlab")
    page.check("input[name=timing][value=quick]")
    page.click("#check-visit")
    assert page.locator("#form-error").inner_text() == (
        "quick timing is for emulated devices only; use standard timing with a real device"
    )
    page.check("input[name=timing][value=standard]")
    page.click("#check-visit")
    tasks = page.locator("#visit-tasks li")
    assert tasks.count() == 2
    grip, spiral = tasks.all_inner_texts()
    assert grip.startswith("Grip strength (3 trials per hand) – serial:///dev/ttyUSB0?protocol=motorlab")
    assert "EMULATED" not in grip  # a real device carries no badge
    assert spiral.startswith("Archimedean spiral – sim://pen EMULATED a virtual client")
    assert tasks.nth(1).locator(".badge.emulated").is_visible()
    assert page.locator("#visit-timing").inner_text() == "Grip trials per hand: 3 · timing: standard"
    assert page.locator("#start-visit").is_visible()
    # the terminal way stays available for technicians
    commands = page.locator("#terminal-way li").all_text_contents()
    assert commands == [
        "motorlab record grip --hand both --participant P010 --device serial:///dev/ttyUSB0?protocol=motorlab",
        "motorlab record spiral --participant P010 --device sim://pen",
    ]
    page.screenshot(path=str(artifacts_dir / "app_visit.png"), full_page=True)
    assert probe.errors == []


def test_pairing_in_the_browser(clinic_root, probe, artifacts_dir):
    srv = AppServer(clinic_root, lan_host="127.0.0.2").start()
    try:
        page = _open(probe, srv, "/pairing")
        code = page.locator("#pair-code").inner_text()
        assert re.fullmatch(r"\d{3} \d{3}", code)
        assert page.evaluate("document.querySelector('img.qr').naturalWidth") > 100
        page.screenshot(path=str(artifacts_dir / "app_pairing.png"), full_page=True)
        tablet = probe.context.browser.new_context(viewport={"width": 1024, "height": 768})
        try:
            tab = tablet.new_page()
            tab.goto(f"http://127.0.0.2:{srv.port}/pair")
            tab.fill("#code", code)
            tab.click("button[type=submit]")
            tab.wait_for_url(f"http://127.0.0.2:{srv.port}/task")
            tab.wait_for_function("() => document.getElementById('task').dataset.state === 'idle'")
            assert tab.locator("#idle").inner_text() == "No task is running."
            assert tab.locator("nav").inner_text().split() == ["Clients", "Visit", "Task", "screen"]
        finally:
            tablet.close()
        page.reload()
        assert page.locator("#paired li").count() == 1
    finally:
        srv.stop()
    assert probe.errors == []
