"""An emulated BlueZ daemon (bus name ``org.bluez``) built on dbus-fast.

It exports the objects that ``bluetoothd`` exports, on whatever D-Bus it is
given (normally the private bus of :mod:`.bus`), so that bleak's own,
unmodified BlueZ backend can scan, connect, subscribe and write exactly as it
does on a real Linux host::

    /org/bluez/hci0                                org.bluez.Adapter1
    /org/bluez/hci0/dev_AA_BB_..                   org.bluez.Device1
    .../serviceXXXX                                org.bluez.GattService1
    .../serviceXXXX/charXXXX                       org.bluez.GattCharacteristic1
    .../serviceXXXX/charXXXX/descXXXX              org.bluez.GattDescriptor1 (CCCD)

ObjectManager (``InterfacesAdded``/``InterfacesRemoved``) and Properties
(``PropertiesChanged``) come from dbus-fast's ``MessageBus.export``.

Emulators describe a peripheral with :class:`GattService` /
:class:`GattCharacteristic` and get a :class:`Peripheral` handle back from
:meth:`FakeBlueZ.add_peripheral`: ``notify()`` sends a notification,
``flush()`` paces bursts, ``drop_link()`` simulates a supervision timeout and
``reachable = False`` makes the device stop advertising and refuse connections.

Behaviour copied from bluetoothd because bleak depends on it: discovery
reports a device by exporting its ``Device1`` (bleak treats ``InterfacesAdded``
and later ``RSSI`` changes as advertisements); on connect the GATT objects are
exported before ``ServicesResolved`` turns true; on disconnect
``ServicesResolved`` turns false, GATT objects are removed, then ``Connected``
turns false; a read on a notifying characteristic also emits a value change.
"""

# No "from __future__ import annotations": dbus-fast reads the D-Bus signatures
# (typing.Annotated[..., DBusSignature("s")]) from the real annotations.
import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated

from dbus_fast import DBusError, Message, PropertyAccess, RequestNameReply, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import (
    DBusBool,
    DBusBytes,
    DBusDict,
    DBusInt16,
    DBusObjectPath,
    DBusSignature,
    DBusStr,
    DBusUInt16,
)
from dbus_fast.constants import NameFlag
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property

_ERR = "org.bluez.Error."
#: Client Characteristic Configuration descriptor (Bluetooth assigned number 0x2902)
CCCD_UUID = "00002902-0000-1000-8000-00805f9b34fb"
ADAPTER_PATH = "/org/bluez/hci0"
log = logging.getLogger(__name__)

#: D-Bus signatures beyond dbus-fast's ready-made ones
DBusStrList = Annotated[list[str], DBusSignature("as")]
DBusPathList = Annotated[list[str], DBusSignature("ao")]
DBusUInt16Dict = Annotated[dict[int, Variant], DBusSignature("a{qv}")]

#: on_write(data, with_response) -> None | awaitable
WriteHandler = Callable[[bytes, bool], "None | Awaitable[None]"]


# ------------------------------------------------------------- device description
@dataclass
class GattCharacteristic:
    """One characteristic. ``flags`` use BlueZ names: read, write,
    write-without-response, notify, indicate."""

    uuid: str
    flags: tuple[str, ...]
    value: bytes = b""
    on_write: WriteHandler | None = None


@dataclass
class GattService:
    uuid: str
    characteristics: list[GattCharacteristic]


@dataclass
class PeripheralSpec:
    """What a peripheral advertises and serves."""

    address: str
    name: str
    services: list[GattService]
    advertised_uuids: list[str] = field(default_factory=list)
    manufacturer_data: dict[int, bytes] = field(default_factory=dict)
    rssi: int = -55
    #: ATT MTU reported to the host (23 = BLE 4.0 default, i.e. 20-byte payloads)
    mtu: int = 23
    connect_delay_s: float = 0.0
    #: seconds between advertisements (None: the daemon's scan interval)
    adv_interval_s: float | None = None


class Peripheral:
    """Emulator-side handle of one peripheral known to a :class:`FakeBlueZ`."""

    def __init__(self, spec: PeripheralSpec):
        self.spec = spec
        self.address = spec.address.upper()
        #: advertising and accepting connections (False = out of range / off)
        self.reachable = True
        #: callbacks run when a central connects / the link goes down
        self.on_connect: list[Callable[[], None]] = []
        self.on_disconnect: list[Callable[[], None]] = []
        #: callbacks run just before each advertisement is reported (an emulator may
        #: update its advertising data, e.g. a scale that broadcasts its weight)
        self.on_advertise: list[Callable[[], None]] = []
        self.advertisements = 0
        self._next_adv = 0.0
        self._adv_data_changed = False
        self.notifications_sent = 0
        self._device: _Device1 | None = None
        self._chars: dict[str, _Characteristic1] = {}

    @property
    def connected(self) -> bool:
        return self._device is not None and self._device.connected

    def subscribed(self, char_uuid: str) -> bool:
        ch = self._chars.get(char_uuid.lower())
        return ch is not None and self.connected and ch.notifying

    def notify(self, char_uuid: str, data: bytes) -> bool:
        """Send one notification; False (data lost) unless a central is subscribed."""
        ch = self._chars[char_uuid.lower()]
        if not (self.connected and ch.notifying):
            return False
        ch.push(bytes(data))
        self.notifications_sent += 1
        return True

    async def flush(self) -> None:
        """Wait until the bus daemon has taken everything sent so far.

        dbus-fast treats a full socket buffer (EAGAIN) as fatal, so an emulator
        that sends a burst of notifications must flush between bursts.
        """
        if self._device is not None:
            await self._device.bluez.flush()

    def set_manufacturer_data(self, company_id: int, data: bytes) -> None:
        """Advertise ``data`` for ``company_id`` from the next advertisement on."""
        if self.spec.manufacturer_data.get(company_id) != data:
            self.spec.manufacturer_data = {**self.spec.manufacturer_data, company_id: bytes(data)}
            self._adv_data_changed = True

    def drop_link(self) -> None:
        """The link goes away (supervision timeout): the central sees a disconnect."""
        if self._device is not None:
            self._device.tear_down()


# ------------------------------------------------------------------- interfaces
class _Adapter1(ServiceInterface):
    def __init__(self, bluez: "FakeBlueZ", address: str):
        super().__init__("org.bluez.Adapter1")
        self.bluez = bluez
        self.address = address
        self.discovery_sessions = 0
        self.uuid_filter: list[str] = []
        #: the radio is on (``bluetoothctl power off`` / rfkill make it False)
        self.powered = True

    @dbus_property(access=PropertyAccess.READ)
    def Address(self) -> DBusStr:
        return self.address

    @dbus_property(access=PropertyAccess.READ)
    def AddressType(self) -> DBusStr:
        return "public"

    @dbus_property(access=PropertyAccess.READ)
    def Name(self) -> DBusStr:
        return "motorlab-emulated-hci"

    @dbus_property(access=PropertyAccess.READ)
    def Alias(self) -> DBusStr:
        return "motorlab-emulated-hci"

    @dbus_property(access=PropertyAccess.READ)
    def Powered(self) -> DBusBool:
        return self.powered

    @dbus_property(access=PropertyAccess.READ)
    def Discovering(self) -> DBusBool:
        return self.discovery_sessions > 0

    @dbus_property(access=PropertyAccess.READ)
    def Roles(self) -> DBusStrList:
        return ["central", "peripheral"]

    @dbus_property(access=PropertyAccess.READ)
    def UUIDs(self) -> DBusStrList:
        return []

    @dbus_method()
    def SetDiscoveryFilter(self, properties: DBusDict) -> None:
        uuids = properties.get("UUIDs")
        self.uuid_filter = [u.lower() for u in uuids.value] if uuids is not None else []

    @dbus_method()
    def StartDiscovery(self) -> None:
        self.discovery_sessions += 1
        if self.discovery_sessions == 1:
            self.emit_properties_changed({"Discovering": True})
            self.bluez._start_advertising()

    @dbus_method()
    def StopDiscovery(self) -> None:
        if self.discovery_sessions == 0:
            raise DBusError(_ERR + "Failed", "No discovery started")
        self.discovery_sessions -= 1
        if self.discovery_sessions == 0:
            self.bluez._stop_advertising()
            self.emit_properties_changed({"Discovering": False})

    @dbus_method()
    def RemoveDevice(self, device: DBusObjectPath) -> None:
        self.bluez._forget(device)


class _Device1(ServiceInterface):
    def __init__(self, bluez: "FakeBlueZ", path: str, peripheral: Peripheral):
        super().__init__("org.bluez.Device1")
        self.bluez, self.path, self.peripheral = bluez, path, peripheral
        self.spec = peripheral.spec
        self.connected = False
        self.services_resolved = False
        self.paired = False
        self.trusted = False
        self.rssi = self.spec.rssi
        self.gatt: list[tuple[str, ServiceInterface]] = []  # export order

    @dbus_property(access=PropertyAccess.READ)
    def Address(self) -> DBusStr:
        return self.peripheral.address

    @dbus_property(access=PropertyAccess.READ)
    def AddressType(self) -> DBusStr:
        return "random"

    @dbus_property(access=PropertyAccess.READ)
    def Name(self) -> DBusStr:
        return self.spec.name

    @dbus_property(access=PropertyAccess.READ)
    def Alias(self) -> DBusStr:
        return self.spec.name or self.peripheral.address.replace(":", "-")

    @dbus_property(access=PropertyAccess.READ)
    def Adapter(self) -> DBusObjectPath:
        return ADAPTER_PATH

    @dbus_property(access=PropertyAccess.READ)
    def Paired(self) -> DBusBool:
        return self.paired

    @dbus_property(access=PropertyAccess.READ)
    def Bonded(self) -> DBusBool:
        return self.paired

    @dbus_property()
    def Trusted(self) -> DBusBool:
        return self.trusted

    @Trusted.setter  # type: ignore[no-redef]  # dbus-fast's property setter, as with @property
    def Trusted(self, value: DBusBool) -> None:
        self.trusted = value

    @dbus_property(access=PropertyAccess.READ)
    def Blocked(self) -> DBusBool:
        return False

    @dbus_property(access=PropertyAccess.READ)
    def LegacyPairing(self) -> DBusBool:
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Connected(self) -> DBusBool:
        return self.connected

    @dbus_property(access=PropertyAccess.READ)
    def ServicesResolved(self) -> DBusBool:
        return self.services_resolved

    @dbus_property(access=PropertyAccess.READ)
    def UUIDs(self) -> DBusStrList:
        return [u.lower() for u in self.spec.advertised_uuids]

    @dbus_property(access=PropertyAccess.READ)
    def RSSI(self) -> DBusInt16:
        return self.rssi

    @dbus_property(access=PropertyAccess.READ)
    def ManufacturerData(self) -> DBusUInt16Dict:
        return {k: Variant("ay", bytes(v)) for k, v in self.spec.manufacturer_data.items()}

    @dbus_property(access=PropertyAccess.READ)
    def ServiceData(self) -> DBusDict:
        return {}

    @dbus_method()
    async def Connect(self) -> None:
        await self.connect()

    @dbus_method()
    async def Disconnect(self) -> None:
        self.tear_down()

    @dbus_method()
    async def Pair(self) -> None:
        await self.connect()  # bluetoothd connects an LE device before pairing
        self.paired = True
        self.emit_properties_changed({"Paired": True, "Bonded": True})

    async def connect(self) -> None:
        if self.connected:
            return
        await asyncio.sleep(self.spec.connect_delay_s)
        if not self.peripheral.reachable:
            await asyncio.sleep(0.05)  # a page timeout, shortened
            raise DBusError(_ERR + "Failed", "le-connection-abort-by-local")
        self.connected = True
        self.emit_properties_changed({"Connected": True})
        bus = self.bluez.bus
        assert bus is not None  # the emulated BlueZ is running
        for path, iface in self.gatt:  # InterfacesAdded for each, as service discovery
            bus.export(path, iface)
        self.services_resolved = True
        self.emit_properties_changed({"ServicesResolved": True})
        for cb in list(self.peripheral.on_connect):
            cb()

    def tear_down(self) -> None:
        """Disconnect in bluetoothd's order: ServicesResolved off, GATT removed, Connected off."""
        if not self.connected:
            return
        for _, iface in self.gatt:
            if isinstance(iface, _Characteristic1):
                iface.notifying = False
        self.services_resolved = False
        self.emit_properties_changed({"ServicesResolved": False})
        bus = self.bluez.bus
        assert bus is not None  # the emulated BlueZ is running
        for path, _ in reversed(self.gatt):
            bus.unexport(path)
        self.connected = False
        self.emit_properties_changed({"Connected": False})
        for cb in list(self.peripheral.on_disconnect):
            cb()


class _Service1(ServiceInterface):
    def __init__(self, uuid: str, device_path: str):
        super().__init__("org.bluez.GattService1")
        self.uuid, self.device_path = uuid.lower(), device_path

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> DBusStr:
        return self.uuid

    @dbus_property(access=PropertyAccess.READ)
    def Primary(self) -> DBusBool:
        return True

    @dbus_property(access=PropertyAccess.READ)
    def Device(self) -> DBusObjectPath:
        return self.device_path

    @dbus_property(access=PropertyAccess.READ)
    def Includes(self) -> DBusPathList:
        return []


class _Characteristic1(ServiceInterface):
    def __init__(self, device: _Device1, spec: GattCharacteristic, service_path: str):
        super().__init__("org.bluez.GattCharacteristic1")
        self.device, self.spec, self.service_path = device, spec, service_path
        self.value = bytes(spec.value)
        self.notifying = False

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> DBusStr:
        return self.spec.uuid.lower()

    @dbus_property(access=PropertyAccess.READ)
    def Service(self) -> DBusObjectPath:
        return self.service_path

    @dbus_property(access=PropertyAccess.READ)
    def Value(self) -> DBusBytes:
        return self.value

    @dbus_property(access=PropertyAccess.READ)
    def Notifying(self) -> DBusBool:
        return self.notifying

    @dbus_property(access=PropertyAccess.READ)
    def Flags(self) -> DBusStrList:
        return list(self.spec.flags)

    @dbus_property(access=PropertyAccess.READ)
    def MTU(self) -> DBusUInt16:
        return self.device.spec.mtu

    def _require(self, allowed: set[str], what: str) -> None:
        if not self.device.connected:
            raise DBusError(_ERR + "Failed", "Not connected")
        if not allowed & set(self.spec.flags):
            raise DBusError(_ERR + "NotPermitted", f"{what} not permitted")

    @dbus_method()
    def ReadValue(self, options: DBusDict) -> DBusBytes:
        self._require({"read"}, "Read")
        if self.notifying:  # bluetoothd also reports a read as a value change
            self.emit_properties_changed({"Value": self.value})
        return self.value

    @dbus_method()
    async def WriteValue(self, value: DBusBytes, options: DBusDict) -> None:
        self._require({"write", "write-without-response"}, "Write")
        data = bytes(value)
        self.value = data
        kind = options.get("type")
        with_response = kind is None or kind.value != "command"
        if self.spec.on_write is not None:
            result = self.spec.on_write(data, with_response)
            if inspect.isawaitable(result):
                await result

    @dbus_method()
    def StartNotify(self) -> None:
        if not self.device.connected:
            raise DBusError(_ERR + "Failed", "Not connected")
        if not {"notify", "indicate"} & set(self.spec.flags):
            raise DBusError(_ERR + "NotSupported", "Operation is not supported")
        if not self.notifying:
            self.notifying = True
            self.emit_properties_changed({"Notifying": True})

    @dbus_method()
    def StopNotify(self) -> None:
        if self.notifying:
            self.notifying = False
            self.emit_properties_changed({"Notifying": False})

    def push(self, data: bytes) -> None:
        self.value = data
        self.emit_properties_changed({"Value": data})


class _Descriptor1(ServiceInterface):
    def __init__(self, uuid: str, char_path: str):
        super().__init__("org.bluez.GattDescriptor1")
        self.uuid, self.char_path, self.value = uuid, char_path, b"\x00\x00"

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> DBusStr:
        return self.uuid

    @dbus_property(access=PropertyAccess.READ)
    def Characteristic(self) -> DBusObjectPath:
        return self.char_path

    @dbus_property(access=PropertyAccess.READ)
    def Value(self) -> DBusBytes:
        return self.value

    @dbus_property(access=PropertyAccess.READ)
    def Flags(self) -> DBusStrList:
        return ["read", "write"]

    @dbus_method()
    def ReadValue(self, options: DBusDict) -> DBusBytes:
        return self.value

    @dbus_method()
    def WriteValue(self, value: DBusBytes, options: DBusDict) -> None:
        self.value = bytes(value)


# ------------------------------------------------------------------------ daemon
class FakeBlueZ:
    """The emulated ``bluetoothd``: one adapter (hci0) and the peripherals in range.

    Runs on the caller's event loop; every callback (writes, connects) runs there too.
    """

    def __init__(
        self, bus_address: str, adapter_address: str = "00:1A:7D:DA:71:13", adv_interval_s: float = 0.05
    ):
        self.bus_address = bus_address
        self.bus: MessageBus | None = None
        self.adapter = _Adapter1(self, adapter_address)
        self.adv_interval_s = adv_interval_s
        self.peripherals: dict[str, Peripheral] = {}  # object path -> peripheral
        self._exported: set[str] = set()
        self._adv_task: asyncio.Task | None = None

    async def start(self) -> "FakeBlueZ":
        self.bus = await MessageBus(bus_address=self.bus_address).connect()
        self.bus.export(ADAPTER_PATH, self.adapter)
        reply = await self.bus.request_name("org.bluez", NameFlag.DO_NOT_QUEUE)
        if reply != RequestNameReply.PRIMARY_OWNER:
            self.bus.disconnect()
            raise RuntimeError(f"{self.bus_address}: org.bluez is already owned ({reply.name})")
        return self

    async def stop(self) -> None:
        """Exit like bluetoothd: links dropped and objects removed, then off the bus."""
        self._stop_advertising()
        if self.bus is None or not self.bus.connected:
            return
        for path in list(self._exported):
            self._forget(path)
        self.bus.unexport(ADAPTER_PATH)
        try:
            await self.flush()
        except Exception as exc:  # noqa: BLE001 - the daemon may already be gone
            log.debug("flush on stop failed: %s", exc)
        self.bus.disconnect()
        await self.bus.wait_for_disconnect()

    async def flush(self) -> None:
        """One round trip to the bus daemon: returns once it has read all we sent."""
        assert self.bus is not None
        await self.bus.call(
            Message(
                destination="org.freedesktop.DBus",
                path="/org/freedesktop/DBus",
                interface="org.freedesktop.DBus",
                member="GetId",
            )
        )

    def add_peripheral(self, spec: PeripheralSpec) -> Peripheral:
        """Put a peripheral in range; discovery reports it from the next scan on."""
        peripheral = Peripheral(spec)
        path = f"{ADAPTER_PATH}/dev_{peripheral.address.replace(':', '_')}"
        if path in self.peripherals:
            raise ValueError(f"{spec.address}: a peripheral with this address already exists")
        device = _Device1(self, path, peripheral)
        peripheral._device = device
        handle = 0x0010
        for svc in spec.services:
            svc_path = f"{path}/service{handle:04x}"
            device.gatt.append((svc_path, _Service1(svc.uuid, path)))
            handle += 1
            for ch in svc.characteristics:
                char_path = f"{svc_path}/char{handle:04x}"
                ci = _Characteristic1(device, ch, svc_path)
                peripheral._chars[ch.uuid.lower()] = ci
                device.gatt.append((char_path, ci))
                handle += 2  # declaration + value handles
                if {"notify", "indicate"} & set(ch.flags):
                    device.gatt.append((f"{char_path}/desc{handle:04x}", _Descriptor1(CCCD_UUID, char_path)))
                    handle += 1
            handle += 1
        self.peripherals[path] = peripheral
        return peripheral

    def remove_peripheral(self, peripheral: Peripheral) -> None:
        """Take a peripheral away (switched off for good): link dropped, objects removed."""
        for path, p in list(self.peripherals.items()):
            if p is peripheral:
                if path in self._exported and self.bus is not None and self.bus.connected:
                    self._forget(path)
                del self.peripherals[path]
                peripheral._device = None

    # -- discovery ----------------------------------------------------------------
    def _visible(self, peripheral: Peripheral) -> bool:
        if not peripheral.reachable:
            return False
        wanted = self.adapter.uuid_filter
        return not wanted or bool({u.lower() for u in peripheral.spec.advertised_uuids} & set(wanted))

    def _advertise_once(self) -> None:
        assert self.bus is not None
        now = asyncio.get_running_loop().time()
        for path, peripheral in list(self.peripherals.items()):
            if not self._visible(peripheral) or peripheral.connected:
                continue
            interval = peripheral.spec.adv_interval_s
            if interval is not None:
                if now < peripheral._next_adv:
                    continue
                peripheral._next_adv = max(peripheral._next_adv + interval, now)
            for cb in list(peripheral.on_advertise):
                cb()
            peripheral.advertisements += 1
            device = peripheral._device
            assert device is not None
            if path not in self._exported:
                self._exported.add(path)
                peripheral._adv_data_changed = False
                self.bus.export(path, device)  # InterfacesAdded = first advertisement
            else:  # later advertisements show up as RSSI changes, as with bluetoothd
                device.rssi = device.spec.rssi + (1 if device.rssi == device.spec.rssi else 0)
                changed: dict[str, object] = {"RSSI": device.rssi}
                if peripheral._adv_data_changed:  # new advertising data: ManufacturerData changes too
                    peripheral._adv_data_changed = False
                    changed["ManufacturerData"] = {
                        k: Variant("ay", bytes(v)) for k, v in peripheral.spec.manufacturer_data.items()
                    }
                device.emit_properties_changed(changed)

    def _start_advertising(self) -> None:
        async def advertise() -> None:
            # bleak registers its scan callbacks only after StartDiscovery has
            # returned, so an advertisement racing that reply would be missed.
            await asyncio.sleep(0.01)
            while True:
                self._advertise_once()
                intervals = [
                    p.spec.adv_interval_s for p in self.peripherals.values() if p.spec.adv_interval_s
                ]
                await asyncio.sleep(min([self.adv_interval_s, *(i / 4 for i in intervals)]))

        self._stop_advertising()
        self._adv_task = asyncio.get_running_loop().create_task(advertise())

    def _stop_advertising(self) -> None:
        if self._adv_task is not None:
            self._adv_task.cancel()
            self._adv_task = None

    def _forget(self, path: str) -> None:
        peripheral = self.peripherals.get(path)
        if path not in self._exported or peripheral is None or peripheral._device is None:
            raise DBusError(_ERR + "DoesNotExist", "Does Not Exist")
        peripheral._device.tear_down()
        assert self.bus is not None
        self.bus.unexport(path)
        self._exported.discard(path)
