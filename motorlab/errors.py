"""The one error root of motorlab, and its warning class.

Every failure a user can cause or meet in normal use (a bad file, a missing port,
a device that answers wrongly, an input an analysis cannot use) raises a
subclass of :class:`MotorlabError` whose message is one line naming the
file/port and the problem. The CLI prints those as one line; anything else is a
bug and is shown with its traceback.
"""

from __future__ import annotations


class MotorlabError(RuntimeError):
    """An expected failure, printed by the CLI as one line (no traceback)."""


class DeviceError(MotorlabError):
    """A device could not be opened, answered wrongly, or went away (names the port/address)."""


class RecordingError(MotorlabError, ValueError):
    """A recording, its files or its description are inconsistent (names the file)."""


class AnalysisError(MotorlabError):
    """An analysis cannot run on this input (unknown task, missing channels, bad parameters)."""


class ParameterError(MotorlabError, ValueError):
    """An option, parameter or argument has a value motorlab cannot use (names it and says why)."""


class MotorlabWarning(UserWarning):
    """Something was computed on unsuitable input (too short, flat…); the result is NaN."""


def one_line(exc: BaseException) -> str:
    """A one-line rendering of an exception for the terminal."""
    text = str(exc).strip().splitlines()
    msg = text[0] if text else type(exc).__name__
    if isinstance(exc, OSError) and getattr(exc, "filename", None) and str(exc.filename) not in msg:
        msg = f"{exc.filename}: {msg}"
    return msg
