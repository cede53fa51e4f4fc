"""Bytes -> fixed-length frames that start with a sync header (Kinvent ``FF FF FE`` frames).

A serial port delivers a byte stream cut anywhere; a BLE UART bridge (the
Microchip transparent-UART service of Kinvent sensors) usually sends one frame
per notification but may cut one across two. :class:`SyncFramer` serves both:

* frames are taken wherever the header starts, ``length`` bytes at a time;
  bytes before a header are returned as *junk runs* (the codec may find
  something in them, e.g. an ASCII reply) and counted as discarded;
* the carry between calls is bounded: a partial frame (< ``length`` bytes) or
  a partial header at the very end;
* with ``datagrams=True`` a chunk that is whole frames on its own (a header at
  every ``length``-th byte) always starts afresh: a partial frame left over
  from an earlier chunk is dropped rather than joined to it, so one bad
  notification never costs the good one after it.

Without a checksum, a header pattern inside data is indistinguishable from a
real header; once aligned, frames are consumed whole, so this only matters
right after junk.
"""

from __future__ import annotations


class SyncFramer:
    """Byte chunks -> (frames, junk runs); see the module docstring.

    Attributes:
        carry: the bytes held over for the next :meth:`push` (a partial frame or header), empty
            when nothing is pending; a codec reads it to take a whole frame without the framer.
            Read-only for callers.
    """

    def __init__(self, header: bytes, length: int, *, datagrams: bool = False) -> None:
        if not header or length < len(header):
            raise ValueError("a frame must be at least as long as its non-empty header")
        self.header = header
        self.length = length
        self.datagrams = datagrams
        self.bytes_discarded = 0
        self.resyncs = 0
        self.carry = b""

    def reset(self) -> None:
        self.carry = b""

    def whole_frames(self, data: bytes) -> bool:
        """Is ``data`` one or more whole frames, a header at every ``length``-th byte?"""
        n, size = len(data), self.length
        return n >= size and n % size == 0 and all(data.startswith(self.header, k) for k in range(0, n, size))

    def push(self, data: bytes) -> tuple[list[bytes], list[bytes]]:
        """Frames completed by ``data`` and the junk runs skipped on the way, in stream order."""
        if self.carry:
            if self.datagrams and self.whole_frames(data):
                self._discard(len(self.carry))
            else:
                data = self.carry + data
            self.carry = b""
        frames: list[bytes] = []
        junk: list[bytes] = []
        head, size = self.header, self.length
        pos, n = 0, len(data)
        while pos < n:
            if data.startswith(head, pos):
                if n - pos < size:
                    break  # a partial frame: carried over
                frames.append(data[pos : pos + size])
                pos += size
                continue
            nxt = data.find(head, pos + 1)
            end = nxt if nxt >= 0 else n - _partial_header(data, pos, head)
            if end > pos:
                junk.append(data[pos:end])
                self._discard(end - pos)
            pos = end
            if nxt < 0:
                break  # what is left may be the start of a header
        self.carry = data[pos:]
        return frames, junk

    def _discard(self, n_bytes: int) -> None:
        self.bytes_discarded += n_bytes
        self.resyncs += 1


def _partial_header(data: bytes, pos: int, head: bytes) -> int:
    """Length of the longest tail of ``data[pos:]`` that is a proper prefix of ``head``."""
    for k in range(min(len(head) - 1, len(data) - pos), 0, -1):
        if data.endswith(head[:k]):
            return k
    return 0
