"""Common parts of the emulated clinic force devices on the emulated BlueZ (Jamar, Activ5, CTS500...).

:class:`ForceBleEmulator` is a :class:`~.ble.BleEmulator` with a squeezing
:class:`~motorlab.sim.participants.GripParticipant`, a sensor model
``measured = force x (1 + gain_error) + offset_n - tare_n`` (N), and a sample
clock: :meth:`ForceBleEmulator.run_stream` produces the samples due at a
fixed rate on the device clock and hands them to the subclass, which encodes
them in its wire format. ``inject_every=k`` makes every k-th message a
malformed one (the subclass says what that is), so tests can check that bad
frames are counted and never fatal. Every sample delivered is logged in
:attr:`ForceBleEmulator.sent` as (stream number, device time s, value as sent).
"""

from __future__ import annotations

import asyncio
import math

import numpy as np

from ..bluez.fakebluez import GattCharacteristic, GattService, PeripheralSpec
from ..participants import GripParticipant
from .ble import BleEmulator


class ForceBleEmulator(BleEmulator):
    """Base of the emulated BLE force devices (see the module docstring)."""

    participant: GripParticipant
    #: notify characteristic the samples go out on
    notify_uuid: str = ""

    def __init__(
        self,
        participant: GripParticipant | None,
        address: str,
        name: str,
        rate_hz: float,
        gain_error: float = 0.0,
        offset_n: float = 0.0,
        inject_every: int = 0,
        tick_s: float = 0.05,
        chunk: int = 20,
    ):
        super().__init__(address, name)
        self.participant = participant or GripParticipant()
        self.rate_hz = float(rate_hz)
        self.gain_error = float(gain_error)
        self.offset_n = float(offset_n)
        self.inject_every = int(inject_every)
        self.tick_s = float(tick_s)
        self.chunk = int(chunk)
        self.tare_n = 0.0
        self.streaming = False
        self.streams = 0
        self.injected = 0
        self.commands: list[bytes] = []
        self._sent: list[tuple[int, float, float]] = []

    # -- sensor ------------------------------------------------------------------------
    def measured_n(self, t: np.ndarray) -> np.ndarray:
        """What the sensor measures at device times ``t`` (s), N."""
        return self.participant.force(t) * (1.0 + self.gain_error) + self.offset_n - self.tare_n

    def tare_now(self) -> None:
        """Take the current reading as zero (device-side tare)."""
        self.tare_n += float(self.measured_n(np.array([self.device_time()]))[0])

    @property
    def sent(self) -> np.ndarray:
        """(n, 3) rows: stream number, device time s, value as sent (device unit)."""
        return np.array(self._sent, dtype=np.float64).reshape(-1, 3)

    # -- GATT ---------------------------------------------------------------------------
    def uart_peripheral_spec(
        self, service_uuid: str, write_uuid: str, advertise: bool = False
    ) -> PeripheralSpec:
        """A UART-bridge GATT layout: one service with the :attr:`notify_uuid` characteristic and
        a writable ``write_uuid`` one whose writes go to :meth:`_on_write` (``advertise``: the
        service UUID is in the advertisements)."""
        return PeripheralSpec(
            address=self.address,
            name=self.name,
            advertised_uuids=[service_uuid] if advertise else [],
            services=[
                GattService(
                    service_uuid,
                    [
                        GattCharacteristic(self.notify_uuid, ("notify",)),
                        GattCharacteristic(
                            write_uuid, ("write", "write-without-response"), on_write=self._on_write
                        ),
                    ],
                )
            ],
        )

    def _on_write(self, data: bytes, with_response: bool) -> None:
        """A host write: logged in :attr:`commands` (subclasses act on their commands)."""
        self.commands.append(bytes(data))

    # -- streaming ---------------------------------------------------------------------
    def encode_samples(self, values_n: np.ndarray, t: np.ndarray) -> tuple[list[bytes], list[float]]:
        """Wire messages for these samples, and each sample's value as sent (device unit; NaN
        for a sample the emulated device loses)."""
        raise NotImplementedError

    def malformed(self) -> bytes:
        """One malformed message of this protocol (for ``inject_every``)."""
        raise NotImplementedError

    def send_bytes(self, data: bytes) -> bool:
        """Notify ``data`` in chunks of at most :attr:`chunk` bytes (a UART bridge cuts anywhere)."""
        p = self.peripheral
        if p is None:
            return False
        ok = True
        for i in range(0, len(data), self.chunk):
            ok = p.notify(self.notify_uuid, data[i : i + self.chunk]) and ok
        return ok

    def start_stream(self, wait_subscribed: bool = False) -> None:
        self.cancel_tasks()
        self.streaming = True
        self.streams += 1
        self.spawn(self.run_stream(self.streams, wait_subscribed))

    def stop_stream(self) -> None:
        self.streaming = False
        self.cancel_tasks()

    async def run_stream(self, stream_no: int, wait_subscribed: bool = False) -> None:
        """Send the samples due every :attr:`tick_s` at :attr:`rate_hz` (device clock)."""
        p = self.peripheral
        assert p is not None
        if wait_subscribed:
            while not p.subscribed(self.notify_uuid):
                await asyncio.sleep(0.01)
        period = 1.0 / self.rate_hz
        t_start = self.device_time()
        k = 0
        n_messages = 0
        while True:
            due = int((self.device_time() - t_start) / period) + 1
            if due > k:
                t = t_start + np.arange(k, due) * period
                messages, values = self.encode_samples(self.measured_n(t), t)
                out: list[bytes] = []
                for msg in messages:
                    n_messages += 1
                    if self.inject_every and n_messages % self.inject_every == 0:
                        out.append(self.malformed())
                        self.injected += 1
                    out.append(msg)
                if self.deliver(out):
                    self._sent.extend(
                        (stream_no, float(ti), float(v)) for ti, v in zip(t, values) if not math.isnan(v)
                    )
                k = due
                await p.flush()
            await asyncio.sleep(self.tick_s)

    def deliver(self, messages: list[bytes]) -> bool:
        """Send one tick's messages: by default as a byte stream cut into :attr:`chunk`-byte
        notifications (a UART bridge); datagram devices send one notification per message."""
        return self.send_bytes(b"".join(messages))
