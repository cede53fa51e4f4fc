"""A small synthetic clinic with known values, for tests, demos and screenshots.

One client (born 1958, female, right-handed) seen three times a week apart.
Each session has a maximal-grip recording of both hands (three trials each,
force curves from the grip model :func:`motorlab.sim.models.grip_effort_force`
with known peaks), an Archimedean spiral with a purely radial 6 Hz tremor of known
amplitude, and a rest-tremor IMU recording of known amplitude. Three goals are
set (right grip, left grip, spiral tremor). The generating values are returned
as :class:`SampleTruth` so tests compare the report against them.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..clinic.clients import ClientRegistry, make_client
from ..clinic.goals import GoalStore, make_goal
from ..recording import Recording
from ..storage.bids import write_recording
from ..units import KGF_N
from .dataset import simulate_grip, simulate_spiral, simulate_tremor

SPIRAL_TREMOR_HZ = 6.0


@dataclass
class SampleSession:
    """The generating values of one session (units in the names)."""

    label: str
    date: _dt.date
    grip_peaks_kgf: dict[str, tuple[float, ...]]  # hand -> peaks of the three trials
    spiral_tremor_amp_cm: float  # peak amplitude of the radial tremor
    rest_tremor_amp_ms2: float  # peak amplitude on x (y carries half)

    def grip_mean_kgf(self, hand: str) -> float:
        peaks = self.grip_peaks_kgf[hand]
        return sum(peaks) / len(peaks)


@dataclass
class SampleTruth:
    root: Path
    participant: str
    birth_year: int
    sex: str
    dominant_hand: str
    sessions: list[SampleSession] = field(default_factory=list)


DEFAULT_SESSIONS = (
    # right-hand grip improves 18 -> 21 -> 24.5 kg, left barely moves; tremor falls
    ({"right": (18.4, 18.0, 17.6), "left": (16.3, 16.0, 15.7)}, 0.10, 0.60),
    ({"right": (21.4, 21.0, 20.6), "left": (16.8, 16.5, 16.2)}, 0.08, 0.50),
    ({"right": (24.9, 24.5, 24.1), "left": (17.7, 17.4, 17.1)}, 0.05, 0.35),
)


def _levels(*levels: tuple[str, float]) -> list[tuple[str, float | str]]:
    """GAS levels -2..+2 as (description, value)."""
    return [(text, float(value)) for text, value in levels]


def _with_time(rec: Recording, when: _dt.datetime, device: str, serial: str, cal: str) -> Recording:
    md = rec.metadata.replace(
        acq_time=when.isoformat(timespec="seconds"),
        device_model=device,
        device_serial=serial,
        calibration_id=cal,
        manufacturer="motorlab synthetic",
    )
    return dataclasses.replace(rec, metadata=md)


def _grip_both_hands(
    participant: str, label: str, peaks: dict[str, tuple[float, ...]], seed: int
) -> Recording:
    """Right-hand trials then left-hand trials in one recording (events keep their hand)."""
    right = simulate_grip(
        participant, label, hand="right", peak_n=tuple(p * KGF_N for p in peaks["right"]), fs=80.0, seed=seed
    ).recording
    left = simulate_grip(
        participant,
        label,
        hand="left",
        peak_n=tuple(p * KGF_N for p in peaks["left"]),
        fs=80.0,
        seed=seed + 1,
    ).recording
    shift = right.timestamps[-1] + 1.0 / right.sampling_rate
    events = [*right.events, *(dataclasses.replace(e, onset=e.onset + shift) for e in left.events)]
    return Recording(
        np.concatenate([right.timestamps, left.timestamps + shift]),
        np.concatenate([right.data, left.data]),
        right.channels,
        right.sampling_rate,
        right.metadata.replace(hand="n/a"),
        events,
    )


def _spiral_with_tremor(participant: str, label: str, amp_cm: float, seed: int) -> Recording:
    """Archimedean spiral whose radius carries ``amp_cm`` · sin(2π·6 Hz·t) while drawing."""
    rec = simulate_spiral(
        participant, label, hand="right", turns=4.0, spacing_cm=0.5, duration_s=12.0, seed=seed
    ).recording
    pos = rec.select(["pos_x", "pos_y"])
    r = np.hypot(pos[:, 0], pos[:, 1])
    theta = np.arctan2(pos[:, 1], pos[:, 0])
    drawing = rec.channel("tip_force") > 0
    r = r + np.where(drawing, amp_cm * np.sin(2 * np.pi * SPIRAL_TREMOR_HZ * rec.timestamps), 0.0)
    data = rec.data.copy()
    data[:, 0], data[:, 1] = r * np.cos(theta), r * np.sin(theta)
    return dataclasses.replace(rec, data=data)


def write_sample_clinic(
    root: str | Path,
    participant: str = "P007",
    first_date: _dt.date = _dt.date(2026, 3, 2),
    sessions=DEFAULT_SESSIONS,
    goals: bool = True,
) -> SampleTruth:
    """Write the sample client, its sessions (one week apart) and goals under ``root``."""
    root = Path(root)
    truth = SampleTruth(root, participant, 1958, "F", "right")
    ClientRegistry(root).add(make_client(participant, truth.birth_year, truth.sex, truth.dominant_hand))
    for k, (peaks, spiral_amp, tremor_amp) in enumerate(sessions):
        label = f"{k + 1:02d}"
        day = first_date + _dt.timedelta(weeks=k)
        start = _dt.datetime.combine(day, _dt.time(10, 0))
        grip = _grip_both_hands(participant, label, peaks, seed=10 * k)
        write_recording(
            _with_time(grip, start, "DIY load-cell dynamometer", "DYN-0042", "cal-2026-02-20-a"), root
        )
        spiral = _spiral_with_tremor(participant, label, spiral_amp, seed=10 * k + 3)
        write_recording(
            _with_time(spiral, start + _dt.timedelta(minutes=10), "synthetic pen tablet", "PEN-7", "n/a"),
            root,
        )
        tremor = simulate_tremor(
            participant,
            label,
            task="tremorrest",
            hand="right",
            amp_ms2=tremor_amp,
            duration_s=10.0,
            seed=10 * k + 5,
        ).recording
        write_recording(
            _with_time(tremor, start + _dt.timedelta(minutes=15), "IMU pen", "IMU-3", "cal-imu-1"), root
        )
        truth.sessions.append(SampleSession(label, day, dict(peaks), spiral_amp, tremor_amp))
    if goals:
        store = GoalStore(root, participant)
        base = truth.sessions[0]
        store.put(
            make_goal(
                "G1",
                "Open a jam jar with the right hand",
                "grip_strength_kgf",
                "right",
                round(base.grip_mean_kgf("right"), 1),
                _levels(
                    ("cannot open jars", 18),
                    ("opens loosened jars", 20),
                    ("opens a new jar with help", 22),
                    ("opens a new jar alone", 24),
                    ("opens jars and bottles alone", 26),
                ),
                weight=2,
                target_date=(first_date + _dt.timedelta(weeks=8)).isoformat(),
                created=first_date.isoformat(),
            )
        )
        store.put(
            make_goal(
                "G2",
                "Carry a shopping bag with the left hand",
                "grip_strength_kgf",
                "left",
                round(base.grip_mean_kgf("left"), 1),
                _levels(
                    ("cannot lift the bag", 16),
                    ("lifts it briefly", 17),
                    ("carries it 20 m", 18),
                    ("carries it 50 m", 19),
                    ("carries it home", 20),
                ),
                weight=1,
                target_date=(first_date + _dt.timedelta(weeks=8)).isoformat(),
                created=first_date.isoformat(),
            )
        )
        rms0 = base.spiral_tremor_amp_cm / math.sqrt(2)
        store.put(
            make_goal(
                "G3",
                "Write a legible shopping list",
                "spiral_tremor_rms_cm",
                "right",
                round(rms0, 3),
                _levels(
                    ("much shakier", 0.08),
                    ("as shaky as now", 0.06),
                    ("steadier lines", 0.045),
                    ("clearly steadier", 0.03),
                    ("no visible shake", 0.02),
                ),
                weight=1,
                target_date=(first_date + _dt.timedelta(weeks=8)).isoformat(),
                created=first_date.isoformat(),
            )
        )
    return truth
