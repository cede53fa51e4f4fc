"""Differential checks of a codec's ``feed`` fast path against its general path (issue 10).

A codec with a fast path decodes the usual notification in a short branch of
``feed()`` and hands everything else to ``_feed_general()``, which handles any
input on its own. These helpers feed the same pieces, one call each, to one
codec through ``feed`` and to a twin only through ``_feed_general``, and
assert after every call: the same events (:func:`assert_same_events`), the
same ``stats`` and the same codec state.

* :func:`assert_same_paths` / :func:`fuzz_inputs`: codecs fed bytes only;
* :func:`assert_fast_path_matches` / :func:`fuzz_streams` / :func:`mixed_streams`:
  host-timed clinic codecs, fed ``(bytes, host time)`` pieces with host times in
  bursts, periods, pauses, and now and then a missing or non-finite one.

:func:`assert_same_events` is also the comparison of replay (``feed_bulk``)
against ``feed`` in the codec tests.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from motorlab.devices.base import SampleBlock
from motorlab.devices.codecs import fuzzing

Piece = tuple[bytes, "float | None"]


def assert_same_events(
    got: list, want: list, where: str = "", *, bitwise: bool = True, any_block_type: bool = False
) -> None:
    """The same events in the same order: types (``any_block_type``: any two sample blocks, e.g.
    a ``RowBlock`` and a ``SampleBlock``, count as one type), and for sample blocks seq,
    dropped_before, host time and both arrays (dtype, shape and values; ``bitwise``: the very
    bytes, so NaN payloads and -0.0 count); other events equal (or equal in ``repr``: a NaN
    field is never ``==`` itself)."""

    def kind(e: object) -> object:
        return SampleBlock if any_block_type and isinstance(e, SampleBlock) else type(e)

    assert [kind(e) for e in got] == [kind(e) for e in want], f"{where}: {got!r} / {want!r}"
    for a, b in zip(got, want):
        if isinstance(b, SampleBlock):
            assert (a.seq, a.dropped_before, repr(a.host_time)) == (
                b.seq,
                b.dropped_before,
                repr(b.host_time),
            ), where
            for x, y in ((a.device_time, b.device_time), (a.values, b.values)):
                assert x.dtype == y.dtype == np.float64 and x.shape == y.shape, where
                if bitwise:
                    assert x.tobytes() == y.tobytes(), f"{where}: {x} / {y}"
                else:
                    np.testing.assert_array_equal(x, y, err_msg=where)  # (NaN equals NaN here)
        else:
            assert a == b or repr(a) == repr(b), f"{where}: {a!r} / {b!r}"


def _same_float(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


# ------------------------------------------------------------------ codecs fed bytes
def assert_same_paths(
    make: Callable[[], Any],
    prime: Callable[[Any], None],
    streams: Iterable[list[bytes]],
    state: Callable[[Any], object] = lambda codec: None,
) -> int:
    """Feed each stream piece by piece to a fresh primed codec via ``feed`` and to its twin via
    ``_feed_general``; returns the number of calls compared."""
    calls = 0
    for k, pieces in enumerate(streams):
        fast, general = make(), make()
        prime(fast)
        prime(general)
        for i, piece in enumerate(pieces):
            where = f"stream {k} piece {i} {piece[:24]!r}"
            assert_same_events(fast.feed(piece), general._feed_general(piece), where)
            assert fast.stats == general.stats, where
            assert state(fast) == state(general), where
            calls += 1
    return calls


def fuzz_inputs(name: str, n: int, seed: int = 7) -> list[list[bytes]]:
    """``n`` inputs drawn as ``benchmarks/fuzz_codecs.py`` draws them for the fuzz target ``name``."""
    target = next(t for t in fuzzing.TARGETS if t.name == name)
    rng = random.Random(f"{seed}:{name}")
    corpus = fuzzing.Corpus.build(target, rng)
    return [fuzzing.fuzz_input(corpus, rng) for _ in range(n)]


# ------------------------------------------------------------------ host-timed codecs
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
            assert_same_events(got, want, where)
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
