"""The pen page's WebSocket on the real server (uvicorn on 127.0.0.1), without a browser:
the app's token and Origin checks guard it, bad messages get one-line errors, a page that
disappears mid-recording leaves a finalised file with every sample that arrived."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import websockets

from motorlab.devices.codecs.browser_pen import WIRE_FIELDS
from motorlab.storage.bids import read_header, read_recording

from .app_fixtures import AppServer


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MOTORLAB_CONFIG_DIR", str(tmp_path / "config"))
    root = tmp_path / "clinic"
    root.mkdir()
    srv = AppServer(root).start()
    try:
        yield srv
    finally:
        srv.stop()


HELLO = {
    "type": "hello",
    "task": "loops",
    "screen": {"width_px": 1280, "height_px": 800, "device_pixel_ratio": 1},
    "surface": {"width_px": 800, "height_px": 400},
}
START = {"type": "start", "participant": "P010", "t0_ms": 100.0, "wire_fields": list(WIRE_FIELDS)}


def rows(start: int, n: int) -> list[list[Any]]:
    return [
        [100.0 + 5 * i, 10 + i, 200, 0.5, 5, 5, None, None, 0, 0, 1, 0, 2, 0] for i in range(start, start + n)
    ]


def _url(srv: AppServer, token: str | None = None) -> str:
    return f"ws://127.0.0.1:{srv.port}/ws/pen?token={token if token is not None else srv.token}"


async def _talk(
    srv: AppServer, messages: list[dict[str, Any]], origin: str | None = None
) -> list[dict[str, Any]]:
    replies = []
    async with websockets.connect(
        _url(srv), additional_headers={"Origin": origin or srv.base}, max_size=None
    ) as ws:
        for m in messages:
            await ws.send(json.dumps(m))
            if m["type"] != "mark":
                replies.append(json.loads(await ws.recv()))
    return replies


def test_the_socket_needs_the_token_and_the_app_origin(server: AppServer) -> None:
    async def refused(url: str, origin: str) -> bool:
        try:
            async with websockets.connect(url, additional_headers={"Origin": origin}):
                return False
        except websockets.exceptions.InvalidStatus as exc:
            return exc.response.status_code == 403

    assert asyncio.run(refused(_url(server, "wrong"), server.base))
    assert asyncio.run(refused(_url(server), "http://evil.example"))
    assert asyncio.run(_talk(server, [HELLO]))[0]["type"] == "task"


def test_bad_messages_get_one_line_errors_and_change_nothing(server: AppServer) -> None:
    bad = [
        {"type": "samples", "seq": 0, "samples": rows(0, 3)},  # before start
        {**HELLO, "screen": {"width_px": -1}},
        HELLO,
        {**START, "participant": "Anna Smith"},  # never a name
        {**START, "wire_fields": ["t_ms"]},
        START,
        {"type": "samples", "seq": 0, "samples": rows(0, 201)},
        {"type": "launch"},
        HELLO,  # the task cannot change under a running recording
    ]
    replies = asyncio.run(_talk(server, bad))
    kinds = [r["type"] for r in replies]
    assert kinds == ["error", "error", "task", "error", "error", "started", "error", "error", "error"]
    texts = [r["text"] for r in replies if r["type"] == "error"]
    assert all("\n" not in t for t in texts)
    assert "samples before start" in texts[0] and "at most 200" in texts[4] and "'launch'" in texts[5]
    assert "recording is running" in texts[6]
    assert "not a valid BIDS label" in texts[2] and "another sample layout" in texts[3]
    assert not list(server.root.rglob("*Anna*"))


def test_a_page_that_goes_away_mid_recording_leaves_a_finalised_file(server: AppServer) -> None:
    msgs = [HELLO, START, *({"type": "samples", "seq": k, "samples": rows(20 * k, 20)} for k in range(5))]
    replies = asyncio.run(_talk(server, msgs))  # the connection closes without "stop"
    assert replies[-1] == {"type": "ack", "seq": 4, "stored": 100}
    path = next(server.root.rglob("*task-loops*_motion.tsv"))
    for _ in range(50):  # the server finalises when it sees the close
        if read_header(path).status == "complete":
            break
        asyncio.run(asyncio.sleep(0.1))
    head = read_header(path)
    assert head.status == "complete" and head.sidecar["MotorlabSamplesSent"] is None
    assert head.sidecar["MotorlabPenCapture"]["coalesced_events"] is True
    assert "no_coalesced_events" not in {f["code"] for f in head.metadata.extra["quality_flags"]}
    rec = read_recording(path)
    assert rec.n_samples == 100 and rec.timestamps[-1] == pytest.approx(0.495)


def test_the_pen_page_takes_age_and_hand_from_the_clients_record(server: AppServer) -> None:
    import datetime as dt
    import re

    from motorlab.clinic import ClientRegistry, make_client

    ClientRegistry(server.root).add(make_client("P011", dt.date.today().year - 7, "F", "left"))
    status, _, body = server.request(
        "GET", "/pen?participant=P011&task=sentence", headers={"Cookie": server.cookie}
    )
    assert status == 200
    assert re.search(r'data-age="7"', body) and re.search(r'data-hand="left"', body)
    reply = asyncio.run(_talk(server, [{**HELLO, "task": "sentence", "age": 7}]))[0]
    assert reply["task"]["prompt"] == "I can see a big red bus."  # under 8: the short sentence
    status, _, body = server.request(
        "GET", "/pen?participant=Anna%20Smith", headers={"Cookie": server.cookie}
    )
    assert status == 400 and "participant=ID" in body


def test_a_page_without_coalesced_events_is_flagged(server: AppServer) -> None:
    msgs = [
        HELLO,
        {**START, "participant": "P012", "coalesced_events": False},
        {"type": "samples", "seq": 0, "samples": rows(0, 30)},
        {"type": "stop", "n_sent": 30},
    ]
    replies = asyncio.run(_talk(server, msgs))
    assert replies[3]["type"] == "saved" and replies[3]["lost"] == 0
    assert "no_coalesced_events" in replies[3]["flags"]
    head = read_header(next(server.root.rglob("sub-P012/**/*_motion.tsv")))
    assert head.sidecar["MotorlabPenCapture"]["coalesced_events"] is False


def test_the_client_page_links_the_pen_tasks(server: AppServer) -> None:
    import datetime as dt

    from motorlab.clinic import ClientRegistry, make_client

    ClientRegistry(server.root).add(make_client("P013", dt.date.today().year - 9, "M", "right"))
    status, _, body = server.request("GET", "/clients/P013", headers={"Cookie": server.cookie})
    assert status == 200
    for task in ("sentence", "spiral", "trace", "loops"):
        assert f'href="/pen?participant=P013&amp;task={task}' in body
    status, _, page = server.request(
        "GET", "/pen?participant=P013&task=loops", headers={"Cookie": server.cookie}
    )
    assert status == 200 and 'data-task="loops"' in page and 'data-hand="right"' in page


def test_a_full_disk_stops_the_recording_with_one_line_and_keeps_what_was_written(
    server: AppServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from motorlab.storage.bids import RecordingWriter

    real_append = RecordingWriter.append
    calls = {"n": 0}

    def append(self, t, v):  # the third batch finds the disk full
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(self.path))
        real_append(self, t, v)

    monkeypatch.setattr(RecordingWriter, "append", append)
    msgs = [HELLO, {**START, "participant": "P014"}]
    msgs += [{"type": "samples", "seq": k, "samples": rows(20 * k, 20)} for k in range(4)]
    replies = asyncio.run(_talk(server, msgs))
    assert [r["type"] for r in replies[2:]] == ["ack", "ack", "error", "error"]
    assert "No space left on device" in replies[4]["text"] and "\n" not in replies[4]["text"]
    assert replies[5]["text"] == "samples before start"  # nothing more is written
    path = next(server.root.rglob("sub-P014/**/*_motion.tsv"))
    assert read_recording(path).n_samples == 40
