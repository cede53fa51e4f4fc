"""Find devices: serial ports (pyserial ``list_ports``) and BLE advertisers (bleak).

Each port or advertiser becomes a :class:`Candidate` with the protocol it
*appears* to speak, guessed from USB vendor/product ids and descriptions
(serial) or from the advertised name and service UUIDs (BLE). A guess is only a
guess: :func:`probe` opens the candidate with the real driver and asks it who it
is (the protocol handshake), returning model/serial/firmware or a one-line error.

Sources for the rules: research notes ``devices.md`` — Progressor clients
filter on the name prefix "Progressor", Go Direct devices advertise
"GDX-<order code> <serial>", WitMotion BLE names contain "WT"; the open motorlab
BLE profile advertises its own 128-bit service UUID. USB ids are the public
vendor ids of Arduino (0x2341), Espressif (0x303A), Adafruit (0x239A),
Raspberry Pi (0x2E8A) and Seeed (0x2886) boards that DIY sensors are built on,
and of the USB-serial bridges WitMotion and many boards ship with
(WCH 0x1A86, Silicon Labs 0x10C4, FTDI 0x0403, Prolific 0x067B).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .base import DeviceError
from .registry import PROTOCOL_MODULES, BleProfile, make_driver

log = logging.getLogger(__name__)

#: USB vendor ids of microcontroller boards: DIY sensors with the open motorlab protocol
DIY_BOARD_VIDS = {
    0x2341: "Arduino",
    0x303A: "Espressif",
    0x239A: "Adafruit",
    0x2E8A: "Raspberry Pi",
    0x2886: "Seeed",
}
#: USB vendor ids of generic USB-serial bridges (the protocol cannot be told from the id)
BRIDGE_VIDS = {0x1A86: "WCH CH34x", 0x10C4: "Silicon Labs CP210x", 0x0403: "FTDI", 0x067B: "Prolific"}
#: protocols worth trying, in order, when a serial port gives no hint
SERIAL_PROBE_ORDER = ("motorlab", "witmotion", "mark10")
#: description keywords (case-insensitive) -> protocol
_SERIAL_KEYWORDS = (
    ("mark-10", "mark10"),
    ("mark10", "mark10"),
    ("witmotion", "witmotion"),
    ("wt901", "witmotion"),
    ("jy901", "witmotion"),
    ("motorlab", "motorlab"),
)
#: BLE name rules used when a protocol module gives no name prefix: (protocol, test, why)
_BLE_NAME_RULES = (
    ("tindeq", lambda n: n.startswith("Progressor"), "name starts with 'Progressor'"),
    ("vernier", lambda n: n.startswith("GDX"), "name starts with 'GDX'"),
    ("witmotion-ble", lambda n: "WT" in n, "name contains 'WT'"),
)


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
    for key, proto in _SERIAL_KEYWORDS:
        if key in low:
            return proto, f"description mentions '{key}'"
    vid = port.vid
    if vid in DIY_BOARD_VIDS:
        return "motorlab", f"{DIY_BOARD_VIDS[vid]} board (USB {vid:04X}:{port.pid or 0:04X}): DIY sensor"
    if vid in BRIDGE_VIDS:
        return None, f"{BRIDGE_VIDS[vid]} USB-serial bridge: WitMotion, DIY or gauge (use --probe)"
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


# ------------------------------------------------------------------- BLE
@dataclass(frozen=True)
class BleRule:
    protocol: str
    service_uuid: str = ""
    name_prefix: str = ""


def ble_rules() -> list[BleRule]:
    """Service UUIDs and name prefixes from every available protocol's ``SPEC.ble``."""
    rules = []
    for name, module in PROTOCOL_MODULES.items():
        try:
            spec = importlib.import_module(module).SPEC
        except Exception as exc:  # noqa: BLE001 - a missing/broken driver just gives no rule
            log.debug("no BLE rule for %s: %s", name, exc)
            continue
        profile: BleProfile | None = getattr(spec, "ble", None)
        if profile is not None:
            rules.append(BleRule(name, profile.service_uuid.lower(), profile.name_prefix))
    return rules


def guess_ble_protocol(
    name: str, service_uuids: Iterable[str], rules: Sequence[BleRule] | None = None
) -> tuple[str | None, str]:
    """Guess a BLE advertiser's protocol: advertised service UUID first, then name."""
    rules = ble_rules() if rules is None else rules
    uuids = {u.lower() for u in service_uuids}
    for r in rules:
        if r.service_uuid and r.service_uuid in uuids:
            return r.protocol, f"advertises service {r.service_uuid}"
    name = name or ""
    for r in rules:
        if r.name_prefix and name.startswith(r.name_prefix):
            return r.protocol, f"name starts with {r.name_prefix!r}"
    for proto, test, why in _BLE_NAME_RULES:
        if test(name):
            return proto, why
    return None, "no known name or service"


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
