"""Live-screen latency of ``motorlab app``: sample pushed -> message received by a screen.

Run: ``python benchmarks/bench_app_live.py [--seconds 5]``. A producer thread pushes an
80 Hz grip force and a 1 kHz pen (the load of issue 14) into a ``LiveBuffer`` attached
to the real server (uvicorn on 127.0.0.1); a WebSocket client on the same machine
stands in for the screen. Each force value is the push time (ms), so every curve point
that arrives gives one latency. Baseline, measured in the same run: the same pushes
sent straight through a bare ``websockets`` server (no hub, no decimation, no pacing).
The app's budget is 100 ms sample-to-screen; the browser adds one frame (~16 ms) on top
of what is measured here. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from motorlab.ui.web.hub import LiveHub
from motorlab.ui.web.live import (
    DeviceState,
    ForceState,
    LiveBuffer,
    LiveSnapshot,
    PenState,
    StepState,
    TaskState,
)
from motorlab.ui.web.server import prepare

T0 = time.perf_counter()


def now_ms() -> float:
    return (time.perf_counter() - T0) * 1000.0


def snapshot(v: float) -> LiveSnapshot:
    return LiveSnapshot(
        TaskState("grip", "force_max", "Squeeze", "right", 1, 3, "k"),
        StepState("trial", "Squeeze!", 3.0, 5.0),
        DeviceState("sim://grip", emulated=True),
        force=ForceState("kg", 1e9, v, v),
        pen=PenState(True, 1.0, "N", 4.0, 1, True, 200.0, 120.0),
    )


def produce(seconds: float, on_force, on_pen) -> None:
    """80 Hz force (value = push time, ms) and 1 kHz pen in 5-sample blocks, paced by the clock."""
    end = time.perf_counter() + seconds
    k_pen = 0
    next_force = time.perf_counter()
    while time.perf_counter() < end:
        t = now_ms()
        if time.perf_counter() >= next_force:
            on_force(t)
            next_force += 1 / 80
        idx = k_pen + np.arange(5)
        on_pen(
            idx / 1000.0, 20 + 0.05 * (idx % 3000), 60 + 10 * np.sin(idx / 50), np.ones(5), np.full(5, 1.0)
        )
        k_pen += 5
        time.sleep(0.005)


async def screen(url: str, headers: dict[str, str], seconds: float) -> list[float]:
    lat: list[float] = []
    async with websockets.connect(url, additional_headers=headers, max_size=None) as ws:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            try:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 1.0))
            except asyncio.TimeoutError:
                continue
            got = now_ms()
            curve = msg.get("curve") or {}
            lat.extend(got - v for _, v in curve.get("points", []))
            if "v" in msg:
                lat.append(got - msg["v"])
    return lat


def run_app(seconds: float) -> list[float]:
    hub = LiveHub()
    app = prepare(tempfile.mkdtemp(), 0, None, hub)
    th = threading.Thread(target=app.run, daemon=True)
    th.start()
    while not app.server.started:
        time.sleep(0.01)
    buf = LiveBuffer()
    hub.attach(buf)

    def on_force(t: float) -> None:
        buf.push_force([t / 1000.0], [t])
        buf.publish(snapshot(t))

    prod = threading.Thread(target=produce, args=(seconds, on_force, buf.push_pen), daemon=True)
    headers = {
        "Origin": f"http://127.0.0.1:{app.access.port}",
        "Cookie": f"{app.access.cookie_name}={app.access.token}",
    }
    url = f"ws://127.0.0.1:{app.access.port}/ws/live"

    async def main() -> list[float]:
        task = asyncio.ensure_future(screen(url, headers, seconds + 0.5))
        await asyncio.sleep(0.3)
        prod.start()
        return await task

    lat = asyncio.run(main())
    app.server.should_exit = True
    th.join(10)
    return lat


def run_baseline(seconds: float) -> list[float]:
    """The same force pushes sent at once by a bare websockets server (transport only)."""
    lat: list[float] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[float] = asyncio.Queue()

        async def handler(ws) -> None:
            while True:
                try:
                    v = await asyncio.wait_for(queue.get(), 1.0)
                except asyncio.TimeoutError:
                    return  # the producer has finished
                await ws.send(json.dumps({"v": v}))

        async with websockets.serve(handler, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            task = asyncio.ensure_future(screen(f"ws://127.0.0.1:{port}", {}, seconds + 0.5))
            await asyncio.sleep(0.3)
            prod = threading.Thread(
                target=produce,
                args=(seconds, lambda t: loop.call_soon_threadsafe(queue.put_nowait, t), lambda *a: None),
                daemon=True,
            )
            prod.start()
            lat.extend(await task)

    asyncio.run(main())
    return lat


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    base = np.asarray(run_baseline(args.seconds))
    app = np.asarray(run_app(args.seconds))
    print(f"load: 80 Hz grip + 1 kHz pen for {args.seconds:g} s; display rate cap 30 messages/s")
    for name, x in (("bare websocket (baseline)", base), ("motorlab app hub", app)):
        print(
            f"{name:28s} n={x.size:5d}  p50 {np.median(x):6.1f} ms  p95 {np.percentile(x, 95):6.1f} ms  "
            f"max {x.max():6.1f} ms"
        )
    print(
        f"ratio app/baseline: p50 {np.median(app) / np.median(base):.1f}x, p95 "
        f"{np.percentile(app, 95) / np.percentile(base, 95):.1f}x; budget 100 ms sample-to-screen "
        f"(p95 {'within' if np.percentile(app, 95) < 100 else 'OVER'} budget before the browser's frame)"
    )


if __name__ == "__main__":
    main()
