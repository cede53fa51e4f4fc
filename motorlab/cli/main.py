"""Entry point. Commands are discovered from ``motorlab/cli/cmd_*.py`` modules.

Each command module defines ``register(subparsers) -> None`` which adds its
sub-parser and sets ``func=handler`` (``handler(args) -> int``). Expected
failures (:class:`~motorlab.errors.MotorlabError`: bad file, missing port, wrong
protocol, invalid ID; an ``OSError`` naming a file) are printed as one line
``motorlab: <problem>`` with exit status 2. Anything else is a bug: it is shown
with its traceback and a request to report it.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
import warnings

from .. import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="motorlab",
        description="Objective fine-motor measurements for occupational therapy.",
    )
    parser.add_argument("--version", action="version", version=f"motorlab {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from . import __path__ as cli_path

    for info in sorted(pkgutil.iter_modules(cli_path), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            importlib.import_module(f"{__package__}.{info.name}").register(sub)
    return parser


ISSUES_URL = "https://github.com/motorlab/motorlab/issues"


def _is_expected(exc: BaseException) -> bool:
    """A motorlab error, or an operating-system error about a named file or port."""
    from ..errors import MotorlabError

    if isinstance(exc, MotorlabError):
        return True
    return isinstance(exc, OSError) and bool(getattr(exc, "filename", None))


def main(argv: list[str] | None = None) -> int:
    try:  # (loading the commands imports NumPy, SciPy and rich: seconds on a slow machine)
        parser = build_parser()
        args = parser.parse_args(argv)
    except KeyboardInterrupt:
        print("motorlab: interrupted", file=sys.stderr)
        return 130
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from ..errors import one_line

    def _show_warning(message, category, filename, lineno, file=None, line=None):
        print(f"motorlab: warning: {message}", file=sys.stderr)

    warnings.showwarning = _show_warning

    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("motorlab: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if not _is_expected(exc) or args.verbose >= 2:
            if not _is_expected(exc):
                print(
                    f"motorlab: internal error ({type(exc).__name__}); this is a bug, please report it "
                    f"with the traceback below to {ISSUES_URL}",
                    file=sys.stderr,
                )
            raise
        print(f"motorlab: {one_line(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
