"""Emulated DIY grip dynamometer: load cell + HX711 speaking the motorlab protocol.

Mirrors ``firmware_notes/grip_hx711/grip_hx711.ino``: one force channel (N,
int32 counts x factory scale, tared by TARE), 80 Hz by default (HX711 RATE pin
high), settable 10-1000 Hz so the same code stands in for faster bridge ADCs.
The force comes from a :class:`GripParticipant`; the sensor's factory
calibration can be wrong by ``gain_error`` (relative) and ``offset_n`` (N), so
calibration procedures can be tested against a known load.

URL: ``sim://grip?seed=1&peak_n=300&rate=80&gain_error=0.02&offset_n=1.5&drop_prob=0``
(any :class:`GripParticipant` argument is accepted too).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...devices.device import Device
from ...devices.registry import DeviceURL
from ...devices.spec import device
from ..participants import GRIP_PARTICIPANT_PARAMS, GripParticipant
from .motorlab_device import ChannelSpec, MotorlabDeviceEmulator, build_emulator, open_emulated

SPEC = device("diy-grip")

#: N per count: 100 kgf load cell, 2 mV/V at 5 V excitation, HX711 gain 128 gives ~4300 counts/N;
#: a factory calibration rounds it to 5000 counts/N.
FORCE_SCALE_N = 0.0002

_PARTICIPANT_PARAMS: dict[str, type] = dict.fromkeys(GRIP_PARTICIPANT_PARAMS, float)
_DEVICE_PARAMS = {
    "gain_error": float,
    "offset_n": float,
    "serial": str,
}


class GripHX711Emulator(MotorlabDeviceEmulator):
    """The DIY grip dynamometer. ``truth`` is the participant's list of efforts."""

    sim_name = "sim://grip"
    participant: GripParticipant

    def __init__(
        self,
        participant: GripParticipant | None = None,
        *,
        rate_hz: float = SPEC.nominal_rate_hz,
        gain_error: float = 0.0,
        offset_n: float = 0.0,
        serial: str = "G0001",
        **options: Any,
    ):
        self.participant = participant or GripParticipant()
        self.gain_error = float(gain_error)
        self.offset_n = float(offset_n)
        super().__init__(
            model="motorlab-grip-hx711",
            serial=serial,
            firmware="1.0.0",
            channels=[ChannelSpec.of(SPEC.channels[0], FORCE_SCALE_N, tare=True)],
            sample_format=4,
            rate_hz=rate_hz,
            min_rate_hz=10.0,
            max_rate_hz=1000.0,
            read=self._read,
            participant=self.participant,
            link_name="ttyGRIP",
            **options,
        )

    def _read(self, t_s: np.ndarray) -> np.ndarray:
        """What the factory-calibrated sensor reports (N) before tare."""
        force = self.participant.force(np.asarray(t_s, dtype=np.float64))
        return (force * (1.0 + self.gain_error) + self.offset_n)[:, None]


def make_emulator(params: dict[str, str], url: str = "sim://grip") -> GripHX711Emulator:
    return build_emulator(
        GripHX711Emulator, GripParticipant, params, url, _PARTICIPANT_PARAMS, _DEVICE_PARAMS
    )


async def open_sim(url: DeviceURL) -> Device:
    """Start the emulated grip dynamometer; the device's driver is the real motorlab driver."""
    return await open_emulated(make_emulator(url.params), url)
