"""Pump a live device into an LSL outlet (and/or a callback) until stopped."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..devices.base import SampleBlock
    from ..devices.drivers.codec_driver import CodecDriver
    from .lsl import LslOutlet


@dataclass
class StreamStats:
    """What one streaming run did (latencies in seconds, byte arrival -> sample pushed)."""

    blocks: int = 0
    samples: int = 0
    dropped: int = 0
    latencies_s: list[float] = field(default_factory=list)
    first_device_t: float = float("nan")
    last_device_t: float = float("nan")


async def pump(
    driver: CodecDriver,
    outlet: LslOutlet | None = None,
    *,
    duration_s: float | None = None,
    stop: asyncio.Event | None = None,
    on_block: Callable[[SampleBlock], None] | None = None,
) -> StreamStats:
    """Forward every block of a started driver until ``duration_s`` seconds of wall time
    have passed, ``stop`` is set, or the driver ends.

    Returns counts and per-block latencies (host time the block is handed on
    minus ``block.host_time``, the moment its bytes arrived).
    """
    stats = StreamStats()
    deadline = None if duration_s is None else time.monotonic() + duration_s
    blocks = driver.blocks().__aiter__()
    # one pending read kept across timeouts: cancelling __anext__ would close the generator
    pending: asyncio.Future | None = None
    try:
        while True:
            if stop is not None and stop.is_set():
                break
            timeout = 0.25 if deadline is None else min(deadline - time.monotonic(), 0.25)
            if timeout <= 0:
                break
            if pending is None:
                pending = asyncio.ensure_future(blocks.__anext__())
            done, _ = await asyncio.wait({pending}, timeout=timeout)
            if not done:
                continue
            fut, pending = pending, None
            try:
                blk = fut.result()
            except StopAsyncIteration:
                break
            _forward(blk, driver, outlet, on_block, stats)
    finally:
        if pending is not None:
            pending.cancel()
    return stats


def _forward(
    blk: SampleBlock,
    driver: CodecDriver,
    outlet: LslOutlet | None,
    on_block: Callable[[SampleBlock], None] | None,
    stats: StreamStats,
) -> None:
    stats.latencies_s.append(time.monotonic() - blk.host_time)  # byte arrival -> sample available
    if outlet is not None:
        outlet.push_block(blk, driver.clock.to_host)
    if on_block is not None:
        on_block(blk)
    if stats.blocks == 0 and blk.n:
        stats.first_device_t = float(blk.device_time[0])
    if blk.n:
        stats.last_device_t = float(blk.device_time[-1])
    stats.blocks += 1
    stats.samples += blk.n
    stats.dropped += blk.dropped_before
