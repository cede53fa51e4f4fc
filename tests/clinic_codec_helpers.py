"""Helpers shared by the clinic-device codec tests (tests/test_codecs_clinic_*.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from motorlab.devices.base import SampleBlock

G = 9.80665  # standard gravity, m/s^2 (exact)
LB_KG = 0.45359237  # kg per avoirdupois pound (exact)
LBF_N = LB_KG * G


def blocks(events: Iterable[object]) -> list[SampleBlock]:
    return [e for e in events if isinstance(e, SampleBlock)]


def others(events: Iterable[object]) -> list[object]:
    return [e for e in events if not isinstance(e, SampleBlock)]


def values_of(events: Iterable[object]) -> np.ndarray:
    """All sample values of the events, stacked (n, channels); (0, 0) if none."""
    bl = blocks(events)
    if not bl:
        return np.zeros((0, 0))
    return np.concatenate([b.values for b in bl], axis=0)


def feed_chunks(codec: object, chunks: Iterable[bytes], **kw: object) -> list[object]:
    out: list[object] = []
    for chunk in chunks:
        out += codec.feed(chunk, **kw)  # type: ignore[attr-defined]
    return out


def every_split(data: bytes) -> Iterable[tuple[int, list[bytes]]]:
    """(cut, [data[:cut], data[cut:]]) for every inner byte boundary."""
    for cut in range(1, len(data)):
        yield cut, [data[:cut], data[cut:]]


def assert_split_invariant(
    make: Callable[[], object], data: bytes, expected: np.ndarray, **kw: object
) -> None:
    """Feeding ``data`` cut at any byte boundary decodes exactly ``expected``."""
    for cut, chunks in every_split(data):
        got = values_of(feed_chunks(make(), chunks, **kw))
        assert got.shape == expected.shape, f"cut at byte {cut}"
        np.testing.assert_allclose(got, expected, rtol=1e-12, err_msg=f"cut at byte {cut}")
