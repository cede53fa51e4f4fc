"""Decode throughput of every codec vs a straightforward per-frame ``struct.unpack`` loop.

Run: ``python benchmarks/bench_codecs.py [--samples N] [--chunk BYTES]``

For each codec a long buffer of valid device frames is built once; the codec
decodes it in one ``feed()`` (the long-buffer figure the >= 50x WT901 target
refers to) and in ``--chunk``-byte pieces (closer to what a serial reader
delivers), and a plain Python loop decodes the same bytes frame by frame with
``struct.unpack_from`` (checking what the protocol checks). All must produce the
same values. Timings are the best of ``--repeat`` runs (the codec, being fast,
gets 5x as many runs so that a noisy machine does not hide its best time).
"""

from __future__ import annotations

import argparse
import binascii
import struct
import time
from typing import Callable

import numpy as np
from rich.console import Console
from rich.table import Table

G = 9.80665


def best_time(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def time_feed(make, prime, data: bytes, chunk: int, repeat: int) -> tuple[float, np.ndarray]:
    """Best time to feed ``data`` in ``chunk``-byte pieces and collect the samples.

    Making the codec and priming it (polls in flight, INFO) is not timed.
    """
    from motorlab.devices.base import SampleBlock, stack_blocks

    best, values = float("inf"), np.zeros((0, 0))
    for _ in range(repeat):
        codec = make()
        if prime is not None:
            prime(codec)
        t0 = time.perf_counter()
        blocks = []
        for i in range(0, len(data), chunk):
            blocks += [e for e in codec.feed(data[i : i + chunk]) if isinstance(e, SampleBlock)]
        values = stack_blocks(blocks)[1]
        best = min(best, time.perf_counter() - t0)
    return best, values


# ------------------------------------------------------------------ WitMotion WT901
def witmotion_case(n: int):
    from motorlab.devices.codecs.witmotion import WitMotionCodec, encode_frames

    rng = np.random.default_rng(0)
    words = {t: rng.integers(-32768, 32767, (n, 4)) for t in (0x51, 0x52, 0x53, 0x54)}
    data = np.stack([encode_frames(t, words[t]) for t in (0x51, 0x52, 0x53, 0x54)], axis=1).tobytes()
    scale = {0x51: 16 / 32768 * G, 0x52: 2000 / 32768, 0x53: 180 / 32768, 0x54: 0.15}
    col = {0x51: 0, 0x52: 3, 0x53: 6, 0x54: 9}

    def baseline() -> np.ndarray:
        rows, row = [], [float("nan")] * 12
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
                rows.append(row)
                row = [float("nan")] * 12
            i += 11
        return np.array(rows)

    return "witmotion (WT901 serial)", n, data, lambda: WitMotionCodec(rate_hz=100), None, baseline


# ------------------------------------------------------------------ Mark-10
def mark10_case(n: int):
    from motorlab.devices.codecs.mark10 import Mark10Codec, Poll

    rng = np.random.default_rng(1)
    values = rng.integers(-5000, 30000, n) / 10
    data = "".join(f"{v:.1f} N\r\n" for v in values).encode()
    factor = {b"N": 1.0, b"lbF": 4.4482216152605, b"kgF": G}

    def prime(codec) -> None:
        for k in range(n):
            codec.encode(Poll(k * 0.02))

    def baseline() -> np.ndarray:
        out = []
        for line in data.split(b"\r\n"):
            if line:
                v, u = line.split()
                out.append(float(v) * factor[u])
        return np.array(out)[:, None]

    return "mark10 (ASCII lines)", n, data, Mark10Codec, prime, baseline


# ------------------------------------------------------------------ other codecs of the project
def tindeq_case(n: int):
    from motorlab.devices.codecs.tindeq import TindeqCodec, weight_frame

    per = 10
    kg = (np.random.default_rng(2).integers(0, 8000, n) / 100).astype(np.float32)
    us = np.arange(n) * 12_500
    data = b"".join(weight_frame(kg[i : i + per], us[i : i + per]) for i in range(0, n, per))

    def baseline() -> np.ndarray:
        out, i = [], 0
        while i + 2 <= len(data):
            code, length = data[i], data[i + 1]
            vals = struct.unpack_from("<" + "fI" * (length // 8), data, i + 2)
            out.extend(v * G for v in vals[0::2])
            i += 2 + length
        return np.array(out)[:, None]

    return "tindeq (BLE TLV)", n, data, TindeqCodec, None, baseline


def vernier_case(n: int):
    from motorlab.devices.codecs.vernier import VernierCodec, measurement_frame

    per = 2  # a GDX-HD notification carries one or two samples
    vals = (np.random.default_rng(3).integers(0, 60000, n) / 100).astype(np.float32)
    data = b"".join(measurement_frame(vals[i : i + per, None], 0x02, i) for i in range(0, n, per))

    def baseline() -> np.ndarray:
        out, i = [], 0
        while i + 9 <= len(data):
            length, count = data[i + 1], data[i + 7]
            out.extend(struct.unpack_from(f"<{count}f", data, i + 9))
            i += length
        return np.array(out)[:, None]

    return "vernier (GDX frames)", n, data, VernierCodec, None, baseline


def motorlab_case(n: int):
    from motorlab.devices.codecs import motorlab_protocol as mp

    per, m = 20, 3

    def s(text: str) -> bytes:
        return bytes([len(text)]) + text.encode()

    info = struct.pack("<BBBIII", 1, 2, m, 100_000, 1000, 1_000_000) + s("bench") + s("1") + s("1") + s("x")
    for name in ("acc_x", "acc_y", "acc_z"):
        info += s(name) + s("ACCEL") + s("m/s^2") + s("pen") + struct.pack("<f", 0.001)
    raw = np.random.default_rng(4).integers(-32768, 32767, (n, m))
    frames = []
    for i in range(0, n, per):
        rec = np.zeros(min(per, n - i), dtype=[("t", "<u4"), ("v", "<i2", (m,))])
        rec["t"] = (i + np.arange(rec.size)) * 10_000
        rec["v"] = raw[i : i + rec.size]
        frames.append(mp.encode_frame(mp.SAMPLES, 0, struct.pack("<IBBB", i, rec.size, m, 2) + rec.tobytes()))
    data = b"".join(frames)
    info_frame = mp.encode_frame(mp.INFO, 0, info)

    def baseline() -> np.ndarray:
        out = []
        for piece in data.split(b"\x00"):
            if not piece:
                continue
            body = mp.cobs_decode(piece)
            if body is None or binascii.crc_hqx(body[:-2], 0xFFFF) != struct.unpack("<H", body[-2:])[0]:
                continue
            _, count, mm, _ = struct.unpack_from("<IBBB", body, 2)
            for k in range(count):
                vals = struct.unpack_from(f"<I{mm}h", body, 2 + 7 + k * (4 + 2 * mm))
                out.append([v * 0.001 for v in vals[1:]])
        return np.array(out)

    return "motorlab (COBS+CRC16)", n, data, mp.MotorlabCodec, lambda c: c.feed(info_frame), baseline


CASES = [witmotion_case, mark10_case, tindeq_case, vernier_case, motorlab_case]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=50_000, help="samples per codec (default 50000)")
    ap.add_argument("--chunk", type=int, default=65536, help="bytes per feed() call (default 65536)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    table = Table(title=f"codec decode throughput ({args.samples} samples; loop = per-frame struct.unpack)")
    cols = ("codec", "MB", "one feed Ms/s", f"{args.chunk} B feeds Ms/s", "loop Ms/s", "speed-up", "chunked")
    for col in cols:
        table.add_column(col, justify="left" if col == "codec" else "right")
    for make_case in CASES:
        try:
            name, n, data, make, prime, baseline = make_case(args.samples)
        except ModuleNotFoundError as exc:
            table.add_row(make_case.__name__, "-", "-", "-", "-", f"missing ({exc.name})", "-")
            continue
        reps = 5 * args.repeat
        t_one, got = time_feed(make, prime, data, len(data), reps)
        t_chunk, got_c = time_feed(make, prime, data, args.chunk, reps)
        t_loop, ref = best_time(baseline, args.repeat)
        same = all(g.shape == ref.shape and np.allclose(g, ref, rtol=1e-6, equal_nan=True) for g in (got, got_c))
        if not same:
            table.add_row(name, "-", "-", "-", "-", f"MISMATCH {got.shape} vs {ref.shape}", "-")
            continue
        table.add_row(
            name,
            f"{len(data) / 1e6:.2f}",
            f"{n / t_one / 1e6:.2f}",
            f"{n / t_chunk / 1e6:.2f}",
            f"{n / t_loop / 1e6:.3f}",
            f"{t_loop / t_one:.1f}x",
            f"{t_loop / t_chunk:.1f}x",
        )
    Console().print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
