"""A child's handwriting features across sessions: the reference when no grade norms exist.

No published handwriting values by school grade were readable (research/tablet.md §2.3),
so a pen task is compared with the same child's earlier recordings of the same task
(:func:`~motorlab.analysis.handwriting_features.compare_with_earlier`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from ..analysis.handwriting_features import (
    FeatureChange,
    HandwritingFeatures,
    compare_with_earlier,
    pen_features_recording,
)
from ..errors import MotorlabError, MotorlabWarning
from ..storage.bids import find_recordings, read_header, read_recording


@dataclass(frozen=True)
class PenSession:
    """Features of one earlier (or the current) pen recording."""

    path: Path
    session: str
    acq_time: str
    features: HandwritingFeatures


def pen_sessions(root: str | Path, participant: str, task: str) -> list[PenSession]:
    """Every complete recording of ``task`` by ``participant`` with a pen position, oldest first."""
    folder = Path(root) / f"sub-{participant}"
    if not folder.is_dir():
        return []
    out = []
    for path in find_recordings(folder):
        head = read_header(path)
        if head.metadata.task != task or head.status == "recording":
            continue
        if not {"pos_x", "pos_y"} <= {c.name for c in head.data_channels}:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MotorlabWarning)
                feats = pen_features_recording(read_recording(path))
        except MotorlabError:
            continue  # a recording that cannot be analysed is no reference
        out.append(PenSession(path, head.metadata.session, head.metadata.acq_time, feats))
    return sorted(out, key=lambda s: (s.acq_time, s.path.name))


def compare_with_history(
    root: str | Path, participant: str, task: str, current: Path
) -> tuple[HandwritingFeatures, tuple[FeatureChange, ...], int]:
    """The current recording's features, each against the child's earlier ``task`` recordings,
    and how many earlier recordings there were."""
    sessions = pen_sessions(root, participant, task)
    now = next((s for s in sessions if s.path.resolve() == Path(current).resolve()), None)
    if now is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MotorlabWarning)
            feats = pen_features_recording(read_recording(current))
    else:
        feats = now.features
    earlier = [s.features for s in sessions if s is not now and s.acq_time <= (now.acq_time if now else "~")]
    return feats, compare_with_earlier(feats, earlier), len(earlier)


__all__ = ["PenSession", "compare_with_history", "pen_sessions"]
