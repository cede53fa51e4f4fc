"""Find the recordings under a dataset folder without losing any silently.

:func:`walk_recordings` differs from ``Path.rglob`` in the ways a researcher's dataset
needs:

* directory symlinks are followed (a ``sub-*`` folder linked in from elsewhere), with
  loop protection: a directory is entered once, keyed by its ``(st_dev, st_ino)``;
* a folder that cannot be listed (permissions, I/O error) is reported as a
  :class:`WalkProblem` rather than skipped, and an unreadable *root* raises a one-line
  :class:`~motorlab.errors.MotorlabError` saying so (not "no recordings found");
* file symlinks keep their link path: DataLad/git-annex datasets store every file as a
  symlink into ``.git/annex/objects``, and the sidecars are found next to the *link*;
  a link whose content is not present (``datalad get`` not run) is a problem row;
* hidden folders (``.git``, ``.datalad``, ``.motorlab-cache``…) are not entered, as
  BIDS tools ignore them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import MotorlabError

MOTION_SUFFIX = "_motion.tsv"


@dataclass(frozen=True)
class WalkProblem:
    """A path under a dataset that could not be searched or used (one line, names the path).

    ``level`` is ``"error"`` when recordings may have been missed (an unreadable folder,
    a recording whose content is absent) and ``"warning"`` for a folder reached twice
    through links (not followed again, nothing missed).
    """

    path: Path
    message: str
    level: str = "error"


def _reason(exc: OSError) -> str:
    return exc.strerror.lower() if exc.strerror else type(exc).__name__


def walk_recordings(root: str | Path) -> tuple[list[Path], list[WalkProblem]]:
    """Every ``*_motion.tsv`` under ``root`` (link paths kept, sorted) and the problems met.

    Raises :class:`~motorlab.errors.MotorlabError` (one line) when ``root`` does not exist
    or cannot be listed.
    """
    root = Path(root)
    try:
        root_stat = root.stat()
    except FileNotFoundError:
        raise MotorlabError(f"{root}: no such file or folder") from None
    except OSError as exc:
        raise MotorlabError(f"{root}: cannot access ({_reason(exc)})") from None
    if not root.is_dir():  # any file of a recording stands for it (…_motion.json, …_events.tsv)
        from .bids import _motion_tsv_from

        return [_motion_tsv_from(root)], []
    try:
        with os.scandir(root):
            pass
    except OSError as exc:
        raise MotorlabError(f"{root}: {_reason(exc)}: cannot list the dataset folder") from None

    found: list[Path] = []
    problems: list[WalkProblem] = []
    seen = {(root_stat.st_dev, root_stat.st_ino)}
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            problems.append(
                WalkProblem(
                    folder, f"{folder}: {_reason(exc)}: folder not searched, its recordings are missing"
                )
            )
            continue
        for entry in entries:
            path = folder / entry.name
            if entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=True)
            except OSError:
                is_dir = False
            if is_dir and entry.name.endswith(MOTION_SUFFIX):
                problems.append(WalkProblem(path, f"{path}: is a folder, not a recording file"))
                continue
            if is_dir:
                try:
                    st = entry.stat(follow_symlinks=True)
                except OSError as exc:
                    problems.append(WalkProblem(path, f"{path}: {_reason(exc)}: folder not searched"))
                    continue
                key = (st.st_dev, st.st_ino)
                if key in seen:
                    problems.append(
                        WalkProblem(
                            path,
                            f"{path}: link to a folder already searched (a symlink loop or a second link); "
                            "not followed again",
                            "warning",
                        )
                    )
                    continue
                seen.add(key)
                stack.append(path)
            elif entry.name.endswith(MOTION_SUFFIX):
                if entry.is_symlink() and not path.exists():
                    problems.append(
                        WalkProblem(
                            path,
                            f"{path}: broken link, the file's content is not here "
                            "(in a DataLad/git-annex dataset run `datalad get` on it)",
                        )
                    )
                    continue
                found.append(path)
    return sorted(found), problems
