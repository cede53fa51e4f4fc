"""Synthetic BIDS datasets with known parameters, for batch tests and benchmarks.

No device is involved: force curves and IMU tremor are written directly as
:class:`~motorlab.recording.Recording` objects through
:func:`motorlab.storage.bids.write_recording`, each with its generating
parameters kept as ground truth. A few files can be deliberately corrupted so
that error handling is exercised.

Signal models (all deterministic for a seed, noise from ``numpy.random.default_rng``):

* grip (``grip``, ``gripsustained``): per trial the grip model of the virtual
  participants (:func:`motorlab.sim.models.grip_effort_force`): a minimum-jerk
  rise of ``rise_s`` to ``peak_n`` newtons, a hold of ``hold_s`` whose force
  declines exponentially by ``fatigue_per_s`` (fraction per second), and a
  0.3 s minimum-jerk release; white noise ``noise_n`` (N) on top. The
  noise-free maximum of each trial is exactly ``peak_n`` (at the end of the rise).
* tremor (``tremorrest``, ``tremorpostural``): gravity (9.80665 m/s^2) on +z plus
  a sinusoid of ``freq_hz`` with peak amplitude ``amp_ms2`` on x (and half of it
  on y); gyroscope a sinusoid in quadrature; orientation a small oscillation.
* spiral: an Archimedean spiral ``r = b * theta`` drawn at constant angular
  speed (position in cm) with a constant tip force.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_write_json
from ..recording import Channel, Event, Metadata, Recording
from ..units import STANDARD_GRAVITY
from .models import grip_effort_force

TASKS = ("grip", "gripsustained", "tremorrest", "tremorpostural", "spiral")

FORCE_CHANNEL = Channel("force", "MISC", "N", tracked_point="handle")
IMU_CHANNELS = (
    *(Channel(f"acc_{a}", "ACCEL", "m/s^2", a, "pen") for a in "xyz"),
    *(Channel(f"gyr_{a}", "GYRO", "deg/s", a, "pen") for a in "xyz"),
    Channel("roll", "ORNT", "deg", "x", "pen"),
    Channel("pitch", "ORNT", "deg", "y", "pen"),
    Channel("yaw", "ORNT", "deg", "z", "pen"),
)
PEN_CHANNELS = (
    Channel("pos_x", "POS", "cm", "x", "pentip"),
    Channel("pos_y", "POS", "cm", "y", "pentip"),
    Channel("tip_force", "MISC", "N", tracked_point="pentip"),
)


@dataclass
class SimulatedRecording:
    """One generated recording and the parameters it was generated with."""

    recording: Recording
    truth: dict[str, Any]
    path: Path | None = None


@dataclass
class SimulatedDataset:
    """What :func:`generate_dataset` wrote."""

    root: Path
    recordings: list[SimulatedRecording] = field(default_factory=list)
    corrupted: dict[Path, str] = field(default_factory=dict)  # path -> kind of damage

    @property
    def paths(self) -> list[Path]:
        return [r.path for r in self.recordings if r.path is not None]


def _time(duration_s: float, fs: float) -> np.ndarray:
    n = int(round(duration_s * fs)) + 1
    return np.arange(n) / fs


def simulate_grip(
    participant: str,
    session: str = "01",
    *,
    task: str = "grip",
    hand: str = "right",
    peak_n: tuple[float, ...] = (300.0, 290.0, 280.0),
    rise_s: float = 0.3,
    hold_s: float = 2.0,
    rest_s: float = 3.0,
    fatigue_per_s: float = 0.02,
    noise_n: float = 0.3,
    fs: float = 80.0,
    seed: int = 0,
) -> SimulatedRecording:
    """A grip recording: one trial per entry of ``peak_n`` (N), with cues and trial events."""
    rng = np.random.default_rng(seed)
    lead_s, release_s, reaction_s = 1.0, 0.3, 0.2
    trial_len = reaction_s + rise_s + hold_s + release_s
    duration = lead_s + len(peak_n) * (trial_len + rest_s)
    t = _time(duration, fs)
    force = np.zeros_like(t)
    events: list[Event] = []
    truth_trials = []
    for k, peak in enumerate(peak_n, start=1):
        cue_t = lead_s + (k - 1) * (trial_len + rest_s)
        onset = cue_t + reaction_s
        force += grip_effort_force(
            t,
            onset_s=onset,
            peak_n=peak,
            rise_s=rise_s,
            release_s=onset + rise_s + hold_s,
            relax_s=release_s,
            fatigue_per_s=fatigue_per_s,
        )
        events.append(Event(cue_t, 0.0, "cue", {"cue": "squeeze"}))
        events.append(Event(cue_t + reaction_s + rise_s + hold_s, 0.0, "cue", {"cue": "release"}))
        events.append(
            Event(cue_t, trial_len + rest_s / 2, "trial", {"trial": k, "hand": hand, "status": "valid"})
        )
        truth_trials.append({"trial": k, "onset_s": onset, "peak_n": float(peak), "rise_s": rise_s})
    force += noise_n * rng.standard_normal(t.size)
    md = Metadata(participant, session, task, "dynamometer", hand=hand, device_model="synthetic")
    rec = Recording(t, force[:, None], [FORCE_CHANNEL], fs, md, events)
    truth = {
        "task": task,
        "hand": hand,
        "fs": fs,
        "seed": seed,
        "noise_n": noise_n,
        "fatigue_per_s": fatigue_per_s,
        "trials": truth_trials,
    }
    return SimulatedRecording(rec, truth)


def tremor_imu_samples(
    t: np.ndarray, freq_hz: float, amp_ms2: float, noise_ms2: float, rng: np.random.Generator
) -> np.ndarray:
    """IMU samples (n, 9): acc xyz m/s^2 (gravity on +z), gyro xyz deg/s, roll/pitch/yaw deg."""
    phase = 2 * np.pi * freq_hz * t
    acc = np.column_stack(
        [
            amp_ms2 * np.sin(phase),
            0.5 * amp_ms2 * np.sin(phase),
            np.full_like(t, STANDARD_GRAVITY),
        ]
    )
    acc += noise_ms2 * rng.standard_normal(acc.shape)
    gyr_amp = 10.0 * amp_ms2  # deg/s of a small rotation that accompanies the tremor
    gyr = np.column_stack([gyr_amp * np.cos(phase), 0.5 * gyr_amp * np.cos(phase), np.zeros_like(t)])
    ang = gyr_amp / (2 * np.pi * freq_hz)  # integral of the angular rate, deg
    ornt = np.column_stack([ang * np.sin(phase), 0.5 * ang * np.sin(phase), np.zeros_like(t)])
    return np.column_stack([acc, gyr, ornt])


def simulate_tremor(
    participant: str,
    session: str = "01",
    *,
    task: str = "tremorrest",
    hand: str = "right",
    freq_hz: float = 6.0,
    amp_ms2: float = 0.5,
    duration_s: float = 10.0,
    n_trials: int = 1,
    noise_ms2: float = 0.02,
    fs: float = 100.0,
    seed: int = 0,
) -> SimulatedRecording:
    """An IMU tremor recording of ``n_trials`` equal trials (known frequency Hz, peak amplitude m/s^2)."""
    rng = np.random.default_rng(seed)
    lead_s = 0.5
    t = _time(lead_s + n_trials * duration_s, fs)
    data = tremor_imu_samples(t, freq_hz, amp_ms2, noise_ms2, rng)
    events = [
        Event(
            lead_s + (k - 1) * duration_s, duration_s, "trial", {"trial": k, "hand": hand, "status": "valid"}
        )
        for k in range(1, n_trials + 1)
    ]
    events += [
        Event(e.onset, 0.0, "cue", {"cue": "rest" if task == "tremorrest" else "posture"}) for e in events
    ]
    md = Metadata(participant, session, task, "imupen", hand=hand, device_model="synthetic")
    rec = Recording(t, data, list(IMU_CHANNELS), fs, md, events)
    truth = {
        "task": task,
        "hand": hand,
        "fs": fs,
        "seed": seed,
        "freq_hz": freq_hz,
        "amp_ms2": amp_ms2,
        "trials": [{"trial": k, "freq_hz": freq_hz, "amp_ms2": amp_ms2} for k in range(1, n_trials + 1)],
    }
    return SimulatedRecording(rec, truth)


def simulate_spiral(
    participant: str,
    session: str = "01",
    *,
    hand: str = "right",
    turns: float = 4.0,
    spacing_cm: float = 0.5,
    duration_s: float = 8.0,
    tip_force_n: float = 1.5,
    fs: float = 100.0,
    seed: int = 0,
) -> SimulatedRecording:
    """An Archimedean spiral ``r = spacing_cm * theta / (2 pi)`` drawn at constant angular speed."""
    rng = np.random.default_rng(seed)
    lead_s = 0.5
    t = _time(duration_s + 2 * lead_s, fs)
    s = np.clip((t - lead_s) / duration_s, 0.0, 1.0)
    theta = 2 * np.pi * turns * s
    r = spacing_cm * theta / (2 * np.pi)
    pos = np.column_stack([r * np.cos(theta), r * np.sin(theta)]) + 0.005 * rng.standard_normal((t.size, 2))
    drawing = (t >= lead_s) & (t <= lead_s + duration_s)
    tip = np.where(drawing, tip_force_n, 0.0)
    events = [
        Event(lead_s, 0.0, "cue", {"cue": "draw"}),
        Event(lead_s, duration_s, "trial", {"trial": 1, "hand": hand, "status": "valid"}),
    ]
    md = Metadata(participant, session, "spiral", "imupen", hand=hand, device_model="synthetic")
    rec = Recording(t, np.column_stack([pos, tip]), list(PEN_CHANNELS), fs, md, events)
    truth = {
        "task": "spiral",
        "hand": hand,
        "fs": fs,
        "seed": seed,
        "turns": turns,
        "spacing_cm": spacing_cm,
        "trials": [{"trial": 1, "turns": turns}],
    }
    return SimulatedRecording(rec, truth)


def simulate_recording(task: str, participant: str, session: str, seed: int, **kw: Any) -> SimulatedRecording:
    """One recording of ``task`` with parameters drawn from ``seed`` (overridable by keywords)."""
    rng = np.random.default_rng(seed)
    hand = kw.pop("hand", "right" if rng.random() < 0.7 else "left")
    if task in ("grip", "gripsustained"):
        n = 3 if task == "grip" else 1
        peaks = tuple(float(round(rng.uniform(80.0, 450.0), 1)) for _ in range(n))
        args: dict[str, Any] = {
            "peak_n": peaks,
            "hold_s": 2.0 if task == "grip" else 10.0,
            "fatigue_per_s": float(round(rng.uniform(0.0, 0.04), 4)),
        }
        args.update(kw)
        return simulate_grip(participant, session, task=task, hand=hand, seed=seed, **args)
    if task in ("tremorrest", "tremorpostural"):
        args = {
            "freq_hz": float(round(rng.uniform(4.0, 9.0), 2)),
            "amp_ms2": float(round(rng.uniform(0.1, 1.5), 3)),
        }
        args.update(kw)
        return simulate_tremor(participant, session, task=task, hand=hand, seed=seed, **args)
    if task == "spiral":
        args = {"turns": float(rng.integers(3, 6))}
        args.update(kw)
        return simulate_spiral(participant, session, hand=hand, seed=seed, **args)
    raise ValueError(f"unknown synthetic task {task!r}; known: {', '.join(TASKS)}")


#: kinds of damage :func:`corrupt_recording` can do
CORRUPTIONS = ("garbage_row", "bad_json", "no_channels", "wrong_columns", "binary")


def corrupt_recording(motion_tsv: Path, kind: str) -> None:
    """Damage a written recording the way real files get damaged."""
    motion_tsv = Path(motion_tsv)
    side = motion_tsv.with_name(motion_tsv.name.replace("_motion.tsv", "_motion.json"))
    chans = motion_tsv.with_name(motion_tsv.name.replace("_motion.tsv", "_channels.tsv"))
    if kind == "garbage_row":  # a line overwritten in the middle
        lines = motion_tsv.read_text().splitlines(keepends=True)
        lines[len(lines) // 2] = "0.5\tERR#\tERR#\n"
        motion_tsv.write_text("".join(lines))
    elif kind == "bad_json":  # sidecar cut short
        text = side.read_text()
        side.write_text(text[: len(text) // 2])
    elif kind == "no_channels":
        chans.unlink()
    elif kind == "wrong_columns":  # a column lost from every row
        lines = motion_tsv.read_text().splitlines()
        motion_tsv.write_text("".join("\t".join(ln.split("\t")[:-1]) + "\n" for ln in lines))
    elif kind == "binary":
        motion_tsv.write_bytes(np.random.default_rng(1).bytes(4096))
    else:
        raise ValueError(f"unknown corruption {kind!r}; known: {', '.join(CORRUPTIONS)}")


def generate_dataset(
    root: str | Path,
    n_recordings: int = 200,
    n_corrupt: int = 5,
    seed: int = 0,
    tasks: tuple[str, ...] = TASKS,
    recordings_per_participant: int = 5,
) -> SimulatedDataset:
    """Write ``n_recordings`` good recordings plus ``n_corrupt`` damaged ones under ``root``.

    Participants are ``S0001``, ``S0002``…; each gets ``recordings_per_participant``
    recordings (tasks cycled, sessions numbered when a task repeats). The truth
    of every recording is also written to ``<root>/derivatives/synthetic_truth.json``.
    """
    from ..storage.bids import write_recording

    root = Path(root)
    out = SimulatedDataset(root)
    total = n_recordings + n_corrupt
    # spread the damaged files over the dataset rather than bunching them at the end
    damaged = {int((j + 0.5) * total / n_corrupt) for j in range(n_corrupt)} if n_corrupt else set()
    for i in range(total):
        participant = f"S{i // recordings_per_participant + 1:04d}"
        k = i % recordings_per_participant
        task = tasks[k % len(tasks)]
        session = f"{k // len(tasks) + 1:02d}"
        sim = simulate_recording(task, participant, session, seed=seed * 100_003 + i)
        sim.path = write_recording(sim.recording, root)
        if i not in damaged:
            out.recordings.append(sim)
        else:
            kind = CORRUPTIONS[len(out.corrupted) % len(CORRUPTIONS)]
            corrupt_recording(sim.path, kind)
            out.corrupted[sim.path] = kind
    truth_file = root / "derivatives" / "synthetic_truth.json"
    truth_file.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(
        truth_file,
        {
            "seed": seed,
            "recordings": {
                str(path.relative_to(root)): r.truth for r, path in zip(out.recordings, out.paths)
            },
            "corrupted": {str(p.relative_to(root)): kind for p, kind in out.corrupted.items()},
        },
    )
    return out


def write_long_tremor(
    root: str | Path,
    duration_s: float,
    fs: float = 1000.0,
    trial_s: float = 30.0,
    freq_hz: float = 6.0,
    amp_ms2: float = 0.5,
    seed: int = 0,
    participant: str = "L001",
) -> Path:
    """Stream a long IMU tremor recording (e.g. one hour at 1 kHz) to disk one trial at a time.

    Memory stays at one trial's worth of samples; trials of ``trial_s`` seconds
    follow each other without pause (the first starts at 0 s). Returns the
    ``_motion.tsv`` path.
    """
    from ..storage.bids import RecordingWriter

    rng = np.random.default_rng(seed)
    n_trials = max(1, int(math.floor(duration_s / trial_s)))
    md = Metadata(participant, "01", "tremorpostural", "imupen", hand="right", device_model="synthetic")
    n_per_trial = int(round(trial_s * fs))
    with RecordingWriter(root, md, list(IMU_CHANNELS), fs, fsync_interval_s=5.0) as writer:
        for k in range(1, n_trials + 1):
            t = ((k - 1) * n_per_trial + np.arange(n_per_trial)) / fs
            writer.append(t, tremor_imu_samples(t, freq_hz, amp_ms2, 0.02, rng))
            writer.add_event(Event(t[0], trial_s, "trial", {"trial": k, "hand": "right", "status": "valid"}))
    return writer.path
