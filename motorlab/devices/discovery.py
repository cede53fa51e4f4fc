"""Find devices: serial ports (pyserial ``list_ports``) and BLE advertisers (bleak).

Each port or advertiser becomes a :class:`Candidate` with the protocol it
*appears* to speak, guessed from the discovery hints of :mod:`.spec` (USB
vendor ids and port descriptions for serial ports; advertised service UUIDs
and names for BLE). A guess is only a guess: :func:`probe` opens the candidate
with the real driver and asks it who it is (the protocol handshake), returning
model/serial/firmware or a one-line error.

Sources for the hints (see the spec entries): research notes ``devices.md`` —
Progressor clients filter on the name prefix "Progressor", Go Direct devices
advertise "GDX-<order code> <serial>", WitMotion BLE names contain "WT"; the
open motorlab BLE profile advertises its own 128-bit service UUID. USB ids are
the public vendor ids of the boards DIY sensors are built on and of the
USB-serial bridges that devices ship with.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .base import DeviceError
from .registry import make_driver
from .spec import DEVICES, PROTOCOLS, UsbVendor

log = logging.getLogger(__name__)

#: protocols worth trying, in order, when a serial port gives no hint
SERIAL_PROBE_ORDER = tuple(p.name for p in PROTOCOLS.values() if p.serial)


def _identifying_vendors() -> dict[int, tuple[str, str]]:
    """USB vendor id -> (vendor name, protocol) for ids that identify a protocol."""
    return {v.vid: (v.name, d.protocol) for d in DEVICES for v in d.discovery.usb_vendors}


def _bridges() -> dict[int, tuple[UsbVendor, list[str]]]:
    """USB bridge vendor id -> (vendor, models that ship with it)."""
    out: dict[int, tuple[UsbVendor, list[str]]] = {}
    for d in DEVICES:
        for v in d.discovery.usb_bridges:
            out.setdefault(v.vid, (v, []))[1].append(d.model)
    return out


@dataclass(frozen=True)
class Candidate:
    """A port or BLE advertiser that may be a measurement device.

    ``protocol`` is the guessed protocol (None when nothing hints at one) and
    ``reason`` says why. ``rssi`` is the BLE signal strength in dBm.
    """

    transport: str  # "serial" | "ble"
    address: str
    name: str = ""
    protocol: str | None = None
    reason: str = ""
    hwid: str = ""
    rssi: int | None = None
    usb: bool = False

    def url(self, protocol: str | None = None) -> str | None:
        """Device URL for ``protocol`` (default: the guessed one), or None."""
        proto = protocol or self.protocol
        if proto is None:
            return None
        return f"{self.transport}://{self.address}?protocol={proto}"


@dataclass(frozen=True)
class ProbeResult:
    """Outcome of opening a candidate and doing the protocol handshake."""

    candidate: Candidate
    protocol: str | None
    ok: bool
    model: str = ""
    serial: str = ""
    firmware: str = ""
    error: str = ""
    tried: tuple[str, ...] = field(default_factory=tuple)

    @property
    def url(self) -> str | None:
        return self.candidate.url(self.protocol)


# ------------------------------------------------------------------- serial
def guess_serial_protocol(port) -> tuple[str | None, str]:
    """Guess the protocol of a pyserial ``ListPortInfo`` from USB ids and text.

    Returns ``(protocol or None, reason)``.
    """
    text = " ".join(str(x) for x in (port.description, port.manufacturer, port.product, port.interface) if x)
    low = text.lower()
    for d in DEVICES:
        for key in d.discovery.port_keywords:
            if key in low:
                return d.protocol, f"description mentions '{key}'"
    vid = port.vid
    vendors = _identifying_vendors()
    if vid in vendors:
        name, proto = vendors[vid]
        return proto, f"{name} board (USB {vid:04X}:{port.pid or 0:04X}): DIY sensor"
    bridges = _bridges()
    if vid in bridges:
        vendor, models = bridges[vid]
        return None, f"{vendor.name} USB-serial bridge: {' or '.join(models)}? (use --probe)"
    if vid is not None:
        return None, f"USB {vid:04X}:{port.pid or 0:04X}: unknown device"
    return None, "no USB information (built-in or virtual port)"


def discover_serial(extra_ports: Sequence[str] = (), protocol: str | None = None) -> list[Candidate]:
    """Serial ports from ``serial.tools.list_ports.comports()`` plus ``extra_ports``.

    ``extra_ports`` are paths that listing cannot see (pseudo-terminals,
    symlinks); ``protocol``, if given, is assumed for them.
    """
    from serial.tools import list_ports

    out: list[Candidate] = []
    seen: set[str] = set()
    for port in sorted(list_ports.comports(), key=lambda p: p.device):
        proto, why = guess_serial_protocol(port)
        out.append(
            Candidate(
                "serial",
                port.device,
                port.description or "",
                proto,
                why,
                port.hwid or "",
                usb=port.vid is not None,
            )
        )
        seen.add(port.device)
    for path in extra_ports:
        if path in seen:
            continue
        why = "given with --port" + ("" if protocol else "; protocol unknown (use --probe)")
        out.append(Candidate("serial", path, "", protocol, why, usb=False))
    return out


# ------------------------------------------------------------------- input nodes (tablets)
#: where input nodes are listed (``MOTORLAB_DEV_DIR`` moves it, for tests and odd systems)
DEV_DIR_ENV = "MOTORLAB_DEV_DIR"


def discover_input() -> list[Candidate]:
    """Linux input nodes that are a tablet's pen (ABS_X and BTN_TOOL_PEN), via python-evdev.

    A node this user may not read is listed with the fix (the ``input`` group);
    nodes that are not pens are left out. Without python-evdev or off Linux: nothing.
    """
    import os
    import sys
    from pathlib import Path

    from .transports.input_node import INPUT_GROUP_FIX

    if not sys.platform.startswith("linux"):
        return []
    evdev: Any
    try:
        import evdev as _evdev

        evdev = _evdev
    except ModuleNotFoundError:  # tablets need the 'tablet' extra; unreadable nodes are still worth a line
        evdev = None
    dev = Path(os.environ.get(DEV_DIR_ENV, "/dev")) / "input"
    out: list[Candidate] = []
    for node in sorted(dev.glob("event*")):
        path = str(node)
        if not os.access(path, os.R_OK):
            out.append(Candidate("input", path, "", None, f"no permission to read it: {INPUT_GROUP_FIX}"))
            continue
        if evdev is None:
            continue
        try:
            device = evdev.InputDevice(path)
        except OSError:
            continue  # not an input device (or gone)
        try:
            caps = device.capabilities()
            name = device.name
        finally:
            device.close()
        ecodes = evdev.ecodes
        if ecodes.ABS_X in caps.get(ecodes.EV_ABS, []) and ecodes.BTN_TOOL_PEN in caps.get(ecodes.EV_KEY, []):
            out.append(Candidate("input", path, name, "evdev-tablet", "pen node (ABS_X and BTN_TOOL_PEN)"))
    return out


# ------------------------------------------------------------------- BLE
@dataclass(frozen=True)
class BleRule:
    protocol: str
    service_uuid: str = ""
    name_prefix: str = ""


def ble_rules() -> list[BleRule]:
    """Service UUIDs and name prefixes of every BLE protocol in the spec."""
    rules = []
    for d in DEVICES:
        profile = PROTOCOLS[d.protocol].ble
        if profile is None:
            continue
        prefixes = d.discovery.ble_name_prefixes or ("",)
        rules += [BleRule(d.protocol, profile.service_uuid.lower(), prefix) for prefix in prefixes]
    return list(dict.fromkeys(rules))


def guess_ble_protocol(
    name: str, service_uuids: Iterable[str], rules: Sequence[BleRule] | None = None
) -> tuple[str | None, str]:
    """Guess a BLE advertiser's protocol: advertised service UUID first, then the name
    (``rules``' prefixes, then every device's name prefixes and name fragments)."""
    rules = ble_rules() if rules is None else rules
    uuids = {u.lower() for u in service_uuids}
    for r in rules:
        if r.service_uuid and r.service_uuid in uuids:
            return r.protocol, f"advertises service {r.service_uuid}"
    name = name or ""
    for r in rules:
        if r.name_prefix and name.startswith(r.name_prefix):
            return r.protocol, f"name starts with {r.name_prefix!r}"
    for d in DEVICES:
        for prefix in d.discovery.ble_name_prefixes:
            if name.startswith(prefix):
                return d.protocol, f"name starts with {prefix!r}"
    for d in DEVICES:
        for part in d.discovery.ble_name_contains:
            if part in name:
                return d.protocol, f"name contains {part!r}"
    return None, "no known name or service"


def _guess_by_manufacturer(data: dict[int, bytes], proto: str | None, why: str) -> tuple[str | None, str]:
    """Devices that only advertise are known by the company ID of their manufacturer data."""
    for d in DEVICES:
        for company in d.discovery.manufacturer_ids:
            if company in data:
                return d.protocol, f"advertises manufacturer data 0x{company:04X}"
    return proto, why


async def discover_ble(timeout: float = 5.0, *, only_known: bool = False) -> list[Candidate]:
    """Scan for BLE advertisers for ``timeout`` seconds (bleak ``BleakScanner.discover``).

    Raises ``DeviceError`` (one line) when there is no usable Bluetooth stack.
    Results are sorted: recognised devices first, then by signal strength.
    """
    try:
        from bleak import BleakScanner
        from bleak.exc import BleakError
    except ModuleNotFoundError as exc:  # pragma: no cover - bleak is a dependency
        raise DeviceError(f"BLE scan needs the '{exc.name}' package") from None
    try:
        found = await BleakScanner.discover(timeout=timeout, return_adv=True)
    except (FileNotFoundError, ConnectionRefusedError):
        raise DeviceError(
            "BLE scan failed: cannot reach BlueZ on the D-Bus system bus (no Bluetooth service running?)"
        ) from None
    except (BleakError, OSError, EOFError) as exc:
        raise DeviceError(
            f"BLE scan failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        ) from None
    except Exception as exc:  # dbus errors (no BlueZ, no adapter) surface as various types
        if type(exc).__module__.startswith(("dbus_fast", "bleak")):
            raise DeviceError(
                f"BLE scan failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
            ) from None
        raise
    rules = ble_rules()
    out = []
    for address, (device, adv) in found.items():
        name = adv.local_name or device.name or ""
        proto, why = guess_ble_protocol(name, adv.service_uuids or [], rules)
        if proto is None:
            proto, why = _guess_by_manufacturer(adv.manufacturer_data or {}, proto, why)
        if only_known and proto is None:
            continue
        out.append(Candidate("ble", address, name, proto, why, rssi=adv.rssi))
    out.sort(key=lambda c: (c.protocol is None, -(c.rssi if c.rssi is not None else -999), c.address))
    return out


# ------------------------------------------------------------------- probing
async def probe_url(url: str, timeout: float = 5.0) -> tuple[str, str, str]:
    """Open ``url``, do the handshake, close; returns (model, serial, firmware).

    Raises ``DeviceError`` with a one-line message on any failure.
    """
    driver = make_driver(url)
    try:
        await asyncio.wait_for(driver.open(), timeout)
        # leave the driver's own reply timeout room to fire first: its message is more precise
        info = await asyncio.wait_for(driver.info(), timeout + driver.reply_timeout_s)
    except asyncio.TimeoutError:
        raise DeviceError(f"{url}: no answer within {timeout:g} s") from None
    finally:
        try:
            await asyncio.wait_for(driver.close(), 2.0)
        except (DeviceError, OSError, asyncio.TimeoutError):
            pass
    return info.model, info.serial, info.firmware


def _probe_order(c: Candidate) -> list[str]:
    if c.protocol is not None:
        return [c.protocol]
    return list(SERIAL_PROBE_ORDER) if c.transport == "serial" else []


async def probe(
    candidate: Candidate, protocols: Sequence[str] | None = None, timeout: float = 5.0
) -> ProbeResult:
    """Confirm a candidate by handshake, trying ``protocols`` (default: the guess,
    or for an unknown serial port every serial protocol in turn)."""
    order = list(protocols) if protocols else _probe_order(candidate)
    if not order:
        return ProbeResult(candidate, None, False, error="no protocol to try", tried=())
    reasons: list[str] = []
    tried: list[str] = []
    for proto in order:
        tried.append(proto)
        url = candidate.url(proto)
        assert url is not None
        try:
            model, serial, firmware = await probe_url(url, timeout)
        except DeviceError as exc:
            msg = (str(exc).splitlines() or [type(exc).__name__])[0]
            for prefix in (f"{url}: ", f"{candidate.address}: "):
                msg = msg.removeprefix(prefix)
            reasons.append(msg if len(order) == 1 else f"{proto}: {msg}")
            continue
        return ProbeResult(candidate, proto, True, model, serial, firmware, tried=tuple(tried))
    return ProbeResult(
        candidate, None, False, error=f"{candidate.address}: " + "; ".join(reasons), tried=tuple(tried)
    )


async def probe_all(candidates: Sequence[Candidate], timeout: float = 5.0) -> list[ProbeResult]:
    """Probe candidates one after another (radios and USB hubs dislike parallel opens)."""
    return [await probe(c, timeout=timeout) for c in candidates]
