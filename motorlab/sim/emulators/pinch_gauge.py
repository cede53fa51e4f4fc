"""Emulated DIY pinch gauge: the DIY load-cell device (motorlab protocol) squeezed by a
:class:`~motorlab.sim.participants.PinchParticipant` instead of a grip.

The hardware, wire protocol and driver are those of the DIY grip dynamometer (a pinch
gauge is the same load cell in a smaller housing), so everything that works for grip —
tare, calibration, link faults — works here.

URL: ``sim://pinch?seed=1&key_n=60`` (any :class:`PinchParticipant` argument, and the
grip emulator's device options such as ``gain_error``).
"""

from __future__ import annotations

from ...devices.device import Device
from ...devices.registry import DeviceURL
from ..participants.pinch import PINCH_PARTICIPANT_PARAMS, PinchParticipant
from .grip_hx711 import _DEVICE_PARAMS, GripHX711Emulator
from .motorlab_device import build_emulator, open_emulated

_PARTICIPANT_PARAMS: dict[str, type] = dict.fromkeys(PINCH_PARTICIPANT_PARAMS, float)


class PinchGaugeEmulator(GripHX711Emulator):
    """The DIY load cell as a pinch gauge; ``truth`` lists the pinches (with their ``grip``)."""

    sim_name = "sim://pinch"


def make_emulator(params: dict[str, str], url: str = "sim://pinch") -> PinchGaugeEmulator:
    return build_emulator(
        PinchGaugeEmulator, PinchParticipant, params, url, _PARTICIPANT_PARAMS, _DEVICE_PARAMS
    )


async def open_sim(url: DeviceURL) -> Device:
    """Start the emulated pinch gauge; the driver is the real motorlab driver."""
    return await open_emulated(make_emulator(url.params), url)
