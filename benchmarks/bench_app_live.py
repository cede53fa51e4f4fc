"""Live-screen latency of ``motorlab app``: device sample -> screen, through the real Recorder path.

Run: ``python benchmarks/bench_app_live.py [--seconds 8] [--no-browser]``. Load of issue 14:
an 80 Hz grip and a 1 kHz pen recorded at the same time. Measured in one run:

1. **Recorder path** (what a visit does): ``sim://grip?rate=80`` and ``sim://pen?rate=1000``,
   each emulator on its own pty, each read by its driver and recorded by its own
   ``Recorder`` (BIDS files on disk), both in the visit's background event loop. One of
   them is shown: its ``RecorderLiveSource`` is attached to the hub of the real uvicorn
   server, a WebSocket client and (unless ``--no-browser``) Debian's Chromium on the real
   task screen receive it. Each message names the recording time of its newest sample
   (``device.latest_t_s``); with the recorder's ``t = 0`` on CLOCK_MONOTONIC (sidecar)
   that gives, per message, the age of its *newest* sample on arrival and of its *oldest*
   one (the sample just after the previous message's newest), i.e. the range every
   sample's device-to-screen latency lies in. Chromium: the time of the next animation
   frame after the page stored the message (``requestAnimationFrame``), clocks lined up
   through the wall clock.
2. **Baseline, device -> bare WebSocket**: the same emulated grip read by the same driver
   and acquisition (same time axis), every block's newest sample sent at once through a
   bare ``websockets`` server: no Recorder, no file, no hub, no decimation, no 30/s pacing.
3. The older synthetic check: samples pushed into a ``LiveBuffer`` -> hub -> client, and the
   same pushes through a bare WebSocket.

Budget: 100 ms sample-to-screen. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
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
from motorlab.ui.web.live_source import RecorderLiveSource, ScreenSetup
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


# ------------------------------------------------------------------ the Recorder path
def _record(root: Path, url: str, participant: str, seconds: float, view: str, hub: LiveHub | None):
    """Record ``seconds`` of one emulated device through a Recorder; attach its live source to ``hub``."""
    from motorlab.devices.registry import open_device
    from motorlab.session import ControlQueue, Recorder, RecordingTarget, grip_protocol, handwriting_protocol

    if view == "force_max":
        proto = grip_protocol(trials=1, countdown_s=0.5, squeeze_s=seconds, rest_s=0.5)
    else:
        proto = handwriting_protocol(duration_s=seconds, countdown_s=0.5)

    async def go():
        async with await open_device(url) as device:
            info = await device.driver.info()
            src = RecorderLiveSource(ScreenSetup(view, "bench", url, True, 100.0), proto, info.channels)  # type: ignore[arg-type]
            rec = Recorder(
                device,
                proto,
                RecordingTarget(root, participant),
                controls=ControlQueue(),
                publish_interval_s=1 / 30,
            )
            rec.subscribe(src.on_snapshot)
            rec.add_sample_tap(src.on_samples)
            if hub is not None:
                hub.attach(src)
            return await rec.run()

    return go()


def _t0_of(root: Path, participant: str) -> float:
    (side,) = root.glob(f"sub-{participant}/ses-01/motion/*_motion.json")
    return float(json.loads(side.read_text())["MotorlabHostMonotonicT0"])


#: the two devices of issue 14's load: URL and the task-screen view that shows it
URLS = {"grip": ("sim://grip?seed=1&rate=80", "force_max"), "pen": ("sim://pen?seed=1&rate=1000", "pen")}

#: ``--external``: each emulator in a process of its own on its pty, opened by its serial URL
#: as real hardware is (the participant then gets no cues: the values are rest noise)
EMULATOR_PROCESS = """
import sys, time
from motorlab.sim.emulators.grip_hx711 import GripHX711Emulator
from motorlab.sim.emulators.imu_pen import IMUPenEmulator
emu = GripHX711Emulator(rate_hz=80.0) if sys.argv[1] == "grip" else IMUPenEmulator(rate_hz=1000.0)
print(emu.link.link_path, flush=True)
sys.stdin.read()
"""


def external_devices() -> tuple[dict[str, tuple[str, str]], list]:
    """Start both emulators in their own processes; their serial URLs and the processes."""
    import subprocess

    urls, procs = {}, []
    for name, (_, view) in URLS.items():
        proc = subprocess.Popen(
            [sys.executable, "-c", EMULATOR_PROCESS, name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=str(Path(__file__).resolve().parents[1]),
        )
        assert proc.stdout is not None
        urls[name] = (f"serial://{proc.stdout.readline().strip()}?protocol=motorlab", view)
        procs.append(proc)
    return urls, procs


BROWSER_JS = """() => {
  window.__frames = [];
  const root = document.getElementById('task');
  new MutationObserver(() => {
    const t = parseFloat(root.dataset.latestT);
    requestAnimationFrame(() => window.__frames.push([t, performance.timeOrigin + performance.now()]));
  }).observe(root, {attributes: true, attributeFilter: ['data-latest-t']});
}"""


def run_recorder_path(
    seconds: float, show: str, browser: bool, urls: dict[str, tuple[str, str]] = URLS
) -> dict[str, np.ndarray]:
    """Both devices recorded at once; ``show`` (grip or pen) on the screens. Latencies in ms."""
    root = Path(tempfile.mkdtemp(prefix="bench_app_"))
    hub = LiveHub()
    app = prepare(root, 0, None, hub)
    th = threading.Thread(target=app.run, daemon=True)
    th.start()
    while not app.server.started:
        time.sleep(0.01)
    port = app.access.port
    headers = {"Origin": f"http://127.0.0.1:{port}", "Cookie": f"{app.access.cookie_name}={app.access.token}"}
    received: list[tuple[float, float]] = []  # (arrival monotonic s, newest sample's recording time s)
    stop = threading.Event()

    async def client() -> None:
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws/live", additional_headers=headers) as ws:
            while not stop.is_set():
                try:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
                except asyncio.TimeoutError:
                    continue
                got = time.monotonic()
                if (
                    msg.get("type") == "live"
                    and msg["step"]["kind"] == "trial"
                    and msg["device"]["latest_t_s"]
                ):
                    received.append((got, msg["device"]["latest_t_s"]))

    cthread = threading.Thread(target=lambda: asyncio.run(client()), daemon=True)
    cthread.start()
    page = pw = browser_obj = None
    if browser:
        from playwright.sync_api import sync_playwright

        pw = sync_playwright().start()
        browser_obj = pw.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        page = browser_obj.new_page()
        page.goto(app.access.url)
        page.goto(f"http://127.0.0.1:{port}/task")
        page.evaluate(BROWSER_JS)

    async def both() -> None:
        await asyncio.gather(
            *(
                _record(root, url, f"B{i}00", seconds, view, hub if name == show else None)
                for i, (name, (url, view)) in enumerate(urls.items(), start=1)
            )
        )

    rthread = threading.Thread(target=lambda: asyncio.run(both()), daemon=True)
    rthread.start()
    while rthread.is_alive():
        rthread.join(0.2)
        if page is not None:
            page.wait_for_timeout(50)  # let Playwright serve the page's events
    time.sleep(0.3)
    stop.set()
    cthread.join(5)
    frames: list[list[float]] = page.evaluate("window.__frames") if page is not None else []
    wall_minus_mono = time.time() - time.monotonic()
    if browser_obj is not None and pw is not None:
        browser_obj.close()
        pw.stop()
    app.server.should_exit = True
    th.join(10)
    t0 = _t0_of(root, "B100" if show == "grip" else "B200")
    rate = 80.0 if show == "grip" else 1000.0
    arr = np.asarray(received)
    newest = (arr[:, 0] - (t0 + arr[:, 1])) * 1000
    oldest = (arr[1:, 0] - (t0 + arr[:-1, 1] + 1 / rate)) * 1000
    out = {"newest": newest, "oldest": np.maximum(oldest, newest[1:])}
    if frames:
        fr = np.asarray(frames)
        out["browser"] = (fr[:, 1] / 1000 - wall_minus_mono - (t0 + fr[:, 0])) * 1000
    shutil.rmtree(root, ignore_errors=True)
    return out


def run_device_baseline(url: str, seconds: float) -> np.ndarray:
    """An emulated device through driver + acquisition, each block's newest sample sent at once (ms)."""
    from motorlab.devices.registry import open_device
    from motorlab.session import Acquisition

    lat: list[float] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[float] = asyncio.Queue()

        async def handler(ws) -> None:
            while True:
                try:
                    t = await asyncio.wait_for(queue.get(), 1.0)
                except asyncio.TimeoutError:
                    return
                await ws.send(json.dumps({"t": t}))

        async def screen(port: int) -> None:
            async with websockets.connect(f"ws://127.0.0.1:{port}") as ws:
                while True:
                    try:
                        msg = json.loads(await asyncio.wait_for(ws.recv(), 1.5))
                    except (asyncio.TimeoutError, websockets.ConnectionClosed):
                        return
                    lat.append((time.monotonic() - msg["t"]) * 1000)

        async with websockets.serve(handler, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            task = asyncio.ensure_future(screen(port))
            async with await open_device(url) as device:
                await device.driver.info()
                t0 = time.monotonic()
                acq = Acquisition(device.driver, None, t0=t0)
                acq.add_tap(lambda t, v: loop.call_soon(queue.put_nowait, t0 + float(t[-1])))
                await device.driver.start()
                acq.start()
                await asyncio.sleep(seconds)
                await acq.stop()
                await device.driver.stop()
            await task

    asyncio.run(main())
    return np.asarray(lat)


def _stats(x: np.ndarray) -> str:
    return f"n={x.size:5d}  p50 {np.median(x):6.1f} ms  p95 {np.percentile(x, 95):6.1f} ms  max {x.max():6.1f} ms"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--no-browser", action="store_true", help="measure to the WebSocket client only")
    ap.add_argument(
        "--external",
        action="store_true",
        help="emulators in processes of their own, opened by serial:// URL as real devices are",
    )
    args = ap.parse_args()
    urls, procs = external_devices() if args.external else (URLS, [])
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(
        f"host {platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    print(
        f"load: sim://grip 80 Hz + sim://pen 1 kHz recorded at once, {args.seconds:g} s each; screen cap 30 msg/s"
    )
    browser = not args.no_browser and (shutil.which("chromium") or os.path.exists("/usr/bin/chromium"))
    rows: list[tuple[str, np.ndarray]] = []
    ratios = []
    for show in ("grip", "pen"):
        base_dev = run_device_baseline(urls[show][0], args.seconds)
        res = run_recorder_path(args.seconds, show, bool(browser), urls)
        rows.append((f"{show}: device -> bare websocket (baseline)", base_dev))
        rows.append((f"{show}: Recorder -> app, newest sample", res["newest"]))
        rows.append((f"{show}: Recorder -> app, oldest sample", res["oldest"]))
        if "browser" in res:
            rows.append((f"{show}: Recorder -> Chromium frame, newest", res["browser"]))
        # sample times come from the driver's device->host clock map, which may place a sample a
        # few ms before its bytes arrived (a baseline near 0 or below): ratios use >= 1 ms and the
        # differences are printed too
        b50, b95 = max(1.0, float(np.median(base_dev))), max(1.0, float(np.percentile(base_dev, 95)))
        o50, o95 = float(np.median(res["oldest"])), float(np.percentile(res["oldest"], 95))
        ratios.append(
            f"{show} p50 {o50 / b50:.1f}x (+{o50 - np.median(base_dev):.0f} ms), "
            f"p95 {o95 / b95:.1f}x (+{o95 - np.percentile(base_dev, 95):.0f} ms)"
        )
    for proc in procs:
        proc.kill()
    print(f"devices: {', '.join(u for u, _ in urls.values())}")
    for name, x in rows:
        print(f"{name:44s} {_stats(x)}")
    worst = max(float(np.percentile(x, 95)) for name, x in rows if "baseline" not in name)
    print(
        f"ratio app (oldest sample) / baseline: {'; '.join(ratios)}; budget 100 ms: worst p95 {worst:.1f} ms "
        f"({'within' if worst < 100 else 'OVER'} budget)"
    )
    print("synthetic (LiveBuffer pushes, no devices):")
    base = np.asarray(run_baseline(min(args.seconds, 5.0)))
    app = np.asarray(run_app(min(args.seconds, 5.0)))
    for name, x in (("bare websocket (baseline)", base), ("motorlab app hub", app)):
        print(f"  {name:42s} {_stats(x)}")
    print(f"  ratio app/baseline: p50 {np.median(app) / np.median(base):.1f}x")


if __name__ == "__main__":
    main()
