"""Sample blocks for the codecs' per-frame parsers: build one from plain values, join runs of them.

A codec's ``parse(frame)`` returns the samples of one frame as one
:class:`~motorlab.devices.base.SampleBlock`; ``feed()`` then joins the blocks
of one call that follow each other without a gap (:func:`join_runs`), so a
call returns as few blocks as its data allows (``SampleBlock``'s contract).
Small frames are decoded with :mod:`struct` into Python floats and kept as
such in a :class:`~motorlab.devices.base.RowBlock` (:func:`new_block`), whose
arrays are built on first use: joined blocks and a consumer's
``stack_blocks`` then make one array for many frames instead of two per frame
(each NumPy call costs about a microsecond, more than decoding a small frame).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..base import CodecEvent, RowBlock, SampleBlock

#: sequence numbers of the open protocol are u32 and wrap; the others never get there
SEQ_MODULUS = 1 << 32


def new_block(
    device_time: Sequence[float],
    values: Sequence[float],
    n_channels: int,
    seq: int | None = None,
    dropped_before: int = 0,
) -> SampleBlock:
    """A block from device times (s) and values listed sample by sample, channel by channel
    (the lists are kept, not copied: the caller hands them over)."""
    return RowBlock(device_time, values, n_channels, seq, dropped_before)


def continues(prev: SampleBlock, nxt: SampleBlock) -> bool:
    """Does ``nxt`` follow ``prev`` without a gap (same channels, no drop, next sequence number
    or, without sequence numbers, a later device time)?"""
    if nxt.dropped_before or prev.n_channels != nxt.n_channels or not prev.n or not nxt.n:
        return False
    if prev.seq is not None and nxt.seq is not None:
        return (prev.seq + prev.n) % SEQ_MODULUS == nxt.seq
    return nxt.first_time > prev.last_time


def join_runs(events: list[CodecEvent]) -> list[CodecEvent]:
    """Join neighbouring sample blocks that :func:`continues` links, each run with one concatenation."""
    if len(events) < 2:
        return events
    out: list[CodecEvent] = []
    run: list[SampleBlock] = []
    for ev in events:
        if isinstance(ev, SampleBlock) and run and continues(run[-1], ev):
            run.append(ev)
            continue
        if run:
            out.append(_joined(run))
            run = []
        if isinstance(ev, SampleBlock):
            run.append(ev)
        else:
            out.append(ev)
    if run:
        out.append(_joined(run))
    return out


def _joined(run: list[SampleBlock]) -> SampleBlock:
    if len(run) == 1:
        return run[0]
    first = run[0]
    rows = [b.rows for b in run if isinstance(b, RowBlock) and b.rows is not None]
    if len(rows) == len(run):  # still Python floats: join the lists
        times = [t for r in rows for t in r[0]]
        flat = [v for r in rows for v in r[1]]
        return RowBlock(times, flat, first.n_channels, first.seq, first.dropped_before, first.host_time)
    return SampleBlock(
        np.concatenate([b.device_time for b in run]),
        np.concatenate([b.values for b in run]),
        first.host_time,
        first.seq,
        first.dropped_before,
    )
