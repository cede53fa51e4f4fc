"""COBS + CRC-16 framing of many frames at once, with NumPy (the open protocol's bulk decode path).

Used by :class:`motorlab.devices.codecs.motorlab_protocol.MotorlabCodec` when one
``feed`` holds many complete frames: the COBS code chains of all frames are
walked together (:func:`cobs_code_chains`), CRC-16/CCITT-FALSE is computed
column-wise over rows of equal length (:func:`crc16_rows`, table-driven, two
bytes per lookup, rows cut into chunks joined by the CRC's linearity), and the
7-byte sample headers are read through one structured view
(:func:`sample_headers`). Pure functions on arrays; no codec state.
"""

from __future__ import annotations

import binascii
from functools import cache, lru_cache

import numpy as np

SAMPLE_HEADER = 7  # seq u32, n u8, m u8, fmt u8 (firmware_notes/protocol.md)


def _bswap16(a: np.ndarray) -> np.ndarray:
    return (a >> 8) | (a << 8)


@cache
def _crc_tables() -> tuple[np.ndarray, np.ndarray]:
    """CRC-16/CCITT-FALSE tables for :func:`crc16_rows`, on *byte-swapped* registers.

    Two bytes ``b0 b1`` processed from register ``R`` give ``T16[R ^ (b0 << 8 | b1)]``
    (``T16``: the register after two bytes from 0): the 16-bit register is shifted
    out entirely, so only the XOR of the two matters. Keeping registers byte-swapped
    (``s = bswap(R)``) lets the byte pairs be read as native little-endian ``<u2``
    words ``w = b1 << 8 | b0``: ``s ^ w == bswap(R ^ (b0 << 8 | b1))``, so the swapped
    table is ``bswap(T16[bswap(x)])``. ``T16`` is linear (``T16[a ^ b] == T16[a] ^
    T16[b]``). Returns ``(pair_table, first_byte)``: the swapped two-byte table, and
    the swapped register after one byte ``v`` from the initial value 0xFFFF.
    """
    t8 = np.array([binascii.crc_hqx(bytes([v]), 0) for v in range(256)], dtype=np.uint16)
    w = np.arange(65536)
    after_b0 = t8[w >> 8]
    t16 = (((after_b0 << 8) & 0xFFFF) ^ t8[(after_b0 >> 8) ^ (w & 0xFF)]).astype(np.uint16)
    first = np.array([binascii.crc_hqx(bytes([v]), 0xFFFF) for v in range(256)], dtype=np.uint16)
    return _bswap16(t16[_bswap16(np.arange(65536, dtype=np.uint16))]), _bswap16(first)


@lru_cache(maxsize=64)
def _crc_join_tables(chunks: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tables to move the swapped registers of ``chunks`` pieces of ``width`` bytes to the row end.

    Piece ``c`` is followed by ``(chunks - 1 - c) * width`` bytes; over zero bytes a
    register moves linearly, so it moves as the XOR of its two bytes moved
    separately: ``table[hi[c] + (s >> 8)] ^ table[lo[c] + (s & 0xFF)]``. Returns
    ``(table, hi, lo)``: 512 uint16 entries per piece (1 KiB, so the tables stay in
    the CPU cache, unlike a 65536-entry table per shift), and the offsets of each
    piece's two halves.
    """
    table = np.empty((chunks, 2, 256), dtype=np.uint16)
    byte = np.arange(256)
    for c in range(chunks):
        zeros = bytes((chunks - 1 - c) * width)
        # unswapped register with one bit set, after the zeros (binascii continues from ``crc``)
        bit_image = [binascii.crc_hqx(zeros, 1 << b) for b in range(16)]
        for half, shift in ((0, 0), (1, 8)):  # swapped s: s >> 8 is R's low byte, s & 0xFF its high byte
            moved = np.zeros(256, dtype=np.uint16)
            for b in range(8):
                moved[(byte >> b) & 1 == 1] ^= bit_image[b + shift]
            table[c, half] = _bswap16(moved)
    offsets = np.arange(chunks, dtype=np.intp) * 512
    return table.reshape(-1), offsets, offsets + 256


@lru_cache(maxsize=256)
def _crc_chunking(length: int, max_chunks: int) -> tuple[int, int, int]:
    """``(chunks, width, head)`` for :func:`crc16_rows`: ``length == head + chunks * width``,
    ``width`` even, chosen for the fewest NumPy steps (head steps + chunk steps + joins)."""
    best = (length // 2 + length % 2, 1, 0, length)
    for chunks in range(2, min(length // 8, max_chunks) + 1):
        width = 2 * (length // (2 * chunks))
        head = length - chunks * width
        steps = head // 2 + head % 2 + width // 2 + (chunks - 1).bit_length()
        if steps < best[0]:
            best = (steps, chunks, width, head)
    return best[1:]


#: :func:`crc16_rows` uses at most about this many registers (rows x chunks) per step:
#: larger temporaries fall out of the CPU cache and are slower (measured)
CRC_REGISTERS = 1 << 14


def _crc16_pairs(reg: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Advance the swapped registers ``reg`` (in place) over the ``<u2`` words ``pairs[..., j]``.

    One table gather per word column, across all rows (and chunks) at once. The
    indices are made ``intp`` by the XOR itself (``take`` would convert uint16
    indices on every call); a ``register ^ word`` is always in 0..65535, so the
    gather needs no bounds check (``mode="wrap"`` never wraps here).
    """
    pair_table = _crc_tables()[0]
    index = np.empty(reg.shape, dtype=np.intp)
    for j in range(pairs.shape[-1]):
        np.bitwise_xor(reg, pairs[..., j], out=index)
        pair_table.take(index, out=reg, mode="wrap")
    return reg


def crc16_rows(rows: np.ndarray) -> np.ndarray:
    """CRC-16/CCITT-FALSE of every row of a (frames, length) uint8 array, as uint16 (frames,).

    Table-driven, two bytes per step, one NumPy gather per byte pair across all
    rows (the loops run over byte columns, never over frames). Same result as
    :func:`crc16` per row. The last axis must be contiguous.

    After a short head, rows are cut into ``chunks`` equal pieces whose CRCs are
    computed side by side (the first continuing from the head, the others from
    register 0), so each step works on ``frames * chunks`` registers and there
    are ``chunks`` times fewer steps. The pieces are then joined with the CRC's
    linearity, ``crc(A + B) == shift(crc(A), len(B)) ^ crc0(B)``: every piece's
    register is moved over the bytes after it with two small table lookups
    (:func:`_crc_join_tables`) and the results XORed.
    """
    n_rows, length = rows.shape
    chunks, width, head = _crc_chunking(length, max(2, min(length // 8, CRC_REGISTERS // max(n_rows, 1))))
    _pair_table, first_byte = _crc_tables()
    odd = head % 2
    if odd:  # one single byte first, then whole byte pairs
        reg = first_byte.take(rows[:, 0].astype(np.intp))
    else:
        reg = np.full(n_rows, 0xFFFF, dtype=np.uint16)
    if head > odd:
        reg = _crc16_pairs(reg, rows[:, odd:head].view("<u2"))
    if chunks == 1:
        return _bswap16(reg)
    part = np.zeros((n_rows, chunks), dtype=np.uint16)
    part[:, 0] = reg
    _crc16_pairs(part, rows[:, head:].reshape(n_rows, chunks, width).view("<u2"))
    # join the pieces: each register moved over the bytes after its piece, all XORed together
    table, hi, lo = _crc_join_tables(chunks, width)
    moved = table.take(np.add(part >> 8, hi, dtype=np.intp))
    moved ^= table.take(np.add(part & 0xFF, lo, dtype=np.intp))
    return _bswap16(np.bitwise_xor.reduce(moved, axis=1))


#: below this many frames still walking, :func:`cobs_code_chains` finishes them in plain Python
#: (cheaper than a handful of NumPy calls on tiny arrays per step; measured)
COBS_TAIL_FRAMES = 24
#: codes walked per frame between two looks at which chains are still running
COBS_BLOCK_STEPS = 8


def cobs_code_chains(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, ...]:
    """Walk the COBS code-byte chains of many frames at once.

    ``buf`` is the uint8 stream, frame ``i`` is ``buf[starts[i]:ends[i]]`` (no
    0x00 inside; ``ends`` distinct and increasing). Each step is one vectorised
    gather ``position += code`` over the frames still running, so the number of
    steps is the longest chain; the last few long chains are finished in Python.
    Returns ``(code_positions, valid, dropped)``: the positions of every code
    byte after the first, per frame whether the chain ends exactly at the frame
    end (valid COBS), and the positions of the codes that follow a 0xFF code.
    A frame's decoded body is then ``frame[1:]`` with its codes set to 0 and
    its ``dropped`` codes taken out (a 0xFF code implies no zero).

    A chain that reaches its frame end stays there (the delimiter is a code of
    0), and one that jumps past it only moves further on, so the steps run over
    all frames for a block of :data:`COBS_BLOCK_STEPS` codes without dropping
    the finished ones (two NumPy calls per code), and the finished chains are
    dropped only when at most half of them still run. ``code_positions`` may
    also hold frame ends (a 0x00 already); when every chain is valid nothing
    else needs sorting out, else the positions past their frame end are.
    """
    valid = np.ones(starts.size, dtype=bool)
    found: list[tuple[np.ndarray, np.ndarray]] = []  # (positions, frame end of each column)
    overshot: list[np.ndarray] = []
    pos, end = starts, ends
    code = np.empty(0, dtype=np.uint8)
    while pos.size > COBS_TAIL_FRAMES:
        if code.size != pos.size:
            code = np.empty(pos.size, dtype=np.uint8)
        block = np.empty((COBS_BLOCK_STEPS, pos.size), dtype=np.intp)
        for row in block:  # (past the end of ``buf``, an invalid chain reads its last byte)
            buf.take(pos, out=code, mode="clip")
            pos = np.add(pos, code, out=row)
        found.append((block, end))
        running = pos < end
        still = int(np.count_nonzero(running))
        if 2 * still > pos.size:
            continue
        over = pos > end
        if over.any():
            overshot.append(end[over])
        pos, end = pos[running], end[running]
    tail_pos, tail_over = [], []
    data = buf.data
    for p, e in zip(pos.tolist(), end.tolist()):
        p += data[p]
        while p < e:
            tail_pos.append(p)
            p += data[p]
        if p > e:
            tail_over.append(e)
    if tail_over or overshot:
        valid[np.searchsorted(ends, np.concatenate([*overshot, tail_over]))] = False
        blocks = [block[block < end] for block, end in found]  # (an invalid chain runs on past its end)
    else:
        blocks = [block.reshape(-1) for block, _ in found]
    code_pos = np.concatenate([*blocks, np.array(tail_pos, dtype=np.intp)])
    dropped = np.zeros(0, dtype=np.intp)
    if starts.size and int((ends - starts).max()) > 255:  # a 0xFF code followed by another code
        ff = np.concatenate((starts[buf.take(starts) == 0xFF], code_pos[buf.take(code_pos) == 0xFF]))
        after = ff + 0xFF
        frame_end = ends[np.searchsorted(ends, ff, side="right")]  # the end of the frame of each 0xFF
        dropped = np.sort(after[after < frame_end])
    return code_pos, valid, dropped


def without(buf: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """``np.delete(buf, positions)`` for sorted, distinct positions: one copy of the pieces between them
    (``np.delete`` builds and applies a mask the size of ``buf``, several times slower)."""
    cuts = positions.tolist()
    pieces = [buf[a + 1 : b] for a, b in zip([-1, *cuts], [*cuts, buf.size])]
    return np.concatenate(pieces)


def row_views(buf: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """(len(starts), width) view (or copy if not evenly spaced) of ``buf[s : s + width]`` per start."""
    if starts.size == 1 or bool(np.all(np.diff(starts) == starts[1] - starts[0])):
        step = int(starts[1] - starts[0]) if starts.size > 1 else width
        # a strided view straight on ``buf``'s memory (np.ndarray checks it stays inside ``buf``)
        rows = np.ndarray((starts.size, width), np.uint8, buf, int(starts[0]), (step, 1))
        rows.flags.writeable = False
        return rows
    return buf[starts[:, None] + np.arange(width)]


_SAMPLE_HEADER_DTYPE = np.dtype([("seq", "<u4"), ("n", "u1"), ("m", "u1"), ("fmt", "u1")])


def sample_headers(buf: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, ...]:
    """``(seq, n, m, fmt)`` as int64 arrays from the 7-byte sample headers at ``buf[at]``.

    Bytes past the end of ``buf`` read as 0 (a too-short frame, rejected by its length).
    """
    if at.size and int(at[-1]) + SAMPLE_HEADER <= buf.size:
        raw = row_views(buf, at, SAMPLE_HEADER)
    else:
        raw = np.zeros((at.size, SAMPLE_HEADER), dtype=np.uint8)
        inside = at[:, None] + np.arange(SAMPLE_HEADER) < buf.size
        raw[inside] = buf[(at[:, None] + np.arange(SAMPLE_HEADER))[inside]]
    head = raw.view(_SAMPLE_HEADER_DTYPE)[:, 0]
    return tuple(head[name].astype(np.int64) for name in ("seq", "n", "m", "fmt"))
