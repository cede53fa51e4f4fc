"""A virtual hand pinching a force gauge (tip, key and palmar pinch) on cue.

Pinch is weaker than grip and differs by grip: key (lateral) pinch is the strongest, then
palmar (three-jaw chuck), then tip pinch (tablet.md §3.2: the order of the Mathiowetz
studies; e.g. one secondary copy gives tip 78 N, palmar 110 N, key 117 N for men of
30–34). The participant is a :class:`GripParticipant` whose effort peak is
``key_n`` x the grip's ratio, so every force emulator and calibration path works unchanged.
"""

from __future__ import annotations

from .grip import GripParticipant

#: pinch grip -> peak relative to key pinch (ordering key > palmar > tip)
PINCH_RATIOS = {"key": 1.0, "palmar": 0.93, "tip": 0.67}

#: ``sim://pinch`` URL parameters (floats) besides ``seed``
PINCH_PARTICIPANT_PARAMS = (
    "key_n",
    "rise_s",
    "hold_s",
    "fatigue_per_s",
    "noise_n",
    "reaction_s",
    "peak_jitter",
)


class PinchParticipant(GripParticipant):
    """A hand pinching on ``pinch-tip`` / ``pinch-key`` / ``pinch-palmar`` cues.

    Args:
        key_n: mean noise-free key-pinch peak, N (default 60 N, about 6 kg: a school-age child);
            tip and palmar follow :data:`PINCH_RATIOS`.
        other arguments: as :class:`GripParticipant` (a ``squeeze`` cue pinches with ``key_n``).

    ``truth`` is the grip participant's, each effort with its ``grip``.
    """

    def __init__(self, key_n: float = 60.0, rise_s: float = 0.25, hold_s: float = 1.5, **kw: float):
        self.key_n = float(key_n)
        self._grips: list[str] = []
        super().__init__(peak_n=key_n, rise_s=rise_s, hold_s=hold_s, **kw)  # type: ignore[arg-type]

    def _update_truth(self, i: int) -> None:
        super()._update_truth(i)
        if i < len(self._grips):
            self.truth[i]["grip"] = self._grips[i]

    def on_cue(self, kind: str, t_s: float) -> None:
        if kind.startswith("pinch-"):
            grip = kind.removeprefix("pinch-")
            ratio = PINCH_RATIOS.get(grip)
            if ratio is None:
                return
            self.peak_n = self.key_n * ratio
            self._grips.append(grip)
            try:
                super().on_cue("squeeze", t_s)
            finally:
                self.peak_n = self.key_n
            return
        if kind in ("squeeze", "hold"):
            self._grips.append("squeeze")
        super().on_cue(kind, t_s)
