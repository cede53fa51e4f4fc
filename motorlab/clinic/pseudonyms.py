"""The clinic's rule for new client IDs: pseudonymous codes, never names.

:func:`motorlab.recording.validate_pseudonym` is the floor every stored ID meets (a BIDS
label with a digit). IDs typed by a person for a *new* client must also pass
:func:`check_new_pseudonym`:

* with the clinic's own pattern (``pseudonym_pattern`` in ``code/motorlab/settings.json``,
  a Python regular expression the whole ID must match, e.g. ``"^C[0-9]{4}$"``), that pattern;
* otherwise the default rule: at most :data:`MAX_LETTER_RUN` letters in a row, so codes such as
  ``P001``, ``C0042`` or ``AB12`` pass and name-like IDs such as ``Smith01`` or ``Emma2017``
  are refused.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import ParameterError
from ..recording import RecordingError, validate_pseudonym

#: the clinic's settings file (BIDS keeps custom material under code/)
SETTINGS_FILE = Path("code") / "motorlab" / "settings.json"
#: default rule: longer runs of letters look like (part of) a name
MAX_LETTER_RUN = 3
_LETTER_RUN = re.compile(rf"[A-Za-z]{{{MAX_LETTER_RUN + 1},}}")


def clinic_pseudonym_pattern(root: str | Path) -> str | None:
    """The clinic's ``pseudonym_pattern`` (None when the clinic has not set one)."""
    path = Path(root) / SETTINGS_FILE
    if not path.exists():
        return None
    try:
        pattern = json.loads(path.read_text(encoding="utf-8")).get("pseudonym_pattern")
    except (OSError, ValueError, AttributeError) as exc:
        raise ParameterError(f"{path}: cannot read the clinic settings ({exc})") from None
    if pattern is None:
        return None
    try:
        re.compile(str(pattern))
    except re.error as exc:
        raise ParameterError(
            f"{path}: pseudonym_pattern {pattern!r} is not a regular expression ({exc})"
        ) from None
    return str(pattern)


def check_new_pseudonym(value: str, root: str | Path | None = None) -> str:
    """Refuse an ID for a new client that is not a pseudonymous code (see the module docstring)."""
    try:
        validate_pseudonym(value)
    except RecordingError as exc:
        raise ParameterError(str(exc)) from None
    pattern = clinic_pseudonym_pattern(root) if root is not None else None
    if pattern is not None:
        if not re.fullmatch(pattern, value):
            raise ParameterError(
                f"participant ID {value!r} does not follow this clinic's pattern {pattern!r} "
                f"({Path(root or '.') / SETTINGS_FILE})"
            )
        return value
    if run := _LETTER_RUN.search(value):
        raise ParameterError(
            f"participant ID {value!r} looks like a name ({run.group()!r}); use a code such as P001 or "
            f"C0042, or set the clinic's pseudonym_pattern in {SETTINGS_FILE}"
        )
    return value
