"""Live streaming: the IMU pen at 1 kHz and a grip dynamometer at 80 Hz at once, over pseudo-terminals.

Run: ``python benchmarks/bench_streaming.py [--seconds 60] [--lsl]``.

Both emulators speak their real wire protocol on a pty; the real drivers read
them through pyserial. For each device it prints

* samples lost: gaps in the device clock (expected samples from first to last
  device time at the nominal rate, minus samples received), the drops the
  codec counted, and samples the emulated device says it sent (goal 0 lost);
* latency p50/p99 from byte arrival (``SampleBlock.host_time``, stamped by the
  serial reader thread) to the sample being handed to the consumer (goal p99 < 20 ms);

and the CPU time of the whole process (drivers, emulators and, with ``--lsl``,
two LSL outlets) as a percentage of one core. The emulators run as threads of
the same process, so the CPU figure is an upper bound for the host side alone.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
import time

import numpy as np


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.node()} | {platform.processor() or platform.machine()} | {os.cpu_count()} cores | "
        f"Python {platform.python_version()} | load average {load:.1f} at start"
    )


async def _run(url: str, rate_hz: float, seconds: float, lsl: bool, cues: list[tuple[float, str]]) -> dict:
    from motorlab.devices import open_device
    from motorlab.sim.emulators.motorlab_device import MotorlabDeviceEmulator
    from motorlab.streaming.run import pump

    device = await open_device(url)
    driver = device.driver
    outlet = None
    try:
        info = await driver.info()
        await driver.set_rate(rate_hz)
        if lsl:
            from motorlab.streaming.lsl import LslOutlet

            outlet = LslOutlet(info, source_id=f"bench-{info.model}-{os.getpid()}", rate_hz=rate_hz)
        loop = asyncio.get_running_loop()
        for at, kind in cues:
            loop.call_later(at, device.emulator.cue, kind)
        times: list[np.ndarray] = []
        await driver.start()
        stats = await pump(driver, outlet, duration_s=seconds, on_block=lambda b: times.append(b.device_time))
        await driver.stop()
        await asyncio.sleep(0.2)  # let the bytes already on the wire arrive
        tail = driver.pending_blocks()
        times += [b.device_time for b in tail]
        received = stats.samples + sum(b.n for b in tail)
        t = np.concatenate(times) if times else np.zeros(0)
        expected = int(round((t[-1] - t[0]) * rate_hz)) + 1 if t.size else 0
        return {
            "url": url,
            "rate_hz": rate_hz,
            "samples": received,
            "expected": expected,
            "sent": device.emulator.samples_sent
            if isinstance(device.emulator, MotorlabDeviceEmulator)
            else None,
            "lost": max(0, expected - received),
            "codec_dropped": stats.dropped,
            "link_dropped": driver.status.dropped_samples,
            "lat_ms": np.asarray(stats.latencies_s) * 1e3,
        }
    finally:
        await device.close()
        if outlet is not None:
            outlet.close()


async def _both(seconds: float, lsl: bool) -> list[dict]:
    grip_cues = [(1.0 + 6 * k, "squeeze") for k in range(int(seconds // 6))]
    grip_cues += [(4.0 + 6 * k, "release") for k in range(int(seconds // 6))]
    return list(
        await asyncio.gather(
            _run("sim://pen?seed=1", 1000.0, seconds, lsl, [(0.5, "write")]),
            _run("sim://grip?seed=2", 80.0, seconds, lsl, sorted(grip_cues)),
        )
    )


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument(
        "--lsl", action="store_true", help="also publish both devices as LSL outlets (machine scope)"
    )
    args = ap.parse_args(argv)
    if args.lsl and "LSLAPICFG" not in os.environ:
        from motorlab.streaming.lsl import write_local_config

        os.environ["LSLAPICFG"] = str(write_local_config(os.path.join(tempfile.mkdtemp(), "lsl_api.cfg")))
    import psutil

    print(f"== streaming benchmark  ({machine()})")
    proc = psutil.Process()
    cpu0, t0 = proc.cpu_times(), time.perf_counter()
    results = asyncio.run(_both(args.seconds, args.lsl))
    cpu1, wall = proc.cpu_times(), time.perf_counter() - t0
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    for r in results:
        p50, p99, pmax = np.percentile(r["lat_ms"], [50, 99, 100]) if r["lat_ms"].size else (np.nan,) * 3
        print(
            f"  {r['url']:<18} {r['rate_hz']:6.0f} Hz: {r['samples']} samples received of {r['sent']} sent, "
            f"lost {r['lost']} "
            f"(codec-counted drops {r['codec_dropped']}); latency p50 {p50:.2f} ms, p99 {p99:.2f} ms, "
            f"max {pmax:.2f} ms (goal p99 < 20 ms)"
        )
        r.update(p50_ms=float(p50), p99_ms=float(p99))
    print(
        f"  process CPU: {cpu:.1f} s over {wall:.1f} s wall = {100 * cpu / wall:.0f}% of one core "
        f"(drivers + emulator threads{' + LSL outlets' if args.lsl else ''})"
    )
    return results


if __name__ == "__main__":
    main()
