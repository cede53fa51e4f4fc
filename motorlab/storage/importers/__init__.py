"""Importers (third-party files -> :class:`~motorlab.recording.Recording`) and exporters.

=========  =======================================  ============================
format     reader                                   writer
=========  =======================================  ============================
``uci``    :func:`read_uci_spiral` (UCI PD spirals)  —
``svc``    :func:`read_svc` (SVC2004/PaHaW/BDALab)   :func:`write_svc`
``inkml``  :func:`read_inkml` (W3C InkML)            :func:`write_inkml`
``csv``    :func:`read_table` (+ presets, kinvent)   —
=========  =======================================  ============================

Every reader takes the file and keyword options (``participant`` required; units,
scales and column orders explicit, with documented defaults recorded in the
sidecar as assumptions) and returns a list of recordings. Timestamp quality flags
(:mod:`motorlab.signal.timestamps`), forward segments and the import provenance go
into ``Metadata.extra`` (``quality_flags``, ``timestamp_segments``, ``import``).
A malformed file raises :class:`~motorlab.errors.RecordingError` naming the file
and line. Channel names and units: docs/formats.md.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...recording import Recording
from ._common import ExportResult
from .channels import KNOWN_CHANNELS, PEN_CHANNELS
from .inkml import read_inkml, write_inkml
from .svc import PAHAW_COLUMNS, SVC_COLUMNS, SvcUnits, read_svc, write_svc
from .table import PRESETS, TablePreset, read_table
from .uci import UCI_CM_PER_UNIT, UCI_TASKS, read_uci_spiral

#: format name -> reader(path, **options) -> list[Recording]
READERS: dict[str, Callable[..., list[Recording]]] = {
    "uci": read_uci_spiral,
    "svc": read_svc,
    "inkml": read_inkml,
    "csv": read_table,
}
#: format name -> writer(recording, path, **options) -> ExportResult
WRITERS: dict[str, Callable[..., ExportResult]] = {"svc": write_svc, "inkml": write_inkml}
#: file suffix of each exported format
SUFFIXES = {"svc": ".svc", "inkml": ".inkml"}


def import_file(fmt: str, path: str | Path, **options: Any) -> list[Recording]:
    """Read ``path`` in format ``fmt`` (see :data:`READERS`)."""
    from ...errors import ParameterError

    try:
        reader = READERS[fmt]
    except KeyError:
        raise ParameterError(f"unknown import format {fmt!r}; known: {', '.join(READERS)}") from None
    return reader(path, **options)


__all__ = [
    "KNOWN_CHANNELS",
    "PAHAW_COLUMNS",
    "PEN_CHANNELS",
    "PRESETS",
    "READERS",
    "SUFFIXES",
    "SVC_COLUMNS",
    "UCI_CM_PER_UNIT",
    "UCI_TASKS",
    "WRITERS",
    "ExportResult",
    "SvcUnits",
    "TablePreset",
    "import_file",
    "read_inkml",
    "read_svc",
    "read_table",
    "read_uci_spiral",
    "write_inkml",
    "write_svc",
]
