#!/usr/bin/env python3
"""Generate ``test_vectors.json`` for the motorlab wire protocol (protocol.md).

This encoder is deliberately independent of the codec under test
(``motorlab/devices/codecs/motorlab_protocol.py``): it uses only ``struct``, a
bit-by-bit CRC-16/CCITT-FALSE and a byte-by-byte COBS written from the paper, so
a bug in the codec cannot hide in a shared helper. Run it from anywhere:

    python firmware_notes/make_test_vectors.py
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

OUT = Path(__file__).with_name("test_vectors.json")


def crc16_ccitt_false(data: bytes) -> int:
    """Bitwise CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, MSB first, no final XOR."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def cobs(data: bytes) -> bytes:
    """COBS, byte at a time, following the reference C encoder (Cheshire & Baker 1999).

    Canonical: a block completed by the last data byte gets no empty block after it.
    """
    out = bytearray([0])
    code_pos: int | None = 0
    code = 1
    for i, byte in enumerate(data):
        if byte:
            out.append(byte)
            code += 1
        if byte == 0 or code == 0xFF:
            out[code_pos] = code
            code = 1
            if byte == 0 or i + 1 < len(data):
                code_pos = len(out)
                out.append(0)
            else:
                code_pos = None
    if code_pos is not None:
        out[code_pos] = code
    return bytes(out)


def frame(msg_type: int, token: int, payload: bytes = b"") -> bytes:
    body = bytes([msg_type, token]) + payload
    body += struct.pack("<H", crc16_ccitt_false(body))
    return b"\x00" + cobs(body) + b"\x00"


def s(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<B", len(raw)) + raw


def f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


# ------------------------------------------------------------------ messages
def info_payload(fmt, rate_mhz, min_mhz, max_mhz, model, serial, fw, manu, channels) -> bytes:
    p = struct.pack("<BBBIII", 1, fmt, len(channels), rate_mhz, min_mhz, max_mhz)
    p += s(model) + s(serial) + s(fw) + s(manu)
    for name, typ, unit, point, scale in channels:
        p += s(name) + s(typ) + s(unit) + s(point) + struct.pack("<f", scale)
    return p


def samples_payload(seq: int, fmt: int, rows: list[tuple[int, list[int]]]) -> bytes:
    m = len(rows[0][1])
    p = struct.pack("<IBBB", seq, len(rows), m, fmt)
    code = "h" if fmt == 2 else "i"
    for t_us, vals in rows:
        p += struct.pack("<I", t_us) + struct.pack("<" + code * m, *vals)
    return p


GRIP_CHANNELS = [("force", "MISC", "N", "handle", 0.001)]
PEN_CHANNELS = [
    ("acc_x", "ACCEL", "m/s^2", "pen", 16 * 9.80665 / 32768),
    ("acc_y", "ACCEL", "m/s^2", "pen", 16 * 9.80665 / 32768),
    ("acc_z", "ACCEL", "m/s^2", "pen", 16 * 9.80665 / 32768),
    ("gyr_x", "GYRO", "deg/s", "pen", 2000 / 32768),
    ("gyr_y", "GYRO", "deg/s", "pen", 2000 / 32768),
    ("gyr_z", "GYRO", "deg/s", "pen", 2000 / 32768),
    ("tip_force", "MISC", "N", "pentip", 0.001),
]


def info_event(model, serial, fw, manu, rate_mhz, channels) -> dict:
    return {
        "type": "info",
        "model": model,
        "serial": serial,
        "firmware": fw,
        "manufacturer": manu,
        "rate_hz": rate_mhz / 1000,
        "channels": [
            {"name": n, "type": t, "unit": u, "tracked_point": p, "scale": f32(sc)}
            for n, t, u, p, sc in channels
        ],
    }


def samples_event(seq, rows, channels, t_ext_us, dropped=0) -> dict:
    scales = [f32(c[4]) for c in channels]
    return {
        "type": "samples",
        "seq": seq,
        "dropped_before": dropped,
        "t_us": [t for t, _ in rows],
        "device_time_s": [t / 1e6 for t in t_ext_us],
        "raw": [list(v) for _, v in rows],
        "values": [[r * sc for r, sc in zip(v, scales)] for _, v in rows],
    }


def build() -> dict:
    vectors: list[dict] = []

    def add(name, description, direction, data: bytes, events=None, stats=None, **extra):
        v = {"name": name, "description": description, "direction": direction, "hex": data.hex()}
        v.update(extra)
        if events is not None:
            v["events"] = events
        if stats is not None:
            v["stats"] = stats
        vectors.append(v)

    # ---- commands (host -> device)
    for token, (name, code, payload, cmd) in enumerate(
        [
            ("get_info", 0x01, b"", {"name": "getinfo"}),
            ("set_rate_80hz", 0x04, struct.pack("<I", 80000), {"name": "setrate", "rate_hz": 80.0}),
            ("set_rate_12_5hz", 0x04, struct.pack("<I", 12500), {"name": "setrate", "rate_hz": 12.5}),
            ("tare", 0x05, b"", {"name": "tare"}),
            ("start", 0x02, b"", {"name": "start"}),
            ("stop", 0x03, b"", {"name": "stop"}),
            ("get_battery", 0x06, b"", {"name": "getbattery"}),
        ],
        start=1,
    ):
        add(
            f"cmd_{name}",
            f"command {name} with token {token}",
            "host->device",
            frame(code, token, payload),
            command=cmd,
            token=token,
            type_code=code,
            payload_hex=payload.hex(),
        )

    # ---- replies (device -> host)
    grip_info = info_payload(
        4, 80000, 10000, 1000000, "motorlab-grip-hx711", "G0001", "1.0.0", "DIY", GRIP_CHANNELS
    )
    add(
        "info_grip",
        "INFO of a DIY HX711 grip dynamometer: int32, 1 channel",
        "device->host",
        frame(0x81, 1, grip_info),
        events=[info_event("motorlab-grip-hx711", "G0001", "1.0.0", "DIY", 80000, GRIP_CHANNELS)],
        stats={"frames_ok": 1, "crc_errors": 0, "resyncs": 0, "bytes_discarded": 0},
    )
    pen_info = info_payload(
        2, 200000, 10000, 1000000, "motorlab-imu-pen", "P0042", "0.9.3", "DIY", PEN_CHANNELS
    )
    add(
        "info_pen",
        "INFO of a DIY IMU pen: int16, 7 channels (frame longer than 254 bytes)",
        "device->host",
        frame(0x81, 7, pen_info),
        events=[info_event("motorlab-imu-pen", "P0042", "0.9.3", "DIY", 200000, PEN_CHANNELS)],
        stats={"frames_ok": 1, "crc_errors": 0, "resyncs": 0, "bytes_discarded": 0},
    )
    add(
        "ack_set_rate_ok",
        "ACK of SET_RATE, status OK, value = 80000 mHz",
        "device->host",
        frame(0x80, 2, struct.pack("<BBi", 0x04, 0, 80000)),
        events=[{"type": "ack", "command": "setrate", "ok": True, "error": "", "value": 80.0}],
    )
    add(
        "ack_set_rate_bad_value",
        "NACK of SET_RATE 5 kHz: BAD_VALUE",
        "device->host",
        frame(0x80, 3, struct.pack("<BBi", 0x04, 0x03, 0)),
        events=[{"type": "ack", "command": "setrate", "ok": False, "error": "BAD_VALUE", "value": 0.0}],
    )
    add(
        "ack_tare",
        "ACK of TARE with the new offset in raw counts (negative)",
        "device->host",
        frame(0x80, 4, struct.pack("<BBi", 0x05, 0, -123456)),
        events=[{"type": "ack", "command": "tare", "ok": True, "error": "", "value": -123456}],
    )
    add(
        "ack_unknown_command",
        "ACK answering an unknown command type 0x42",
        "device->host",
        frame(0x80, 9, struct.pack("<BBi", 0x42, 0x01, 0)),
        events=[{"type": "ack", "command": "0x42", "ok": False, "error": "UNKNOWN_COMMAND", "value": 0}],
    )
    add(
        "battery",
        "BATTERY 87 %, 4.05 V, not charging",
        "device->host",
        frame(0x83, 6, struct.pack("<BHB", 87, 4050, 0)),
        events=[{"type": "battery", "percent": 87.0, "volts": 4.05}],
    )
    add(
        "battery_unknown",
        "BATTERY unknown (USB powered)",
        "device->host",
        frame(0x83, 6, struct.pack("<BHB", 255, 0, 1)),
        events=[{"type": "battery", "percent": None, "volts": None}],
    )
    add(
        "error_sensor_fault",
        "unsolicited ERROR: SENSOR_FAULT with text",
        "device->host",
        frame(0x84, 0, struct.pack("<B", 0x05) + s("HX711 not ready")),
        events=[{"type": "error", "ok": False, "error": "SENSOR_FAULT: HX711 not ready"}],
    )

    # ---- sample blocks (fed after the INFO named in "after")
    rows = [(1_000_000, [0]), (1_012_500, [153_210])]
    add(
        "samples_grip",
        "2 grip samples (int32) at 80 Hz; needs info_grip first",
        "device->host",
        frame(0x82, 0, samples_payload(0, 4, rows)),
        after="info_grip",
        events=[samples_event(0, rows, GRIP_CHANNELS, [t for t, _ in rows])],
    )
    pen_rows = [
        (5_000, [12, -7, 2048, 0, -16384, 32767, 0]),
        (10_000, [-32768, 1, 2047, 300, -1, 0, 1500]),
        (15_000, [0, 0, 0, 0, 0, 0, 0]),
    ]
    add(
        "samples_pen",
        "3 pen samples (int16, 7 channels, extremes and zeros); needs info_pen first",
        "device->host",
        frame(0x82, 0, samples_payload(40, 2, pen_rows)),
        after="info_pen",
        events=[samples_event(40, pen_rows, PEN_CHANNELS, [t for t, _ in pen_rows])],
    )
    wrap_rows = [(4_294_960_000, [1]), (4_294_967_295, [2]), (5_209, [3]), (17_709, [4])]
    add(
        "samples_clock_wrap",
        "u32 microsecond clock wraps inside the block; device time keeps increasing",
        "device->host",
        frame(0x82, 0, samples_payload(0, 4, wrap_rows)),
        after="info_grip",
        events=[
            samples_event(
                0, wrap_rows, GRIP_CHANNELS, [4_294_960_000, 4_294_967_295, 2**32 + 5_209, 2**32 + 17_709]
            )
        ],
    )
    a = [(0, [10]), (12_500, [11])]
    b = [(87_500, [17]), (100_000, [18])]
    add(
        "samples_seq_gap",
        "two blocks: seq 0 (2 samples) then seq 7: 5 samples were lost in between",
        "device->host",
        frame(0x82, 0, samples_payload(0, 4, a)) + frame(0x82, 0, samples_payload(7, 4, b)),
        after="info_grip",
        events=[
            samples_event(0, a, GRIP_CHANNELS, [t for t, _ in a]),
            samples_event(7, b, GRIP_CHANNELS, [t for t, _ in b], dropped=5),
        ],
        stats={"frames_ok": 2, "crc_errors": 0, "resyncs": 0, "bytes_discarded": 0},
    )

    # ---- damaged input
    ok = frame(0x80, 2, struct.pack("<BBi", 0x02, 0, 0))
    bad = bytearray(frame(0x80, 5, struct.pack("<BBi", 0x02, 0, 0)))
    bad[-2] ^= 0x01  # flip one bit of the last CRC byte (still non-zero after COBS)
    add(
        "bad_crc",
        "an ACK whose CRC has one flipped bit: no event, one CRC error",
        "device->host",
        bytes(bad),
        events=[],
        stats={"frames_ok": 0, "crc_errors": 1, "resyncs": 1, "bytes_discarded": len(bad) - 2},
    )
    garbage = b"12.34 N\r\n-0.51 N\r\n\xff\xfe\x07"
    add(
        "garbage_then_frame",
        "ASCII lines and noise (no 0x00), then a valid ACK: the ACK is recovered",
        "device->host",
        garbage + ok,
        events=[{"type": "ack", "command": "start", "ok": True, "error": "", "value": 0}],
        stats={"frames_ok": 1, "crc_errors": 0, "resyncs": 1, "bytes_discarded": len(garbage)},
    )
    add(
        "truncated_then_frame",
        "the first half of a frame (cut by a reset), then a whole frame",
        "device->host",
        bad[: len(bad) // 2] + ok,
        events=[{"type": "ack", "command": "start", "ok": True, "error": "", "value": 0}],
        stats={"frames_ok": 1, "resyncs": 1, "bytes_discarded": len(bad) // 2 - 1},
    )
    add(
        "garbage_only",
        "random-looking bytes with zeros: nothing decodes",
        "device->host",
        bytes.fromhex("00 05 11 22 00 ff 00 03 01 02 00 7e 7e 7e".replace(" ", "")),
        events=[],
    )
    return {
        "protocol": "motorlab",
        "version": 1,
        "crc": {
            "name": "CRC-16/CCITT-FALSE",
            "poly": "0x1021",
            "init": "0xFFFF",
            "check_123456789": "0x29B1",
        },
        "crc_check_computed": f"0x{crc16_ccitt_false(b'123456789'):04X}",
        "notes": "Feed 'after' first (if given) into a fresh decoder, then 'hex'; compare the events of 'hex'.",
        "vectors": vectors,
    }


def main() -> None:
    data = build()
    assert data["crc_check_computed"] == "0x29B1"
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {len(data['vectors'])} vectors to {OUT}")


if __name__ == "__main__":
    main()
