"""The live-state channel: display decimation, the schema, and the hub over a real WebSocket."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time

import numpy as np
import pytest
import websockets

from motorlab.errors import ParameterError
from motorlab.session.controls import KEY_NAMES
from motorlab.ui.web.decimate import decimate_minmax, thin_ink
from motorlab.ui.web.live import (
    COMMANDS,
    KEYS,
    MAX_RATE_HZ,
    DeviceState,
    ForceState,
    LiveBuffer,
    StepState,
    TaskState,
    live_message,
    parse_client_message,
)

from .app_fixtures import AppServer
from .app_publisher import grip_snapshot


# ------------------------------------------------------------------ decimation
def test_minmax_keeps_every_bucket_extreme_in_time_order():
    rng = np.random.default_rng(3)
    t = np.arange(5000) / 1000.0  # 5 s at 1 kHz
    v = 30 * np.sin(2 * np.pi * 0.3 * t) + rng.normal(0, 1, t.size)
    v[2345] = 99.0  # a one-sample peak must survive
    td, vd = decimate_minmax(t, v, 0.02)
    assert td.size <= 2 * 250 and td.size >= 250
    assert np.all(np.diff(td) > 0)
    assert vd.max() == 99.0 and td[np.argmax(vd)] == t[2345]
    assert vd.min() == v.min()
    buckets = np.floor(t / 0.02).astype(int)
    for b in (0, 117, 249):
        sel = buckets == b
        kept = vd[np.floor(td / 0.02).astype(int) == b]
        assert set(kept) == {v[sel].min(), v[sel].max()}


def test_minmax_in_chunks_matches_whole_and_drops_nan():
    t = np.arange(1000) / 80.0
    v = np.cos(t)
    v[10] = np.nan
    whole = decimate_minmax(t, v, 0.1)
    parts = [decimate_minmax(t[i : i + 37], v[i : i + 37], 0.1) for i in range(0, 1000, 37)]
    ct = np.concatenate([p[0] for p in parts])
    cv = np.concatenate([p[1] for p in parts])
    assert set(whole[0]) <= set(ct)  # chunking only adds boundary samples
    assert ct.size <= whole[0].size + 2 * len(parts)
    assert np.all(np.isfinite(cv)) and t[10] not in ct
    with pytest.raises(ParameterError, match="bucket_s"):
        decimate_minmax(t, v, 0)
    with pytest.raises(ParameterError, match="values has"):
        decimate_minmax(t, v[:-1])


def test_thin_ink_keeps_stroke_ends_and_spacing():
    x = np.r_[np.linspace(0, 10, 101), [10, 10], np.linspace(20, 20.1, 5)]
    y = np.zeros_like(x)
    down = np.r_[np.ones(101), [0, 0], np.ones(5)]
    idx, new = thin_ink(x, y, down, 0.5)
    assert idx[0] == 0 and new[0]
    assert 100 in idx  # last point of stroke 1
    assert 101 not in idx and 102 not in idx  # pen up is not ink
    assert idx[new].tolist() == [0, 103]  # two strokes start
    assert 107 in idx  # end of stroke 2 even though it moved < 0.5 mm
    steps = np.hypot(np.diff(x[idx[:-1]]), np.diff(y[idx[:-1]]))
    assert np.all(steps[~new[1:-1]] >= 0.5 - 1e-9)
    # a stroke that continues from the previous chunk is not a new stroke
    idx2, new2 = thin_ink(np.array([10.6, 11.2]), np.zeros(2), np.ones(2), 0.5, last=(10.0, 0.0))
    assert idx2.tolist() == [0, 1] and not new2.any()


# ---------------------------------------------------------------------- schema
def test_commands_are_the_terminal_keys():
    assert set(COMMANDS) == set(KEY_NAMES.values())
    assert {KEYS[k] for k in KEYS} == set(COMMANDS)
    assert all(KEY_NAMES[k] == v for k, v in KEYS.items())


def test_schema_validates_and_serialises():
    with pytest.raises(ParameterError, match="view"):
        TaskState("grip", "bars", "x")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="step kind"):
        StepState("go")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="link"):
        DeviceState("sim://grip", link="maybe")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="scale_max"):
        ForceState("kg", 0.0)
    msg = live_message(7, grip_snapshot(12.3456, peak=float("nan")), None, None)
    back = json.loads(json.dumps(msg, allow_nan=False))
    assert back["type"] == "live" and back["schema"] == 1 and back["seq"] == 7
    assert back["force"]["now"] == 12.346 and back["force"]["peak"] is None
    assert back["task"]["view"] == "force_max" and back["device"]["emulated"] is True


def test_client_messages_are_validated():
    assert parse_client_message({"type": "command", "command": "repeat", "id": 3}) == ("command", "repeat", 3)
    assert parse_client_message({"type": "note", "text": " tired today "}) == ("note", "tired today", None)
    for bad, why in (
        ([], "JSON object"),
        ({"type": "command", "command": "format_disk"}, "unknown command"),
        ({"type": "note", "text": "x" * 2001}, "limited"),
        ({"type": "note", "text": "  "}, "needs some text"),
        ({"type": "command", "command": "quit", "id": "1"}, "integer"),
        ({"type": "eval"}, "unknown message type"),
    ):
        with pytest.raises(ParameterError, match=why):
            parse_client_message(bad)


# ---------------------------------------------------------- hub over WebSocket
async def _collect(srv: AppServer, seconds: float, send: list[dict] | None = None) -> list[dict]:
    out: list[dict] = []
    headers = {"Origin": srv.base, "Cookie": srv.cookie}
    async with websockets.connect(f"ws://127.0.0.1:{srv.port}/ws/live", additional_headers=headers) as ws:
        for m in send or []:
            await ws.send(json.dumps(m))
        end = asyncio.get_running_loop().time() + seconds
        while True:
            left = end - asyncio.get_running_loop().time()
            if left <= 0:
                break
            try:
                out.append(json.loads(await asyncio.wait_for(ws.recv(), left)))
            except asyncio.TimeoutError:
                break
    return out


def _feed(buf: LiveBuffer, stop: threading.Event, truth: list[np.ndarray], key: str = "right-1") -> None:
    """A 1 kHz force producer in its own thread (a recorder pushes from its reader)."""
    k = 0
    while not stop.is_set():
        t = (k + np.arange(10)) / 1000.0
        v = 20 + 10 * np.sin(2 * np.pi * 0.7 * t)
        if k == 600:
            v[4] = 37.5  # one-sample spike
        truth.append(np.c_[t, v])
        buf.push_force(t, v)
        buf.publish(grip_snapshot(float(v[-1]), trial_key=key))
        k += 10
        time.sleep(0.01)


def test_hub_streams_at_most_30_per_second_and_keeps_the_whole_curve(clinic_root):
    srv = AppServer(clinic_root).start()
    buf = LiveBuffer()
    stop = threading.Event()
    truth: list[np.ndarray] = []
    try:
        srv.hub.attach(buf)
        feeder = threading.Thread(target=_feed, args=(buf, stop, truth), daemon=True)
        feeder.start()
        msgs = asyncio.run(_collect(srv, 2.0))
        late = asyncio.run(_collect(srv, 0.3))  # a screen that connects mid-trial
        stop.set()
        feeder.join(5)
    finally:
        srv.stop()
    live = [m for m in msgs if m["type"] == "live"]
    assert len(live) >= 10
    assert len(msgs) <= MAX_RATE_HZ * 2.0 + 2  # never more than 30 messages a second
    seqs = [m["seq"] for m in live]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    # the curve arrives in contiguous chunks, and keeps the one-sample spike
    pts: list[list[float]] = []
    for m in live:
        assert m["curve"]["from"] == len(pts) and m["curve"]["trial_key"] == "right-1#0"
        pts.extend(m["curve"]["points"])
    sent = np.concatenate(truth)
    assert max(p[1] for p in pts) == 37.5
    assert len(pts) < 0.25 * len(sent)  # decimated: 1 kHz in, at most 100 points/s out
    assert all(b[0] > a[0] for a, b in itertools.pairwise(pts))
    first_late = next(m for m in late if m["type"] == "live")
    assert first_late["curve"]["from"] == 0 and len(first_late["curve"]["points"]) >= len(pts)


def test_new_trial_resets_the_curve(clinic_root):
    srv = AppServer(clinic_root).start()
    buf = LiveBuffer()
    try:
        srv.hub.attach(buf)
        buf.push_force([0.0, 0.01], [1.0, 2.0])
        buf.publish(grip_snapshot(2.0, trial_key="right-1"))

        async def run() -> list[dict]:
            headers = {"Origin": srv.base, "Cookie": srv.cookie}
            got = []
            async with websockets.connect(
                f"ws://127.0.0.1:{srv.port}/ws/live", additional_headers=headers
            ) as ws:
                first = json.loads(await asyncio.wait_for(ws.recv(), 5))
                while first["type"] != "live":  # the hub may not have polled the source yet
                    first = json.loads(await asyncio.wait_for(ws.recv(), 5))
                got.append(first)
                buf.push_force([5.0], [9.0])
                buf.publish(grip_snapshot(9.0, trial_key="left-1"))
                got.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
            return got

        first, second = asyncio.run(run())
    finally:
        srv.stop()
    assert first["curve"] == {"trial_key": "right-1#0", "from": 0, "points": [[0.0, 1.0], [0.01, 2.0]]}
    assert second["curve"] == {"trial_key": "left-1#0", "from": 0, "points": [[0.0, 9.0]]}


def test_commands_and_notes_reach_the_source_and_are_acknowledged(clinic_root):
    srv = AppServer(clinic_root).start()
    seen: list[str] = []
    buf = LiveBuffer(on_command=seen.append)
    try:
        no_task = asyncio.run(_collect(srv, 0.5, [{"type": "command", "command": "space", "id": 1}]))
        srv.hub.attach(buf)
        buf.publish(grip_snapshot(1.0))
        sent = [
            {"type": "command", "command": c, "id": i}
            for i, c in enumerate(("space", "repeat", "invalid"), 1)
        ]
        sent += [{"type": "note", "text": "child was tired", "id": 9}, {"type": "command", "command": "rm"}]
        msgs = asyncio.run(_collect(srv, 1.0, sent))
    finally:
        srv.stop()
    ack0 = next(m for m in no_task if m["type"] == "ack")
    assert ack0 == {
        "type": "ack",
        "id": 1,
        "command": "space",
        "accepted": False,
        "text": "No task is running.",
    }
    acks = [m for m in msgs if m["type"] == "ack"]
    assert [(a["id"], a["accepted"]) for a in acks] == [(1, True), (2, True), (3, True), (9, True)]
    assert seen == ["space", "repeat", "invalid"] and buf.notes == ["child was tired"]
    err = next(m for m in msgs if m["type"] == "error")
    assert "unknown command 'rm'" in err["text"]


class _Broken:
    def poll(self):
        raise RuntimeError("driver thread died")

    def command(self, name: str) -> None:
        pass

    def note(self, text: str) -> None:
        pass


def test_a_failing_source_is_reported_in_words(clinic_root):
    srv = AppServer(clinic_root).start()
    try:
        srv.hub.attach(_Broken())
        time.sleep(0.2)
        msgs = asyncio.run(_collect(srv, 0.5))
    finally:
        srv.stop()
    assert msgs[-1] == {
        "type": "idle",
        "schema": 1,
        "text": "The live task stopped answering (driver thread died).",
    }
