"""Single-stroke letters for the emulated pen: the Hershey simplex Roman font (lower case and '.').

The coordinates are A. V. Hershey's (NBS, 1967; the "futural" font of the
Hershey-Fonts package, MIT), re-encoded here in Hershey's own compact way so
the emulator needs no font package: each glyph is (left, right, strokes),
strokes separated by spaces, each a run of two-character points whose
characters are ``chr(ord("R") + v)`` for the coordinate v. Units: the cap
height is 21 (y from -12 at the cap line to 9 at the baseline, growing
downward); x is relative to the glyph's centre, ``left``/``right`` its
advance box.
"""

from __future__ import annotations

#: cap height and baseline in font units (y grows downward in the font)
CAP_UNITS = 21.0
BASELINE_UNITS = 9.0

GLYPHS: dict[str, tuple[int, int, str]] = {
    "a": (-9, 10, "XMX[ XPVNTMQMONMPLSLUMXOZQ[T[VZXX"),
    "b": (-10, 9, "LFL[ LPNNPMSMUNWPXSXUWXUZS[P[NZLX"),
    "c": (-9, 9, "XPVNTMQMONMPLSLUMXOZQ[T[VZXX"),
    "d": (-9, 10, "XFX[ XPVNTMQMONMPLSLUMXOZQ[T[VZXX"),
    "e": (-9, 9, "LSXSXQWOVNTMQMONMPLSLUMXOZQ[T[VZXX"),
    "f": (-5, 7, "WFUFSGRJR[ OMVM"),
    "g": (-9, 10, "XMX]W`VaTbQbOa XPVNTMQMONMPLSLUMXOZQ[T[VZXX"),
    "h": (-9, 10, "MFM[ MQPNRMUMWNXQX["),
    "i": (-4, 4, "QFRGSFREQF RMR["),
    "j": (-5, 5, "RFSGTFSERF SMS^RaPbNb"),
    "k": (-9, 8, "MFM[ WMMW QSX["),
    "l": (-4, 4, "RFR["),
    "m": (-15, 15, r"GMG[ GQJNLMOMQNRQR[ RQUNWMZM\N]Q]["),
    "n": (-9, 10, "MMM[ MQPNRMUMWNXQX["),
    "o": (-9, 10, "QMONMPLSLUMXOZQ[T[VZXXYUYSXPVNTMQM"),
    "p": (-10, 9, "LMLb LPNNPMSMUNWPXSXUWXUZS[P[NZLX"),
    "q": (-9, 10, "XMXb XPVNTMQMONMPLSLUMXOZQ[T[VZXX"),
    "r": (-7, 6, "OMO[ OSPPRNTMWM"),
    "s": (-8, 9, "XPWNTMQMNNMPNRPSUTWUXWXXWZT[Q[NZMX"),
    "t": (-5, 7, "RFRWSZU[W[ OMVM"),
    "u": (-9, 10, "MMMWNZP[S[UZXW XMX["),
    "v": (-8, 8, "LMR[ XMR["),
    "w": (-11, 11, "JMN[ RMN[ RMV[ ZMV["),
    "x": (-8, 9, "MMX[ XMM["),
    "y": (-8, 8, "LMR[ XMR[P_NaLbKb"),
    "z": (-8, 9, "XMM[ MMXM M[X["),
    ".": (-4, 4, "RVQWRXSWRV"),
}


def glyph_strokes(char: str) -> tuple[float, float, list[list[tuple[float, float]]]]:
    """(left, right, strokes) of ``char`` (lower-cased) in font units, y grown upward from the
    baseline; ``KeyError`` for a character the table lacks."""
    left, right, encoded = GLYPHS[char.lower()]
    strokes = []
    for run in encoded.split(" "):
        pts = [(ord(run[k]) - 82.0, BASELINE_UNITS - (ord(run[k + 1]) - 82.0)) for k in range(0, len(run), 2)]
        strokes.append(pts)
    return float(left), float(right), strokes
