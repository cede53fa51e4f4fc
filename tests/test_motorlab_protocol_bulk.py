"""The vectorised bulk decode path of the motorlab codec against the frame-by-frame path.

Frames are built with the independent struct-based encoder in ``firmware_notes``;
the reference decoder is the same codec's frame-by-frame path (``feed``), fed the
same pieces as the replay entry point ``feed_bulk``.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from motorlab.devices.base import SampleBlock
from motorlab.devices.codecs import bulk_framing
from motorlab.devices.codecs.bulk_framing import cobs_code_chains, crc16_rows, sample_headers
from motorlab.devices.codecs.motorlab_protocol import MAX_ENCODED, MotorlabCodec, cobs_decode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "firmware_notes"))
import itertools

import make_test_vectors as ref


# ---------------------------------------------------------------- building blocks
@settings(max_examples=100, deadline=None)
@given(st.integers(0, 40), st.integers(1, 20), st.data())
def test_crc16_rows_matches_the_bitwise_reference(width, count, data):
    flat = data.draw(st.binary(min_size=width * count, max_size=width * count))
    rows = [flat[i * width : (i + 1) * width] for i in range(count)]
    got = crc16_rows(np.frombuffer(flat, dtype=np.uint8).reshape(count, width))
    assert got.dtype == np.uint16 and got.tolist() == [ref.crc16_ccitt_false(r) for r in rows]


@pytest.mark.parametrize("width", [15, 16, 17, 100, 209, 1019])
@pytest.mark.parametrize("count", [1, 2, 37, 300, 5000])
def test_crc16_rows_in_chunks_matches_the_reference(width, count):
    """Long rows are cut into chunks (odd and even heads, odd chunk counts) and joined again."""
    rng = np.random.default_rng(width * count)
    stream = rng.integers(0, 256, count * (width + 3) + 1, dtype=np.uint8)
    rows = np.lib.stride_tricks.as_strided(stream[1:], shape=(count, width), strides=(width + 3, 1))
    want = [ref.crc16_ccitt_false(bytes(r)) for r in rows]
    assert crc16_rows(rows).tolist() == want
    assert crc16_rows(np.ascontiguousarray(rows)).tolist() == want


def test_crc16_rows_check_value_on_a_strided_view():
    stream = np.frombuffer(b"\x00123456789\x00" * 5, dtype=np.uint8)
    rows = np.lib.stride_tricks.as_strided(stream[1:], shape=(5, 9), strides=(11, 1))
    assert crc16_rows(rows).tolist() == [0x29B1] * 5


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(max_size=700), min_size=1, max_size=8), st.lists(st.integers(0, 5000), max_size=4))
def test_cobs_code_chains_agree_with_cobs_decode(bodies, flips):
    """Zeroing the codes and taking out the codes after a 0xFF code gives the body."""
    wire = bytearray(b"".join(ref.cobs(b) + b"\x00" for b in bodies))
    for f in flips:  # damage some codes/bytes (never to 0x00: frame boundaries stay put)
        if wire and wire[f % len(wire)]:
            wire[f % len(wire)] = (wire[f % len(wire)] * 7 + 3) % 255 + 1
    buf = np.frombuffer(bytes(b"\x00" + wire), dtype=np.uint8)
    delims = np.flatnonzero(buf == 0)
    starts, ends = delims[:-1] + 1, delims[1:]
    tail = bulk_framing.COBS_TAIL_FRAMES
    try:
        for tail_frames in (0, 3, 10**9):  # all NumPy, NumPy then Python, all Python
            bulk_framing.COBS_TAIL_FRAMES = tail_frames
            code_pos, valid, dropped = cobs_code_chains(buf, starts, ends)
            zeroed = buf.copy()
            zeroed[code_pos] = 0
            gone = set(dropped.tolist())
            for i, (a, b) in enumerate(zip(starts, ends)):
                body = cobs_decode(bytes(buf[a:b]))
                assert valid[i] == (body is not None)
                if body is not None:
                    assert body == bytes(zeroed[p] for p in range(a + 1, b) if p not in gone)
    finally:
        bulk_framing.COBS_TAIL_FRAMES = tail


@pytest.mark.parametrize("block_steps", [1, 3, 8])
@pytest.mark.parametrize("tail_frames", [0, 24])
def test_cobs_code_chains_in_blocks_without_dropping_finished_chains(block_steps, tail_frames):
    """Many frames of very different chain lengths, some damaged so that their chain jumps past
    the frame end (into the next frames, or past the end of the buffer): the walk in blocks,
    dropping finished chains only now and then, gives every code and flags exactly the bad frames."""
    rng = np.random.default_rng(block_steps * 10 + tail_frames)
    bodies = []
    for k in range(120):  # short and long chains: from no zero at all to a zero every other byte
        body = rng.integers(1, 256, int(rng.integers(1, 600)), dtype=np.uint8)
        body[rng.random(body.size) < (k % 6) / 10] = 0
        bodies.append(body.tobytes())
    frames = [bytearray(ref.cobs(b)) for b in bodies]
    for k in (3, 50, 51, 119):  # a code that jumps too far (the last one past the end of the buffer)
        frames[k] = frames[k][:200]
        frames[k][0] = len(frames[k]) + 7
    wire = b"\x00" + b"".join(bytes(f) + b"\x00" for f in frames) + b"\x01\x02"
    buf = np.frombuffer(wire, dtype=np.uint8)
    delims = np.flatnonzero(buf == 0)
    starts, ends = delims[:-1] + 1, delims[1:]
    saved = bulk_framing.COBS_TAIL_FRAMES, bulk_framing.COBS_BLOCK_STEPS
    try:
        bulk_framing.COBS_TAIL_FRAMES, bulk_framing.COBS_BLOCK_STEPS = tail_frames, block_steps
        code_pos, valid, dropped = cobs_code_chains(buf, starts, ends)
    finally:
        bulk_framing.COBS_TAIL_FRAMES, bulk_framing.COBS_BLOCK_STEPS = saved
    assert np.flatnonzero(~valid).tolist() == [3, 50, 51, 119]
    assert [cobs_decode(bytes(buf[a:b])) is None for a, b in zip(starts, ends)] == (~valid).tolist()
    zeroed = buf.copy()
    zeroed[code_pos] = 0
    gone = set(dropped.tolist())
    for i, (a, b) in enumerate(zip(starts.tolist(), ends.tolist())):
        if valid[i]:
            assert bytes(zeroed[p] for p in range(a + 1, b) if p not in gone) == bodies[i]
        else:  # (a damaged frame's positions may be anything inside it, but never outside)
            assert cobs_decode(bytes(buf[a:b])) is None
    assert (zeroed[ends[valid]] == 0).all() and zeroed[-2:].tolist() == [1, 2]
    inside = np.zeros(buf.size, dtype=bool)
    for a, b in zip(starts.tolist(), ends.tolist()):
        inside[a + 1 : b + 1] = True  # (a frame end holds 0x00 already)
    assert inside[code_pos].all()


def test_sample_headers_past_the_end_of_the_buffer_read_as_zero():
    buf = np.frombuffer(struct.pack("<IBBB", 70000, 5, 3, 2) * 2, dtype=np.uint8)
    seq, n, m, fmt = sample_headers(buf, np.array([0, 7, 10]))
    assert seq.tolist() == [70000, 70000, 0x02030500]  # the last one: bytes 10..13, then past the end
    assert (n.tolist(), m.tolist(), fmt.tolist()) == ([5, 5, 0], [3, 3, 0], [2, 2, 0])


# ---------------------------------------------------------------- random streams
def _info(fmt: int, m: int, rng: np.random.Generator) -> bytes:
    chans = [(f"c{i}_x", "MISC", "N", "tip", float(rng.uniform(1e-4, 2.0))) for i in range(m)]
    return ref.frame(
        0x81, 1, ref.info_payload(fmt, 100_000, 1000, 1_000_000, "bench", "s1", "fw", "x", chans)
    )


def _samples(seq: int, n: int, m: int, fmt: int, t0: int, rng: np.random.Generator, zeros: bool) -> bytes:
    lim = 2 ** (8 * fmt - 1)
    raw = rng.integers(-lim, lim, (n, m)) if not zeros else rng.integers(-2, 3, (n, m))
    t_us = (t0 + np.arange(n) * int(rng.integers(0, 40_000))) % 2**32
    return ref.frame(
        0x82, 0, ref.samples_payload(seq % 2**32, fmt, [(int(t), r.tolist()) for t, r in zip(t_us, raw)])
    )


KINDS = ["samples"] * 8 + [
    "gap",
    "restart",
    "info",
    "info_other",
    "ack",
    "battery",
    "error",
    "garbage",
    "bad_crc",
    "bad_cobs",
    "malformed",
    "wrong_m",
    "big",
    "overlong",
    "empty",
    "unknown",
]


def _stream(kinds: list[str], seed: int) -> bytes:
    """A device stream: mostly contiguous sample frames, plus every kind of trouble."""
    rng = np.random.default_rng(seed)
    fmt, m = int(rng.choice([2, 4])), int(rng.integers(1, 5))
    seq, t_us = int(rng.integers(0, 2**32)), int(rng.integers(0, 2**32))
    out = []
    for kind in kinds:
        n = int(rng.integers(1, 12))
        if kind in ("samples", "gap", "restart", "wrong_m", "big"):
            if kind == "gap":
                seq += int(rng.integers(1, 50))
            elif kind == "restart":
                seq = 0
            mm = m + 1 if kind == "wrong_m" else m
            if kind == "big":  # long bodies: 0xFF COBS codes, sometimes dropped codes
                n = max(1, 900 // (4 + mm * fmt))
            out.append(_samples(seq, n, mm, fmt, t_us, rng, zeros=bool(rng.integers(0, 2))))
            seq, t_us = seq + n, (t_us + n * 10_000) % 2**32
        elif kind == "info":
            out.append(_info(fmt, m, rng))
        elif kind == "info_other":  # the device changes layout
            fmt, m = int(rng.choice([2, 4])), int(rng.integers(1, 5))
            out.append(_info(fmt, m, rng))
        elif kind == "ack":
            out.append(ref.frame(0x80, 3, struct.pack("<BBi", 0x02, 0, int(rng.integers(-99, 99)))))
        elif kind == "battery":
            out.append(ref.frame(0x83, 0, struct.pack("<BHB", 80, 3900, 0)))
        elif kind == "error":
            out.append(ref.frame(0x84, 0, b"\x07" + bytes([4]) + b"oops"))
        elif kind == "unknown":
            out.append(ref.frame(0x55, 0, b"\x01\x02"))
        elif kind == "empty":
            out.append(b"\x00" * int(rng.integers(1, 4)))
        elif kind == "garbage":
            out.append(rng.integers(0, 256, int(rng.integers(1, 60)), dtype=np.uint8).tobytes())
        elif kind == "overlong":
            out.append(
                rng.integers(1, 256, MAX_ENCODED + int(rng.integers(1, 300)), dtype=np.uint8).tobytes()
            )
        elif kind == "malformed":  # valid CRC, sample header promises more samples than there are
            out.append(
                ref.frame(0x82, 0, struct.pack("<IBBB", seq, n + 1, m, fmt) + bytes(n * (4 + m * fmt)))
            )
        else:  # bad_crc / bad_cobs: damage a valid sample frame
            frame = bytearray(_samples(seq, n, m, fmt, t_us, rng, zeros=False))
            k = int(rng.integers(2, len(frame) - 1)) if kind == "bad_crc" else 1
            frame[k] = frame[k] % 255 + 1 if kind == "bad_crc" else 0xFE
            out.append(bytes(frame))
            seq += n
    return b"".join(out)


def _run(stream: bytes, cuts: list[int], bulk: bool, crc_min: int) -> tuple[list, MotorlabCodec]:
    codec = MotorlabCodec()
    codec.bulk_min_frames = 1
    codec.bulk_crc_min_frames = crc_min
    feed = codec.feed_bulk if bulk else codec.feed
    bounds = [0, *sorted(c % (len(stream) + 1) for c in cuts), len(stream)]
    events = []
    for a, b in itertools.pairwise(bounds):
        events += feed(stream[a:b])
    return events, codec


def _same_events(got: list, want: list) -> None:
    def kind(e: object) -> str:  # (a RowBlock is a SampleBlock whose arrays are built on first use)
        return "SampleBlock" if isinstance(e, SampleBlock) else type(e).__name__

    assert [kind(e) for e in got] == [kind(e) for e in want]
    for g, w in zip(got, want):
        if isinstance(w, SampleBlock):
            assert (g.seq, g.dropped_before, g.values.shape) == (w.seq, w.dropped_before, w.values.shape)
            np.testing.assert_array_equal(g.device_time, w.device_time)
            np.testing.assert_array_equal(g.values, w.values)
        else:
            assert g == w


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(KINDS), min_size=1, max_size=60),
    st.integers(0, 2**32),
    st.lists(st.integers(0, 10**6), max_size=4),
    st.sampled_from([1, 3, 10**9]),
)
def test_bulk_path_gives_the_same_events_and_counters(kinds, seed, cuts, crc_min):
    stream = _stream(kinds, seed)
    got, bulk = _run(stream, cuts, bulk=True, crc_min=crc_min)
    want, exact = _run(stream, cuts, bulk=False, crc_min=crc_min)
    _same_events(got, want)
    assert bulk.stats == exact.stats
    assert bulk.malformed == exact.malformed
    assert bulk.looked_like_text == exact.looked_like_text
    assert len(bulk._pending) == len(exact._pending) and bytes(bulk.framer.buffer) == bytes(
        exact.framer.buffer
    )


# ---------------------------------------------------------------- a long capture, against ground truth
def _capture(n_frames: int, per: int, m: int, seed: int):
    rng = np.random.default_rng(seed)
    raw = rng.integers(-32768, 32768, (n_frames * per, m))
    t_us = (2**32 - 5_000_000 + np.arange(n_frames * per) * 10_000) % 2**32  # wraps part-way
    frames = [
        ref.frame(
            0x82,
            0,
            ref.samples_payload(
                k * per,
                2,
                [
                    (int(t), r.tolist())
                    for t, r in zip(t_us[k * per : (k + 1) * per], raw[k * per : (k + 1) * per])
                ],
            ),
        )
        for k in range(n_frames)
    ]
    scales = [0.001, 0.5, 2.0][:m]
    info = _info_with(m, scales)
    return info, frames, raw, t_us, scales


def _info_with(m: int, scales: list[float]) -> bytes:
    chans = [(f"acc_{'xyz'[i]}", "ACCEL", "m/s^2", "pen", s) for i, s in enumerate(scales)]
    return ref.frame(0x81, 1, ref.info_payload(2, 100_000, 1000, 1_000_000, "pen", "s", "f", "m", chans))


@pytest.mark.parametrize("crc_min", [1, 10**9])
def test_long_capture_decodes_to_ground_truth_in_one_bulk_pass(crc_min):
    info, frames, raw, _t_us, scales = _capture(600, 20, 3, seed=7)
    codec = MotorlabCodec()
    codec.bulk_crc_min_frames = crc_min
    codec.feed(info)
    calls = []  # frames that went the frame-by-frame way
    frame_by_frame = codec.parse
    codec.parse = lambda frame: (calls.append(frame), frame_by_frame(frame))[1]  # type: ignore[method-assign]
    (blk,) = codec.feed_bulk(b"".join(frames))
    assert calls == []
    f32 = np.array([struct.unpack("<f", struct.pack("<f", s))[0] for s in scales])
    np.testing.assert_array_equal(blk.values, raw * f32)
    unwrapped = (2**32 - 5_000_000) + np.arange(raw.shape[0]) * 10_000
    np.testing.assert_allclose(blk.device_time, unwrapped * 1e-6, rtol=0, atol=1e-9)
    assert (blk.seq, blk.dropped_before, codec.stats.frames_ok, codec.stats.resyncs) == (0, 0, 601, 0)


def test_bulk_crc_rejects_exactly_the_damaged_frames():
    info, frames, raw, _, scales = _capture(300, 5, 2, seed=3)
    damaged = [7, 8, 150, 299]
    wire = []
    for k, f in enumerate(frames):
        if k in damaged:  # change one byte (never to 0x00): bad CRC, or bad COBS if it was a code
            f = bytearray(f)
            f[12] = f[12] % 255 + 1
            f = bytes(f)
        wire.append(f)
    codec = MotorlabCodec()
    codec.bulk_crc_min_frames = 1
    codec.feed(info)
    blocks = codec.feed_bulk(b"".join(wire))
    assert codec.stats.resyncs == len(damaged) and codec.stats.frames_ok == 1 + 300 - len(damaged)
    assert codec.stats.bytes_discarded == sum(len(frames[k]) - 2 for k in damaged)
    assert [(b.seq, b.dropped_before) for b in blocks] == [(0, 0), (45, 10), (755, 5)]
    kept = np.concatenate([np.arange(k * 5, k * 5 + 5) for k in range(300) if k not in damaged])
    f32 = np.array([struct.unpack("<f", struct.pack("<f", s))[0] for s in scales])
    np.testing.assert_array_equal(np.concatenate([b.values for b in blocks]), raw[kept] * f32)


# ---------------------------------------------------------------- the usual capture: one run, few NumPy steps
def _equal_frames(
    count: int, per: int, m: int, fmt: int, seq0: int, seed: int, big: bool = False
) -> list[bytes]:
    """``count`` SAMPLES frames of one layout (so one body length), consecutive from ``seq0`` (mod 2^32)."""
    rng = np.random.default_rng(seed)
    if big:  # bodies over 254 bytes: 0xFF COBS codes, and codes after them taken out
        per = 900 // (4 + m * fmt)
    return [
        _samples(seq0 + k * per, per, m, fmt, 1000 * k * per, rng, zeros=bool(k % 3 == 0))
        for k in range(count)
    ]


TROUBLE = ["none", "gap", "restart", "wrong_m", "bad_crc", "bad_cobs", "ack", "malformed", "garbage", "big", "wrap",
           "info_disagrees"]  # fmt: skip


def _feed_pieces(pieces: list[bytes], bulk: bool, crc_min: int) -> tuple[list, MotorlabCodec]:
    codec = MotorlabCodec()
    codec.bulk_crc_min_frames = crc_min
    feed = codec.feed_bulk if bulk else codec.feed
    events = []
    for piece in pieces:
        events += feed(piece)
    return events, codec


@pytest.mark.parametrize("trouble", TROUBLE)
@pytest.mark.parametrize("info_first", [True, False])
@pytest.mark.parametrize("crc_min", [1, 256])
def test_one_run_path_gives_the_same_events_and_counters(trouble, info_first, crc_min):
    """Hundreds of frames of one body length (the bulk path's one-run case) with one kind of trouble
    in the middle, fed whole and in a few pieces, to ``feed_bulk`` and to ``feed``; INFO comes in
    its own read before or after them (the samples are then held until it comes)."""
    rng = np.random.default_rng(TROUBLE.index(trouble))
    m, fmt, per = 3, 2, 6
    seq0 = 2**32 - 700 if trouble == "wrap" else 1000
    frames = _equal_frames(300, per, m, fmt, seq0, seed=5, big=trouble == "big")
    k = 150
    if trouble == "gap":
        frames[k:] = _equal_frames(150, per, m, fmt, seq0 + 5000, seed=6)
    elif trouble == "restart":
        frames[k:] = _equal_frames(150, per, m, fmt, 0, seed=6)
    elif trouble == "wrong_m":  # the same body length with another channel count
        frames[k] = ref.frame(0x82, 0, ref.samples_payload(seq0 + k * per, 2, [(0, [1, 2, 3, 4])] * 5))
    elif trouble == "bad_crc":  # valid COBS around a body whose CRC is off by one
        body = bytes([0x82, 0]) + struct.pack("<IBBB", seq0 + k * per, per, m, fmt) + bytes(per * 10)
        frames[k] = b"\x00" + ref.cobs(body + struct.pack("<H", ref.crc16_ccitt_false(body) ^ 1)) + b"\x00"
    elif trouble == "bad_cobs":
        frames[k] = frames[k][:1] + b"\xfe" + frames[k][2:]
    elif trouble == "ack":  # another message of the same body length
        frames[k] = ref.frame(0x80, 3, bytes(7 + per * (4 + m * fmt)))
    elif trouble == "malformed":  # a valid CRC, a sample count that does not fit the length
        frames[k] = ref.frame(
            0x82, 0, struct.pack("<IBBB", seq0 + k * per, per + 1, m, fmt) + bytes(per * 10)
        )
    elif trouble == "garbage":
        frames.insert(k, b"\x00\x13\x37\x00")
    info = _info(fmt, m + 1 if trouble == "info_disagrees" else m, rng)
    stream = b"".join(frames)
    for cuts in ([], [len(stream) // 3], [17, len(stream) // 2, len(stream) - 5]):
        bounds = [0, *cuts, len(stream)]
        pieces = [stream[a:b] for a, b in itertools.pairwise(bounds)]
        pieces = [info, *pieces] if info_first else [*pieces, info]
        got, bulk = _feed_pieces(pieces, bulk=True, crc_min=crc_min)
        want, exact = _feed_pieces(pieces, bulk=False, crc_min=crc_min)
        _same_events(got, want)
        assert bulk.stats == exact.stats and bulk.malformed == exact.malformed
        assert sum(b.n for b in got if isinstance(b, SampleBlock)) >= (
            0 if trouble == "info_disagrees" else 1700
        )
