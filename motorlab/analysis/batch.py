"""Batch analysis of many recordings: all local cores or a Dask cluster.

One pure function, :func:`process_one`, turns one recording file into table
rows (one per trial): the analyzer's :class:`~motorlab.analysis.results.RecordingMetrics`
flattened by ``to_rows()``. :func:`analyze_batch` maps it over every recording found
under the given paths, with

* local processes (:class:`concurrent.futures.ProcessPoolExecutor`) or an
  existing ``dask.distributed`` scheduler (``scheduler="tcp://host:port"``) or a
  private :class:`dask.distributed.LocalCluster` on 127.0.0.1 (``dask=True``);
* a cache keyed by SHA-256 of the input files + analysis parameters
  (``AnalysisParams.to_dict()``) + a fingerprint of the analysis code
  (:func:`code_fingerprint`) + the motorlab/Python/NumPy/SciPy versions, so a re-run
  skips unchanged recordings and never serves results of other code; the provenance
  file says per recording whether it came from the cache and names the code fingerprint;
* per-recording error capture: a bad file becomes one row of the errors table
  (path + one-line reason) and the batch goes on;
* a stable order (recording name, then trial order) so local and Dask runs give
  byte-identical tables.

The tidy table is written with the standard :mod:`csv` module; pandas is only
needed for :meth:`BatchResult.to_dataframe`.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import csv
import dataclasses
import datetime as _dt
import functools
import hashlib
import importlib
import json
import logging
import math
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import __version__
from ..atomic import atomic_open, atomic_write_text
from ..errors import MotorlabError, one_line
from .params import AnalysisParams
from .results import RecordingMetrics

if TYPE_CHECKING:
    from ..recording import Recording

#: the analysis run on each recording, as "module:function" (importable in every worker)
DEFAULT_ANALYZER = "motorlab.analysis.recording_metrics:analyze_recording"
#: identification columns put in front of every row
ID_COLUMNS = ("recording", "participant", "session", "task", "tracksys", "run")
ERROR_COLUMNS = ("recording", "level", "message")
_RECORDING_SUFFIXES = ("_motion.tsv", "_motion.json", "_channels.tsv", "_events.tsv")
_MAX_MESSAGE = 300


# ----------------------------------------------------------------- result types
@dataclass(frozen=True)
class BatchTask:
    """One unit of work (picklable: sent to processes and Dask workers)."""

    path: str
    name: str
    params: dict[str, Any] | None = None
    analyzer: str = DEFAULT_ANALYZER
    cache_dir: str | None = None
    by_trial: bool = False
    code: str = ""  # fingerprint of the analysis code (:func:`code_fingerprint`) in the parent


@dataclass
class RecordingResult:
    """What one recording produced."""

    name: str
    path: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)  # file name -> sha256
    cache_key: str = ""
    cached: bool = False
    seconds: float = 0.0


@dataclass
class BatchResult:
    """Tidy table (``rows``), errors table and provenance of one batch run."""

    rows: list[dict[str, Any]]
    errors: list[dict[str, str]]
    results: list[RecordingResult]
    provenance: dict[str, Any]

    @property
    def columns(self) -> list[str]:
        return table_columns(self.rows)

    def to_dataframe(self) -> Any:
        """The table as a ``pandas.DataFrame`` (needs pandas installed; an optional dependency)."""
        try:
            pd = importlib.import_module("pandas")
        except ModuleNotFoundError:
            raise MotorlabError("pandas is not installed; use BatchResult.rows or install pandas") from None
        return pd.DataFrame(self.rows, columns=self.columns)

    def write(self, out_csv: str | Path) -> tuple[Path, Path, Path]:
        """Write ``out.csv``, ``out_errors.csv`` and ``out_provenance.json``; return their paths."""
        out_csv = Path(out_csv)
        errors_csv = out_csv.with_name(out_csv.stem + "_errors.csv")
        prov_json = out_csv.with_name(out_csv.stem + "_provenance.json")
        try:
            out_csv.parent.mkdir(parents=True, exist_ok=True)
            write_table(self.rows, out_csv)
            write_table(self.errors, errors_csv, ERROR_COLUMNS)
            prov = dict(self.provenance, table=out_csv.name, errors_table=errors_csv.name)
            atomic_write_text(prov_json, json.dumps(prov, indent=1, allow_nan=False, default=str) + "\n")
        except OSError as exc:
            raise MotorlabError(
                f"{exc.filename or out_csv}: cannot write results ({exc.strerror or exc})"
            ) from None
        return out_csv, errors_csv, prov_json


# ----------------------------------------------------------------- one recording
def _load_callable(spec: str) -> Callable[..., Any]:
    module, _, name = spec.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ModuleNotFoundError, AttributeError) as exc:
        raise MotorlabError(f"analysis function {spec!r} is not available ({exc})") from None


def analysis_parameters(
    params: Mapping[str, Any] | AnalysisParams | None, analyzer: str = DEFAULT_ANALYZER
) -> dict[str, Any]:
    """The full parameter set of every analysis step (defaults filled in), for cache keys and provenance.

    For motorlab's analyzer that is ``AnalysisParams.from_mapping(params).to_dict()`` (a
    :class:`~motorlab.errors.ParameterError` for an unknown or mistyped parameter); another
    analyzer's module may define ``analysis_parameters(params) -> dict`` for the same purpose.
    """
    if analyzer == DEFAULT_ANALYZER:
        return AnalysisParams.from_mapping(params).to_dict()
    module = analyzer.partition(":")[0]
    try:
        fn = getattr(importlib.import_module(module), "analysis_parameters", None)
    except ModuleNotFoundError as exc:
        raise MotorlabError(f"analysis module {module!r} is not available ({exc})") from None
    if isinstance(params, AnalysisParams):
        params = params.to_dict()
    return _plain(fn(params)) if fn is not None else _plain(dict(params or {}))


def _plain(value: Any) -> Any:
    """Convert NumPy scalars/arrays and tuples to plain JSON-able Python values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return _plain(value.tolist())
    if isinstance(value, Path):
        return str(value)
    return value


def metric_rows(result: RecordingMetrics | Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Table rows of an analyzer's result: ``to_rows()`` of a :class:`RecordingMetrics`, or the
    dicts a custom analyzer returned."""
    if isinstance(result, RecordingMetrics):
        return result.to_rows()
    return [dict(r) for r in result]


def _clean_message(text: str) -> str:
    """One printable line, at most ``_MAX_MESSAGE`` characters."""
    text = text.replace("\n", " ").replace("\t", " ").replace("\ufffd", "?")
    line = "".join(ch if ch.isprintable() else "?" for ch in text)
    return line if len(line) <= _MAX_MESSAGE else line[: _MAX_MESSAGE - 1] + "…"


def recording_files(motion_tsv: str | Path) -> list[Path]:
    """The files that make up one recording (those that exist), ``_motion.tsv`` first."""
    motion_tsv = Path(motion_tsv)
    stem = motion_tsv.name[: -len("_motion.tsv")]
    return [p for s in _RECORDING_SUFFIXES if (p := motion_tsv.with_name(stem + s)).exists()]


def hash_inputs(motion_tsv: str | Path, chunk: int = 1 << 20) -> dict[str, str]:
    """SHA-256 (hex) of every file of a recording, keyed by file name."""
    out = {}
    for p in recording_files(motion_tsv):
        h = hashlib.sha256()
        with open(p, "rb") as fh:
            while block := fh.read(chunk):
                h.update(block)
        out[p.name] = h.hexdigest()
    return out


#: the source that decides a row's values: a change to any of these files invalidates the cache
_FINGERPRINT_SOURCES = ("analysis", "signal", "storage", "recording.py", "units.py")


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """SHA-256 (hex) of the analysis code: every ``.py`` file of ``motorlab/analysis``,
    ``motorlab/signal`` and ``motorlab/storage`` (the reader converts units), plus
    ``recording.py`` and ``units.py``, by relative path and content. An edited metric, a
    fixed reader or a changed default gives a new fingerprint, so the cache recomputes."""
    base = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for source in _FINGERPRINT_SOURCES:
        top = base / source
        for f in sorted(top.rglob("*.py")) if top.is_dir() else [top]:
            h.update(f.relative_to(base).as_posix().encode() + b"\0")
            h.update(f.read_bytes() + b"\0")
    return h.hexdigest()


def software_versions() -> dict[str, str | None]:
    """Versions whose change may change numbers: motorlab, Python, NumPy, SciPy."""
    return {
        "motorlab": __version__,
        "python": platform.python_version(),
        "numpy": _version_of("numpy"),
        "scipy": _version_of("scipy"),
    }


def cache_key(
    inputs: dict[str, str],
    parameters: dict[str, Any],
    analyzer: str,
    by_trial: bool = False,
    code: str | None = None,
) -> str:
    """SHA-256 over input hashes, full analysis parameters, analyzer, mode, the analysis
    code's fingerprint (:func:`code_fingerprint` unless given) and the software versions."""
    blob = json.dumps(
        {
            "inputs": inputs,
            "parameters": parameters,
            "analyzer": analyzer,
            "by_trial": by_trial,
            "code": code if code is not None else code_fingerprint(),
            "software": software_versions(),
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def _id_columns(rec: Any, name: str) -> dict[str, Any]:
    md = rec.metadata
    run = None
    for part in Path(name).name.split("_"):
        if part.startswith("run-"):
            run = int(part[4:]) if part[4:].isdigit() else part[4:]
    return {
        "recording": name,
        "participant": md.participant,
        "session": md.session,
        "task": md.task,
        "tracksys": md.tracksys,
        "run": run,
    }


def process_one(
    path: str | Path,
    params: dict[str, Any] | None = None,
    analyzer: str = DEFAULT_ANALYZER,
    name: str | None = None,
    by_trial: bool = False,
) -> tuple[list[dict[str, Any]], str | None]:
    """Analyse one recording: ``(rows, None)`` or ``([], one-line error)``. Never raises on bad input.

    Each row is the analyzer's dict prefixed with the identification columns
    (:data:`ID_COLUMNS`); values are plain Python (float, int, str, None).

    ``by_trial=True`` streams the file once and analyses each ``trial`` event's
    window as a recording of its own, so memory stays flat however long the
    recording (hour-long 1-kHz files). Every row then describes one trial
    (``trial``/``hand``/``status`` from the event); rows summarising several
    trials (``row == "summary"``) are not produced, as they need the whole recording.
    """
    rows, error, _ = _process(Path(path), params, analyzer, name or Path(path).name, by_trial)
    return rows, error


def _process(
    path: Path,
    params: dict[str, Any] | None,
    analyzer: str,
    name: str,
    by_trial: bool = False,
) -> tuple[list[dict[str, Any]], str | None, list[str]]:
    from ..recording import RecordingError
    from ..storage.bids import read_recording

    caught: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            analyze = _load_callable(analyzer)
            rec = None
            if by_trial:
                rec, found = _analyze_by_trial(path, analyze, params)
            if rec is None:
                rec = read_recording(path)
                found = metric_rows(analyze(rec, params))
        caught = sorted({_clean_message(str(w.message)) for w in record})
    except (MotorlabError, RecordingError, OSError, ValueError) as exc:
        return [], _clean_message(one_line(exc)), caught
    except Exception as exc:  # noqa: BLE001 - a bug in one analysis must not stop the batch: it becomes an error row
        return [], _clean_message(f"{type(exc).__name__} in analysis: {one_line(exc)}"), caught
    ids = _id_columns(rec, name)
    rows = []
    for r in found:
        row = dict(ids)
        row.update({k: _plain(v) for k, v in r.items() if k not in ids})
        rows.append(row)
    return rows, None, caught


def read_layout(path: str | Path) -> Recording:
    """A recording's channels, rate, metadata and events with no samples (sidecars only)."""
    from ..recording import Recording
    from ..storage import bids
    from ..storage.integrity import merge_flags

    head = bids.read_header(path)
    if not head.has_latency:
        raise MotorlabError(f"{head.motion_path}: first channel must be LATENCY for trial-by-trial reading")
    channels, fs, metadata, events = head.data_channels, head.sampling_rate, head.metadata, head.events
    if head.flags:  # what the sidecars showed (e.g. unit_converted) reaches every trial row
        extra = dict(metadata.extra)
        extra["quality_flags"] = merge_flags(extra.get("quality_flags") or [], head.flags)
        metadata = metadata.replace(extra=extra)
    return Recording(np.zeros(0), np.zeros((0, len(channels))), channels, fs, metadata, events)


def _analyze_by_trial(
    path: Path, analyze: Callable[..., Any], params: dict[str, Any] | None
) -> tuple[Any, list[dict[str, Any]]]:
    """Stream the samples once and analyse each trial window alone, so memory stays at
    one chunk plus one trial whatever the recording length. Returns ``(None, [])`` when
    the recording has no trial events (the caller then reads it whole)."""
    from ..storage.bids import iter_motion_rows

    layout = read_layout(path)
    trials = sorted(layout.events_of("trial"), key=lambda e: e.onset)
    if not trials:
        warnings.warn(f"{path.name}: no trial events; analysed as a whole", stacklevel=2)
        return None, []
    # window of each trial: its duration, or up to the next trial when it has none
    ends = [
        t.onset + t.duration
        if np.isfinite(t.duration) and t.duration > 0
        else (trials[i + 1].onset if i + 1 < len(trials) else np.inf)
        for i, t in enumerate(trials)
    ]
    n_cols = len(layout.channels) + 1
    rows: list[dict[str, Any]] = []
    k = 0  # index of the next trial to finish
    pending: list[np.ndarray] = []  # chunks overlapping trials not yet finished
    for chunk in iter_motion_rows(path):
        if chunk.shape[1] != n_cols:
            raise MotorlabError(
                f"{path}: {chunk.shape[1]} columns but _channels.tsv lists {n_cols - 1} channels"
            )
        pending.append(chunk)
        last_t = chunk[-1, 0]
        while k < len(trials) and ends[k] <= last_t:
            rows += _analyze_window(layout, trials[k], ends[k], pending, analyze, params)
            k += 1
        # keep only what later trials can still need
        start = min((t.onset for t in trials[k:]), default=np.inf)
        pending = [c for c in pending if c[-1, 0] >= start]
    for trial, end in zip(trials[k:], ends[k:]):  # trials running past the last sample
        rows += _analyze_window(layout, trial, end, pending, analyze, params)
    return layout, rows


def _analyze_window(
    layout: Recording,
    trial: Any,
    end: float,
    chunks: list[np.ndarray],
    analyze: Callable[..., Any],
    params: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    t0, t1 = trial.onset, end
    parts = [c[(c[:, 0] >= t0) & (c[:, 0] < t1)] for c in chunks]
    arr = np.concatenate(parts) if parts else np.zeros((0, len(layout.channels) + 1))
    events = [e for e in layout.events if e is trial or (e.trial_type != "trial" and t0 <= e.onset < t1)]
    window = dataclasses.replace(layout, timestamps=arr[:, 0], data=arr[:, 1:], events=events)
    ids = {k: trial.extra[k] for k in ("trial", "hand", "status") if k in trial.extra}
    return [{**r, **ids} for r in metric_rows(analyze(window, params)) if r.get("row") != "summary"]


def run_task(task: BatchTask) -> RecordingResult:
    """Hash, look up the cache, analyse if needed, store in the cache (runs in a worker)."""
    t0 = time.perf_counter()
    path = Path(task.path)
    res = RecordingResult(task.name, task.path)
    try:
        res.inputs = hash_inputs(path)
    except OSError as exc:
        res.error = _clean_message(one_line(exc))
        return res
    cache_file = None
    if task.cache_dir is not None:
        try:
            parameters = analysis_parameters(task.params, task.analyzer)
        except MotorlabError as exc:
            res.error = _clean_message(one_line(exc))
            return res
        res.cache_key = cache_key(res.inputs, parameters, task.analyzer, task.by_trial, task.code or None)
        cache_file = Path(task.cache_dir) / res.cache_key[:2] / f"{res.cache_key}.json"
        cached = _cache_read(cache_file)
        if cached is not None:
            res.rows = [dict(r, recording=task.name) for r in cached["rows"]]
            res.warnings, res.cached = cached.get("warnings", []), True
            res.seconds = time.perf_counter() - t0
            return res
    res.rows, res.error, res.warnings = _process(path, task.params, task.analyzer, task.name, task.by_trial)
    if cache_file is not None and res.error is None:
        entry = {"rows": res.rows, "warnings": res.warnings, "inputs": res.inputs, "code": task.code}
        _cache_write(cache_file, entry)
    res.seconds = time.perf_counter() - t0
    return res


def _cache_read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # missing or damaged entry: recompute


def _cache_write(path: Path, obj: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(obj))
    except OSError:
        pass  # a read-only cache only costs speed


# ----------------------------------------------------------------- discovery
def collect_recordings(paths: Iterable[str | Path]) -> tuple[list[tuple[str, Path]], list[dict[str, str]]]:
    """``(name, motion_tsv)`` for every recording under ``paths`` plus errors for unusable paths.

    Names are relative to the folder argument they were found under (a file
    argument gives its own file name), so tables do not depend on where the
    dataset lives. Folders are walked by :func:`motorlab.storage.walk.walk_recordings`:
    directory links are followed (each folder once), unreadable folders and absent
    git-annex content become error rows, and the returned paths are the *link* paths
    (the sidecars of a DataLad dataset lie next to the link, not next to its target).
    A recording reached twice (same folder through a link) is analysed once.
    """
    from ..storage.walk import walk_recordings

    found: dict[tuple[Path, str], tuple[str, Path]] = {}
    errors = []
    for arg in paths:
        arg = Path(arg)
        try:
            files, problems = walk_recordings(arg)
        except (MotorlabError, OSError) as exc:
            errors.append({"recording": str(arg), "level": "error", "message": _clean_message(one_line(exc))})
            continue
        for pr in problems:
            rel = (
                pr.path.relative_to(arg).as_posix()
                if pr.path.is_relative_to(arg) and pr.path != arg
                else str(arg)
            )
            errors.append({"recording": rel, "level": pr.level, "message": _clean_message(pr.message)})
        for f in files:
            name = f.relative_to(arg).as_posix() if f.is_relative_to(arg) and f != arg else f.name
            try:
                key = (f.parent.resolve(), f.name)
            except OSError:
                key = (f.parent, f.name)
            found.setdefault(key, (name, f))
    names = [n for n, _ in found.values()]
    dupes = {n for n in names if names.count(n) > 1}
    pairs = [(str(p) if n in dupes else n, p) for n, p in found.values()]
    return sorted(pairs, key=lambda x: x[0]), errors


# ----------------------------------------------------------------- executors
def _run_local(
    tasks: list[BatchTask], jobs: int, on_done: Callable[[RecordingResult], None]
) -> list[RecordingResult]:
    if jobs <= 1 or len(tasks) <= 1:
        out = []
        for t in tasks:
            out.append(run_task(t))
            on_done(out[-1])
        return out
    from .lifeline import bind_to_parent

    results: list[RecordingResult] = []
    pool = cf.ProcessPoolExecutor(max_workers=jobs, initializer=bind_to_parent)
    try:
        futures = {pool.submit(run_task, t): t for t in tasks}
        for fut in cf.as_completed(futures):
            try:
                results.append(fut.result())
            except cf.process.BrokenProcessPool:
                break
            on_done(results[-1])
    except BaseException:  # Ctrl-C or an error here: stop the workers now, not after their tasks
        pool.shutdown(wait=False, cancel_futures=True)
        _terminate_workers(pool)
        raise
    pool.shutdown(wait=True)
    done = {r.path for r in results}
    left = [t for t in tasks if t.path not in done]
    if left:  # a worker died (killed, out of memory): each remaining recording in a process of its own
        with cf.ThreadPoolExecutor(max_workers=jobs) as threads:
            for res in threads.map(_run_isolated, left):
                results.append(res)
                on_done(res)
    return results


def _run_isolated(task: BatchTask) -> RecordingResult:
    """Run one task in a fresh worker process, so a process that dies names its recording."""
    from .lifeline import bind_to_parent

    with cf.ProcessPoolExecutor(max_workers=1, initializer=bind_to_parent) as pool:
        try:
            return pool.submit(run_task, task).result()
        except cf.process.BrokenProcessPool:
            return RecordingResult(
                task.name,
                task.path,
                error=f"{task.path}: the analysis process died on this recording (killed, crashed or "
                "out of memory)",
            )


def _terminate_workers(pool: cf.ProcessPoolExecutor) -> None:
    terminate = getattr(pool, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        proc.terminate()


def _run_dask(
    tasks: list[BatchTask],
    scheduler: str | None,
    jobs: int,
    on_done: Callable[[RecordingResult], None],
    timeout_s: float = 10.0,
    dashboard: str | None = None,
) -> tuple[list[RecordingResult], dict[str, Any]]:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ModuleNotFoundError:
        raise MotorlabError("dask.distributed is not installed (pip install 'motorlab[cluster]')") from None
    with _quiet_logs(logging.ERROR, "distributed", "tornado", "bokeh"):
        return _dask_map(
            Client, LocalCluster, as_completed, tasks, scheduler, jobs, on_done, timeout_s, dashboard
        )


def _dask_map(
    Client: Any,  # the dask.distributed classes, imported by the caller
    LocalCluster: Any,
    as_completed: Any,
    tasks: list[BatchTask],
    scheduler: str | None,
    jobs: int,
    on_done: Callable[[RecordingResult], None],
    timeout_s: float,
    dashboard: str | None,
) -> tuple[list[RecordingResult], dict[str, Any]]:
    from .lifeline import ignoring_sigint

    cluster = None
    if scheduler is None:  # a private cluster on loopback only, quiet, no dashboard unless asked
        # its workers ignore Ctrl-C (the inherited disposition survives exec): this process
        # handles it once and closes the cluster
        with warnings.catch_warnings(), ignoring_sigint():
            warnings.filterwarnings("ignore", message="Port .* is already in use")
            cluster = LocalCluster(
                n_workers=max(1, jobs),
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=dashboard,
                scheduler_kwargs={"dashboard": dashboard is not None},
                silence_logs=logging.CRITICAL,  # a worker racing the shutdown must not print a traceback
            )
        address = cluster.scheduler_address
    else:
        address = scheduler
    try:
        try:
            client = Client(address, timeout=f"{timeout_s}s")
        except (OSError, TimeoutError) as exc:
            raise MotorlabError(f"cannot connect to Dask scheduler {address}: {one_line(exc)}") from None
        with client:
            info = {
                "kind": "dask",
                "scheduler": address if scheduler else "LocalCluster(127.0.0.1)",
                "workers": len(client.scheduler_info().get("workers", {})),
            }
            if cluster is not None and dashboard is not None:
                info["dashboard"] = cluster.dashboard_link
            futures = client.map(run_task, tasks, pure=False)
            results = []
            try:
                for fut in as_completed(futures):
                    results.append(fut.result())
                    on_done(results[-1])
                    fut.release()
            except BaseException:  # Ctrl-C: the shutdown that follows must not print tracebacks
                for name in ("distributed", "tornado", "asyncio"):
                    logging.getLogger(name).setLevel(logging.CRITICAL)
                client.cancel(futures)
                raise
    finally:
        if cluster is not None:
            with _quiet_logs(logging.CRITICAL, "distributed", "tornado", "asyncio"):
                cluster.close()
    return results, info


@contextlib.contextmanager
def _quiet_logs(level: int, *names: str) -> Iterator[None]:
    """Raise these loggers to ``level`` for the block (Dask logs its start-up at INFO; a
    cluster shutting down after Ctrl-C logs its cancelled tasks)."""
    loggers = [logging.getLogger(n) for n in names]
    before = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(max(level, lg.getEffectiveLevel()))
    try:
        yield
    finally:
        for lg, old in zip(loggers, before):
            lg.setLevel(old)


def _progress(total: int, enabled: bool | None):
    """A rich progress bar with ETA on stderr (only when stderr is a terminal, unless forced)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    show = console.is_terminal if enabled is None else enabled
    return Progress(
        TextColumn("analysing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("elapsed"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        disable=not show,
        transient=False,
    )


# ----------------------------------------------------------------- public API
def analyze_batch(
    paths: str | Path | Sequence[str | Path],
    params: Mapping[str, Any] | AnalysisParams | None = None,
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    dask: bool = False,
    cache_dir: str | Path | None = None,
    progress: bool | None = False,
    analyzer: str = DEFAULT_ANALYZER,
    by_trial: bool = False,
    scheduler_timeout_s: float = 10.0,
    dashboard: str | None = None,
    provenance_columns: bool = False,
) -> BatchResult:
    """Analyse every recording under ``paths`` (BIDS datasets, folders or files).

    Args:
        paths: one or more dataset roots, folders or recording files.
        params: analysis parameters, nested by section (:class:`~motorlab.analysis.params.AnalysisParams`).
        jobs: local worker processes (default: all cores); with ``dask=True`` the
            number of workers of the private LocalCluster.
        scheduler: address of an existing Dask scheduler (``tcp://host:port``).
        dask: run on Dask (a private LocalCluster on 127.0.0.1 unless ``scheduler``).
        cache_dir: folder of cached per-recording results; ``None`` disables the cache.
        progress: rich progress bar on stderr; ``None`` = only when stderr is a terminal.
        analyzer: ``"module:function"`` taking ``(recording, params)`` and returning a
            :class:`~motorlab.analysis.results.RecordingMetrics` (or one dict per row).
        by_trial: analyse each trial window alone with flat memory (see :func:`process_one`).
        scheduler_timeout_s: how long to try to reach the Dask scheduler.
        provenance_columns: add ``from_cache`` (bool) and ``code_fingerprint`` (first 16 hex
            digits of :func:`code_fingerprint`) to every row; the provenance file always has both.
        dashboard: address of the private LocalCluster's dashboard (e.g. ``127.0.0.1:8787``);
            ``None`` (default) starts none.

    Returns:
        :class:`BatchResult` with rows sorted by recording name then trial order.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    jobs = max(1, jobs or os.cpu_count() or 1)
    started = _dt.datetime.now(_dt.timezone.utc)
    parameters = analysis_parameters(params, analyzer)
    found, path_errors = collect_recordings(paths)
    if not found and path_errors:
        raise MotorlabError(path_errors[0]["message"])
    if not found:
        raise MotorlabError(f"{', '.join(map(str, paths))}: no recordings (*_motion.tsv) found")
    cache = None if cache_dir is None else str(Path(cache_dir).resolve())
    code = code_fingerprint()
    tasks = [BatchTask(str(p), name, parameters, analyzer, cache, by_trial, code) for name, p in found]
    t0 = time.perf_counter()
    with _progress(len(tasks), progress) as bar:
        task_id = bar.add_task("analysing", total=len(tasks))

        def on_done(_: RecordingResult) -> None:
            bar.advance(task_id)

        if dask or scheduler is not None:
            results, executor = _run_dask(tasks, scheduler, jobs, on_done, scheduler_timeout_s, dashboard)
        else:
            results = _run_local(tasks, jobs, on_done)
            executor = {"kind": "processes" if jobs > 1 and len(tasks) > 1 else "serial", "jobs": jobs}
    wall = time.perf_counter() - t0
    results.sort(key=lambda r: r.name)
    rows = [row for r in results for row in r.rows]
    if provenance_columns:  # opt-in: the default table is byte-identical whether cached or not
        rows = [
            {**row, "from_cache": r.cached, "code_fingerprint": code[:16]} for r in results for row in r.rows
        ]
    errors = list(path_errors)
    for r in results:
        if r.error is not None:
            errors.append({"recording": r.name, "level": "error", "message": r.error})
        else:
            if not r.rows:
                errors.append({"recording": r.name, "level": "warning", "message": "no trials found"})
            errors.extend({"recording": r.name, "level": "warning", "message": w} for w in r.warnings)
    provenance = {
        "software": {
            "motorlab": __version__,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "numpy": _version_of("numpy"),
            "scipy": _version_of("scipy"),
        },
        "code_fingerprint": code,
        "created_utc": started.isoformat(timespec="seconds"),
        "command": " ".join(sys.argv) if sys.argv and sys.argv[0] else None,
        "analyzer": analyzer,
        "by_trial": by_trial,
        "parameters": parameters,
        "executor": executor,
        "inputs": {
            r.name: {
                "files": r.inputs,
                "cache_key": r.cache_key or None,
                "status": "error" if r.error else ("cached" if r.cached else "analysed"),
                "code_fingerprint": None if r.error else code,
            }
            for r in results
        },
        "counts": {
            "recordings": len(results),
            "rows": len(rows),
            "errors": sum(e["level"] == "error" for e in errors),
            "warnings": sum(e["level"] == "warning" for e in errors),
            "cached": sum(r.cached for r in results),
        },
        "wall_seconds": round(wall, 3),
    }
    return BatchResult(rows, errors, results, provenance)


def _version_of(module: str) -> str | None:
    try:
        return importlib.import_module(module).__version__
    except (ModuleNotFoundError, AttributeError):
        return None


# ----------------------------------------------------------------- tables
def table_columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Identification columns first, then every other key in order of first appearance."""
    cols = [c for c in ID_COLUMNS if any(c in r for r in rows)]
    seen = set(cols)
    for r in rows:
        for k in r:
            if k not in seen:
                seen.add(k)
                cols.append(k)
    return cols


def _cell(v: Any) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return "n/a" if math.isnan(v) else repr(v)
    if isinstance(v, (list, dict)):
        return json.dumps(v)
    return str(v)


def write_table(
    rows: Sequence[dict[str, Any]], path: str | Path, columns: Sequence[str] | None = None
) -> Path:
    """Write rows as CSV (missing values ``n/a``, floats at full precision)."""
    cols = list(columns) if columns is not None else table_columns(rows)
    path = Path(path)
    with atomic_open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            w.writerow([_cell(r.get(c)) for c in cols])
    return path


def read_table(path: str | Path) -> list[dict[str, str]]:
    """Read a table written by :func:`write_table` (values stay strings)."""
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
