"""Differential checks of a codec's ``feed`` fast path against its general path (issue 10).

A codec with a fast path keeps the general path callable on its own as
``_feed_general(data)``. :func:`assert_same_paths` feeds the same pieces, one
call each, to one codec through ``feed`` and to a twin through
``_feed_general``, and asserts after every call: the same events (types and
values; sample blocks compared field by field, arrays exactly), the same
``stats`` and the same extra state the caller names.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from motorlab.devices.base import SampleBlock
from motorlab.devices.codecs import fuzzing


def assert_same_events(got: list, want: list, where: str = "") -> None:
    assert len(got) == len(want), f"{where}: {len(got)} events, general path {len(want)}"
    for a, b in zip(got, want):
        if isinstance(b, SampleBlock):
            assert isinstance(a, SampleBlock), f"{where}: {type(a).__name__} instead of a sample block"
            assert (a.n, a.n_channels, a.seq, a.dropped_before) == (
                b.n,
                b.n_channels,
                b.seq,
                b.dropped_before,
            ), where
            assert a.host_time == b.host_time or (math.isnan(a.host_time) and math.isnan(b.host_time)), where
            assert a.device_time.dtype == b.device_time.dtype == np.float64, where
            np.testing.assert_array_equal(a.device_time, b.device_time, err_msg=where)
            np.testing.assert_array_equal(a.values, b.values, err_msg=where)  # (NaN equals NaN here)
        else:
            # (repr: a NaN field, e.g. DeviceInfo.nominal_rate_hz, is never == itself)
            assert type(a) is type(b) and (a == b or repr(a) == repr(b)), f"{where}: {a!r} != {b!r}"


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


def fuzz_streams(name: str, n: int, seed: int = 7) -> list[list[bytes]]:
    """``n`` inputs drawn as ``benchmarks/fuzz_codecs.py`` draws them for the fuzz target ``name``."""
    target = next(t for t in fuzzing.TARGETS if t.name == name)
    rng = random.Random(f"{seed}:{name}")
    corpus = fuzzing.Corpus.build(target, rng)
    return [fuzzing.fuzz_input(corpus, rng) for _ in range(n)]
