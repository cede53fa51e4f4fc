"""User-facing errors: one line, naming the file/port and the problem."""

from __future__ import annotations


class MotorlabError(RuntimeError):
    """An error the CLI prints as one line (no traceback)."""


def one_line(exc: BaseException) -> str:
    """A one-line rendering of an exception for the terminal."""
    text = str(exc).strip().splitlines()
    msg = text[0] if text else type(exc).__name__
    if isinstance(exc, OSError) and getattr(exc, "filename", None) and str(exc.filename) not in msg:
        msg = f"{exc.filename}: {msg}"
    return msg


class MotorlabWarning(UserWarning):
    """Something was computed on unsuitable input (too short, flat…); the result is NaN."""
