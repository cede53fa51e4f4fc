"""Where a clinic's data lives: one BIDS dataset folder per clinic.

The folder is chosen by ``--data DIR``, else the environment variable
``MOTORLAB_DATA``, else ``./motorlab-data``. Raw recordings sit in the BIDS
layout (``sub-<ID>/ses-<N>/motion/``); goals and reports are derived data under
``derivatives/motorlab/sub-<ID>/``. A clinic that uses its own grip norms
table (e.g. a pediatric one) puts it at ``code/motorlab/grip_norms.csv``
(format: :func:`motorlab.analysis.norms.read_grip_norm_table`).
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATA_DIR = "motorlab-data"
DATA_ENV = "MOTORLAB_DATA"
#: the clinic's own grip norms table, if it has one (BIDS keeps custom material under code/)
GRIP_NORMS_FILE = Path("code") / "motorlab" / "grip_norms.csv"


def resolve_data_root(value: str | Path | None = None) -> Path:
    """The clinic dataset folder: ``value``, else ``$MOTORLAB_DATA``, else ``./motorlab-data``."""
    if value:
        return Path(value)
    env = os.environ.get(DATA_ENV, "").strip()
    return Path(env) if env else Path(DEFAULT_DATA_DIR)


def derivatives_dir(root: str | Path, participant: str) -> Path:
    """``<root>/derivatives/motorlab/sub-<ID>`` (not created)."""
    return Path(root) / "derivatives" / "motorlab" / f"sub-{participant}"


def clinic_grip_norms_path(root: str | Path) -> Path:
    """``<root>/code/motorlab/grip_norms.csv`` (may not exist)."""
    return Path(root) / GRIP_NORMS_FILE
