"""Atomic, durable file replacement: the one place motorlab writes a whole file.

A reader (or a crash) sees either the old file or the complete new one, never a
half-written file: the content goes to a temporary file in the same folder, is
``fsync``-ed, and is renamed over the target with :func:`os.replace`; the folder
is ``fsync``-ed too (POSIX) so the rename itself survives a power cut.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot fsync a folder; the file itself is synced
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(
    path: str | Path, mode: str = "w", encoding: str | None = "utf-8", newline: str | None = None
) -> Iterator[IO[Any]]:
    """Open a temporary file that replaces ``path`` when the ``with`` block succeeds.

    ``mode`` is ``"w"`` (text) or ``"wb"``. On an exception the temporary file is
    removed and ``path`` is left untouched.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open: mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    kwargs: dict[str, Any] = {} if mode == "wb" else {"encoding": encoding, "newline": newline}
    fh = open(tmp, mode, **kwargs)  # noqa: SIM115 - closed below on every path
    try:
        yield fh
        fh.flush()
        os.fsync(fh.fileno())
        fh.close()
        os.replace(tmp, path)
    except BaseException:
        fh.close()
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Replace ``path`` with ``text`` atomically and durably; returns the path."""
    with atomic_open(path, "w", encoding=encoding, newline="") as fh:
        fh.write(text)
    return Path(path)


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Replace ``path`` with ``data`` atomically and durably; returns the path."""
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def atomic_write_json(path: str | Path, obj: Any, indent: int | None = 2, default: Any = None) -> Path:
    """Replace ``path`` with ``obj`` as JSON (UTF-8, trailing newline) atomically and durably."""
    text = json.dumps(obj, indent=indent, default=default, ensure_ascii=False)
    return atomic_write_text(path, text + "\n")
