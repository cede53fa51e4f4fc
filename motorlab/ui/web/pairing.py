"""Pairing a tablet on the clinic network (``motorlab app --lan``).

The therapist's screen (on the machine itself) shows a short numeric code and a
QR code of the pairing address. A device on the network opens ``/pair``, enters
the code, and receives a token of its own (as a cookie); the run token never
leaves the machine. A code is single-use, expires after :data:`CODE_TTL_S`, and
is void after :data:`MAX_ATTEMPTS` wrong entries (the therapist then shows a new
one), so guessing 6 digits is not a way in.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

CODE_DIGITS = 6
CODE_TTL_S = 300.0
MAX_ATTEMPTS = 5


@dataclass
class _Code:
    value: str
    expires: float
    attempts_left: int


class PairingCodes:
    """The current pairing code (at most one at a time)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._code: _Code | None = None

    def new(self) -> str:
        """Make a fresh code (the previous one stops working)."""
        value = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        self._code = _Code(value, self._clock() + CODE_TTL_S, MAX_ATTEMPTS)
        return value

    def current(self) -> tuple[str, float] | None:
        """The live code and its seconds left, or None."""
        c = self._code
        if c is None or c.attempts_left <= 0 or self._clock() >= c.expires:
            return None
        return c.value, c.expires - self._clock()

    def redeem(self, entered: str) -> tuple[bool, str]:
        """Check an entered code: ``(True, "")`` once for the right code, else ``(False, why)``."""
        c = self._code
        if c is None or c.attempts_left <= 0 or self._clock() >= c.expires:
            return False, "No pairing code is active. Ask for a new code on the therapist's screen."
        entered = "".join(ch for ch in str(entered) if ch.isdigit())
        if hmac.compare_digest(entered.encode(), c.value.encode()):
            self._code = None
            return True, ""
        c.attempts_left -= 1
        if c.attempts_left <= 0:
            return False, "Too many wrong codes; this code no longer works. Ask for a new one."
        return False, f"That code is not right ({c.attempts_left} tries left)."


def qr_svg(text: str) -> bytes:
    """A standalone SVG document of the QR code of ``text`` (segno), black on white."""
    import io

    import segno

    buf = io.BytesIO()
    segno.make(text, error="m").save(buf, kind="svg", scale=6, border=2, dark="#000", light="#fff")
    return buf.getvalue()
