"""``motorlab calibrate force|imu|check|list``: guided device calibration.

The technician follows prompts (tare, hang known masses, turn the IMU through
six positions); each point is the mean of about one second of streamed
samples. Fits are done by :mod:`motorlab.devices.calibration` and stored per
device serial in the user config dir (``$MOTORLAB_CONFIG_DIR`` overrides it).

Samples are acquired exactly as a recording acquires them
(:class:`motorlab.session.acquisition.Acquisition`, without a writer or a
calibration applied), after the same device tare.

For ``sim://`` devices there is no human: a *virtual technician* puts the known
mass on the emulated sensor (``emulator.apply_load``) or turns the emulated IMU
(``emulator.set_pose``) when the prompt would ask a person to.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..devices.base import DeviceError, DeviceInfo
from ..devices.calibration import (
    POSES,
    STANDARD_GRAVITY,
    Calibration,
    CalibrationError,
    CalibrationStore,
    accel_six_position,
    apply_calibration,
    check_force,
    check_pose,
    force_calibration,
    gyro_bias_at_rest,
    imu_calibration,
)
from ..devices.device import Device, Emulator
from ..errors import MotorlabError
from ..session.acquisition import Acquisition
from ..session.calibration import EXTRAPOLATION_MARGIN, calibrated_range_n
from ..session.prepare import tare

_ACC = ("acc_x", "acc_y", "acc_z")
_GYR = ("gyr_x", "gyr_y", "gyr_z")
#: serials that do not identify a device (calibrations are stored per serial)
NO_SERIAL = {"", "n/a", "na", "unknown", "none", "0"}


# ------------------------------------------------------------------ parser
def register(subparsers) -> None:
    p = subparsers.add_parser(
        "calibrate",
        help="calibrate a force sensor or IMU, check a calibration, list stored calibrations",
        description="Guided calibration; results are stored per device serial and applied to every recording.",
    )
    sub = p.add_subparsers(dest="calibrate_command", metavar="KIND", required=True)

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument(
            "--device",
            required=True,
            metavar="URL",
            help="device URL, e.g. serial:///dev/ttyUSB0?protocol=motorlab or sim://grip",
        )
        q.add_argument(
            "--yes",
            action="store_true",
            help="non-interactive: no prompts (for scripts and sim:// devices, where a "
            "virtual technician applies the loads and poses)",
        )
        q.add_argument("--average-s", type=float, default=1.0, help="seconds averaged per point (default 1)")
        q.add_argument(
            "--settle-s",
            type=float,
            default=None,
            help="seconds to wait after each load/pose before averaging (default 1; 0.25 for sim://)",
        )

    f = sub.add_parser("force", help="tare, then known masses: least-squares gain/offset and linearity")
    common(f)
    f.add_argument(
        "--masses-kg",
        type=_float_list,
        default=None,
        metavar="M1,M2,...",
        help="masses to hang in turn, kg (0 = the tare point, always measured first); "
        "without it the technician types each mass hung, empty line to finish",
    )
    f.add_argument("--channel", default="force", help="force channel name (default: force)")
    f.add_argument(
        "--full-scale-n",
        type=float,
        default=None,
        help="sensor capacity, N, for the linearity %%FS (default: largest calibration load)",
    )
    f.add_argument(
        "--no-device-tare",
        dest="device_tare",
        action="store_false",
        help="do not zero the device itself at the tare step (recordings tare it, so keep this on)",
    )
    f.add_argument("--notes", default="", help="free text stored with the calibration (no patient names)")
    f.set_defaults(func=run_force)

    i = sub.add_parser("imu", help="gyro bias at rest, then 6-position accelerometer scale/offset")
    common(i)
    i.add_argument(
        "--still-s", type=float, default=3.0, help="seconds averaged for the gyro bias at rest (default 3)"
    )
    i.add_argument(
        "--max-gyro-std",
        type=float,
        default=1.0,
        help="refuse the gyro bias if any axis' SD exceeds this, deg/s (device moved; default 1)",
    )
    i.add_argument(
        "--norm-tolerance",
        type=float,
        default=0.1,
        help="each pose's |acc| must be within this fraction of g (default 0.1)",
    )
    i.add_argument("--notes", default="", help="free text stored with the calibration")
    i.set_defaults(func=run_imu)

    c = sub.add_parser("check", help="verify the stored force calibration against a known mass")
    common(c)
    c.add_argument("--mass-kg", type=float, required=True, help="known check mass, kg")
    c.add_argument("--max-age-days", type=float, default=180.0, help="warn when older (default 180)")
    c.add_argument(
        "--tolerance-pct", type=float, default=1.0, help="allowed error, %% of the load (default 1)"
    )
    c.add_argument("--channel", default="force", help="force channel name (default: force)")
    c.add_argument(
        "--no-device-tare",
        dest="device_tare",
        action="store_false",
        help="do not zero the device before the check",
    )
    c.set_defaults(func=run_check)

    ls = sub.add_parser("list", help="show stored calibrations")
    ls.add_argument("--serial", default=None, help="only this device serial")
    ls.add_argument("--kind", choices=("force", "imu"), default=None)
    ls.set_defaults(func=run_list)


def _float_list(text: str) -> list[float]:
    try:
        values = [float(x) for x in text.replace(";", ",").split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers") from None
    if not values:
        raise argparse.ArgumentTypeError("give at least one mass")
    return values


# ------------------------------------------------------------- device I/O
@dataclass
class Session:
    """An open device streaming into an acquisition, plus the technician (human or virtual)."""

    device: Device
    acq: Acquisition
    info: DeviceInfo
    console: Console
    interactive: bool
    average_s: float
    settle_s: float

    @property
    def technician(self) -> Emulator | None:
        """The virtual technician's hands (``sim://`` devices), else None."""
        return self.device.emulator

    @property
    def virtual(self) -> bool:
        return self.technician is not None

    def channel_index(self, name: str) -> int:
        names = [c.name for c in self.info.channels]
        if name not in names:
            raise MotorlabError(
                f"{self.device.driver.url}: device has no {name!r} channel (it has {', '.join(names)})"
            )
        return names.index(name)

    async def ask(self, prompt: str) -> str:
        """Show an instruction; wait for Enter (or the typed answer) when interactive."""
        if not self.interactive:
            self.console.print(f"{prompt} [dim](--yes: not waiting)[/dim]")
            return ""
        try:
            return await asyncio.to_thread(self.console.input, f"{prompt} ")
        except EOFError:
            raise MotorlabError("no technician input (stdin closed); use --yes with --masses-kg") from None

    async def measure(self, seconds: float | None = None) -> np.ndarray:
        """Wait ``settle_s``, then collect ``seconds`` (default ``average_s``) of samples,
        (n, channels) in device units (no calibration applied)."""
        try:
            return await self.acq.collect(self.average_s if seconds is None else seconds, self.settle_s)
        except DeviceError as exc:
            raise DeviceError(f"{exc} while calibrating") from None


@asynccontextmanager
async def open_session(args: argparse.Namespace, console: Console) -> AsyncIterator[Session]:
    from ..devices.registry import open_device

    device = await open_device(args.device)
    acq: Acquisition | None = None
    try:
        driver = device.driver
        info = await driver.info()
        settle = args.settle_s
        if settle is None:
            settle = 0.25 if device.emulated else 1.0
        console.print(
            f"Device: {escape(info.model)} serial {escape(info.serial)} firmware "
            f"{escape(info.firmware)} ({escape(info.protocol)})"
            + (" — virtual technician" if device.emulated else "")
        )
        if info.serial.strip().lower() in NO_SERIAL:
            console.print(
                f"[yellow]warning: the device reports no serial number ({escape(info.serial)!s}); "
                f"this calibration will be used for every such device without one[/yellow]"
            )
        await driver.start()
        acq = Acquisition(driver)
        acq.start()
        yield Session(device, acq, info, console, not args.yes, args.average_s, settle)
    finally:
        try:
            if acq is not None:
                await acq.stop()
            await device.close()
        except (DeviceError, OSError):
            pass


async def _device_tare(s: Session) -> bool:
    """Zero the device like a recording does; False when it has no tare command."""
    await asyncio.sleep(s.settle_s)  # the handle may still swing after the load came off
    why = await tare(s.device.driver)
    if why:
        s.console.print(
            f"[yellow]device has no tare ({escape(why)}); the fitted offset covers its zero[/yellow]"
        )
    return not why


# -------------------------------------------------------------- force
def run_force(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    if args.masses_kg is not None and any(m < 0 for m in args.masses_kg):
        raise MotorlabError("--masses-kg: masses must be >= 0")
    if args.yes and args.masses_kg is None:
        raise MotorlabError("--yes needs --masses-kg (nobody is there to type the masses)")
    cal = asyncio.run(_force(args, console))
    _print_force(console, cal)
    top = calibrated_range_n(cal)
    if top is not None:
        console.print(
            f"[yellow]Calibrated range 0–{top / STANDARD_GRAVITY:.1f} kg: forces above it are extrapolated "
            "(checks and recordings warn); calibrate up to the largest force you will measure.[/yellow]"
        )
    if not args.yes and not _confirm(console, "Save this calibration? [Y/n]"):
        console.print("Not saved.")
        return 1
    store = CalibrationStore()
    saved = store.save(cal)
    console.print(f"Saved calibration [bold]{saved.id}[/bold] to {escape(str(store.path(saved)))}")
    return 0


def _confirm(console: Console, prompt: str) -> bool:
    try:
        return not console.input(f"{prompt} ").strip().lower().startswith("n")
    except EOFError:
        raise MotorlabError("no technician input (stdin closed); use --yes") from None


async def _force(args: argparse.Namespace, console: Console) -> Calibration:
    async with open_session(args, console) as s:
        ch = s.channel_index(args.channel)
        p = s.technician
        try:
            if p is not None:
                p.apply_load(None)
            await s.ask("Step 1 (tare): remove every load from the handle, keep it still, press Enter.")
            tared = await _device_tare(s) if args.device_tare else False
            raws, masses, stds = [], [], []

            async def point(mass: float) -> None:
                if p is not None:
                    p.apply_load(mass * STANDARD_GRAVITY if mass > 0 else None)
                x = (await s.measure())[:, ch]
                raws.append(float(np.mean(x)))
                stds.append(float(np.std(x, ddof=1)))
                masses.append(mass)
                console.print(f"  {mass:g} kg: mean {raws[-1]:.3f}, SD {stds[-1]:.3f} ({x.size} samples)")

            await point(0.0)
            if args.masses_kg is not None:
                for m in [m for m in args.masses_kg if m > 0]:
                    await s.ask(f"Hang {m:g} kg and let it settle, then press Enter.")
                    await point(m)
            else:
                while True:
                    text = (
                        await s.ask("Hang a known mass and type it in kg (empty line when done):")
                    ).strip()
                    if not text:
                        break
                    try:
                        m = float(text.replace(",", "."))
                    except ValueError:
                        console.print(f"[red]'{escape(text)}' is not a number (kg)[/red]")
                        continue
                    if m <= 0:
                        console.print("[red]the mass must be > 0 kg[/red]")
                        continue
                    await point(m)
        finally:
            if p is not None:
                p.apply_load(None)
        cal = force_calibration(
            raws,
            masses,
            device_serial=s.info.serial,
            device_model=s.info.model,
            channel=args.channel,
            full_scale=args.full_scale_n,
            notes=args.notes,
            device_tared=tared,
        )
        extra = {**cal.extra, "sd_n": stds, "average_s": s.average_s, "virtual_technician": s.virtual}
        return Calibration(**{**cal.to_dict(), "extra": extra})


def _print_force(console: Console, cal: Calibration) -> None:
    table = Table(title=f"Force calibration {cal.device_model} {cal.device_serial}")
    for col in ("point", "mass kg", "reference N", "raw mean", "corrected N", "residual N"):
        table.add_column(col, justify="right")
    for k, (pt, res) in enumerate(zip(cal.points, cal.residuals), 1):
        table.add_row(
            str(k),
            f"{pt['mass_kg']:g}",
            f"{pt['reference_n']:.3f}",
            f"{pt['raw']:.3f}",
            f"{pt['corrected_n']:.3f}",
            f"{res:+.3f}",
        )
    console.print(table)
    ch = next(iter(cal.gain))
    console.print(
        f"gain {cal.gain[ch]:.6f}, offset {cal.offset[ch]:+.4f} N  (corrected = gain x raw + offset)"
    )
    if cal.extra.get("device_tare"):
        console.print(
            f"offset 0: recordings tare the device (zero error at calibration "
            f"{cal.extra['fitted_offset_n']:+.4f} N, not applied)"
        )
    note = (
        " (2 points: the line fits exactly; hang 3+ masses to measure linearity)"
        if len(cal.points) < 3
        else ""
    )
    console.print(f"non-linearity {cal.linearity_pct_fs:.3f} %FS of {cal.full_scale:.2f} N{note}")


# -------------------------------------------------------------- check
def run_check(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    if not args.mass_kg > 0:
        raise MotorlabError("--mass-kg must be > 0")
    result, cal = asyncio.run(_check(args, console))
    table = Table(title=f"Calibration check {cal.id}")
    for col in ("reference N", "measured N", "error %", "tolerance %", "age days"):
        table.add_column(col, justify="right")
    table.add_row(
        f"{result.reference_n:.3f}",
        f"{result.measured_n:.3f}",
        f"{result.error_pct:+.3f}",
        f"±{result.tolerance_pct:g}",
        f"{result.age_days:.1f}",
    )
    console.print(table)
    for problem in result.problems():
        console.print(f"[bold red]WARNING: {escape(problem)}[/bold red]")
    top = calibrated_range_n(cal)
    if top is not None and result.reference_n > top * (1.0 + EXTRAPOLATION_MARGIN):
        console.print(
            f"[bold yellow]WARNING: the {args.mass_kg:g} kg check mass is above the calibrated range "
            f"({top / STANDARD_GRAVITY:.1f} kg): this checks an extrapolation; "
            "calibrate up to the largest force you will measure[/bold yellow]"
        )
    if result.ok:
        console.print("[green]calibration OK[/green]")
        return 0
    console.print("Re-calibrate with: motorlab calibrate force --device URL")
    return 1


async def _check(args: argparse.Namespace, console: Console):
    async with open_session(args, console) as s:
        cal = CalibrationStore().latest(s.info.serial, "force")
        if cal is None:
            raise MotorlabError(
                f"{args.device}: no force calibration stored for serial {s.info.serial}; "
                f"run motorlab calibrate force first"
            )
        ch = s.channel_index(args.channel)
        p = s.technician
        try:
            if p is not None:
                p.apply_load(None)
            await s.ask("Remove every load from the handle, keep it still, press Enter.")
            if args.device_tare and cal.extra.get("device_tare", True):
                await _device_tare(s)
            await s.ask(f"Hang the {args.mass_kg:g} kg check mass, let it settle, press Enter.")
            if p is not None:
                p.apply_load(args.mass_kg * STANDARD_GRAVITY)
            values = await s.measure()
        finally:
            if p is not None:
                p.apply_load(None)
        names = [c.name for c in s.info.channels]
        corrected = apply_calibration(values, names, cal)[:, ch]
        result = check_force(
            float(np.mean(corrected)),
            args.mass_kg,
            cal,
            tolerance_pct=args.tolerance_pct,
            max_age_days=args.max_age_days,
        )
        return result, cal


# -------------------------------------------------------------- IMU
def run_imu(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    cal = asyncio.run(_imu(args, console))
    table = Table(title=f"IMU calibration {cal.device_model} {cal.device_serial}")
    for col in ("axis", "acc scale", "acc offset m/s^2", "gyro bias deg/s", "gyro SD deg/s"):
        table.add_column(col, justify="right")
    for k, ax in enumerate("xyz"):
        table.add_row(
            ax,
            f"{cal.extra['acc_scale'][k]:.5f}",
            f"{cal.extra['acc_offset_ms2'][k]:+.4f}",
            f"{cal.extra['gyro_bias_dps'][k]:+.4f}",
            f"{cal.extra['gyro_std_dps'][k]:.4f}",
        )
    console.print(table)
    console.print(
        "pose |acc| error after correction (m/s^2): "
        + ", ".join(f"{p} {r:+.4f}" for p, r in zip(POSES, cal.residuals))
    )
    store = CalibrationStore()
    saved = store.save(cal)
    console.print(f"Saved calibration [bold]{saved.id}[/bold] to {escape(str(store.path(saved)))}")
    return 0


async def _imu(args: argparse.Namespace, console: Console) -> Calibration:
    async with open_session(args, console) as s:
        acc = [s.channel_index(n) for n in _ACC]
        gyr = [s.channel_index(n) for n in _GYR]
        p = s.technician
        if p is not None:
            p.set_pose("+z")
        await s.ask("Step 1 (gyro bias): lay the device flat and still, press Enter and do not touch it.")
        gyro = gyro_bias_at_rest((await s.measure(args.still_s))[:, gyr], max_std_dps=args.max_gyro_std)
        console.print("  gyro bias " + ", ".join(f"{b:+.3f}" for b in gyro.bias_dps) + " deg/s")
        means: dict[str, np.ndarray] = {}
        for pose in POSES:
            while True:
                await s.ask(
                    f"Step 2 ({pose}): hold the device still with its {pose} axis pointing up "
                    f"(against a square edge), press Enter."
                )
                if p is not None:
                    p.set_pose(pose)
                mean = (await s.measure())[:, acc].mean(axis=0)
                try:
                    check_pose(pose, mean, norm_tol=args.norm_tolerance)
                except CalibrationError as exc:
                    if not s.interactive:
                        raise
                    console.print(f"[red]{escape(str(exc))}[/red] — try again")
                    continue
                means[pose] = mean
                console.print(f"  {pose}: mean acc " + ", ".join(f"{v:+.3f}" for v in mean) + " m/s^2")
                break
        if p is not None:
            p.set_pose("+z")
        fit = accel_six_position(means, norm_tol=args.norm_tolerance)
        return imu_calibration(
            gyro, fit, device_serial=s.info.serial, device_model=s.info.model, notes=args.notes
        )


# -------------------------------------------------------------- list
def run_list(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    store = CalibrationStore()
    cals = store.all()
    if args.serial is not None:
        cals = [c for c in cals if c.device_serial == args.serial]
    if args.kind is not None:
        cals = [c for c in cals if c.kind == args.kind]
    if not cals:
        console.print(f"No calibrations stored in {escape(str(store.root))}")
        return 0
    table = Table(title=f"Calibrations in {store.root}")
    for col in ("id", "kind", "model", "serial", "created", "age days", "non-linearity %FS"):
        table.add_column(col)
    for c in cals:
        table.add_row(
            escape(c.id),
            c.kind,
            escape(c.device_model),
            escape(c.device_serial),
            c.created,
            f"{c.age_days():.1f}",
            f"{c.linearity_pct_fs:.3f}",
        )
    console.print(table)
    return 0
