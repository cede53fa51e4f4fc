"""``motorlab stream --device URL [--lsl]``: live samples to LSL or to standard output.

With ``--lsl`` the device is published as a Lab Streaming Layer outlet (channel
labels, units and types in the stream description; device time mapped to LSL
time) so LabRecorder can record it beside EEG/EMG. Without it, samples are
printed as tab-separated lines (device time in s, then one column per channel).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile

import numpy as np

from ..errors import MotorlabError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "stream",
        help="stream live samples to Lab Streaming Layer (--lsl) or standard output",
        description="Stream a device's live samples. With --lsl they are published as an LSL outlet "
        "(needs pylsl: pip install 'motorlab[lsl]'); the outlet accepts inlets on this computer's "
        "network interfaces while it runs. Without --lsl, samples are printed as TSV.",
    )
    p.add_argument(
        "--device",
        required=True,
        metavar="URL",
        help="device URL, e.g. serial:///dev/ttyUSB0?protocol=motorlab or sim://grip",
    )
    p.add_argument("--lsl", action="store_true", help="publish an LSL outlet")
    p.add_argument(
        "--lsl-local",
        action="store_true",
        help="keep LSL discovery on this machine (writes an lsl_api.cfg with ResolveScope=machine, "
        "IPv6 off, unless LSLAPICFG is already set)",
    )
    p.add_argument("--name", default=None, help="LSL stream name (default 'motorlab <model>')")
    p.add_argument("--source-id", default=None, help="LSL source id (default '<model>-<serial>')")
    p.add_argument("--rate", type=float, default=None, metavar="HZ", help="sampling rate to request")
    p.add_argument(
        "--duration", type=float, default=None, metavar="S", help="stop after S seconds (default: Ctrl-C)"
    )
    p.add_argument(
        "--cue",
        action="append",
        default=[],
        metavar="KIND@S",
        help="simulators only: give the virtual participant a cue at S seconds, e.g. squeeze@1",
    )
    p.add_argument("--quiet", action="store_true", help="no summary on stderr")
    p.set_defaults(func=handler)


def _parse_cues(items: list[str]) -> list[tuple[str, float]]:
    cues = []
    for item in items:
        kind, sep, at = item.partition("@")
        try:
            cues.append((kind, float(at)))
        except ValueError:
            raise MotorlabError(f"--cue {item!r}: expected KIND@SECONDS, e.g. squeeze@1.5") from None
        if not sep or not kind:
            raise MotorlabError(f"--cue {item!r}: expected KIND@SECONDS, e.g. squeeze@1.5")
    return cues


def handler(args: argparse.Namespace) -> int:
    cues = _parse_cues(args.cue)
    if args.lsl and args.lsl_local and "LSLAPICFG" not in os.environ:
        from ..streaming.lsl import write_local_config

        cfg_dir = tempfile.mkdtemp(prefix="motorlab-lsl-")
        os.environ["LSLAPICFG"] = str(write_local_config(os.path.join(cfg_dir, "lsl_api.cfg")))
    try:
        stats = asyncio.run(_stream(args, cues))
    except KeyboardInterrupt:
        return 130
    if not args.quiet:
        lat = np.asarray(stats.latencies_s) * 1e3
        p50, p99 = np.percentile(lat, [50, 99]) if lat.size else (float("nan"),) * 2
        print(
            f"motorlab: streamed {stats.samples} samples in {stats.blocks} blocks, "
            f"{stats.dropped} dropped; latency p50 {p50:.1f} ms, p99 {p99:.1f} ms",
            file=sys.stderr,
        )
    return 0


async def _stream(args: argparse.Namespace, cues: list[tuple[str, float]]):
    from ..devices.registry import open_device
    from ..streaming.run import pump

    outlet = None
    if args.lsl:
        from ..streaming.lsl import load_pylsl

        load_pylsl()  # fail before opening the device when pylsl is missing
    device = await open_device(args.device)
    try:
        driver, emulator = device.driver, device.emulator
        info = await driver.info()
        if args.rate:
            await driver.set_rate(args.rate)
        if args.lsl:
            from ..streaming.lsl import LslOutlet

            outlet = LslOutlet(info, args.name, args.source_id, rate_hz=args.rate)
        if cues:
            if emulator is None:
                raise MotorlabError(f"{args.device}: --cue works only with sim:// devices")
            loop = asyncio.get_running_loop()
            for kind, at in cues:
                loop.call_later(at, emulator.cue, kind)
        echo = None if args.lsl else _echo
        await driver.start()
        return await pump(driver, outlet, duration_s=args.duration, on_block=echo)
    finally:
        await device.close()
        if outlet is not None:
            outlet.close()


def _echo(block) -> None:
    rows = np.column_stack([block.device_time, block.values])
    sys.stdout.write("".join("\t".join(f"{v:.6g}" for v in row) + "\n" for row in rows))
    sys.stdout.flush()
