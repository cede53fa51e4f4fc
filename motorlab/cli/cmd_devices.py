"""``motorlab devices``: list serial ports and BLE devices, optionally confirm by handshake."""

from __future__ import annotations

import argparse
import asyncio
import json

from rich.console import Console
from rich.markup import escape
from rich.table import Table


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "devices",
        help="list serial ports and BLE devices and the protocol each appears to speak",
        description=(
            "List serial ports (pyserial) and BLE advertisers (bleak scan) with the protocol each "
            "appears to speak. --probe opens each candidate and confirms it by handshake."
        ),
    )
    p.add_argument(
        "--probe", action="store_true", help="open each candidate and report model/serial/firmware"
    )
    p.add_argument(
        "--port",
        action="append",
        default=[],
        metavar="PATH",
        help="also consider this serial port (ports the OS does not list, e.g. a pty); repeatable",
    )
    p.add_argument("--protocol", default=None, help="protocol to assume/probe for --port paths")
    p.add_argument(
        "--no-serial", dest="serial", action="store_false", help="skip serial ports and input nodes"
    )
    p.add_argument("--no-ble", dest="ble", action="store_false", help="skip the BLE scan")
    p.add_argument(
        "--timeout", type=float, default=5.0, help="BLE scan time and per-probe timeout, s (default 5)"
    )
    p.add_argument(
        "--all", action="store_true", help="also show BLE advertisers of unknown type and probe unknown ports"
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


async def _collect(args: argparse.Namespace) -> tuple[list, list, list[str]]:
    from ..devices.base import DeviceError
    from ..devices.discovery import discover_ble, discover_input, discover_serial, probe_all

    notes: list[str] = []
    candidates = []
    if args.serial or args.port:
        candidates += discover_serial(args.port, args.protocol)
    if args.serial:
        candidates += discover_input()  # tablets' pen nodes
    if args.ble:
        try:
            candidates += await discover_ble(args.timeout, only_known=not args.all)
        except DeviceError as exc:
            notes.append(str(exc))
    results = []
    if args.probe:
        explicit = set(args.port)
        # Built-in/virtual ports with no hint are only probed when named or with --all:
        # opening every legacy COM port with three protocols is slow and pointless.
        todo = [
            c
            for c in candidates
            if c.address in explicit
            or c.protocol is not None
            or args.all
            or (c.transport == "serial" and c.usb)
        ]
        todo = [c for c in todo if c.transport != "input" or c.protocol is not None]
        results = await probe_all(todo, timeout=args.timeout)
    return candidates, results, notes


def run(args: argparse.Namespace) -> int:
    candidates, results, notes = asyncio.run(_collect(args))
    by_cand = {id(r.candidate): r for r in results}
    if args.json:
        rows = []
        for c in candidates:
            row = {
                "transport": c.transport,
                "address": c.address,
                "name": c.name,
                "protocol": c.protocol,
                "reason": c.reason,
                "rssi": c.rssi,
                "url": c.url(),
            }
            r = by_cand.get(id(c))
            if r is not None:
                row["probe"] = {
                    "ok": r.ok,
                    "protocol": r.protocol,
                    "model": r.model,
                    "serial": r.serial,
                    "firmware": r.firmware,
                    "error": r.error,
                    "url": r.url,
                }
            rows.append(row)
        print(json.dumps({"devices": rows, "notes": notes}, indent=2))
        return 0
    console = Console(highlight=False)
    if not candidates:
        console.print("No serial ports or BLE devices found.")
    else:
        table = Table(title="Devices")
        for col in ("link", "address", "name", "protocol", "why"):
            table.add_column(col)
        if args.probe:
            table.add_column("probe")
        for c in candidates:
            name = c.name + (f" ({c.rssi} dBm)" if c.rssi is not None else "")
            cells = [escape(x) for x in (c.transport, c.address, name, c.protocol or "?", c.reason)]
            if args.probe:
                r = by_cand.get(id(c))
                if r is None:
                    cells.append("not probed")
                elif r.ok:
                    text = f"{r.protocol}: {r.model} serial {r.serial} fw {r.firmware}"
                    cells.append(f"[green]{escape(text)}[/green]\n{escape(r.url or '')}")
                else:
                    cells.append(f"[red]{escape(r.error)}[/red]")
            table.add_row(*cells)
        console.print(table)
    for note in notes:
        console.print(f"[yellow]{escape(note)}[/yellow]")
    if not any(r.ok for r in results):
        console.print(_emulator_hint())
    return 0


def _emulator_hint() -> str:
    """No device answered: point at the built-in emulators (``sim://`` URLs)."""
    from ..devices.spec import simulators

    names = ", ".join(f"sim://{name}" for name in sorted(simulators()))
    return (
        "No hardware answered. To try motorlab without hardware, use a built-in emulator as the "
        f"device URL: {names} (e.g. motorlab record grip --device sim://grip ...)."
    )
