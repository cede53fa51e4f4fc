"""The visit's command channel and forms need the run's token and the server's own Origin.

A visit is running on the emulated dynamometer (the real Recorder, waiting for Space);
a foreign page, a request without the token or with a wrong one must neither start,
stop nor drive it: the WebSocket upgrade is refused (so no command reaches the
recorder) and the visit's POST forms answer 403. The same commands from the
therapist's own screen work.
"""

from __future__ import annotations

import json
import time
import urllib.parse

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from motorlab.clinic import ClientRegistry, make_client

from .app_fixtures import AppServer

VISIT = urllib.parse.urlencode(
    [("client", "P4001"), ("task", "grip"), ("device_force", "sim://grip?seed=8"), ("timing", "standard")]
)


@pytest.fixture
def running_visit(clinic_root):
    ClientRegistry(clinic_root).add(make_client("P4001", 2016, "F", "right"))
    srv = AppServer(clinic_root).start()
    try:
        yield srv
    finally:
        run = srv.app.server.config.app.state.motorlab.visit
        if run is not None:
            run.stop(wait_s=15)
        srv.stop()


def _visit(srv: AppServer):
    return srv.app.server.config.app.state.motorlab.visit


def _socket(srv: AppServer, headers: dict[str, str]):
    return connect(f"ws://127.0.0.1:{srv.port}/ws/live", additional_headers=headers, open_timeout=10)


def _until(srv: AppServer, ws, pred, timeout_s: float = 20.0) -> dict:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        msg = json.loads(ws.recv(timeout=10))
        if pred(msg):
            return msg
    raise AssertionError("the screen never showed the expected state")


def test_visit_forms_and_command_socket_need_token_and_origin(running_visit):
    srv = running_visit
    own = {"Cookie": srv.cookie, "Origin": srv.base}
    # starting a visit: no token, a wrong one, or a foreign Origin are refused and start nothing
    for headers in (
        {"Origin": srv.base},
        {"Cookie": srv.cookie.replace("=", "=x"), "Origin": srv.base},
        {"Cookie": srv.cookie, "Origin": "http://evil.example"},
        {"Cookie": srv.cookie},
    ):
        status, _, _ = srv.request("POST", "/visit/start", headers=headers, body=VISIT)
        assert status == 403, headers
    assert _visit(srv) is None
    assert srv.request("GET", "/visit/current", headers={"Cookie": srv.cookie.replace("=", "=x")})[0] == 403

    status, headers, _ = srv.request("POST", "/visit/start", headers=own, body=VISIT)
    assert (status, headers["location"]) == (303, "/task")
    run = _visit(srv)
    with _socket(srv, own) as ws:
        _until(srv, ws, lambda m: m["type"] == "live" and m["step"]["kind"] == "waiting")
        # the command channel from a foreign page, or without the token, is never opened
        for bad in (
            {"Cookie": srv.cookie, "Origin": "http://evil.example"},
            {"Origin": srv.base},
            {"Cookie": srv.cookie},
        ):
            with pytest.raises(InvalidStatus) as refused:
                _socket(srv, bad)
            assert refused.value.response.status_code == 403
        # nor may a foreign page stop the visit through the form
        hdrs = {"Cookie": srv.cookie, "Origin": "http://evil.example"}
        assert srv.request("POST", "/visit/stop", headers=hdrs, body="")[0] == 403
        assert srv.request("POST", "/visit/start", headers=own, body=VISIT)[0] == 409  # one visit at a time
        time.sleep(0.5)
        assert run.active and run.tasks[0].status == "running"
        # the therapist's own screen drives it
        ws.send(json.dumps({"type": "command", "command": "space", "id": 1}))
        ack = _until(srv, ws, lambda m: m["type"] == "ack")
        assert ack == {"type": "ack", "id": 1, "command": "space", "accepted": True}
        _until(srv, ws, lambda m: m["type"] == "live" and m["step"]["kind"] == "countdown")
        ws.send(json.dumps({"type": "command", "command": "rm -rf", "id": 2}))
        err = _until(srv, ws, lambda m: m["type"] == "error")
        assert err["text"] == "unknown command 'rm -rf'; known: space, repeat, invalid, quit"
    status, headers, _ = srv.request("POST", "/visit/stop", headers=own, body="")
    assert (status, headers["location"]) == (303, "/visit/current")
    assert run.state == "stopped" and run.tasks[0].status == "stopped"
