"""How devices, sim, session, ui and streaming hang together (import cycles: tests/test_architecture.py): production code
reaches the simulators only through open_device's typed Device, and a missing sim extra is one line."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from motorlab.devices import Device, make_driver, open_device
from motorlab.devices.drivers.codec_driver import CodecDriver
from motorlab.errors import DeviceError
from motorlab.sim.emulators.grip_hx711 import GripHX711Emulator

ROOT = Path(__file__).resolve().parent.parent / "motorlab"
PACKAGES = ("devices", "sim", "session", "ui", "streaming")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """motorlab modules a file imports (module level and inside functions)."""
    mod = _module_name(path)
    package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("motorlab")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("motorlab"):
                out.add(target)
                out |= {f"{target}.{a.name}" for a in node.names}
    return out


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    return {m: {t for t in _imports(p) if t in files and t != m} for m, p in files.items()}


def test_production_layers_never_import_sim_or_ui():
    graph = _graph()
    for m, targets in graph.items():
        if m.startswith(("motorlab.devices", "motorlab.session", "motorlab.streaming")):
            bad = {t for t in targets if t.startswith(("motorlab.sim", "motorlab.ui"))}
            assert not bad, f"{m} imports {bad}"
        if m.startswith("motorlab.devices"):
            assert not {t for t in targets if t.startswith("motorlab.session")}, m


def test_drivers_carry_no_emulator_hook():
    driver = make_driver("serial:///dev/null?protocol=motorlab")  # built, not opened
    assert isinstance(driver, CodecDriver) and not hasattr(driver, "emulator")


async def test_sim_device_owns_its_emulator_and_serial_device_has_none():
    dev = await open_device("sim://grip?seed=1")
    assert isinstance(dev, Device) and dev.emulated and dev.url == "sim://grip?seed=1"
    emu = dev.emulator
    link = emu.link
    assert link.present
    t = emu.cue("squeeze")
    assert emu.truth[0]["cue_s"] == pytest.approx(t)
    await dev.close()
    assert not link.present  # closing the device switched the emulator off
    await dev.close()  # idempotent

    other = GripHX711Emulator()
    try:
        serial_dev = await open_device(f"serial://{other.link.link_path}?protocol=motorlab")
        try:
            assert serial_dev.emulator is None and not serial_dev.emulated
        finally:
            await serial_dev.close()
        assert other.link.present  # a real-hardware URL never closes what it did not start
    finally:
        other.close()


async def test_virtual_technician_can_only_do_what_the_device_allows():
    async with await open_device("sim://pen") as pen:
        with pytest.raises(DeviceError, match=r"^sim://pen: this emulated device has no load cell"):
            pen.emulator.apply_load(10.0)
        pen.emulator.set_pose("+x")  # the pen holds an IMU: it can be posed for `calibrate imu`
    async with await open_device("sim://grip") as grip:
        with pytest.raises(
            DeviceError, match=r"^sim://grip: this emulated device cannot be turned into poses"
        ):
            grip.emulator.set_pose("+x")
    async with await open_device("sim://wt901") as imu:
        imu.emulator.set_pose("-y")
        assert imu.emulator.truth["pose"] == "-y" and imu.emulator.truth["still"] is True


def test_calibrating_an_imu_on_an_emulator_that_cannot_pose_is_one_line(capsys):
    from motorlab.cli.main import main

    code = main(
        ["calibrate", "imu", "--device", "sim://grip", "--yes", "--average-s", "0.2", "--still-s", "0.3"]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "sim://grip" in err and "no 'acc_x' channel" in err


_WITHOUT_DBUS_FAST = """
import asyncio, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "dbus_fast" or name.startswith("dbus_fast."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Block())
from motorlab.devices import open_device
from motorlab.errors import DeviceError

async def main():
    async with await open_device("sim://grip") as dev:
        print("grip", (await dev.driver.info()).model)
    try:
        await open_device("sim://progressor")
    except DeviceError as exc:
        print("progressor:", exc)

asyncio.run(main())
"""


def test_serial_simulators_need_no_sim_extra_and_ble_ones_say_what_is_missing():
    proc = subprocess.run(
        [sys.executable, "-c", _WITHOUT_DBUS_FAST], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "grip motorlab-grip-hx711" in proc.stdout
    assert (
        "progressor: sim://progressor: simulator needs the 'dbus_fast' package (pip install 'motorlab[sim]')"
        in proc.stdout
    )
