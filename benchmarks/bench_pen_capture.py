"""Browser pen capture under load: 10 minutes of 240 Hz pen input into ``motorlab app``.

Run: ``python benchmarks/bench_pen_capture.py [--minutes 10] [--realtime-seconds 60]``.

The real server (``python -m motorlab app`` in a subprocess, uvicorn on 127.0.0.1) receives
the pen page's messages from a WebSocket client on the same machine (the run token in the
URL, the Origin header a browser sends): ``hello``, ``start``, sample batches in the page's
wire format (``WIRE_FIELDS``, 12 samples = 50 ms at 240 Hz per batch, as ``pen.js`` sends),
``stop``. Two phases:

* **real time**: ``--realtime-seconds`` of 240 Hz input paced by the clock; server CPU =
  process CPU time (user + system, psutil) / wall time, the idle server's own CPU (its live
  hub ticks 30 times a second) measured before and reported beside it;
* **accelerated**: ``--minutes`` of 240 Hz input sent as fast as the server acknowledges
  (up to 64 batches in flight); the server CPU time per minute of input, divided by 60 s,
  extrapolates the CPU share at real rate (stated as an extrapolation).

Every phase checks 0 samples lost: the server's ``saved`` reply and the rows of the written
``_motion.tsv`` must equal the samples sent. Baseline, measured in the same run: a bare
Starlette WebSocket server (subprocess) that parses each batch and appends its rows as text
to a file, with the same client and input. Asserts nothing; prints numbers and ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from motorlab.devices.codecs.browser_pen import WIRE_FIELDS

RATE_HZ = 240.0
BATCH = 12  # 50 ms at 240 Hz: what pen.js sends every FLUSH_MS
IN_FLIGHT = 64


def sample_rows(start: int, n: int) -> list[list[float | int | None]]:
    """Handwriting-like pen samples: 0.8 s strokes, 0.2 s hover, loops, pressure and tilt."""
    rows: list[list[float | int | None]] = []
    for i in range(start, start + n):
        t = i / RATE_HZ
        down = (t % 1.0) < 0.8
        x = 50 + (30 * t) % 700 + 12 * math.sin(2 * math.pi * 2.5 * t)
        y = 250 - 40 * math.sin(2 * math.pi * 2.5 * t) ** 2
        rows.append(
            [
                round(t * 1000.0, 1),  # event.timeStamp, 0.1 ms steps as in Chromium
                round(x, 2),
                round(y, 2),
                round(0.4 + 0.2 * math.sin(t), 6) if down else 0.0,
                20 + i % 7,
                -10,
                None,  # altitude/azimuth not reported: the server computes them from the tilt
                None,
                0,
                0,
                1 if down else 0,
                0,
                2,
                0,
            ]
        )
    return rows


def _start_server(cmd: list[str], pattern: str, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    deadline = time.monotonic() + 60
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        m = re.search(pattern, line)
        if m:
            return proc, m.group(1)
        if proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit(f"server did not start: {' '.join(cmd)}")


def cpu_s(proc: psutil.Process) -> float:
    c = proc.cpu_times()
    return c.user + c.system


async def drive(url: str, origin: str, n_samples: int, realtime: bool) -> dict[str, float]:
    """Send ``n_samples`` pen samples; returns sent, stored (server), wall s."""
    async with websockets.connect(url, additional_headers={"Origin": origin}, max_size=None) as ws:
        await ws.send(
            json.dumps(
                {
                    "type": "hello",
                    "task": "sentence",
                    "age": 9,
                    "screen": {"width_px": 1920, "height_px": 1080, "device_pixel_ratio": 1},
                    "surface": {"width_px": 960, "height_px": 540},
                }
            )
        )
        json.loads(await ws.recv())
        await ws.send(
            json.dumps(
                {
                    "type": "start",
                    "participant": "P900",
                    "t0_ms": 0.0,
                    "time_origin_ms": 1.7e12,
                    "wire_fields": list(WIRE_FIELDS),
                }
            )
        )
        started = json.loads(await ws.recv())
        assert started.get("type") in ("started", "ok"), started
        t_start = time.perf_counter()
        sent = seq = acked = 0
        while sent < n_samples:
            n = min(BATCH, n_samples - sent)
            await ws.send(json.dumps({"type": "samples", "seq": seq, "samples": sample_rows(sent, n)}))
            sent += n
            seq += 1
            if realtime:
                due = t_start + sent / RATE_HZ
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            while seq - acked > (1 if realtime else IN_FLIGHT):
                json.loads(await ws.recv())
                acked += 1
        await ws.send(json.dumps({"type": "stop", "n_sent": sent}))
        stored = None
        while True:
            msg = json.loads(await ws.recv())
            if msg["type"] in ("saved", "error"):
                stored = msg.get("n_samples")
                lost = msg.get("lost")
                break
        wall = time.perf_counter() - t_start
        return {"sent": sent, "stored": float(stored or 0), "lost": float(lost or 0), "wall_s": wall}


def rows_on_disk(root: Path) -> int:
    files = sorted(root.rglob("*_motion.tsv"), key=os.path.getmtime)
    if not files:
        return 0
    with open(files[-1], "rb") as fh:
        return sum(1 for _ in fh)


def measure(
    cmd: list[str], pattern: str, root: Path, n_samples: int, realtime: bool, url_of, idle_s: float = 0.0
) -> dict[str, float]:
    env = dict(os.environ, MOTORLAB_CONFIG_DIR=str(root / "config"))
    proc, found = _start_server(cmd, pattern, env)
    try:
        ps = psutil.Process(proc.pid)
        idle = math.nan
        if idle_s:
            c0, w0 = cpu_s(ps), time.perf_counter()
            time.sleep(idle_s)
            idle = (cpu_s(ps) - c0) / (time.perf_counter() - w0)
        url, origin = url_of(found)
        _wait_listening(int(re.search(r":(\d+)/", url).group(1)))  # type: ignore[union-attr]
        c0 = cpu_s(ps)
        res = asyncio.run(drive(url, origin, n_samples, realtime))
        res["cpu_s"] = cpu_s(ps) - c0
        res["idle_cpu_frac"] = idle
        res["on_disk"] = float(rows_on_disk(root))
        return res
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


BASELINE_APP = r"""
import json, sys, uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
async def sink(ws):
    await ws.accept()
    fh = open(sys.argv[2], "a")
    n = 0
    while True:
        msg = json.loads(await ws.receive_text())
        if msg["type"] == "samples":
            fh.write("".join("\t".join(map(str, r)) + "\n" for r in msg["samples"])); fh.flush()
            n += len(msg["samples"])
            await ws.send_text(json.dumps({"type": "ack", "stored": n}))
        elif msg["type"] == "stop":
            fh.close()
            await ws.send_text(json.dumps({"type": "saved", "n_samples": n, "lost": msg["n_sent"] - n}))
        else:
            await ws.send_text(json.dumps({"type": "ok"}))
app = Starlette(routes=[WebSocketRoute("/ws/pen", sink)])
print("listening", sys.argv[1], flush=True)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", ws="websockets-sansio")
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="minutes of 240 Hz input (accelerated)")
    ap.add_argument(
        "--realtime-seconds", type=float, default=60.0, help="seconds of input paced in real time"
    )
    args = ap.parse_args()
    n_fast = int(args.minutes * 60 * RATE_HZ)
    n_real = int(args.realtime_seconds * RATE_HZ)
    py = sys.executable

    def motorlab_cmd(root: Path) -> list[str]:
        return [py, "-m", "motorlab", "app", "--no-browser", "--port", "0", "--data", str(root)]

    def motorlab_url(url: str) -> tuple[str, str]:
        m = re.match(r"http://([^/]+)/\?token=(\S+)", url)
        assert m
        return f"ws://{m.group(1)}/ws/pen?token={m.group(2)}", f"http://{m.group(1)}"

    print(
        f"pen capture benchmark: {RATE_HZ:.0f} Hz, batches of {BATCH} samples; "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for phase, n, realtime in (("real time", n_real, True), ("accelerated", n_fast, False)):
            root = Path(tmp) / f"ml-{phase[:4]}"
            root.mkdir()
            r = measure(
                motorlab_cmd(root),
                r"open: (\S+)",
                root,
                n,
                realtime,
                motorlab_url,
                idle_s=5.0 if realtime else 0.0,
            )
            results[("motorlab", phase)] = r
            base_root = Path(tmp) / f"base-{phase[:4]}"
            base_root.mkdir()
            port = _free_port()
            b = measure(
                [py, "-c", BASELINE_APP, str(port), str(base_root / "x_motion.tsv")],
                r"listening (\d+)",
                base_root,
                n,
                realtime,
                lambda p: (f"ws://127.0.0.1:{p}/ws/pen", f"http://127.0.0.1:{p}"),
            )
            results[("baseline", phase)] = b

    for phase in ("real time", "accelerated"):
        m, b = results[("motorlab", phase)], results[("baseline", phase)]
        input_s = m["sent"] / RATE_HZ
        print(
            f"\n{phase}: {m['sent']:.0f} samples = {input_s / 60:.2f} min of input, sent in {m['wall_s']:.1f} s"
        )
        print(
            f"  motorlab: stored {m['stored']:.0f}, lost {m['lost']:.0f}, rows on disk {m['on_disk']:.0f}, "
            f"server CPU {m['cpu_s']:.2f} s"
        )
        print(
            f"  baseline: stored {b['stored']:.0f}, lost {b['lost']:.0f}, rows on disk {b['on_disk']:.0f}, "
            f"server CPU {b['cpu_s']:.2f} s"
        )
        if phase == "real time":
            print(
                f"  server CPU while capturing: motorlab {100 * m['cpu_s'] / m['wall_s']:.2f} % of a core "
                f"(idle server alone: {100 * m['idle_cpu_frac']:.2f} %), baseline "
                f"{100 * b['cpu_s'] / b['wall_s']:.2f} %; ratio {m['cpu_s'] / b['cpu_s']:.2f}x"
            )
        else:
            print(
                f"  extrapolated to real rate (CPU s per s of input): motorlab {100 * m['cpu_s'] / input_s:.2f} % "
                f"of a core, baseline {100 * b['cpu_s'] / input_s:.2f} %; ratio {m['cpu_s'] / b['cpu_s']:.2f}x"
            )
        ok = m["stored"] == m["sent"] == m["on_disk"] and m["lost"] == 0
        print(f"  samples lost: {0 if ok else m['sent'] - m['on_disk']:.0f} ({'OK' if ok else 'LOSS'})")


def _wait_listening(port: int) -> None:
    import socket

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port}")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    main()
