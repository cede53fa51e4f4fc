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

Outputs must agree (checked; the row says MISMATCH otherwise). Each per-piece decoder (live,
loop, plain) starts from a collected heap (``gc.collect()`` before it), so a full garbage
collection triggered by the previous one's objects is not charged to it. The "x" columns
are loop time / codec time per run (above 1 = the codec is faster); the table
shows the median of the per-run ratios and their range. Pairing the timings
within a run keeps both sides of a ratio in the same machine state (this
machine changes speed from run to run). Targets (issue 10): live >= 1x, bulk
>= 20x. "µs/call" is the codec's median time per live ``feed()`` call.
"""

from __future__ import annotations

import argparse
import binascii
import gc
import itertools
import math
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from rich.console import Console
from rich.table import Table

from motorlab.devices.base import SampleBlock

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
    #: a fresh plain decoder of one piece (struct.unpack, same checks as the loop) -> its SampleBlocks
    plain: Callable[[], Callable[[bytes], list]]
    note: str = ""
    #: the codec takes the host arrival time of each piece (clinic devices without a clock): times
    #: come from its HostClock, so only the values are compared
    timed: bool = False
    host_period_s: float = 0.0125  # between pieces, when timed


def _host_fed(case: Case, feed: Callable[..., list]) -> Callable[[bytes], list]:
    """``feed`` as the driver calls it: with the host time of each piece if the codec takes one
    (80 pieces per second here)."""
    if not case.timed:
        return feed
    clock = itertools.count()
    period = case.host_period_s
    return lambda piece: feed(piece, host_time=next(clock) * period)


def _fresh(case: Case):
    codec = case.make()
    if case.prime is not None:
        case.prime(codec)
    return codec


def _collect(feed: Callable[[bytes], list], pieces: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Feed every piece, keep the sample blocks, stack them (what a consumer of the events does)."""
    from motorlab.devices.base import SampleBlock, stack_blocks

    blocks = []
    for piece in pieces:
        blocks += [e for e in feed(piece) if isinstance(e, SampleBlock)]
    if len(blocks) == 1:  # nothing to join
        return blocks[0].device_time, blocks[0].values
    return stack_blocks(blocks)


@dataclass
class Runs:
    """Seconds per run of each decoder, and the outputs of the last run."""

    live: list[float] = field(default_factory=list)
    loop: list[float] = field(default_factory=list)
    plain: list[float] = field(default_factory=list)
    bulk: list[float] = field(default_factory=list)
    outputs: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


def paired_runs(case: Case, repeat: int) -> Runs:
    """``repeat`` runs (after one warm-up) of live, loop, plain per call and bulk, back to back."""
    runs = Runs()
    for k in range(repeat + 1):
        times = {}
        for name in ("live", "loop", "plain", "bulk"):
            # a full garbage collection (50-100 ms with many live blocks) is charged to whichever
            # decoder is running when the shared threshold is crossed: each per-piece decoder starts
            # from a collected heap. Not bulk: it allocates a few objects, so it cannot trigger one,
            # and a collection just before it (a walk over the whole heap) evicts the CPU caches its
            # NumPy passes run from: it measured 2x slower (0.52 vs 0.24 ms on Tindeq 20 000 samples)
            if name != "bulk":
                gc.collect()
            if name == "loop":
                t0 = time.perf_counter()
                out = case.baseline()
            elif name == "plain":
                decode = _host_fed(case, case.plain())
                t0 = time.perf_counter()
                out = _collect(decode, case.as_sent)
            else:
                codec = _fresh(case)
                if name == "bulk" and not hasattr(codec, "feed_bulk"):
                    continue  # (the clinic codecs have no replay entry point)
                feed = codec.feed_bulk if name == "bulk" else _host_fed(case, codec.feed)  # type: ignore[attr-defined]
                t0 = time.perf_counter()
                out = _collect(feed, [case.data] if name == "bulk" else case.as_sent)
            times[name] = time.perf_counter() - t0
            runs.outputs[name] = out
        if k:
            for name, seconds in times.items():
                getattr(runs, name).append(seconds)
    return runs


def same(got: tuple[np.ndarray, np.ndarray], ref: tuple[np.ndarray, np.ndarray], timed: bool = False) -> bool:
    if timed:  # host-clock times: finite and never going back; the values equal
        t, v = got
        return (
            bool(t.shape == ref[0].shape and np.isfinite(t).all() and (np.diff(t) >= 0).all())
            and v.shape == ref[1].shape
            and np.allclose(v, ref[1], rtol=1e-9, atol=1e-9)
        )
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

    def plain():
        state = [None, 0]  # last µs counter, wraps

        def decode(note: bytes) -> list:
            length = note[1]
            if note[0] != 1 or not length or length % 8:
                return []
            fmt = formats.get(length) or formats.setdefault(length, struct.Struct("<" + "fI" * (length // 8)))
            vals = fmt.unpack_from(note, 2)
            t, f = [], []
            last, wraps = state
            for k in range(0, len(vals), 2):
                raw = vals[k + 1]
                if last is not None and raw < last:
                    wraps += 1
                last = raw
                t.append((raw + wraps * 2**32) * 1e-6)
                f.append(vals[k] * G)
            state[:] = last, wraps
            return [SampleBlock(np.array(t), np.array(f)[:, None])]

        return decode

    label = f"1 notification = 1 frame of {per} sample{'s' * (per > 1)}"
    name = f"tindeq ({per}/frame{', clones' if per == 1 else ''})"
    return Case(name, n, data, frames, label, TindeqCodec, None, baseline, plain)


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

    def plain():
        count = [0]  # samples so far

        def decode(frame: bytes) -> list:  # (a frame of <= 20 bytes: one notification)
            if frame[0] != 0x20 or frame[4] != 6 or (sum(frame) - 2 * frame[3]) & 0xFF:
                return []
            k, m = count[0], frame[7]
            count[0] += m
            t = [(k + i) * period for i in range(m)]
            return [SampleBlock(np.array(t), np.array(struct.unpack_from(f"<{m}f", frame, 9))[:, None])]

        return decode

    pieces = [frame[j : j + 20] for frame in frames for j in range(0, len(frame), 20)]
    assert len(pieces) == len(frames), "the plain decoder takes one whole frame per notification"
    label = f"20-byte notifications ({per} samples/frame)"
    return Case(f"vernier ({per}/frame)", n, data, pieces, label, VernierCodec, prime, baseline, plain)


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

    def plain():
        count = [0]
        unpack = struct.Struct("<9h").unpack_from

        def decode(frame: bytes) -> list:
            if frame[0] != 0x55 or frame[1] != 0x61:
                return []
            k = count[0]
            count[0] += 1
            row = [w * s for w, s in zip(unpack(frame, 2), scale)]
            return [SampleBlock(np.array([k / 50]), np.array([row]))]

        return decode

    pieces = [data[i : i + 20] for i in range(0, len(data), 20)]
    label = "1 notification = 1 frame"
    return Case("witmotion_ble (WT901BLE)", n, data, pieces, label, make, None, baseline, plain)


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

    def plain():
        count = [0]
        unpack = struct.Struct("<BB4hB").unpack_from

        def decode(period: bytes) -> list:  # (one whole period per read)
            out, row, i = [], [float("nan")] * 12, 0
            while i + 11 <= len(period):
                if period[i] != 0x55 or (sum(period[i : i + 10]) & 0xFF) != period[i + 10]:
                    i += 1
                    continue
                _, ftype, a, b, c, _, _ = unpack(period, i)
                k, s = col[ftype], scale[ftype]
                row[k : k + 3] = (a * s, b * s, c * s)
                if ftype == 0x54:
                    out.append(SampleBlock(np.array([count[0] / 100]), np.array([row])))
                    count[0] += 1
                    row = [float("nan")] * 12
                i += 11
            return out

        return decode

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
        plain,
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

    def plain():
        count = [0]

        def decode(line: bytes) -> list:
            v, u = line.split()
            k = count[0]
            count[0] += 1
            return [SampleBlock(np.array([k * 0.02]), np.array([[float(v) * factor[u]]]))]

        return decode

    note = "bulk: NumPy decimal parser, < 20x: the loop's split + float is C (docs/codecs.md)"
    label = "1 reply line per read (polled)"
    return Case("mark10 (ASCII lines)", n, data, lines, label, Mark10Codec, prime, baseline, plain, note)


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

    def plain():
        def decode(frame: bytes) -> list:
            out = []
            for piece in frame.split(b"\x00"):
                body = mp.cobs_decode(piece) if piece else None
                if body is None or len(body) < 4 + 7:
                    continue
                if binascii.crc_hqx(body[:-2], 0xFFFF) != struct.unpack_from("<H", body, len(body) - 2)[0]:
                    continue
                _, count, mm, _ = struct.unpack_from("<IBBB", body, 2)
                fmt = formats.get((count, mm))
                if fmt is None:
                    fmt = formats[count, mm] = struct.Struct("<" + ("I" + "h" * mm) * count)
                vals = fmt.unpack_from(body, 2 + 7)
                t, rows = [], []
                for k in range(0, len(vals), 1 + mm):
                    t.append(vals[k] * 1e-6)
                    rows.append([v * scale for v in vals[k + 1 : k + 1 + mm]])
                out.append(SampleBlock(np.array(t), np.array(rows)))
            return out

        return decode

    return Case(
        "motorlab (COBS+CRC16)",
        n,
        data,
        frames,
        f"1 read = 1 SAMPLES frame ({per} samples x {m} ch)",
        mp.MotorlabCodec,
        lambda c: c.feed(info_frame),
        baseline,
        plain,
        "bulk: COBS chains, CRC-16 and headers vectorised across frames (bulk_framing); equal-length "
        "SAMPLES frames queued as one run",
    )


# ------------------------------------------------------------------ clinic devices (devices_clinic.md)
def _clinic_case(
    name: str,
    label: str,
    pieces: list[bytes],
    make: Callable[[], object],
    decode: Callable[[bytes, dict, list, list, float], None],
    n_channels: int,
    timed: bool = True,
    prime: Callable[[object], None] | None = None,
    host_period_s: float = 0.0125,
) -> Case:
    """A case whose loop and plain decoder share one per-frame ``decode(piece, state, t, v, host_t)``
    (struct/int.from_bytes, appending to the lists t and v; host_t = the piece's arrival time)."""

    def baseline():
        state: dict = {}
        t: list[float] = []
        v: list[float] = []
        for k, piece in enumerate(pieces):
            decode(piece, state, t, v, k * host_period_s)
        return np.array(t), np.array(v).reshape(-1, n_channels)

    def plain():
        state: dict = {}

        def one(piece: bytes, host_time: float = math.nan) -> list:
            t: list[float] = []
            v: list[float] = []
            decode(piece, state, t, v, host_time)
            return [SampleBlock(np.array(t), np.array(v).reshape(-1, n_channels))] if t else []

        return one

    data = b"".join(pieces)
    return Case(
        name, len(pieces), data, pieces, label, make, prime, baseline, plain, "", timed, host_period_s
    )


def jamar_case(n: int) -> Case:
    from motorlab.devices.codecs.jamar import JamarCodec, val_message
    from motorlab.units import LBF_N

    lb = np.random.default_rng(6).integers(0, 2000, n) / 10

    def decode(piece, state, t, v, host_t):
        if piece.startswith(b"::VAL") and piece.endswith(b"\r\n"):
            t.append(host_t)
            v.append(float(piece[piece.index(b",", 5) + 1 : -2]) * LBF_N)

    pieces = [val_message(x) for x in lb]
    return _clinic_case("jamar (ASCII ::VAL)", "1 notification = 1 message", pieces, JamarCodec, decode, 1)


def kforce_case(n: int) -> Case:
    from motorlab.devices.codecs.kinvent import HEADER, KForceCodec, kforce_frame

    n = min(n, 60_000)  # (the u16 counter does not wrap: the loop does not unwrap it)
    raw = np.random.default_rng(7).integers(-(2**23), 2**23, (n, 4))
    pieces = [kforce_frame(k, tuple(int(x) for x in row)) for k, row in enumerate(raw)]  # type: ignore[arg-type]

    def decode(piece, state, t, v, host_t):
        if len(piece) == 17 and piece[:3] == HEADER:
            t.append((piece[3] << 8 | piece[4]) * 1e-3)
            v += [float(int.from_bytes(piece[k : k + 3], "big", signed=True)) for k in (5, 8, 11, 14)]

    label = "1 notification = 1 frame (4 ch)"
    return _clinic_case("kinvent K-Force", label, pieces, KForceCodec, decode, 4, timed=False)


def kgrip_case(n: int) -> Case:
    from motorlab.devices.codecs.kinvent import HEADER, KGripUsbCodec, kgrip_frame

    raw = np.random.default_rng(8).integers(0, 2**16, n)
    pieces = [kgrip_frame(int(x)) for x in raw]

    def decode(piece, state, t, v, host_t):
        if len(piece) == 11 and piece[:3] == HEADER:
            t.append(host_t)
            v.append(float(piece[3] << 8 | piece[4]))

    return _clinic_case("kinvent K-Grip (USB)", "1 read = 1 frame", pieces, KGripUsbCodec, decode, 1)


def activ5_case(n: int) -> Case:
    from motorlab.devices.codecs.activ5 import Activ5Codec, reading_message

    newtons = np.random.default_rng(9).integers(-50, 600, n)
    pieces = [reading_message(float(x)) for x in newtons]

    def decode(piece, state, t, v, host_t):
        if piece.startswith(b"IS") and piece.endswith(b"/IS"):
            t.append(host_t)
            v.append(float(piece[2:-3]))

    label = "1 notification = 1 reading (10 Hz)"  # (a repeated value 100 ms later is not a BLE copy)
    return _clinic_case("activ5 (ASCII IS..)", label, pieces, Activ5Codec, decode, 1, host_period_s=0.1)


def cts500_case(n: int) -> Case:
    from motorlab.devices.codecs.cts500 import Cts500Codec, weight_frame
    from motorlab.units import KGF_N

    kg = np.random.default_rng(10).integers(-2000, 50000, n) / 100
    pieces = [weight_frame(float(x)) for x in kg]

    def decode(piece, state, t, v, host_t):
        if len(piece) == 7 and piece[0] == 0x05 and piece[1] == 0 and sum(piece[:6]) & 0xFF == piece[6]:
            t.append(host_t)
            v.append(int.from_bytes(piece[2:6], "big", signed=True) / 100.0 * KGF_N)

    return _clinic_case("cts500", "1 notification = 1 frame", pieces, Cts500Codec, decode, 1)


def forceboard_case(n: int, per: int = 4) -> Case:
    from motorlab.devices.codecs.forceboard import ForceBoardCodec, force_notification
    from motorlab.units import LBF_N

    raw = np.random.default_rng(11).integers(-1000, 100_000, n)
    pieces = [force_notification([int(x) for x in raw[i : i + per]]) for i in range(0, n, per)]

    def decode(piece, state, t, v, host_t):
        count = piece[0] << 8 | piece[1]
        if len(piece) == 2 + 3 * count:
            # the samples were made since the previous notification: spread evenly up to this one
            # (one time for all of them would be duplicate timestamps; the codec also caps the
            # spacing by its rate estimate after a pause)
            prev = state.get("prev", host_t)
            state["prev"] = host_t
            for i, k in enumerate(range(2, len(piece), 3), 1 - count):
                t.append(host_t + (host_t - prev) * i / count)
                v.append(int.from_bytes(piece[k : k + 3], "big", signed=True) * LBF_N)

    label = f"1 notification = {per} samples"
    return _clinic_case("forceboard", label, pieces, ForceBoardCodec, decode, 1)


def whc06_case(n: int) -> Case:
    from motorlab.devices.codecs.whc06 import WhC06Codec, manufacturer_data
    from motorlab.units import KGF_N

    kg = np.random.default_rng(12).integers(0, 18000, n) / 100
    pieces = [manufacturer_data(float(x)) for x in kg]

    def decode(piece, state, t, v, host_t):
        if len(piece) >= 12:
            t.append(host_t)
            v.append(int.from_bytes(piece[10:12], "big") / 100.0 * KGF_N)

    label = "1 advertisement = 1 sample"
    return _clinic_case("wh-c06 (advertising)", label, pieces, WhC06Codec, decode, 1)


def weight_scale_case(n: int) -> Case:
    from motorlab.devices.codecs.ble_weight_scale import WeightScaleCodec, weight_measurement
    from motorlab.units import KGF_N

    kg = np.random.default_rng(13).integers(0, 30000, n) * 0.005
    pieces = [weight_measurement(float(x)) for x in kg]

    def decode(piece, state, t, v, host_t):
        if len(piece) == 3 and piece[0] == 0:
            t.append(host_t)
            v.append((piece[1] | piece[2] << 8) * 0.005 * KGF_N)

    label = "1 indication = 1 measurement"
    return _clinic_case("ble weight scale (2A9D)", label, pieces, WeightScaleCodec, decode, 1)


def evdev_case(n: int) -> Case:
    from motorlab.devices.codecs import evdev_tablet as et

    axes = {
        et.ABS_X: et.AbsAxis(0, 44800, 200),
        et.ABS_Y: et.AbsAxis(0, 29600, 200),
        et.ABS_PRESSURE: et.AbsAxis(0, 8191),
    }
    rng = np.random.default_rng(14)
    xyz = np.column_stack([rng.integers(0, 44800, n), rng.integers(0, 29600, n), rng.integers(1, 8191, n)])
    pieces = []
    for k, (x, y, p) in enumerate(xyz.tolist()):
        sec, usec = divmod(1_000_000 + k * 5_000, 1_000_000)  # 200 reports/s
        keys = (
            [(sec, usec, et.EV_KEY, et.BTN_TOOL_PEN, 1), (sec, usec, et.EV_KEY, et.BTN_TOUCH, 1)]
            if k == 0
            else []
        )
        events = [
            (sec, usec, et.EV_ABS, code, val)
            for code, val in ((et.ABS_X, x), (et.ABS_Y, y), (et.ABS_PRESSURE, p))
        ]
        pieces.append(et.pack_events([*keys, *events, (sec, usec, et.EV_SYN, et.SYN_REPORT, 0)]))
    event = struct.Struct("=qqHHi")
    sx, sp = 1.0 / 200, 1.0 / 8191

    def decode(piece, state, t, v, host_t):
        for sec, usec, etype, code, value in event.iter_unpack(piece):
            if etype == et.EV_ABS:
                state[code] = float(value)
            elif etype == et.EV_KEY:
                state[code] = value != 0
            elif etype == et.EV_SYN and code == et.SYN_REPORT:
                now = sec + usec * 1e-6
                t.append(now - state.setdefault("origin", now))
                p = min(1.0, max(0.0, state[et.ABS_PRESSURE] * sp))
                v += (state[et.ABS_X] * sx, state[et.ABS_Y] * sx, p, 1.0, float(state[et.BTN_TOUCH]), 0.0)

    label = "1 read = 1 report (x, y, pressure, SYN)"
    case = _clinic_case(
        "evdev tablet", label, pieces, lambda: et.EvdevTabletCodec(axes), decode, 6, timed=False
    )
    case.note = "live: feed's fast path, one struct.Struct per report"
    return case


CASES = {
    "tindeq": tindeq_case,
    "tindeq_clones": tindeq_clone_case,
    "vernier": vernier_case,
    "witmotion_ble": witmotion_ble_case,
    "mark10": mark10_case,
    "witmotion": witmotion_case,
    "motorlab": motorlab_case,
    "jamar": jamar_case,
    "kforce": kforce_case,
    "kgrip": kgrip_case,
    "activ5": activ5_case,
    "cts500": cts500_case,
    "forceboard": forceboard_case,
    "whc06": whc06_case,
    "weight_scale": weight_scale_case,
    "evdev_tablet": evdev_case,
}


def _ratio(r: np.ndarray, digits: int) -> str:
    return f"{np.median(r):.{digits}f}x [{r.min():.{digits}f}-{r.max():.{digits}f}]"


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
        title=f"codec decode speed, {args.repeat} paired runs: median of the per-run ratios (other decoder's "
        f"time / codec time) [lowest-highest]; above 1x the codec is faster"
    )
    columns = (
        "codec",
        "live: fed as",
        "live vs loop",
        "live vs plain/call",
        "µs/call",
        "bulk vs loop",
        "note",
    )
    for col in columns:
        table.add_column(col, justify="left" if col in ("codec", "live: fed as", "note") else "right")
    verdicts: list[tuple[str, float, float]] = []
    for name in names:
        try:
            case = CASES[name](args.samples)
        except ModuleNotFoundError as exc:
            table.add_row(name, "-", "-", "-", "-", "-", f"missing ({exc.name})")
            continue
        runs = paired_runs(case, args.repeat)
        ref = runs.outputs["loop"]
        wrong = [k for k, out in runs.outputs.items() if not same(out, ref, case.timed)]
        if wrong:
            shapes = ", ".join(f"{k} {runs.outputs[k][1].shape}" for k in wrong)
            table.add_row(
                case.name, case.as_sent_label, "-", "-", "-", "-", f"MISMATCH {shapes} vs loop {ref[1].shape}"
            )
            continue
        live, loop, plain, bulk = (np.array(x) for x in (runs.live, runs.loop, runs.plain, runs.bulk))
        vs_plain = float(np.median(plain / live))
        verdicts.append((case.name, vs_plain, float(np.median(loop / bulk)) if bulk.size else math.nan))
        table.add_row(
            case.name,
            case.as_sent_label,
            _ratio(loop / live, 2),
            _ratio(plain / live, 2),
            f"{np.median(live) / len(case.as_sent) * 1e6:.1f}",
            _ratio(loop / bulk, 0) if bulk.size else "-",
            case.note,
        )
    Console(width=200).print(table)
    slow = [f"{n} {r:.2f}x" for n, r, _ in verdicts if not r >= 1.0]
    few = [f"{n} {b:.0f}x" for n, _, b in verdicts if math.isfinite(b) and not b >= 20.0]
    print(
        f"verdict: live >= 1x the plain per-call decoder: {'yes' if not slow else 'NO (' + ', '.join(slow) + ')'}; "
        f"bulk replay >= 20x the loop: {'yes' if not few else 'NO (' + ', '.join(few) + ')'} "
        f"({len(verdicts)} codecs; medians of paired runs)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
