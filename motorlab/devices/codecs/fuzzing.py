"""Fuzzing registry of the device codecs: valid device output per codec, and ways to break it.

Used by ``benchmarks/fuzz_codecs.py`` (10^6 inputs per codec) and
``tests/test_codec_fuzz.py`` (a quick hypothesis run). **Adding a codec = adding
one** :class:`FuzzTarget` **to** :data:`TARGETS`: how to make it, how the
transport hands it data (a byte stream cut anywhere, or BLE notifications),
how to prime it as a device session would (commands in flight, INFO seen), a
valid capture, and optionally a "length lie": a valid frame whose length or
count field is rewritten and whose checksum is then made right again, so
that the lie reaches the parser instead of being stopped by the checksum
(the kind of input that found the Vernier ``IndexError``).

:func:`fuzz_input` draws one input from a seeded :class:`random.Random` and a
:class:`Corpus` (valid captures and lies built once): random bytes, or a valid
capture with bits flipped, bytes replaced by
protocol-significant values, cut short, spliced with pieces of another capture,
pieces duplicated or dropped, length fields lied about, and fed in pieces cut
at random points. :func:`check_events` states what every ``feed`` result must
satisfy. Pure Python, no I/O.
"""

from __future__ import annotations

import math
import random
import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..base import Ack, BatteryReply, Codec, CodecEvent, GetBattery, GetInfo, InfoReply, SampleBlock, Start
from . import (
    activ5,
    ble_weight_scale,
    cts500,
    evdev_tablet,
    forceboard,
    jamar,
    kinvent,
    mark10,
    tindeq,
    vernier,
    whc06,
    witmotion,
    witmotion_ble,
)
from . import motorlab_protocol as mp

#: byte values that mean something to some protocol (headers, types, delimiters, CR LF)
SPECIAL_BYTES = (0x00, 0x01, 0x0A, 0x0D, 0x20, 0x2A, 0x2E, 0x51, 0x52, 0x53, 0x54, 0x55, 0x58, 0x5F, 0x61, 0x71,
                 0x80, 0x81, 0x82, 0xAA, 0xFF)  # fmt: skip


@dataclass(frozen=True)
class FuzzTarget:
    """One codec under fuzzing.

    Attributes:
        name: short name (``tindeq``, ``witmotion``...).
        make: a fresh codec.
        prime: set a codec up for about ``n`` device replies (polls in flight,
            INFO seen, streaming started...), as a session would.
        capture: valid device output from a seeded generator, as the transport
            delivers it (BLE notifications, or what a serial device writes at once).
        datagrams: True when one ``feed`` is one BLE notification.
        lie: a valid frame with a length/count field rewritten and its checksum
            fixed (None: the protocol has no such field).
        extra_events: codec-specific event types besides the shared ones.
        timed: the codec takes the host arrival time (``feed(data, host_time=...)``,
            devices without a clock); see :func:`feed_piece`.
    """

    name: str
    make: Callable[[], Codec]
    prime: Callable[[Codec, int], None]
    capture: Callable[[random.Random], list[bytes]]
    datagrams: bool
    lie: Callable[[random.Random], bytes] | None = None
    extra_events: tuple[type, ...] = ()
    timed: bool = False


def feed_piece(target: FuzzTarget, codec: Codec, piece: bytes, host_time: float) -> list[CodecEvent]:
    """Feed one piece as the driver would: with the host arrival time if the codec takes one."""
    if target.timed:
        return codec.feed(piece, host_time=host_time)  # type: ignore[call-arg]
    return codec.feed(piece)


def next_host_time(rng: random.Random, host_time: float) -> float:
    """The host clock at the next ``feed``: BLE bursts (same time), periods, pauses."""
    return host_time + rng.choice((0.0, 0.0, 1e-4, 0.0075, 0.0125, 0.1, 0.1, 2.0))


def _floats(rng: random.Random, n: int, scale: float = 100.0) -> np.ndarray:
    return np.array([rng.uniform(-scale, scale) for _ in range(n)], dtype=np.float32)


# ------------------------------------------------------------------ tindeq
def _tindeq_capture(rng: random.Random) -> list[bytes]:
    t = rng.choice((0, 2**32 - 200_000, rng.randrange(2**32)))
    notes = []
    for _ in range(rng.randint(1, 6)):
        frames = []
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            n = rng.randint(1, 31)
            us = (t + np.arange(n) * tindeq.PERIOD_US) % 2**32
            frames.append(tindeq.weight_frame(_floats(rng, n), us))
            t += n * tindeq.PERIOD_US * rng.choice((1, 1, 1, 2))
        if rng.random() < 0.1:
            frames.append(tindeq.reply_frame(struct.pack("<I", rng.randrange(3000, 4300))))
        notes.append(b"".join(frames))
    return notes


def _tindeq_lie(rng: random.Random) -> bytes:
    """A weight frame whose length byte is anything (the protocol has no checksum to fix)."""
    n = rng.randint(1, 8)
    frame = bytearray(tindeq.weight_frame(_floats(rng, n), np.arange(n) * tindeq.PERIOD_US))
    frame[1] = rng.choice((0, 1, 7, 8, 9, 16, 248, 255, rng.randrange(256)))
    return bytes(frame)


def _tindeq_prime(codec: Codec, n: int) -> None:
    codec.encode(tindeq.GetBattery() if n % 2 else tindeq.GetFirmware())


# ------------------------------------------------------------------ vernier
_SENSOR_INFO = vernier.sensor_info_payload(
    vernier.SensorInfo(1, 5720, 0, 0, "Force", "N", -100.0, 850.0, 1000, 100_000)
)


def _vernier_capture(rng: random.Random) -> list[bytes]:
    """Measurement frames and replies (status, long sensor info) in 20-byte notifications."""
    notes = []
    for k in range(rng.randint(1, 4)):
        r = rng.random()
        if r < 0.8:
            n = rng.randint(1, 60)
            frame = vernier.measurement_frame(_floats(rng, n)[:, None], vernier.DEFAULT_SENSOR_MASK, k)
        elif r < 0.9:
            frame = vernier.reply_frame(
                vernier.CMD_GET_STATUS, 0xFE, bytes(10) + bytes((rng.randrange(101), 1))
            )
        else:
            frame = vernier.reply_frame(vernier.CMD_GET_SENSOR_INFO, 0xFE, _SENSOR_INFO)
        notes += [frame[i : i + 20] for i in range(0, len(frame), 20)]
    return notes


def _vernier_lie(rng: random.Random) -> bytes:
    """A measurement frame of any subtype, cut or padded to a random length that its length byte
    then states, count and mask rewritten, and the checksum made right."""
    frame = bytearray(vernier.measurement_frame(_floats(rng, rng.randint(1, 6))[:, None], 0x02))
    frame[4] = rng.choice((*range(vernier.NORMAL_REAL32, vernier.PERIOD + 1), rng.randrange(256)))
    if rng.random() < 0.5:
        frame[7] = rng.choice((0, 1, 2, 60, 255, rng.randrange(256)))
    if rng.random() < 0.3:
        frame[5] = rng.randrange(256)
    length = rng.choice((5, 6, 7, 8, 9, 10, 11, 12, len(frame), rng.randint(5, 80)))
    frame = (frame + bytes(max(0, length - len(frame))))[:length]
    frame[1] = length
    frame[3] = vernier.checksum(frame)
    return bytes(frame)


def _vernier_prime(codec: Codec, n: int) -> None:
    codec.encode(vernier.GetSensorInfo(1))


# ------------------------------------------------------------------ witmotion_ble
def _witmotion_ble_capture(rng: random.Random) -> list[bytes]:
    notes = []
    for _ in range(rng.randint(1, 6)):
        if rng.random() < 0.9:
            raw = np.array([[rng.randint(-32768, 32767) for _ in range(9)] for _ in range(rng.randint(1, 3))])
            notes.append(witmotion_ble.data_frame(raw))
        else:
            regs = tuple(rng.randint(-32768, 32767) for _ in range(8))
            notes.append(witmotion_ble.register_frame(rng.choice((0x2E, 0x03, 0x64)), regs))
    return notes


def _witmotion_ble_prime(codec: Codec, n: int) -> None:
    codec.encode(Start())


# ------------------------------------------------------------------ witmotion (serial)
def _witmotion_capture(rng: random.Random) -> list[bytes]:
    types = witmotion.stream_types(
        rng.choice((witmotion.RSW_DEFAULT, witmotion.RSW_DEFAULT | witmotion.RSW_TIME))
    )
    out = []
    for k in range(rng.randint(1, 8)):
        period = b""
        for ftype in types:
            if ftype == witmotion.TYPE_TIME:
                words: tuple[int, ...] = witmotion.chip_time_words(1000.0 + k / 100)
            else:
                words = tuple(rng.randint(-32768, 32767) for _ in range(4))
            period += witmotion.encode_frame(ftype, words)
        if rng.random() < 0.05:
            period += witmotion.encode_frame(witmotion.TYPE_REGISTER, (rng.randint(0, 13), 0, 0, 0))
        out.append(period)
    return out


def _witmotion_lie(rng: random.Random) -> bytes:
    """A frame of any 0x5X type, random words, right checksum."""
    words = tuple(rng.randint(-32768, 32767) for _ in range(4))
    return witmotion.encode_frame(0x50 + rng.randrange(16), words)


def _witmotion_prime(codec: Codec, n: int) -> None:
    """A command whose register read-back is in flight (a reply frame then answers it)."""
    commands = (
        witmotion.GetInfo(),
        witmotion.SetRate(100.0),
        witmotion.GetBattery(),
        witmotion.ReadRegister(3),
    )
    codec.encode(commands[n % len(commands)])


# ------------------------------------------------------------------ mark10
def _mark10_capture(rng: random.Random) -> list[bytes]:
    lines = []
    for _ in range(rng.randint(1, 8)):
        r = rng.random()
        if r < 0.8:
            unit = rng.choice(("N", "lbF", "kgF", "mN", "gF", "ozF", "kN", ""))
            lines.append(
                f"{rng.uniform(-500, 500):.{rng.randint(0, 3)}f}{' ' if unit else ''}{unit}\r\n".encode()
            )
        elif r < 0.9:
            lines.append(rng.choice((b"*10\r\n", b"*11\r\n", b"*12\r\n", b"*22\r\n")))
        else:
            lines.append(rng.choice((b"M5-100\r\n", b"1.07\r\n", b"3874522\r\n")))
    return lines


def _mark10_lie(rng: random.Random) -> bytes:
    """A reply that is almost a reading: odd numbers, units, a line longer than any reply."""
    return rng.choice(_MARK10_LIES) if rng.random() < 0.9 else b"\r" * rng.randint(1, 5)


_MARK10_LIES = (b"1e308 N\r\n", b"inf N\r\n", b"nan\r\n", b"-.\r\n", b"1.2.3 lbF\r\n", b"9" * 400 + b" N\r\n",
                b"12.5N\r\n", b"  +0.5  kgF  \r\n", b"\xff\xfe N\r\n", b"1" * 200)  # fmt: skip


def _mark10_prime(codec: Codec, n: int) -> None:
    for k in range(n):
        codec.encode(mark10.Poll(k * 0.02, skipped=int(k % 7 == 3)))
    if n % 3 == 0:
        codec.encode(mark10.GetInfo())
        codec.encode(mark10.SetUnit("LB"))


# ------------------------------------------------------------------ motorlab open protocol
def _ml_info(rng: random.Random, fmt: int, m: int) -> bytes:
    def s(text: str) -> bytes:
        return bytes([len(text)]) + text.encode()

    payload = (
        struct.pack("<BBBIII", 1, fmt, m, 100_000, 1000, 1_000_000) + s("fuzz") + s("1") + s("1") + s("x")
    )
    for k in range(m):
        payload += s(f"c{k}_x") + s("MISC") + s("N") + s("tip") + struct.pack("<f", rng.uniform(1e-4, 2.0))
    return mp.encode_frame(mp.INFO, 1, payload)


def _ml_samples(rng: random.Random, seq: int, n: int, m: int, fmt: int) -> bytes:
    rec = np.zeros(n, dtype=[("t", "<u4"), ("v", "<i2" if fmt == 2 else "<i4", (m,))])
    rec["t"] = (seq * 10_000 + np.arange(n) * 10_000) % 2**32
    rec["v"] = np.array([[rng.randint(-30000, 30000) for _ in range(m)] for _ in range(n)])
    return mp.encode_frame(mp.SAMPLES, 0, struct.pack("<IBBB", seq % 2**32, n, m, fmt) + rec.tobytes())


def _motorlab_capture(rng: random.Random) -> list[bytes]:
    fmt, m = rng.choice((2, 4)), rng.randint(1, 7)
    out = [_ml_info(rng, fmt, m)] if rng.random() < 0.5 else []
    seq = rng.randrange(2**32)
    for _ in range(rng.randint(1, 6)):
        r = rng.random()
        if r < 0.85:
            n = rng.randint(1, min(30, (mp.MAX_PAYLOAD - 7) // (4 + m * fmt)))
            out.append(_ml_samples(rng, seq, n, m, fmt))
            seq += n * rng.choice((1, 1, 1, 2))
        elif r < 0.9:
            out.append(mp.encode_frame(mp.ACK, 3, struct.pack("<BBi", mp.START, 0, 0)))
        elif r < 0.95:
            out.append(mp.encode_frame(mp.BATTERY, 0, struct.pack("<BH", 80, 3900)))
        else:
            out.append(mp.encode_frame(mp.ERROR, 0, b"\x07\x04oops"))
    return out


def _motorlab_lie(rng: random.Random) -> bytes:
    """A SAMPLES, INFO or ERROR body with a count, length or string length rewritten, sent with a valid CRC."""
    kind = rng.randrange(3)
    if kind == 0:
        body = bytearray(struct.pack("<IBBB", 7, 3, 2, 2) + bytes(3 * 8))
        body[rng.choice((4, 5, 6))] = rng.choice((0, 1, 3, 4, 32, 255, rng.randrange(256)))
        body = body[: rng.randint(0, len(body))] if rng.random() < 0.3 else body
        return mp.encode_frame(mp.SAMPLES, 0, bytes(body))
    if kind == 1:
        body = bytearray(_ml_info_payload(rng))
        if body:
            body[rng.randrange(len(body))] = rng.choice((0, 1, 32, 33, 255, rng.randrange(256)))
        return mp.encode_frame(mp.INFO, 1, bytes(body[: rng.randint(0, len(body))]))
    return mp.encode_frame(mp.ERROR, 0, bytes((rng.randrange(256), rng.randrange(256))) + b"oops")


def _ml_info_payload(rng: random.Random) -> bytes:
    body = mp.cobs_decode(_ml_info(rng, rng.choice((2, 4)), rng.randint(1, 4))[1:-1])
    return body[2:-2] if body else b""


def _motorlab_prime(codec: Codec, n: int) -> None:
    if n % 2:
        codec.feed(_ml_info(random.Random(n), 2, 1 + n % 4))


# ------------------------------------------------------------------ jamar (ASCII "::VAL" messages over BLE)
def _jamar_capture(rng: random.Random) -> list[bytes]:
    notes = []
    for _ in range(rng.randint(1, 6)):
        msgs = []
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            end = rng.choice((b"\r\n", b"\r\n", b"\0", b"\n", b""))
            if rng.random() < 0.85:
                unit = rng.choice(("", "", " lb", " kg", " N", "LB"))
                msgs.append(f"::VAL {rng.randint(1, 2)},{rng.uniform(-5, 200):.1f}{unit}".encode() + end)
            else:
                msgs.append(rng.choice((b"::BAT 87", b"::ID JAMAR-1234", b"::ZERO")) + end)
        notes.append(b"".join(msgs))
    return notes


_JAMAR_LIES = (b"::VAL 99999999999999999999999,1e308 lb\r\n", b"::VAL 1,.\r\n", b"::VAL ,5\r\n",
               b"::VAL 1,5 furlong\r\n", b"::VAL 1," + b"9" * 400 + b"\r\n", b"::" * 40, b"::\xff\xfe\r\n",
               b"::VAL 1,-0.0 KG\r\n", b"::VAL1,2lb")  # fmt: skip


def _jamar_lie(rng: random.Random) -> bytes:
    return rng.choice(_JAMAR_LIES)


def _start_prime(codec: Codec, n: int) -> None:
    codec.encode(Start())


# ------------------------------------------------------------------ kinvent (FF FF FE frames)
def _kforce_capture(rng: random.Random) -> list[bytes]:
    counter = rng.randrange(2**16)
    notes = []
    for _ in range(rng.randint(1, 6)):
        if rng.random() < 0.05:
            notes.append(f"{rng.randrange(10**6):06d}".encode())
            continue
        frames = []
        for _ in range(rng.choice((1, 1, 1, 2, 4))):
            ch = (
                rng.randint(-(2**23), 2**23 - 1),
                rng.randint(-100, 100),
                0,
                rng.randint(-(2**23), 2**23 - 1),
            )
            frames.append(kinvent.kforce_frame(counter, ch))
            counter = (counter + rng.choice((1, 1, 1, 1, 0, 2, 40, -3))) % 2**16
        notes.append(b"".join(frames))
    return notes


def _kinvent_lie(rng: random.Random) -> bytes:
    """A header inside data, a frame cut short or run long (the protocol has no checksum)."""
    frame = kinvent.kforce_frame(rng.randrange(2**16), (-1, -1, -1, -1))
    frame = frame[: rng.randint(3, len(frame))] + kinvent.HEADER * rng.randint(0, 3)
    return frame + bytes(rng.randint(0, 20))


def _kforce_prime(codec: Codec, n: int) -> None:
    codec.encode(Start() if n % 2 else kinvent.GetCoefficient())


def _kgrip_capture(rng: random.Random) -> list[bytes]:
    out = []
    for _ in range(rng.randint(1, 6)):
        if rng.random() < 0.1:
            out.append(f"{rng.randrange(10**6):06d}".encode())
        else:
            out.append(
                b"".join(kinvent.kgrip_frame(rng.randrange(2**16), rng.randbytes(6)) for _ in range(3))
            )
    return out


def _kgrip_prime(codec: Codec, n: int) -> None:
    codec.encode(kinvent.GetCoefficient() if n % 2 else Start())


# ------------------------------------------------------------------ activ5 ("IS<number>/IS")
def _activ5_capture(rng: random.Random) -> list[bytes]:
    notes = []
    for _ in range(rng.randint(1, 6)):
        r = rng.random()
        if r < 0.8:
            note = b"".join(
                activ5.reading_message(rng.uniform(-50, 500)) for _ in range(rng.choice((1, 1, 2)))
            )
        elif r < 0.9:
            note = activ5.command_bytes(rng.choice((activ5.CMD_START, activ5.CMD_TARE, "TVGTIME")))
        else:
            note = rng.choice((b"IS12", b"3/IS", b"ISOM!", b"I"))
        notes.append(note)
        if rng.random() < 0.2:
            notes.append(note)  # the copy the firmware sends
    return notes


_ACTIV5_LIES = (b"IS1e999/IS", b"IS--3/IS", b"ISIS/IS", b"IS/IS", b"IS" + b"9" * 400 + b"/IS", b"IS" * 30,
                b"IS 12 \x00/IS", b"IS.5/IS/IS")  # fmt: skip


def _activ5_lie(rng: random.Random) -> bytes:
    return rng.choice(_ACTIV5_LIES)


def _activ5_prime(codec: Codec, n: int) -> None:
    codec.encode(activ5.Handshake() if n % 2 else Start())


# ------------------------------------------------------------------ cts500 (05 ... checksum frames)
def _cts500_capture(rng: random.Random) -> list[bytes]:
    notes = []
    for _ in range(rng.randint(1, 6)):
        frames = []
        for _ in range(rng.choice((1, 1, 1, 2))):
            r = rng.random()
            if r < 0.8:
                frames.append(cts500.weight_frame(rng.uniform(-20, 500)))
            elif r < 0.9:
                op = rng.choice(
                    (cts500.OP_BATTERY, cts500.OP_TEMPERATURE, cts500.OP_FIRMWARE, cts500.OP_TARE)
                )
                frames.append(cts500.response_frame(op, rng.randbytes(3)))
            else:
                frames.append(cts500.command_frame(rng.choice(list(cts500.OPCODES)))[:6])
        notes.append(b"".join(frames))
    return notes


def _cts500_lie(rng: random.Random) -> bytes:
    """A 7-byte frame with any type byte and any value, checksum made right."""
    body = bytes((cts500.HEADER, rng.randrange(256))) + rng.randbytes(4)
    return body + bytes((cts500.checksum(body),))


def _cts500_prime(codec: Codec, n: int) -> None:
    codec.encode((Start(), GetBattery(), GetInfo(), cts500.GetTemperature())[n % 4])


# ------------------------------------------------------------------ forceboard (count + 24-bit samples)
def _forceboard_capture(rng: random.Random) -> list[bytes]:
    return [
        forceboard.force_notification([rng.randint(-(2**23), 2**23 - 1) for _ in range(rng.randint(0, 6))])
        for _ in range(rng.randint(1, 6))
    ]


def _forceboard_lie(rng: random.Random) -> bytes:
    """A notification whose count field is anything."""
    note = bytearray(
        forceboard.force_notification([rng.randint(-100, 100) for _ in range(rng.randint(0, 4))])
    )
    note[:2] = rng.choice((0, 1, 5, 255, 0xFFFF, rng.randrange(2**16))).to_bytes(2, "big")
    return bytes(note)


# ------------------------------------------------------------------ whc06 (advertisement manufacturer data)
def _whc06_capture(rng: random.Random) -> list[bytes]:
    return [
        whc06.manufacturer_data(rng.uniform(0, 180), rng.choice((12, 16, 16, 20)))
        for _ in range(rng.randint(1, 6))
    ]


def _whc06_lie(rng: random.Random) -> bytes:
    return rng.randbytes(rng.randint(0, whc06.WEIGHT_OFFSET + 3))


# ------------------------------------------------------------------ BLE Weight Scale profile (0x2A9D)
def _weight_scale_capture(rng: random.Random) -> list[bytes]:
    notes = []
    for _ in range(rng.randint(1, 6)):
        imperial = rng.random() < 0.3
        weight = math.nan if rng.random() < 0.05 else rng.uniform(0, 300 if imperial else 150)
        ts = (2026, rng.randint(1, 12), rng.randint(1, 28), 10, 5, 59) if rng.random() < 0.3 else None
        user = rng.randrange(256) if rng.random() < 0.3 else None
        bmi = (rng.uniform(10, 40), rng.uniform(1, 2) if not imperial else rng.uniform(40, 80))
        notes.append(
            ble_weight_scale.weight_measurement(
                weight, imperial, ts, user, bmi if rng.random() < 0.3 else None
            )
        )
    return notes


def _weight_scale_lie(rng: random.Random) -> bytes:
    """A measurement whose flags claim other optional fields than it carries."""
    note = bytearray(ble_weight_scale.weight_measurement(rng.uniform(0, 150), user_id=1))
    note[0] = rng.randrange(256) if rng.random() < 0.3 else rng.randrange(16)
    return bytes(note)


# ------------------------------------------------------------------ evdev tablet (struct input_event)
_TABLET_AXES = {
    evdev_tablet.ABS_X: evdev_tablet.AbsAxis(0, 44800, 200),
    evdev_tablet.ABS_Y: evdev_tablet.AbsAxis(0, 29600, 200, 0),
    evdev_tablet.ABS_PRESSURE: evdev_tablet.AbsAxis(0, 8191),
    evdev_tablet.ABS_DISTANCE: evdev_tablet.AbsAxis(0, 63),
    evdev_tablet.ABS_TILT_X: evdev_tablet.AbsAxis(-64, 63, 57),
    evdev_tablet.ABS_TILT_Y: evdev_tablet.AbsAxis(-64, 63),  # no resolution: the fallback range
}


def _tablet() -> Codec:
    return evdev_tablet.EvdevTabletCodec(_TABLET_AXES, "fuzz-tablet")


def _tablet_capture(rng: random.Random) -> list[bytes]:
    et = evdev_tablet
    us = rng.choice((0, rng.randrange(10**12)))
    out = []
    for _ in range(rng.randint(1, 6)):
        events = []
        for _ in range(rng.randint(1, 4)):
            sec, usec = divmod(us, 1_000_000)
            if rng.random() < 0.1:
                events.append(
                    (
                        sec,
                        usec,
                        et.EV_KEY,
                        rng.choice((et.BTN_TOOL_PEN, et.BTN_TOUCH, et.BTN_STYLUS)),
                        rng.randint(0, 1),
                    )
                )
            for code in rng.sample(list(_TABLET_AXES), rng.randint(0, 4)):
                events.append((sec, usec, et.EV_ABS, code, rng.randint(-70, 45000)))
            if rng.random() < 0.03:
                events.append((sec, usec, et.EV_SYN, et.SYN_DROPPED, 0))
            events.append((sec, usec, et.EV_SYN, et.SYN_REPORT, 0))
            us += rng.choice((5000, 7500, 3750, 0, -20000))
        out.append(et.pack_events(events))
    return out


def _tablet_lie(rng: random.Random) -> bytes:
    """Events with values no kernel sends: huge or negative times, out-of-range usec, odd types."""
    big = (2**63 - 1, -(2**63), 2**31, -1, 0)
    return evdev_tablet.pack_events(
        [
            (rng.choice(big), rng.choice((-1, 0, 999_999, 1_000_000, 2**40)), rng.choice((0, 1, 3, 0x1F, 0x20, 0xFFFF)),
             rng.choice((0, 1, 3, 0x18, 0x140, 0x14A, 0xFFFF)), rng.choice((-(2**31), 0, 1, 2**31 - 1)))
            for _ in range(rng.randint(1, 4))
        ]
    )  # fmt: skip


def _tablet_prime(codec: Codec, n: int) -> None:
    codec.encode(Start())
    if n % 3 == 0 and isinstance(codec, evdev_tablet.EvdevTabletCodec):
        codec.resync({evdev_tablet.ABS_X: n, evdev_tablet.ABS_PRESSURE: 10 * n}, {evdev_tablet.BTN_TOOL_PEN})


TARGETS: list[FuzzTarget] = [
    FuzzTarget("tindeq", tindeq.TindeqCodec, _tindeq_prime, _tindeq_capture, True, _tindeq_lie),
    FuzzTarget(
        "vernier",
        vernier.VernierCodec,
        _vernier_prime,
        _vernier_capture,
        True,
        _vernier_lie,
        (vernier.GdxReply,),
    ),
    FuzzTarget(
        "witmotion_ble",
        lambda: witmotion_ble.WitMotionBleCodec(rate_hz=50),
        _witmotion_ble_prime,
        _witmotion_ble_capture,
        True,
        None,
        (witmotion_ble.RegisterReply,),
    ),
    FuzzTarget(
        "witmotion",
        lambda: witmotion.WitMotionCodec(rate_hz=100),
        _witmotion_prime,
        _witmotion_capture,
        False,
        _witmotion_lie,
    ),
    FuzzTarget("mark10", mark10.Mark10Codec, _mark10_prime, _mark10_capture, False, _mark10_lie),
    FuzzTarget("motorlab", mp.MotorlabCodec, _motorlab_prime, _motorlab_capture, False, _motorlab_lie),
    # the clinic devices (devices_clinic.md); most have no clock and are timed from host arrival times
    FuzzTarget("jamar", jamar.JamarCodec, _start_prime, _jamar_capture, True, _jamar_lie, timed=True),
    FuzzTarget("kforce", kinvent.KForceCodec, _kforce_prime, _kforce_capture, True, _kinvent_lie),
    FuzzTarget("kgrip", kinvent.KGripUsbCodec, _kgrip_prime, _kgrip_capture, False, _kinvent_lie, timed=True),
    FuzzTarget("activ5", activ5.Activ5Codec, _activ5_prime, _activ5_capture, True, _activ5_lie, timed=True),
    FuzzTarget("cts500", cts500.Cts500Codec, _cts500_prime, _cts500_capture, True, _cts500_lie, timed=True),
    FuzzTarget(
        "forceboard",
        forceboard.ForceBoardCodec,
        _start_prime,
        _forceboard_capture,
        True,
        _forceboard_lie,
        timed=True,
    ),
    FuzzTarget("whc06", whc06.WhC06Codec, _start_prime, _whc06_capture, True, _whc06_lie, timed=True),
    FuzzTarget(
        "weight_scale",
        ble_weight_scale.WeightScaleCodec,
        _start_prime,
        _weight_scale_capture,
        True,
        _weight_scale_lie,
        timed=True,
    ),
    FuzzTarget("evdev_tablet", _tablet, _tablet_prime, _tablet_capture, False, _tablet_lie),
]


# ------------------------------------------------------------------ inputs
#: byte values to draw from for noise rich in protocol-significant values (about half of them)
_RICH = SPECIAL_BYTES * 12 + tuple(range(256))


def random_bytes(rng: random.Random, max_size: int) -> bytes:
    """Arbitrary bytes, half of the time rich in protocol-significant values."""
    n = rng.randint(0, max_size)
    return rng.randbytes(n) if rng.random() < 0.5 else bytes(rng.choices(_RICH, k=n))


def _flip_bits(data: bytearray, rng: random.Random) -> None:
    for _ in range(rng.randint(1, 4)):
        if data:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)


def _replace_bytes(data: bytearray, rng: random.Random) -> None:
    for _ in range(rng.randint(1, 4)):
        if data:
            data[rng.randrange(len(data))] = rng.choice(SPECIAL_BYTES)


def _cut(pieces: list[bytes], rng: random.Random) -> list[bytes]:
    """Random split points (the pieces joined first): how a serial read or a bad BLE stack may cut."""
    data = b"".join(pieces)
    points = sorted(rng.randrange(len(data) + 1) for _ in range(rng.randint(0, 6)))
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)])]


@dataclass(frozen=True)
class Corpus:
    """Valid captures and length lies of one target, built once and mutated many times."""

    target: FuzzTarget
    captures: tuple[tuple[bytes, ...], ...]
    lies: tuple[bytes, ...]

    @classmethod
    def build(cls, target: FuzzTarget, rng: random.Random, size: int = 200) -> Corpus:
        captures = tuple(tuple(target.capture(rng)) for _ in range(size))
        lies = tuple(target.lie(rng) for _ in range(size)) if target.lie is not None else ()
        return cls(target, captures, lies)


def fuzz_input(corpus: Corpus, rng: random.Random) -> list[bytes]:
    """One fuzz input from ``corpus``: the pieces to feed, one ``feed`` call each."""
    kind = rng.random()
    if kind < 0.15:  # noise
        return [random_bytes(rng, 300) for _ in range(rng.randint(1, 4))]
    pieces = list(rng.choice(corpus.captures))
    if kind < 0.25 and corpus.lies:  # length lies that pass the checksum
        for _ in range(rng.randint(1, 3)):
            pieces.insert(rng.randint(0, len(pieces)), rng.choice(corpus.lies))
        return pieces
    if kind < 0.35:  # splice: pieces of another capture, noise, duplicates, dropped pieces
        other = rng.choice(corpus.captures)
        for _ in range(rng.randint(1, 4)):
            r = rng.random()
            at = rng.randint(0, len(pieces))
            if r < 0.3 and other:
                piece = rng.choice(other)
                a = rng.randint(0, len(piece))
                pieces.insert(at, piece[a : rng.randint(a, len(piece))])
            elif r < 0.5:
                pieces.insert(at, random_bytes(rng, 40))
            elif r < 0.75 and pieces:
                pieces.insert(at, rng.choice(pieces))
            elif pieces:
                pieces.pop(rng.randrange(len(pieces)))
        return pieces
    # damage some pieces: bit flips, special bytes, truncation
    for i in range(len(pieces)):
        if rng.random() < 0.3:
            damaged = bytearray(pieces[i])
            r = rng.random()
            if r < 0.4:
                _flip_bits(damaged, rng)
            elif r < 0.7:
                _replace_bytes(damaged, rng)
            elif rng.random() < 0.5:
                damaged = damaged[: rng.randint(0, len(damaged))]
            else:
                damaged = damaged[rng.randint(0, len(damaged)) :]
            pieces[i] = bytes(damaged)
    if kind > 0.7 or not corpus.target.datagrams:  # random split points across feed calls
        pieces = _cut(pieces, rng)
    return pieces


def check_events(target: FuzzTarget, events: list[CodecEvent], host_time: float = math.nan) -> str | None:
    """What is wrong with one ``feed`` result (None: nothing): the event types, and sample blocks
    with float64 (n,) times and (n, channels) values, ``dropped_before`` >= 0, and the host
    time of the call on the block (``nan`` for codecs that take none)."""
    if not isinstance(events, list):
        return f"feed returned {type(events).__name__}, not a list"
    allowed = (SampleBlock, InfoReply, Ack, BatteryReply, *target.extra_events)
    for ev in events:
        if not isinstance(ev, allowed):
            return f"unexpected event {type(ev).__name__}"
        if isinstance(ev, SampleBlock):
            t, v = ev.device_time, ev.values
            if not (isinstance(t, np.ndarray) and isinstance(v, np.ndarray)):
                return "sample block without arrays"
            if t.dtype != np.float64 or v.dtype != np.float64 or t.ndim != 1 or v.ndim != 2:
                return f"sample block arrays {t.dtype}{t.shape} / {v.dtype}{v.shape}"
            if v.shape[0] != t.size or v.shape[1] == 0 or t.size == 0:
                return f"sample block of {t.size} times and values {v.shape}"
            stamped = ev.host_time == host_time if target.timed else math.isnan(ev.host_time)
            if ev.dropped_before < 0 or not (ev.seq is None or ev.seq >= 0) or not stamped:
                return (
                    f"sample block seq={ev.seq} dropped_before={ev.dropped_before} host_time={ev.host_time}"
                )
    return None
