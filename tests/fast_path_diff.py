"""Differential check of a host-timed clinic codec's fast path against its general path.

Each of these codecs decodes the usual notification in a short fast path in
``feed()`` and hands everything else to ``_feed_general()``, which handles any
input on its own. :func:`assert_fast_path_matches` feeds the same pieces to one
codec through ``feed`` and to another only through ``_feed_general`` and
asserts identical events (types, values, times, seq, dropped_before,
host_time), identical ``stats`` and identical codec state after every piece.
:func:`fuzz_streams` draws the streams: valid captures, captures with junk,
cut frames, duplicates and replies, and the inputs of the codec fuzzer
(:mod:`motorlab.devices.codecs.fuzzing`), with host times in bursts, periods,
pauses, and now and then a missing or non-finite one.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Iterable, Iterator

import numpy as np

from motorlab.devices.base import SampleBlock
from motorlab.devices.codecs import fuzzing

Piece = tuple[bytes, "float | None"]


def _same_float(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def event_difference(a: object, b: object) -> str | None:
    """What differs between two events (None: nothing)."""
    if type(a) is not type(b):
        return f"types {type(a).__name__} / {type(b).__name__}"
    if isinstance(a, SampleBlock) and isinstance(b, SampleBlock):
        if not np.array_equal(a.device_time, b.device_time, equal_nan=True):
            return f"device_time {a.device_time} / {b.device_time}"
        if a.values.shape != b.values.shape or not np.array_equal(a.values, b.values, equal_nan=True):
            return f"values {a.values} / {b.values}"
        if (a.seq, a.dropped_before) != (b.seq, b.dropped_before):
            return f"seq, dropped_before {(a.seq, a.dropped_before)} / {(b.seq, b.dropped_before)}"
        if not _same_float(a.host_time, b.host_time):
            return f"host_time {a.host_time} / {b.host_time}"
        return None
    return None if a == b else f"{a!r} / {b!r}"


def assert_fast_path_matches(
    name: str, streams: Iterable[list[Piece]], state: tuple[str, ...] = (), prime: bool = True
) -> int:
    """Feed every stream to a fresh pair of the fuzz target ``name``'s codecs (primed alike);
    fail on the first difference. ``state``: codec attributes that must also agree. Returns the
    number of pieces fed."""
    target = next(t for t in fuzzing.TARGETS if t.name == name)
    fed = 0
    for k, stream in enumerate(streams):
        fast, general = target.make(), target.make()
        if prime:
            target.prime(fast, k % 41)
            target.prime(general, k % 41)
        for j, (piece, host_time) in enumerate(stream):
            got = fast.feed(piece, host_time=host_time)  # type: ignore[call-arg]
            want = general._feed_general(piece, host_time=host_time)  # type: ignore[attr-defined]
            where = f"stream {k} piece {j} ({piece.hex()} at {host_time})"
            assert len(got) == len(want), f"{where}: {got} / {want}"
            for a, b in zip(got, want):
                diff = event_difference(a, b)
                assert diff is None, f"{where}: {diff}"
            assert dataclasses.asdict(fast.stats) == dataclasses.asdict(general.stats), where
            assert _same_float(fast.rate_hz, general.rate_hz), where  # type: ignore[attr-defined]
            for attr in state:
                a, b = getattr(fast, attr), getattr(general, attr)
                equal = _same_float(a, b) if isinstance(a, float) and isinstance(b, float) else a == b
                assert equal, f"{where}: {attr} {a!r} / {b!r}"
            fed += 1
    return fed


def _host_times(rng: random.Random, n: int, start: float) -> list[float | None]:
    out: list[float | None] = []
    t = start
    for _ in range(n):
        t = fuzzing.next_host_time(rng, t)
        r = rng.random()
        if r < 0.02:
            out.append(rng.choice((None, math.nan, math.inf)))
        elif r < 0.03:
            out.append(t - 0.05)  # a caller's clock going back
        else:
            out.append(t)
    return out


def fuzz_streams(name: str, seed: int, n_streams: int) -> Iterator[list[Piece]]:
    """Valid captures as they are, and the fuzzer's inputs, with host times."""
    target = next(t for t in fuzzing.TARGETS if t.name == name)
    rng = random.Random(f"fast-path:{seed}:{name}")
    corpus = fuzzing.Corpus.build(target, rng, size=50)
    for k in range(n_streams):
        if k % 4 == 0:  # valid device output, several captures in a row
            pieces = [p for _ in range(rng.randint(1, 4)) for p in rng.choice(corpus.captures)]
        else:
            pieces = fuzzing.fuzz_input(corpus, rng)
        yield list(zip(pieces, _host_times(rng, len(pieces), rng.uniform(0, 1e4))))


def mixed_streams(
    usual: list[bytes], odd: list[bytes], seed: int, n_streams: int = 20, length: int = 200
) -> Iterator[list[Piece]]:
    """Streams of mostly usual notifications (the fast path's input) with now and then an odd
    piece, a usual one cut in two or doubled, or a copy at the same host time: every
    switch between the two paths, in both directions."""
    rng = random.Random(f"mixed:{seed}")
    for _ in range(n_streams):
        pieces: list[bytes] = []
        while len(pieces) < length:
            r = rng.random()
            piece = rng.choice(usual)
            if r < 0.06:
                pieces.append(rng.choice(odd))
            elif r < 0.09:
                cut = rng.randint(0, len(piece))
                pieces += [piece[:cut], piece[cut:]]
            elif r < 0.11:
                pieces.append(piece + rng.choice(usual))
            else:
                pieces.append(piece)
        times = _host_times(rng, len(pieces), rng.uniform(0, 1e4))
        for k in range(1, len(times)):
            if rng.random() < 0.03:  # the same notification delivered twice at once
                pieces[k], times[k] = pieces[k - 1], times[k - 1]
        yield list(zip(pieces, times))
