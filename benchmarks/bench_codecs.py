"""Codec decode speed, fed as devices deliver data and as a replayed capture, against a plain loop.

Run: ``python benchmarks/bench_codecs.py [--samples N] [--repeat R] [--only tindeq,mark10]``

For each codec a capture of valid device frames is built once, together with
the same bytes cut the way the device delivers them. In every run three
decoders turn the SAME frames into (device time s, values), timed back to back:

* **live**: a fresh codec fed one piece per ``feed()`` call, the way the
  transport hands them over: one BLE notification (Tindeq: one frame of 8
  samples, or 1 for the open clones; Vernier: 20-byte notifications; WT901BLE:
  one 20-byte frame), one reply line for the polled Mark-10, one serial read
  of what the device writes at once for the serial streams (WT901: one output
  period of 4 frames; motorlab pen: one 25-sample SAMPLES frame, i.e. 1 kHz in
  25-ms blocks). Its sample blocks are collected and stacked, as a consumer does;
* **loop**: a plain per-frame ``struct.unpack`` loop over the same frames
  (per line ``split`` + ``float`` for Mark-10) that checks what the protocol
  lets it check (checksums, headers; COBS and CRC-16 for the open protocol)
  and computes the same times and units;
* **bulk**: a fresh codec's replay entry point (``feed_bulk``, else ``feed``)
  given the whole capture at once.

Outputs must agree (checked; the row says MISMATCH otherwise). The "x" columns
are loop time / codec time per run (above 1 = the codec is faster); the table
shows the median of the per-run ratios and their range. Pairing the timings
within a run keeps both sides of a ratio in the same machine state (this
machine changes speed from run to run). Targets (issue 10): live >= 1x, bulk
>= 20x. "µs/call" is the codec's median time per live ``feed()`` call.
"""

from __future__ import annotations

import argparse
import binascii
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from rich.console import Console
from rich.table import Table

G = 9.80665


@dataclass
class Case:
    name: str
    n: int  # samples
    data: bytes  # the whole capture
    as_sent: list[bytes]  # the same bytes as the transport delivers them
    as_sent_label: str
    make: Callable[[], object]
    prime: Callable[[object], None] | None
    baseline: Callable[[], tuple[np.ndarray, np.ndarray]]
    note: str = ""


def _fresh(case: Case):
    codec = case.make()
    if case.prime is not None:
        case.prime(codec)
    return codec


def _collect(codec, pieces: list[bytes], bulk: bool) -> tuple[np.ndarray, np.ndarray]:
    from motorlab.devices.base import SampleBlock, stack_blocks

    feed = getattr(codec, "feed_bulk", codec.feed) if bulk else codec.feed
    blocks = []
    for piece in pieces:
        blocks += [e for e in feed(piece) if isinstance(e, SampleBlock)]
    if len(blocks) == 1:  # nothing to join
        return blocks[0].device_time, blocks[0].values
    return stack_blocks(blocks)


def paired_runs(case: Case, repeat: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple, tuple, tuple]:
    """``repeat`` runs (after one warm-up) of live, loop and bulk back to back.

    Returns (live s, loop s, bulk s) per run and the three outputs of the last run.
    """
    live, loop, bulk = [], [], []
    got_live = got_bulk = ref = None
    for k in range(repeat + 1):
        codec = _fresh(case)
        t0 = time.perf_counter()
        got_live = _collect(codec, case.as_sent, bulk=False)
        t1 = time.perf_counter()
        ref = case.baseline()
        t2 = time.perf_counter()
        codec = _fresh(case)
        t3 = time.perf_counter()
        got_bulk = _collect(codec, [case.data], bulk=True)
        t4 = time.perf_counter()
        if k:
            live.append(t1 - t0)
            loop.append(t2 - t1)
            bulk.append(t4 - t3)
    return np.array(live), np.array(loop), np.array(bulk), got_live, got_bulk, ref  # type: ignore[return-value]


def same(got: tuple[np.ndarray, np.ndarray], ref: tuple[np.ndarray, np.ndarray]) -> bool:
    return all(
        g.shape == r.shape and np.allclose(g, r, rtol=1e-9, atol=1e-9, equal_nan=True)
        for g, r in zip(got, ref)
    )


# ------------------------------------------------------------------ Tindeq (BLE TLV)
def tindeq_case(n: int, per: int = 8) -> Case:
    from motorlab.devices.codecs.tindeq import TindeqCodec, weight_frame

    kg = (np.random.default_rng(2).integers(0, 8000, n) / 100).astype(np.float32)
    us = (np.arange(n) * 12_500 + 2**32 - 12_500 * n // 2) % 2**32  # the µs counter wraps half-way
    frames = [weight_frame(kg[i : i + per], us[i : i + per]) for i in range(0, n, per)]
    data = b"".join(frames)
    formats = {}

    def baseline():
        t, f, last, wraps, i = [], [], None, 0, 0
        while i + 2 <= len(data):
            code, length = data[i], data[i + 1]
            if code == 1 and length and length % 8 == 0:
                fmt = formats.get(length) or formats.setdefault(
                    length, struct.Struct("<" + "fI" * (length // 8))
                )
                vals = fmt.unpack_from(data, i + 2)
                for k in range(0, len(vals), 2):
                    raw = vals[k + 1]
                    if last is not None and raw < last:
                        wraps += 1
                    last = raw
                    t.append((raw + wraps * 2**32) * 1e-6)
                    f.append(vals[k] * G)
            i += 2 + length
        return np.array(t), np.array(f)[:, None]

    label = f"1 notification = 1 frame of {per} sample{'s' * (per > 1)}"
    name = f"tindeq ({per}/frame{', clones' if per == 1 else ''})"
    return Case(name, n, data, frames, label, TindeqCodec, None, baseline)


def tindeq_clone_case(n: int) -> Case:
    return tindeq_case(n // 4, per=1)


# ------------------------------------------------------------------ Vernier (BLE, Go Direct frames)
def vernier_case(n: int, per: int = 2) -> Case:
    from motorlab.devices.codecs.vernier import VernierCodec, measurement_frame

    vals = (np.random.default_rng(3).integers(0, 60000, n) / 100).astype(np.float32)
    frames = [measurement_frame(vals[i : i + per, None], 0x02, i) for i in range(0, n, per)]
    data = b"".join(frames)
    period = 0.01

    def prime(codec):
        codec.period_us = 10_000

    def baseline():
        t, f, i, k = [], [], 0, 0
        while i + 9 <= len(data):
            length = data[i + 1]
            frame = data[i : i + length]
            if data[i] == 0x20 and data[i + 4] == 6 and (sum(frame) - 2 * frame[3]) & 0xFF == 0:
                count = data[i + 7]
                for v in struct.unpack_from(f"<{count}f", data, i + 9):
                    t.append(k * period)
                    f.append(v)
                    k += 1
            i += length
        return np.array(t), np.array(f)[:, None]

    pieces = [frame[j : j + 20] for frame in frames for j in range(0, len(frame), 20)]
    label = f"20-byte notifications ({per} samples/frame)"
    return Case(f"vernier ({per}/frame)", n, data, pieces, label, VernierCodec, prime, baseline)


# ------------------------------------------------------------------ WitMotion WT901BLE (20-byte frames, no checksum)
def witmotion_ble_case(n: int) -> Case:
    from motorlab.devices.base import Start
    from motorlab.devices.codecs.witmotion_ble import SCALE, WitMotionBleCodec, data_frame

    raw = np.random.default_rng(5).integers(-32768, 32767, (n, 9))
    data = data_frame(raw)
    scale = SCALE.tolist()

    def make():
        codec = WitMotionBleCodec(rate_hz=50)
        codec.encode(Start())
        return codec

    def baseline():
        t, rows, unpack = [], [], struct.Struct("<9h").unpack_from
        i, k = 0, 0
        while i + 20 <= len(data):
            if data[i] == 0x55 and data[i + 1] == 0x61:
                rows.append([w * s for w, s in zip(unpack(data, i + 2), scale)])
                t.append(k / 50)
                k += 1
                i += 20
            else:
                i += 1
        return np.array(t), np.array(rows)

    pieces = [data[i : i + 20] for i in range(0, len(data), 20)]
    return Case("witmotion_ble (WT901BLE)", n, data, pieces, "1 notification = 1 frame", make, None, baseline)


# ------------------------------------------------------------------ WitMotion WT901 (serial, 11-byte frames)
def witmotion_case(n: int) -> Case:
    from motorlab.devices.codecs.witmotion import WitMotionCodec, encode_frames

    rng = np.random.default_rng(0)
    types = (0x51, 0x52, 0x53, 0x54)
    words = {t: rng.integers(-32768, 32767, (n, 4)) for t in types}
    periods = np.stack([encode_frames(t, words[t]) for t in types], axis=1).reshape(n, -1)
    data = periods.tobytes()
    scale = {0x51: 16 / 32768 * G, 0x52: 2000 / 32768, 0x53: 180 / 32768, 0x54: 0.15}
    col = {0x51: 0, 0x52: 3, 0x53: 6, 0x54: 9}

    def baseline():
        rows, row, t = [], [float("nan")] * 12, []
        unpack = struct.Struct("<BB4hB").unpack_from
        i, end = 0, len(data) - 10
        while i < end:
            if data[i] != 0x55 or (sum(data[i : i + 10]) & 0xFF) != data[i + 10]:
                i += 1
                continue
            _, ftype, a, b, c, _, _ = unpack(data, i)
            k, s = col[ftype], scale[ftype]
            row[k : k + 3] = (a * s, b * s, c * s)
            if ftype == 0x54:
                t.append(len(rows) / 100)
                rows.append(row)
                row = [float("nan")] * 12
            i += 11
        return np.array(t), np.array(rows)

    pieces = [p.tobytes() for p in periods]
    return Case(
        "witmotion (WT901 serial)",
        n,
        data,
        pieces,
        "1 read = 1 output period (4 frames)",
        lambda: WitMotionCodec(rate_hz=100),
        None,
        baseline,
    )


# ------------------------------------------------------------------ Mark-10 (ASCII, polled)
def mark10_case(n: int) -> Case:
    from motorlab.devices.codecs.mark10 import Mark10Codec, Poll

    values = np.random.default_rng(1).integers(-5000, 30000, n) / 10
    lines = [f"{v:.1f} N\r\n".encode() for v in values]
    data = b"".join(lines)
    factor = {b"N": 1.0, b"lbF": 4.4482216152605, b"kgF": G}

    def prime(codec):
        for k in range(n):
            codec.encode(Poll(k * 0.02))

    def baseline():
        t, f = [], []
        for k, line in enumerate(data.split(b"\r\n")[:-1]):
            v, u = line.split()
            t.append(k * 0.02)
            f.append(float(v) * factor[u])
        return np.array(t), np.array(f)[:, None]

    note = "ASCII-to-float conversion is the floor of both (the loop's split + float is C)"
    return Case(
        "mark10 (ASCII lines)",
        n,
        data,
        lines,
        "1 reply line per read (polled)",
        Mark10Codec,
        prime,
        baseline,
        note,
    )


# ------------------------------------------------------------------ motorlab open protocol (COBS + CRC16)
def motorlab_case(n: int) -> Case:
    from motorlab.devices.codecs import motorlab_protocol as mp

    per, m = 25, 7  # the IMU pen: 3 acc, 3 gyro, tip force (int16) at 1 kHz in 25-ms blocks

    def s(text: str) -> bytes:
        return bytes([len(text)]) + text.encode()

    info = struct.pack("<BBBIII", 1, 2, m, 1_000_000, 1000, 1_000_000) + s("bench") + s("1") + s("1") + s("x")
    for k in range(m):
        info += s(f"c{k}") + s("MISC") + s("N") + s("pen") + struct.pack("<f", 0.001)
    raw = np.random.default_rng(4).integers(-32768, 32767, (n, m))
    frames = []
    for i in range(0, n, per):
        rec = np.zeros(min(per, n - i), dtype=[("t", "<u4"), ("v", "<i2", (m,))])
        rec["t"] = (i + np.arange(rec.size)) * 1_000
        rec["v"] = raw[i : i + rec.size]
        frames.append(mp.encode_frame(mp.SAMPLES, 0, struct.pack("<IBBB", i, rec.size, m, 2) + rec.tobytes()))
    data = b"".join(frames)
    info_frame = mp.encode_frame(mp.INFO, 0, info)
    scale = struct.unpack("<f", struct.pack("<f", 0.001))[0]  # the device declares a float32 scale
    formats: dict[tuple[int, int], struct.Struct] = {}

    def baseline():
        # per frame: COBS decode, CRC check, one struct.unpack_from of all its records
        t, out = [], []
        for piece in data.split(b"\x00"):
            if not piece:
                continue
            body = mp.cobs_decode(piece)
            if body is None or len(body) < 4 + 7:
                continue
            if binascii.crc_hqx(body[:-2], 0xFFFF) != struct.unpack_from("<H", body, len(body) - 2)[0]:
                continue
            _, count, mm, _ = struct.unpack_from("<IBBB", body, 2)
            fmt = formats.get((count, mm))
            if fmt is None:
                fmt = formats[count, mm] = struct.Struct("<" + ("I" + "h" * mm) * count)
            vals = fmt.unpack_from(body, 2 + 7)
            for k in range(0, len(vals), 1 + mm):
                t.append(vals[k] * 1e-6)
                out.append([v * scale for v in vals[k + 1 : k + 1 + mm]])
        return np.array(t), np.array(out)

    return Case(
        "motorlab (COBS+CRC16)",
        n,
        data,
        frames,
        f"1 read = 1 SAMPLES frame ({per} samples x {m} ch)",
        mp.MotorlabCodec,
        lambda c: c.feed(info_frame),
        baseline,
        "bulk: COBS and CRC-16 of every frame vectorised across frames (bulk_framing)",
    )


CASES = {
    "tindeq": tindeq_case,
    "tindeq_clones": tindeq_clone_case,
    "vernier": vernier_case,
    "witmotion_ble": witmotion_ble_case,
    "mark10": mark10_case,
    "witmotion": witmotion_case,
    "motorlab": motorlab_case,
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=50_000, help="samples per codec (default 50000)")
    ap.add_argument("--repeat", type=int, default=9, help="paired runs per codec (default 9)")
    ap.add_argument("--only", default="", help=f"comma-separated subset of {','.join(CASES)}")
    args = ap.parse_args(argv)
    names = args.only.split(",") if args.only else list(CASES)
    unknown = sorted(set(names) - set(CASES))
    if unknown:
        ap.error(f"unknown codec(s) {', '.join(unknown)}")

    table = Table(
        title=f"codec decode speed vs a plain per-frame loop, {args.repeat} paired runs: median of the "
        f"per-run ratios loop time / codec time [lowest-highest]; above 1x the codec is faster"
    )
    for col in ("codec", "live: fed as", "live x", "µs/call", "bulk x", "bulk Ms/s", "loop Ms/s", "note"):
        table.add_column(col, justify="left" if col in ("codec", "live: fed as", "note") else "right")
    for name in names:
        try:
            case = CASES[name](args.samples)
        except ModuleNotFoundError as exc:
            table.add_row(name, "-", "-", "-", "-", "-", "-", f"missing ({exc.name})")
            continue
        live, loop, bulk, got_live, got_bulk, ref = paired_runs(case, args.repeat)
        if not (same(got_live, ref) and same(got_bulk, ref)):
            shapes = f"{got_live[1].shape}/{got_bulk[1].shape} vs {ref[1].shape}"
            table.add_row(case.name, case.as_sent_label, "-", "-", "-", "-", "-", f"MISMATCH {shapes}")
            continue
        r_live, r_bulk = loop / live, loop / bulk
        table.add_row(
            case.name,
            case.as_sent_label,
            f"{np.median(r_live):.2f}x [{r_live.min():.2f}-{r_live.max():.2f}]",
            f"{np.median(live) / len(case.as_sent) * 1e6:.1f}",
            f"{np.median(r_bulk):.0f}x [{r_bulk.min():.0f}-{r_bulk.max():.0f}]",
            f"{case.n / np.median(bulk) / 1e6:.1f}",
            f"{case.n / np.median(loop) / 1e6:.2f}",
            case.note,
        )
    Console(width=200).print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
