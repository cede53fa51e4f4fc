"""Every supported device, as data: the one place that says what exists.

Two tables, read by :mod:`.registry` (opening URLs), :mod:`.discovery`
(guessing what a port or advertiser is) and :mod:`motorlab.sim` (emulators):

* :data:`PROTOCOLS` — one :class:`ProtocolSpec` per wire protocol, i.e. per
  ``?protocol=NAME`` of a device URL: the module of its driver, which
  transports it runs on (serial, BLE and then its GATT :class:`BleProfile`),
  the default baud rate and a one-line description.
* :data:`DEVICES` — one :class:`DeviceSpec` per device model: its protocol,
  channels and nominal sampling rate, discovery hints (BLE name prefixes, serial
  port keywords, USB vendor ids) and its ``sim://`` emulators.

Wire-protocol facts (GATT UUIDs, advertised names, channel layouts of devices
that do not describe themselves, fixed rates) are owned by the device's codec
module and imported here, never restated.

Adding a device touches four places: its codec (``devices/codecs/<name>.py``,
sans-I/O), its driver (``devices/drivers/<name>.py`` with
``make_driver(transport, url)``), its emulator (``sim/emulators/<name>.py`` with
``async def open_sim(params, url) -> Device``) and one entry here (plus one
:class:`ProtocolSpec` when it speaks a new protocol).

This module is data only: it imports codecs for their constants, nothing that
does I/O, and no other part of the device layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..recording import Channel
from .codecs import activ5 as _activ5
from .codecs import ble_weight_scale as _weight_scale
from .codecs import browser_pen as _browser_pen
from .codecs import cts500 as _cts500
from .codecs import forceboard as _forceboard
from .codecs import jamar as _jamar
from .codecs import kinvent as _kinvent
from .codecs import mark10 as _mark10
from .codecs import tindeq as _tindeq
from .codecs import vernier as _vernier
from .codecs import whc06 as _whc06
from .codecs import witmotion as _witmotion
from .codecs import witmotion_ble as _witmotion_ble

Link = Literal["serial", "ble", "input"]


@dataclass(frozen=True)
class BleProfile:
    """GATT layout of a BLE device (always full 128-bit UUIDs).

    ``write_with_response``: write requests (True) or write commands (False).
    """

    service_uuid: str
    notify_uuid: str
    write_uuid: str
    write_with_response: bool = True


@dataclass(frozen=True)
class ProtocolSpec:
    """One wire protocol (``?protocol=NAME``).

    Attributes:
        name: the URL's protocol name.
        driver: module in :mod:`motorlab.devices.drivers` defining
            ``make_driver(transport, url) -> CodecDriver``.
        serial: runs over a serial port.
        ble: GATT profile when it runs over BLE, else None.
        default_baud: serial baud rate when the URL gives none, baud.
        description: one line for ``--help`` and listings.
        input: runs on a Linux input node (``input:///dev/input/eventN``).
        ble_adverts: company ID of the manufacturer data a device that only
            advertises sends its readings in (``ble://`` without a connection).
    """

    name: str
    driver: str
    serial: bool
    ble: BleProfile | None = None
    default_baud: int = 115200
    description: str = ""
    input: bool = False
    ble_adverts: int | None = None


@dataclass(frozen=True)
class UsbVendor:
    """A USB vendor id and who it is (``0x2341`` = Arduino)."""

    vid: int
    name: str


@dataclass(frozen=True)
class DiscoveryHints:
    """What tells this device apart before it is opened (a guess; a probe confirms).

    Attributes:
        ble_name_prefixes: advertised names start with one of these.
        ble_name_contains: advertised names contain one of these (weaker, tried last).
        manufacturer_ids: company IDs of advertised manufacturer data (devices that only advertise).
        port_keywords: words (lower case) in a serial port's description/manufacturer.
        usb_vendors: USB vendor ids that identify the protocol (microcontroller
            boards a DIY device is built on).
        usb_bridges: USB-serial bridge chips the device ships with; they do not
            identify a protocol (many devices use them) but are worth a probe.
    """

    ble_name_prefixes: tuple[str, ...] = ()
    ble_name_contains: tuple[str, ...] = ()
    manufacturer_ids: tuple[int, ...] = ()
    port_keywords: tuple[str, ...] = ()
    usb_vendors: tuple[UsbVendor, ...] = ()
    usb_bridges: tuple[UsbVendor, ...] = ()


@dataclass(frozen=True)
class SimSpec:
    """One ``sim://NAME`` emulator of a device.

    ``module`` is the module in :mod:`motorlab.sim.emulators` defining
    ``async def open_sim(params, url) -> Device``; ``link`` is how the real driver
    reaches it (a pseudo-terminal or the emulated BlueZ).
    """

    name: str
    module: str
    link: Link


@dataclass(frozen=True)
class DeviceSpec:
    """One device model.

    Attributes:
        key: short identifier, e.g. ``"progressor"``.
        model: human-readable model name.
        protocol: key into :data:`PROTOCOLS`.
        channels: channels as recorded (devices that describe themselves report
            these in their handshake; the list here is what the reference
            firmware/emulator reports).
        nominal_rate_hz: default sampling (or polling) rate, Hz.
        discovery: hints for :mod:`.discovery`.
        sims: its emulators.
        url_example: a device URL for documentation.
        description: one line.
    """

    key: str
    model: str
    protocol: str
    channels: tuple[Channel, ...]
    nominal_rate_hz: float
    discovery: DiscoveryHints
    sims: tuple[SimSpec, ...]
    url_example: str
    description: str = ""


# ------------------------------------------------------------------ protocols
#: GATT layout of the open motorlab protocol (firmware_notes/protocol.md §2); base UUID
#: generated once for this protocol
MOTORLAB_BLE = BleProfile(
    service_uuid="7d680001-9c86-4f5b-a5ed-40391b489d75",
    notify_uuid="7d680002-9c86-4f5b-a5ed-40391b489d75",
    write_uuid="7d680003-9c86-4f5b-a5ed-40391b489d75",
    write_with_response=True,
)

#: in order of preference when a serial port gives no hint (the probe order)
PROTOCOLS: dict[str, ProtocolSpec] = {
    p.name: p
    for p in (
        ProtocolSpec(
            "motorlab",
            driver="motorlab_driver",
            serial=True,
            ble=MOTORLAB_BLE,
            description="motorlab open protocol (COBS + CRC-16/CCITT-FALSE) for DIY grip and IMU-pen devices",
        ),
        ProtocolSpec(
            "witmotion",
            driver="witmotion",
            serial=True,
            description="WitMotion WT901/JY901/BWT901CL IMU, 11-byte 0x55 frames over serial",
        ),
        ProtocolSpec(
            "mark10",
            driver="mark10",
            serial=True,
            description="Mark-10 Series 4/5 force gauge (ASCII, polled); compression positive, N",
        ),
        ProtocolSpec(
            "witmotion-ble",
            driver="witmotion_ble",
            serial=False,
            ble=BleProfile(
                _witmotion_ble.SERVICE_UUID, _witmotion_ble.NOTIFY_UUID, _witmotion_ble.WRITE_UUID, True
            ),
            description="WitMotion WT901BLE / BWT901BLE5.0 9-axis IMU (BLE, 20-byte 55 61 frames)",
        ),
        ProtocolSpec(
            "tindeq",
            driver="tindeq",
            serial=False,
            ble=BleProfile(_tindeq.SERVICE_UUID, _tindeq.DATA_UUID, _tindeq.CONTROL_UUID, True),
            description="Tindeq Progressor force gauge and clones (BLE, 80 Hz, kg + µs timestamps)",
        ),
        ProtocolSpec(
            "vernier",
            driver="vernier",
            serial=False,
            ble=BleProfile(_vernier.SERVICE_UUID, _vernier.RESPONSE_UUID, _vernier.COMMAND_UUID, False),
            description="Vernier Go Direct hand dynamometer GDX-HD (BLE; period set by the host, zeroed on the host)",
        ),
        ProtocolSpec(
            "jamar",
            driver="jamar",
            serial=False,
            ble=BleProfile(_jamar.SERVICE_UUID, _jamar.TX_UUID, _jamar.RX_UUID, True),
            description="Jamar Smart hand dynamometer (BLE Nordic UART, ASCII '::VAL 1,<lb>', host-timed)",
        ),
        ProtocolSpec(
            "activ5",
            driver="activ5",
            serial=False,
            ble=BleProfile(_activ5.SERVICE_UUID, _activ5.NOTIFY_UUID, _activ5.WRITE_UUID, True),
            description="Activbody Activ5 isometric sensor (BLE, ASCII 'IS<N>/IS' ~10 Hz, copies de-duplicated)",
        ),
        ProtocolSpec(
            "cts500",
            driver="cts500",
            serial=False,
            ble=BleProfile(_cts500.SERVICE_UUID, _cts500.NOTIFY_UUID, _cts500.WRITE_UUID, False),
            description="CTS500 climbing scale (BLE UART bridge, checksummed 05 frames ~80 Hz; stop before disconnect)",
        ),
        ProtocolSpec(
            "kinvent-kgrip",
            driver="kinvent_kgrip",
            serial=True,
            default_baud=_kinvent.KGRIP_BAUD,
            description="Kinvent K-Grip over USB serial (11-byte FF FF FE frames, raw counts; host tare)",
        ),
        ProtocolSpec(
            "kinvent-kforce",
            driver="kinvent_kforce",
            serial=False,
            ble=BleProfile(
                _kinvent.KFORCE_SERVICE_UUID, _kinvent.KFORCE_UART_UUID, _kinvent.KFORCE_UART_UUID, False
            ),
            description="Kinvent K-Force sensors over BLE (17-byte frames, 4 raw channels, keep-alive; host tare)",
        ),
        ProtocolSpec(
            "forceboard",
            driver="forceboard",
            serial=False,
            ble=BleProfile(
                _forceboard.FORCEBOARD_SERVICE_UUID, _forceboard.FORCE_UUID, _forceboard.MODE_UUID, True
            ),
            description="PitchSix Force Board (BLE; u16 count + 3-byte lb samples, host-timed)",
        ),
        ProtocolSpec(
            "ble-weight-scale",
            driver="ble_weight_scale",
            serial=False,
            # nothing is written: the Feature characteristic stands in for the profile's write slot
            ble=BleProfile(
                _weight_scale.SERVICE_UUID,
                _weight_scale.WEIGHT_MEASUREMENT_UUID,
                _weight_scale.WEIGHT_FEATURE_UUID,
            ),
            description="standard BLE Weight Scale profile 0x181D (DIY HX711 grips; Weight Measurement 0x2A9D)",
        ),
        ProtocolSpec(
            "wh-c06",
            driver="whc06",
            serial=False,
            ble_adverts=_whc06.COMPANY_ID,
            description="WH-C06-style scales that only advertise (manufacturer data 0x0100, kg/100; host tare)",
        ),
        ProtocolSpec(
            "evdev-tablet",
            driver="evdev_tablet",
            serial=False,
            input=True,
            description="graphics tablet pen on Linux (evdev input_event; mm from the declared resolution)",
        ),
    )
}

# ------------------------------------------------------------------ devices
#: USB vendor ids of microcontroller boards that DIY sensors are built on
DIY_BOARDS = (
    UsbVendor(0x2341, "Arduino"),
    UsbVendor(0x303A, "Espressif"),
    UsbVendor(0x239A, "Adafruit"),
    UsbVendor(0x2E8A, "Raspberry Pi"),
    UsbVendor(0x2886, "Seeed"),
)
#: USB-serial bridge chips (the protocol cannot be told from their id)
WCH_CH34X = UsbVendor(0x1A86, "WCH CH34x")
SILABS_CP210X = UsbVendor(0x10C4, "Silicon Labs CP210x")
FTDI = UsbVendor(0x0403, "FTDI")
PROLIFIC = UsbVendor(0x067B, "Prolific")

_FORCE = Channel("force", "MISC", "N", tracked_point="handle")

DEVICES: tuple[DeviceSpec, ...] = (
    DeviceSpec(
        key="diy-grip",
        model="DIY grip dynamometer (load cell + HX711)",
        protocol="motorlab",
        channels=(_FORCE,),
        nominal_rate_hz=80.0,
        discovery=DiscoveryHints(
            ble_name_prefixes=("motorlab",),
            port_keywords=("motorlab",),
            usb_vendors=DIY_BOARDS,
            usb_bridges=(WCH_CH34X, SILABS_CP210X),
        ),
        sims=(SimSpec("grip", "grip_hx711", "serial"), SimSpec("pinch", "pinch_gauge", "serial")),
        url_example="serial:///dev/ttyUSB0?protocol=motorlab",
        description="open-protocol grip dynamometer (firmware_notes/grip_hx711)",
    ),
    DeviceSpec(
        key="diy-pen",
        model="DIY IMU pen (6-axis IMU + tip force)",
        protocol="motorlab",
        channels=(
            *(Channel(f"acc_{a}", "ACCEL", "m/s^2", a, "pen") for a in "xyz"),
            *(Channel(f"gyr_{a}", "GYRO", "deg/s", a, "pen") for a in "xyz"),
            Channel("tip_force", "MISC", "N", tracked_point="pentip"),
        ),
        nominal_rate_hz=200.0,
        discovery=DiscoveryHints(
            ble_name_prefixes=("motorlab",),
            port_keywords=("motorlab",),
            usb_vendors=DIY_BOARDS,
            usb_bridges=(WCH_CH34X, SILABS_CP210X),
        ),
        sims=(SimSpec("pen", "imu_pen", "serial"), SimSpec("penble", "imu_pen_ble", "ble")),
        url_example="ble://motorlab-pen?protocol=motorlab",
        description="open-protocol IMU pen for handwriting, spiral and tremor",
    ),
    DeviceSpec(
        key="wt901",
        model="WitMotion WT901 (serial)",
        protocol="witmotion",
        channels=_witmotion.CHANNELS,
        nominal_rate_hz=10.0,  # RRATE after power-up
        discovery=DiscoveryHints(
            port_keywords=("witmotion", "wt901", "jy901"), usb_bridges=(WCH_CH34X, SILABS_CP210X)
        ),
        sims=(SimSpec("wt901", "witmotion", "serial"),),
        url_example="serial:///dev/ttyUSB0?protocol=witmotion",
        description="9-axis IMU with on-device attitude",
    ),
    DeviceSpec(
        key="wt901ble",
        model="WitMotion WT901BLE",
        protocol="witmotion-ble",
        channels=_witmotion_ble.CHANNELS,
        nominal_rate_hz=10.0,  # RRATE after power-up
        discovery=DiscoveryHints(
            ble_name_prefixes=(_witmotion_ble.NAME_PREFIX,), ble_name_contains=(_witmotion_ble.NAME_PREFIX,)
        ),
        sims=(SimSpec("wt901ble", "witmotion_ble", "ble"),),
        url_example="ble://WT901BLE67?protocol=witmotion-ble",
        description="9-axis IMU over BLE",
    ),
    DeviceSpec(
        key="progressor",
        model="Tindeq Progressor",
        protocol="tindeq",
        channels=_tindeq.CHANNELS,
        nominal_rate_hz=_tindeq.RATE_HZ,
        discovery=DiscoveryHints(ble_name_prefixes=(_tindeq.NAME_PREFIX,)),
        sims=(SimSpec("progressor", "tindeq", "ble"),),
        url_example="ble://Progressor_1234?protocol=tindeq",
        description="BLE force gauge (and clones: Crimpdeq, Mito, Hangman)",
    ),
    DeviceSpec(
        key="gdxhd",
        model="Vernier Go Direct Hand Dynamometer (GDX-HD)",
        protocol="vernier",
        channels=(_FORCE,),
        nominal_rate_hz=10.0,  # the sensor's typical period, 100 ms
        discovery=DiscoveryHints(ble_name_prefixes=(_vernier.NAME_PREFIX,)),
        sims=(SimSpec("gdxhd", "vernier", "ble"),),
        url_example="ble://GDX-HD%20151000C1?protocol=vernier",
        description="BLE hand dynamometer",
    ),
    DeviceSpec(
        key="mark10",
        model="Mark-10 Series 4/5 force gauge",
        protocol="mark10",
        channels=_mark10.CHANNELS,
        nominal_rate_hz=20.0,  # polling rate
        discovery=DiscoveryHints(port_keywords=("mark-10", "mark10"), usb_bridges=(FTDI, PROLIFIC)),
        sims=(SimSpec("mark10", "mark10", "serial"),),
        url_example="serial:///dev/ttyUSB0?protocol=mark10",
        description="bench force gauge, polled over USB serial",
    ),
)


# ------------------------------------------------------------------ clinic devices
#: force as recorded by the clinic dynamometers (their drivers convert to N)
_CLINIC_FORCE = (Channel("force", "MISC", "N", tracked_point="handle"),)

DEVICES += (
    DeviceSpec(
        key="jamar-smart",
        model="Jamar Smart hand dynamometer",
        protocol="jamar",
        channels=_jamar.CHANNELS,
        nominal_rate_hz=10.0,  # not documented: the driver measures it (measured_rate_hz)
        discovery=DiscoveryHints(ble_name_contains=("Jamar", "JAMAR")),
        sims=(SimSpec("jamar", "jamar", "ble"),),
        url_example="ble://Jamar?protocol=jamar",
        description="reference clinical grip dynamometer; force sent in lb, stored in N",
    ),
    DeviceSpec(
        key="activ5",
        model="Activbody Activ5",
        protocol="activ5",
        channels=_activ5.CHANNELS,
        nominal_rate_hz=_activ5.NOMINAL_RATE_HZ,
        discovery=DiscoveryHints(ble_name_prefixes=("ACTIV5", "Activ5"), ble_name_contains=("ctiv5",)),
        sims=(SimSpec("activ5", "activ5", "ble"),),
        url_example="ble://ACTIV5?protocol=activ5",
        description="palm-sized isometric force sensor (N, integers)",
    ),
    DeviceSpec(
        key="cts500",
        model="CTS500 climbing training scale",
        protocol="cts500",
        channels=_cts500.CHANNELS,
        nominal_rate_hz=_cts500.NOMINAL_RATE_HZ,
        discovery=DiscoveryHints(ble_name_prefixes=_cts500.NAMES),
        sims=(SimSpec("cts500", "cts500", "ble"),),
        url_example="ble://CTS500?protocol=cts500",
        description="Progressor-like crane scale; kg/100 frames, stored in N",
    ),
    DeviceSpec(
        key="kgrip",
        model="Kinvent K-Grip",
        protocol="kinvent-kgrip",
        channels=_CLINIC_FORCE,
        nominal_rate_hz=100.0,  # not documented: measured from host times
        discovery=DiscoveryHints(port_keywords=("kinvent", "k-grip", "kgrip")),
        sims=(SimSpec("kgrip", "kinvent_kgrip", "serial"),),
        url_example="serial:///dev/ttyACM0?protocol=kinvent-kgrip",
        description="grip dynamometer over USB; raw counts, tared and scaled on the host",
    ),
    DeviceSpec(
        key="kforce",
        model="Kinvent K-Force (K-Pull, K-Push, plates)",
        protocol="kinvent-kforce",
        channels=(Channel("force", "MISC", "N", tracked_point="load_cell"),),
        nominal_rate_hz=75.0,  # not documented for the force sensors (K-Move: 75 Hz); gaps use the counter
        discovery=DiscoveryHints(ble_name_prefixes=(_kinvent.KFORCE_NAME_PREFIX,)),
        sims=(SimSpec("kforce", "kinvent_kforce", "ble"),),
        url_example="ble://KFORCELink?protocol=kinvent-kforce",
        description="raw counts from four load-cell channels; tared and scaled on the host",
    ),
    DeviceSpec(
        key="forceboard",
        model="PitchSix Force Board",
        protocol="forceboard",
        channels=_forceboard.CHANNELS,
        nominal_rate_hz=80.0,  # not documented: measured from host times
        discovery=DiscoveryHints(ble_name_prefixes=(_forceboard.NAME_PREFIX,)),
        sims=(SimSpec("forceboard", "forceboard", "ble"),),
        url_example="ble://Force%20Board?protocol=forceboard",
        description="portable force plate; whole pounds, stored in N",
    ),
    DeviceSpec(
        key="weight-scale",
        model="BLE Weight Scale profile device (DIY grip)",
        protocol="ble-weight-scale",
        channels=_weight_scale.CHANNELS,
        nominal_rate_hz=10.0,  # what a build chooses; measured from host times
        discovery=DiscoveryHints(ble_name_prefixes=("ForceGrip",)),
        sims=(SimSpec("weightscale", "ble_weight_scale", "ble"),),
        url_example="ble://ForceGrip?protocol=ble-weight-scale",
        description="ESP32 + HX711 builds on the SIG Weight Scale service 0x181D (host tare)",
    ),
    DeviceSpec(
        key="wh-c06",
        model="WH-C06 BLE scale (advertising only)",
        protocol="wh-c06",
        channels=_whc06.CHANNELS,
        nominal_rate_hz=_whc06.NOMINAL_RATE_HZ,
        discovery=DiscoveryHints(manufacturer_ids=(_whc06.COMPANY_ID,)),
        sims=(SimSpec("whc06", "whc06", "ble"),),
        url_example="ble://C4:A5:DF:00:C0:06?protocol=wh-c06",
        description="cheap crane scale used as a grip meter; weight read from scans",
    ),
    DeviceSpec(
        key="tablet",
        model="Graphics tablet (Linux evdev pen node)",
        protocol="evdev-tablet",
        channels=(
            Channel("pos_x", "POS", "mm", "x", "pentip"),
            Channel("pos_y", "POS", "mm", "y", "pentip"),
            Channel("pressure", "MISC", "1", tracked_point="pentip"),
            Channel("distance", "MISC", "1", tracked_point="pentip"),
            Channel("tilt_x", "ORNT", "rad", "x", "pen"),
            Channel("tilt_y", "ORNT", "rad", "y", "pen"),
            Channel("in_range", "MISC", "n/a", tracked_point="pen"),
            Channel("tip_contact", "MISC", "n/a", tracked_point="pentip"),
            Channel("barrel_button", "MISC", "n/a", tracked_point="pen"),
        ),  # what an Intuos Pro pen node declares; other tablets may lack distance or tilt
        nominal_rate_hz=200.0,  # not fixed (133-266 reports/s): measured from kernel timestamps
        discovery=DiscoveryHints(),
        sims=(SimSpec("tablet", "evdev_tablet", "input"),),
        url_example="input:///dev/input/event5",
        description="Wacom and other tablets through the kernel's evdev interface",
    ),
)


#: a stylus in the browser (``motorlab app``'s pen page): Pointer Events over the app's WebSocket,
#: not a serial/BLE device, so it has no wire protocol entry and is not probed or emulated
BROWSER_PEN = DeviceSpec(
    key="browser-pen",
    model="Stylus in a web browser (W3C Pointer Events)",
    protocol="pointer-events",
    channels=_browser_pen.CHANNELS,
    nominal_rate_hz=240.0,  # Apple Pencil's stated maximum; the real rate is measured per recording
    discovery=DiscoveryHints(),
    sims=(),
    url_example="http://127.0.0.1:PORT/pen (motorlab app)",
    description="pen tablet, pen display or tablet computer writing in motorlab app's pen page",
)
#: devices reached through the app rather than a device URL
HOST_DEVICES: tuple[DeviceSpec, ...] = (BROWSER_PEN,)


def device(key: str) -> DeviceSpec:
    """The device with this key (KeyError for an unknown key: a programming error)."""
    for d in (*DEVICES, *HOST_DEVICES):
        if d.key == key:
            return d
    raise KeyError(key)


def simulators() -> dict[str, tuple[DeviceSpec, SimSpec]]:
    """``sim://`` name -> (device, emulator), in table order."""
    return {s.name: (d, s) for d in DEVICES for s in d.sims}


def devices_of(protocol: str) -> tuple[DeviceSpec, ...]:
    """The devices that speak ``protocol``."""
    return tuple(d for d in DEVICES if d.protocol == protocol)
