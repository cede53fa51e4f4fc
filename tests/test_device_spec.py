"""The device spec is the one table of devices: registry, discovery and emulators follow it,
and what each emulated device reports in its real handshake matches its spec entry."""

from __future__ import annotations

import asyncio
import importlib
import re

import pytest

from motorlab.devices import DEVICES, PROTOCOLS, open_device
from motorlab.devices.discovery import SERIAL_PROBE_ORDER, ble_rules, guess_ble_protocol
from motorlab.devices.registry import make_driver, protocol_spec
from motorlab.devices.spec import device, devices_of, simulators
from motorlab.errors import DeviceError
from motorlab.sim.bluez.bus import PrivateBus

_UUID128 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def test_every_device_names_a_known_protocol_and_every_protocol_a_device():
    assert {d.protocol for d in DEVICES} == set(PROTOCOLS)
    assert len({d.key for d in DEVICES}) == len(DEVICES)
    names = [s.name for d in DEVICES for s in d.sims]
    assert len(set(names)) == len(names) == len(simulators())
    assert set(simulators()) == {
        "grip",
        "pinch",
        "pen",
        "penble",
        "wt901",
        "wt901ble",
        "mark10",
        "progressor",
        "gdxhd",
        "jamar",
        "activ5",
        "cts500",
        "kgrip",
        "tablet",
        "forceboard",
        "weightscale",
        "kforce",
        "whc06",
    }
    assert [d.key for d in devices_of("motorlab")] == ["diy-grip", "diy-pen"]


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_each_protocol_has_a_driver_and_a_transport(name):
    spec = protocol_spec(name)
    module = importlib.import_module(f"motorlab.devices.drivers.{spec.driver}")
    assert callable(module.make_driver)
    assert spec.serial or spec.ble is not None or spec.input or spec.ble_adverts is not None
    if spec.ble is not None:
        for uuid in (spec.ble.service_uuid, spec.ble.notify_uuid, spec.ble.write_uuid):
            assert _UUID128.match(uuid), uuid  # full 128-bit, lower case
    url = (
        f"serial:///dev/null?protocol={name}"
        if spec.serial
        else (f"input:///dev/null?protocol={name}" if spec.input else f"ble://X?protocol={name}")
    )
    assert make_driver(url).codec.protocol == name


@pytest.mark.parametrize("name", sorted(simulators()))
def test_each_simulator_module_opens_sim_urls(name):
    _, sim = simulators()[name]
    module = importlib.import_module(f"motorlab.sim.emulators.{sim.module}")
    assert callable(module.open_sim)


def test_discovery_reads_the_spec():
    assert SERIAL_PROBE_ORDER == ("motorlab", "witmotion", "mark10", "kinvent-kgrip")
    services = {r.protocol: r.service_uuid for r in ble_rules()}
    for name, spec in PROTOCOLS.items():
        if spec.ble is not None:
            assert services[name] == spec.ble.service_uuid
    # the advertised service decides even for an unknown name
    assert guess_ble_protocol("no name", [PROTOCOLS["vernier"].ble.service_uuid.upper()])[0] == "vernier"


def test_unknown_protocol_and_simulator_are_one_line_errors():
    with pytest.raises(
        DeviceError,
        match=r"unknown protocol 'nope'; known: activ5, ble-weight-scale, cts500, evdev-tablet, forceboard, jamar, kinvent-kforce, kinvent-kgrip, mark10, motorlab",
    ):
        make_driver("serial:///dev/null?protocol=nope")
    with pytest.raises(
        DeviceError,
        match=r"^sim://nope: unknown simulator; known: activ5, cts500, forceboard, gdxhd, grip, jamar, kforce",
    ):
        asyncio.run(open_device("sim://nope"))
    with pytest.raises(DeviceError, match="BLE-only"):
        make_driver("serial:///dev/null?protocol=tindeq")


#: sims whose handshake reports the spec's nominal rate (no rate in the URL)
SERIAL_SIMS = ["grip", "pen", "wt901", "mark10", "kgrip", "tablet"]
BLE_SIMS = [
    pytest.param(n, marks=pytest.mark.skipif(not PrivateBus.available(), reason="dbus-daemon not installed"))
    for n in (
        "progressor",
        "gdxhd",
        "penble",
        "jamar",
        "activ5",
        "cts500",
        "forceboard",
        "weightscale",
        "kforce",
    )
]


@pytest.mark.parametrize("name", SERIAL_SIMS + BLE_SIMS)
async def test_emulated_handshake_reports_the_spec_channels_and_rate(name):
    spec, _ = simulators()[name]
    dev = await open_device(f"sim://{name}")
    try:
        info = await dev.driver.info()
    finally:
        await dev.close()
    assert info.protocol == spec.protocol
    assert info.channels == spec.channels
    assert info.nominal_rate_hz == pytest.approx(spec.nominal_rate_hz)
    assert dev.emulated


async def test_the_ble_imu_reports_the_spec_channels():
    if not PrivateBus.available():
        pytest.skip("dbus-daemon not installed")
    dev = await open_device("sim://wt901ble?rate_hz=20")  # the sim sets a rate after power-up
    try:
        info = await dev.driver.info()
    finally:
        await dev.close()
    assert info.channels == device("wt901ble").channels and info.nominal_rate_hz == 20.0
