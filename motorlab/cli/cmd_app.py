"""``motorlab app``: the visit in a web browser (the therapist's way in)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EPILOG = """\
The app listens on 127.0.0.1 only (this computer) and opens your browser at a
link that carries this run's secret key; without the key every page is refused.
Press Ctrl-C here to stop it.

--lan lets a tablet on the clinic network join: it opens http://<address>:<port>/pair
and types the short code shown on this computer's "Pair a tablet" page.

examples:
  motorlab app                         clinic data in $MOTORLAB_DATA or ./motorlab-data
  motorlab app --data /srv/clinic --port 8765 --no-browser
  motorlab app --lan                   also reachable, after pairing, on the network
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "app",
        help="open the visit in a web browser (clients, goals, reports, task screen)",
        description="Start the local web app: clients, goals, the report and the live task screen.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--port", type=int, default=0, metavar="N", help="TCP port (default: a free one)")
    p.add_argument(
        "--data",
        "--root",
        dest="data",
        type=Path,
        default=None,
        metavar="DIR",
        help="clinic data folder (default: $MOTORLAB_DATA, else ./motorlab-data)",
    )
    p.add_argument("--no-browser", action="store_true", help="print the link, do not open a browser")
    p.add_argument(
        "--lan",
        nargs="?",
        const="auto",
        default=None,
        metavar="ADDRESS",
        help="also listen on this network address (default: the main one) for paired tablets",
    )
    p.set_defaults(func=_run)


def _lan_notice(lan: str, port: int) -> str:
    return (
        f"LAN: also listening on {lan}:{port}. A tablet on the clinic network opens "
        f"http://{lan}:{port}/pair and types the pairing code shown on this computer "
        f"(menu 'Pair a tablet').\n"
        "     A paired device can see and change client data (clients, goals, reports) and drive the "
        "task screen.\n"
        "     Traffic is NOT encrypted (plain HTTP): use only on a trusted clinic network. Over the "
        "network the browser\n"
        "     is not a secure context, so pen samples between screen frames are lost: connect pen "
        "tablets to this computer."
    )


def _announce(url: str, port: int, root: Path, lan: str | None, browser: bool, no_browser: bool) -> None:
    print(f"motorlab app: clinic data in {root}")
    print(f"open: {url}")
    if not no_browser and not browser:
        print("(no graphical session here: open the link above in a browser on this computer)")
    if lan is None:
        print(f"only this computer can connect (127.0.0.1:{port}). Press Ctrl-C to stop.")
    else:
        print(_lan_notice(lan, port))
        print("Press Ctrl-C to stop.")
    sys.stdout.flush()


def _has_display() -> bool:
    """A desktop to open a browser in (on Linux, without one ``webbrowser`` may start a text browser)."""
    import os

    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def _run(args: argparse.Namespace) -> int:
    from ..clinic.dataset import resolve_data_root
    from ..errors import ParameterError
    from ..ui.web.server import open_browser_later, prepare, primary_lan_address

    if not 0 <= args.port <= 65535:
        raise ParameterError(f"--port {args.port} is not a TCP port (0-65535)")
    root = resolve_data_root(args.data).resolve()
    lan = None
    if args.lan is not None:
        lan = primary_lan_address() if args.lan == "auto" else args.lan
    browser = not args.no_browser and _has_display()
    url_holder: list[str] = []
    app = prepare(
        root,
        args.port,
        lan,
        on_started=(lambda: open_browser_later(url_holder[0])()) if browser else None,
    )
    url_holder.append(app.url)
    try:  # from here on Ctrl-C, whenever it comes, is the normal way to stop
        _announce(app.url, app.access.port, root, lan, browser, args.no_browser)
        app.run()
    except KeyboardInterrupt:
        print("motorlab app: stopped", file=sys.stderr)
    finally:
        for sock in app.sockets:
            sock.close()
    return 0
