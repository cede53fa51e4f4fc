"""The fault table of docs/reliability.md, driven for real.

* Damaged recordings (:data:`faults_cases.CASES`): a dataset of one good grip recording and
  one damaged recording goes through the real ``motorlab analyze`` command. A file fault
  must be an error row naming the damaged file, a signal fault a named quality flag on its
  rows (or a warning row); the good recording is analysed either way; exit status 1 only
  for errors; every line on stderr is one ``motorlab: ...`` line, never a traceback.
* Bad command lines (:data:`CLI_CASES`): one line naming the file/option and the problem,
  exit status 2, before any work is done.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from motorlab.cli.main import main
from motorlab.sim.dataset import simulate_recording
from motorlab.storage.bids import write_recording

from .faults_cases import CASES, Case


def _dataset(root: Path, task: str) -> tuple[Path, Path]:
    good = write_recording(simulate_recording("grip", "G01", "01", seed=1).recording, root)
    bad = write_recording(simulate_recording(task, "B01", "01", seed=2).recording, root)
    return good, bad


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _stderr_lines(err: str) -> list[str]:
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert all(ln.startswith("motorlab: ") for ln in lines), err
    return lines


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_damaged_recording_in_a_batch(case: Case, tmp_path, capsys):
    root = tmp_path / "ds"
    _, bad = _dataset(root, case.task)
    case.damage(bad)
    out = tmp_path / "out" / "results.csv"
    code = main(["analyze", str(root), "--out", str(out), "--no-cache", "--jobs", "1"])
    lines = _stderr_lines(capsys.readouterr().err)
    rows = _read_csv(out)
    errors = _read_csv(out.with_name("results_errors.csv"))
    assert {r["participant"] for r in rows} >= {"G01"}  # the rest of the batch completed
    assert not [e for e in errors if "G01" in e["recording"] and e["level"] == "error"]
    bad_name = bad.relative_to(root).as_posix()
    if case.outcome == "error":
        assert code == 1
        (err,) = [e for e in errors if e["level"] == "error"]
        assert err["recording"] == bad_name
        assert case.match in err["message"]
        assert "\n" not in err["message"]
        # the terminal line names the file (its path, or the recording's name beside it)
        (line,) = [ln for ln in lines if ln.startswith("motorlab: error: ")]
        assert bad.name.split("_motion")[0] in line
        assert not [r for r in rows if r["participant"] == "B01"]  # nothing half-analysed
    else:
        assert code == 0
        mine = [r for r in rows if r["participant"] == "B01"]
        assert mine, "the damaged recording must still give its rows"
        flags = {f for r in mine for f in r["quality_flags"].split(";") if f}
        notes = [e["message"] for e in errors if e["recording"] == bad_name]
        assert case.match in flags or any(case.match in n for n in notes), (flags, notes)


# ------------------------------------------------------------------ command lines
@dataclass(frozen=True)
class CliCase:
    """A bad command line: ``argv(tmp_path)`` must fail with exit 2 and one line holding ``match``."""

    id: str
    argv: Callable[[Path], list[str]]
    match: str
    what: str


def _params(text: str | bytes) -> Callable[[Path], list[str]]:
    def argv(tmp: Path) -> list[str]:
        root = tmp / "ds"
        _dataset(root, "grip")
        p = tmp / "params.json"
        p.write_bytes(text if isinstance(text, bytes) else text.encode())
        return ["analyze", str(root), "--params", str(p), "--out", str(tmp / "r.csv")]

    return argv


def _analyze(*extra: str, dataset: bool = True) -> Callable[[Path], list[str]]:
    def argv(tmp: Path) -> list[str]:
        root = tmp / "ds"
        if dataset:
            _dataset(root, "grip")
        else:
            root.mkdir()
        return ["analyze", str(root), *(e.replace("{tmp}", str(tmp)) for e in extra)]

    return argv


def _record(*extra: str, device: str = "sim://grip?seed=1") -> Callable[[Path], list[str]]:
    def argv(tmp: Path) -> list[str]:
        args = [e.replace("{tmp}", str(tmp)) for e in extra]
        out = [] if "--out" in args else ["--out", str(tmp / "clinic")]
        return [
            "record",
            "grip",
            "--device",
            device,
            "--participant",
            "P001",
            "--new",  # these cases are about other faults: the ID is not registered on purpose
            "--yes",
            "--no-live",
            *out,
            *args,
        ]

    return argv


def _file_then(make: Callable[[Path], None], *cmd: str) -> Callable[[Path], list[str]]:
    def argv(tmp: Path) -> list[str]:
        make(tmp)
        return [c.replace("{tmp}", str(tmp)) for c in cmd]

    return argv


def _then(make: Callable[[Path], object], argv: Callable[[Path], list[str]]) -> Callable[[Path], list[str]]:
    def both(tmp: Path) -> list[str]:
        make(tmp)
        return argv(tmp)

    return both


def _unfinished_with_bad_sidecar(tmp: Path) -> None:
    m = write_recording(simulate_recording("grip", "R01", "01", seed=3).recording, tmp / "ds")
    side = m.with_name(m.name.replace("_motion.tsv", "_motion.json"))
    side.write_text(side.read_text().replace('"complete"', '"recording"')[:60])


CLI_CASES: tuple[CliCase, ...] = (
    CliCase(
        "params-missing",
        lambda t: [*_analyze()(t), "--params", str(t / "nope.json")],
        "nope.json",
        "`--params` file missing",
    ),
    CliCase("params-not-json", _params("{oops"), "not valid JSON", "`--params` file not JSON"),
    CliCase(
        "params-list", _params("[1, 2]"), "must be a mapping of sections", "`--params` holds a JSON list"
    ),
    CliCase("params-number", _params("42"), "must be a mapping of sections", "`--params` holds a number"),
    CliCase(
        "params-section-unknown",
        _params('{"grp": {}}'),
        "unknown analysis parameter section 'grp'",
        "unknown parameter section",
    ),
    CliCase(
        "params-name-unknown",
        _params('{"grip": {"treshold": 5}}'),
        "unknown analysis parameter grip.treshold",
        "misspelt parameter name",
    ),
    CliCase(
        "params-text-for-number",
        _params('{"grip": {"onset_threshold_n": "high"}}'),
        "grip.onset_threshold_n must be a finite number",
        "text where a number belongs",
    ),
    CliCase(
        "params-bool-for-number",
        _params('{"grip": {"onset_threshold_n": true}}'),
        "must be a finite number",
        "`true` where a number belongs",
    ),
    CliCase(
        "params-nan",
        _params('{"grip": {"onset_threshold_n": NaN}}'),
        "must be a finite number",
        "NaN parameter",
    ),
    CliCase(
        "params-infinite",
        _params('{"grip": {"onset_threshold_n": 1e999}}'),
        "must be a finite number",
        "infinite parameter",
    ),
    CliCase(
        "params-band-reversed",
        _params('{"tremor": {"band_hz": [12, 3]}}'),
        "0 <= low < high",
        "frequency band high < low",
    ),
    CliCase(
        "params-band-negative",
        _params('{"tremor": {"band_hz": [-3, 12]}}'),
        "0 <= low < high",
        "negative band edge",
    ),
    CliCase(
        "params-band-three",
        _params('{"tremor": {"band_hz": [1, 2, 3]}}'),
        "two numbers [low, high]",
        "band of three numbers",
    ),
    CliCase("params-section-list", _params('{"grip": [1]}'), "must be a mapping", "a section that is a list"),
    CliCase(
        "params-int-float",
        _params('{"smoothness": {"min_samples": 2.5}}'),
        "smoothness.min_samples",
        "a fraction where a count belongs",
    ),
    CliCase(
        "params-not-utf8", _params(b'{"grip": {"x\xe4": 1}}'), "not a UTF-8 text file", "`--params` not UTF-8"
    ),
    CliCase(
        "params-is-folder",
        lambda t: [*_analyze()(t), "--params", str(t)],
        "Is a directory",
        "`--params` is a folder",
    ),
    CliCase(
        "analyze-missing-path",
        lambda t: ["analyze", str(t / "nothere")],
        "nothere: no such file or folder",
        "analyze a path that does not exist",
    ),
    CliCase(
        "analyze-empty-folder",
        _analyze(dataset=False),
        "no recordings (*_motion.tsv) found",
        "analyze a folder without recordings",
    ),
    CliCase(
        "analyze-not-bids",
        _file_then(lambda t: (t / "notes.txt").write_text("hello"), "analyze", "{tmp}/notes.txt"),
        "notes.txt: not a BIDS motion file",
        "analyze a file that is not a recording",
    ),
    CliCase(
        "analyzer-missing",
        _analyze("--analyzer", "nosuchmodule:run"),
        "nosuchmodule",
        "`--analyzer` module that does not exist",
    ),
    CliCase("jobs-zero", _analyze("--jobs", "0"), "--jobs must be at least 1", "`--jobs 0`"),
    CliCase("jobs-negative", _analyze("--jobs", "-4"), "--jobs must be at least 1", "`--jobs -4`"),
    CliCase(
        "dashboard-without-dask",
        _analyze("--dashboard", "127.0.0.1:8787"),
        "--dashboard needs --dask",
        "`--dashboard` without `--dask`",
    ),
    CliCase(
        "out-is-folder",
        _analyze("--out", "{tmp}", "--no-cache"),
        "cannot write results",
        "`--out` is an existing folder",
    ),
    CliCase(
        "out-unwritable",
        _analyze("--out", "/proc/motorlab.csv", "--no-cache"),
        "cannot write results",
        "`--out` where nothing can be written (/proc)",
    ),
    CliCase(
        "record-acq-time",
        _record("--acq-time", "yesterday"),
        "--acq-time 'yesterday' is not an ISO",
        "`--acq-time` not a date",
    ),
    CliCase(
        "record-unknown-sim",
        _record(device="sim://toaster"),
        "toaster",
        "a `sim://` device that does not exist",
    ),
    CliCase("record-trials-zero", _record("--trials", "0"), "trials must be at least 1", "`--trials 0`"),
    CliCase(
        "record-squeeze-negative",
        _record("--squeeze", "-2"),
        "--squeeze must be a positive number of seconds",
        "a negative squeeze window",
    ),
    CliCase(
        "record-countdown-negative",
        _record("--countdown", "-1"),
        "--countdown must be a number of seconds >= 0",
        "a negative countdown",
    ),
    CliCase(
        "record-squeeze-nan",
        _record("--squeeze", "nan"),
        "--squeeze must be a positive number",
        "`--squeeze nan`",
    ),
    CliCase(
        "record-rate-negative",
        _record("--rate", "-50"),
        "--rate must be a positive number of Hz",
        "a negative sampling rate",
    ),
    CliCase(
        "record-out-is-file",
        _then(lambda t: (t / "f").write_text("x"), _record("--out", "{tmp}/f")),
        "cannot write",
        "`--out` (the clinic folder) is a file",
    ),
    CliCase(
        "recover-missing",
        lambda t: ["recover", str(t / "gone")],
        "gone: no such file or folder",
        "recover a path that does not exist",
    ),
    CliCase(
        "recover-bad-sidecar",
        _file_then(_unfinished_with_bad_sidecar, "recover", "{tmp}/ds"),
        "_motion.json: missing or not valid JSON",
        "recover a recording whose sidecar is cut short",
    ),
)


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.id for c in CLI_CASES])
def test_bad_command_line_is_one_line(case: CliCase, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(case.argv(tmp_path))
    captured = capsys.readouterr()
    lines = _stderr_lines(captured.err)
    assert code == 2, captured
    assert len(lines) == 1, lines
    assert case.match in lines[0], lines[0]
    assert not list(tmp_path.rglob("results*.csv")) and not list((tmp_path / "clinic").rglob("*_motion.tsv"))


def test_every_case_is_in_the_docs_table():
    doc = (Path(__file__).parent.parent / "docs" / "reliability.md").read_text()
    for c in (*CASES, *CLI_CASES):
        assert f"`{c.id}`" in doc, c.id


def test_every_test_the_docs_table_names_exists():
    """The table's last column names real tests (file::function, parameters stripped)."""
    import re

    tests = Path(__file__).parent
    doc = (tests.parent / "docs" / "reliability.md").read_text()
    named = set(re.findall(r"`(test_\w+\.py)::(\w+)", doc))
    assert len(named) > 40
    for module, func in sorted(named):
        source = (tests / module).read_text()
        assert re.search(rf"^(async )?def {func}\(", source, re.MULTILINE), f"{module}::{func}"
