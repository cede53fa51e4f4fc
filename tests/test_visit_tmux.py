"""A whole child visit through the real CLI in a real terminal (tmux) against the emulators.

A therapist registers a 9-year-old, left-dominant client, then records maximal grip with both
hands pressing SPACE for each trial, one ``x`` (invalid: one replacement) and one ``r``
(repeat), a sustained grip, tip/key/palmar pinch, a Nine-Hole-Peg timing with SPACE
start/stop, handwriting, a spiral and a tremor hold, sets a goal and comes back for a second
session. Every step's screen is read with ``tmux capture-pane`` and checked: trial numbering
("trial n of N", never past N), the live force scale in kg, the pen-down indicator, the
child's sentence and instructions, and readable summaries. Timing is shortened with the
commands' own options (--countdown, --squeeze, --rest, --hold, --duration, --time-limit).
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from motorlab.analysis.dexterity import analyze_dexterity
from motorlab.analysis.recording_metrics import analyze_recording
from motorlab.storage.bids import find_recordings, read_recording
from motorlab.storage.notes import read_notes

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")

CLIENT = "C0101"
TITLE = re.compile(r"trial (\d+) of (\d+)")


class Tmux:
    """One private tmux server; each command runs in its own window and its screen is read."""

    def __init__(self, env: dict[str, str]):
        self.sock = f"visit-{uuid.uuid4().hex[:8]}"
        self.env = env
        self.n = 0
        self.window = ""
        self.titles: list[tuple[int, int]] = []
        self._tmux(
            "-f", "/dev/null", "new-session", "-d", "-s", "visit", "-x", "110", "-y", "50", "sleep 600"
        )
        self._tmux("set-option", "-g", "default-size", "110x50")  # every new window is 110x50

    def _tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.sock, *args], check=True, capture_output=True, text=True
        ).stdout

    def run(self, *args: str) -> None:
        """Start ``motorlab ARGS`` in a new window; the window stays open after it ends."""
        self.n += 1
        self.window = f"w{self.n}"
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env.items())
        cmd = " ".join(shlex.quote(c) for c in (sys.executable, "-m", "motorlab", *args))
        shell = f"unset COLUMNS LINES; export {exports}; {cmd}; echo EXIT-STATUS-$?; sleep 600"
        self._tmux("new-window", "-t", "visit", "-n", self.window, shell)

    def screen(self, history: bool = False) -> str:
        """The visible screen (with ``history``: plus up to 300 lines of scrollback)."""
        more = ("-S", "-300") if history else ()
        text = self._tmux("capture-pane", "-p", "-J", *more, "-t", f"visit:{self.window}")
        self.titles += [(int(a), int(b)) for a, b in TITLE.findall(text)]
        return text

    def wait(self, *needles: str, timeout: float = 60.0) -> str:
        """The screen once every needle is on it (AssertionError with the screen otherwise)."""
        end = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < end:
            screen = self.screen()
            if all(n in screen for n in needles):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{needles!r} not all on screen of {self.window}; last screen:\n{screen}")

    def wait_regex(self, pattern: str, timeout: float = 60.0) -> re.Match[str]:
        end = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < end:
            screen = self.screen()
            if m := re.search(pattern, screen):
                return m
            time.sleep(0.1)
        raise AssertionError(f"/{pattern}/ not on screen of {self.window}; last screen:\n{screen}")

    def done(self, timeout: float = 90.0) -> str:
        """The whole output (scrollback included) once the command ended successfully."""
        self.wait("EXIT-STATUS-", timeout=timeout)
        screen = self.screen(history=True)
        assert "EXIT-STATUS-0" in screen, screen
        assert "Traceback" not in screen, screen
        return screen

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", f"visit:{self.window}", *keys)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], capture_output=True)


def _press_space_until_done(t: Tmux, timeout: float = 120.0) -> str:
    """Start every trial with SPACE when asked, until the command ends."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        screen = t.screen()
        if "EXIT-STATUS-" in screen:
            return t.done()
        if _asks_for_space(screen):
            t.keys("Space")
            time.sleep(0.4)
        time.sleep(0.1)
    raise AssertionError(f"did not finish; last screen:\n{t.screen()}")


def _asks_for_space(screen: str) -> bool:
    """The live panel (the last one drawn) asks for SPACE."""
    panel = screen.rsplit("╭", 1)[-1]
    return "Press SPACE" in panel


def _summary_lines_ok(screen: str) -> None:
    """Summaries are readable: no raw snake_case metric keys, no nan, at most 100 wide."""
    tail = screen.split("saved", 1)[-1].split("EXIT-STATUS-")[0]
    tail = tail.split(" link gaps, calibration ", 1)[-1]  # after the saved file's path and counts
    lines = [line for line in tail.splitlines()[1:] if "code/motorlab/" not in line]
    text = "\n".join(lines)
    assert not re.search(r"\bnan\b", text.lower()), text
    assert not re.search(r"\b[a-z]+_[a-z]+\b", text), text
    assert max(len(line.rstrip()) for line in lines) <= 100, text


@pytest.mark.slow
def test_whole_child_visit_in_tmux(tmp_path):
    data = tmp_path / "clinic"
    env = {
        "MOTORLAB_DATA": str(data),
        "MOTORLAB_CONFIG_DIR": str(tmp_path / "config"),  # no stored calibration applies
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    t = Tmux(env)
    started = time.monotonic()
    try:
        # -- register: a name-like ID is refused, the code is accepted ----------------------
        t.run("client", "add", "Emma2017", "--birth-year", "2017", "--sex", "F", "--dominant", "left")
        screen = t.wait("EXIT-STATUS-")
        assert "looks like a name" in screen and "EXIT-STATUS-2" in screen
        t.run("client", "add", CLIENT, "--birth-year", "2017", "--sex", "F", "--dominant", "left")
        t.done()
        # a typo in the ID is refused with a hint, nothing is recorded
        t.run("record", "grip", "--device", "sim://grip", "--participant", "C0110", "--yes")
        screen = t.wait("EXIT-STATUS-")
        assert "not a registered client" in screen and "motorlab client add C0110" in screen
        week_ago = "2026-11-20T10:00"

        # -- grip, both hands, SPACE per trial, one x and one r -------------------------------
        t.run(
            "record", "grip", "--device", "sim://grip?seed=4&peak_n=150", "--participant", CLIENT,
            "--hand", "both", "--trials", "2", "--countdown", "1", "--squeeze", "2.5", "--rest", "1.5",
            "--acq-time", week_ago,
        )  # fmt: skip
        screen = t.wait("Press SPACE", "trial 0 of 4")
        # the live view: force in kg on a fixed, labelled scale; the child's instructions;
        # --hand defaults... here both: the dominant (left) hand comes first
        assert "left hand" in screen and "kg ┤" in screen and "0 kg └" in screen
        assert "best before" in screen and "none recorded" in screen
        t.keys("Space")
        screen = t.wait("trial 1 of 4", "Squeeze! Squeeze!")
        assert "(squeeze)" in screen and "left hand" in screen
        t.keys("x")  # trial 1 invalid: one replacement, the total grows to 5
        screen = t.wait("trial 1 of 5 (left hand) marked invalid — one replacement trial added")
        assert "trial 1 of 5" in screen
        t.wait("Great job! Shake it out and rest.")
        t.wait("Press SPACE")
        t.keys("Space")  # the replacement (left hand) comes before the right hand's first trial
        t.wait("trial 2 of 5", "Squeeze! Squeeze!", "left hand")
        t.keys("r")  # repeat it: it stops, one replacement, total 6; one rest only
        t.wait("trial 2 of 6 (left hand) will be repeated after the rest")
        t.keys("n")  # a note, typed while the task runs on
        t.wait("note: ▏")
        t.keys("-l", "let go early")
        t.keys("Enter")
        t.wait("note kept: let go early")
        screen = _press_space_until_done(t)
        _summary_lines_ok(screen)
        assert re.search(r"left hand: mean of 2 valid = \d+\.\d kg", screen), screen
        assert "no norm for this age in the table used" in screen and "grip_norms.csv" in screen
        assert max(i for i, _ in t.titles) == 6 and all(i <= n for i, n in t.titles), t.titles

        # -- sustained grip: fatigue index and hold CV --------------------------------------
        t.run(
            "record", "grip-sustained", "--device", "sim://grip?seed=5&peak_n=150", "--participant", CLIENT,
            "--hold", "3", "--countdown", "0.5", "--yes", "--acq-time", week_ago,
        )  # fmt: skip
        screen = t.wait("(hold)", "kg ┤")
        screen = t.done()
        assert "fatigue index (%)" in screen and "hold CV (%)" in screen and "mean hold (kg)" in screen
        _summary_lines_ok(screen)

        # -- pinch: tip, key, palmar on the emulated pinch gauge ------------------------------
        t.run(
            "record", "pinch", "--device", "sim://pinch?seed=6&key_n=60", "--participant", CLIENT,
            "--trials", "1", "--countdown", "0.5", "--squeeze", "1.5", "--rest", "0.5", "--yes",
            "--acq-time", week_ago,
        )  # fmt: skip
        screen = t.wait("pinch-maximal", "(pinch)", "Pinch hard, like a crab!")
        assert "kg ┤" in screen
        screen = t.done()
        for grip in ("tip", "key", "palmar"):
            assert re.search(rf"│ {grip}\s+│\s+left", screen), screen
        assert "no norm" in screen
        _summary_lines_ok(screen)

        # -- Nine-Hole Peg: SPACE starts and stops, x marks the right hand's trial invalid -----
        t.run("record", "pegs", "--participant", CLIENT, "--acq-time", week_ago)
        t.wait("left hand — trial 0 of 2", "touches the first peg")
        t.keys("Space")
        t.wait("TIMING")
        time.sleep(1.2)
        t.keys("Space")
        t.wait_regex(r"last time \d+\.\d s")
        t.keys("Space")
        t.wait("right hand — trial 2 of 2", "TIMING")
        t.keys("x")
        t.wait("trial 2 of 3 marked invalid — one replacement added")
        t.keys("Space")  # stop the invalid attempt
        t.wait("right hand — trial 2 of 3")
        t.keys("Space")  # the replacement
        t.wait("trial 3 of 3", "TIMING")
        time.sleep(0.8)
        t.keys("Space")
        t.wait("all trials done: SPACE to finish")  # x here would still mark the last one invalid
        t.keys("Space")
        screen = t.done()
        assert "pegs/min" in screen and re.search(
            r"right hand: \d+\.\d s \(\d+\.\d pegs/min\), 1 valid", screen
        )

        # -- pen tasks: pen-down indicator, tip force, strokes; the child's sentence ---------
        t.run(
            "record", "handwriting", "--device", "sim://pen?seed=7", "--participant", CLIENT,
            "--duration", "6", "--countdown", "0.5", "--yes", "--acq-time", week_ago,
        )  # fmt: skip
        screen = t.wait("The quick brown fox", "(write)", "PEN DOWN ●", "strokes so far")
        assert "tip force" in screen and "(squeeze)" not in screen and "vs session peak" not in screen
        assert "m/s^2" not in screen.split("saved", 1)[0]  # no acceleration shown for a pen task
        screen = t.done()
        assert "writing speed (cm/s)" in screen
        _summary_lines_ok(screen)

        t.run(
            "record", "spiral", "--device", "sim://pen?seed=8", "--participant", CLIENT,
            "--time-limit", "8", "--countdown", "0.5", "--yes", "--acq-time", week_ago,
        )  # fmt: skip
        t.wait("Round and round", "PEN DOWN ●")
        screen = t.done()
        _summary_lines_ok(screen)

        t.run(
            "record", "tremor", "--device", "sim://pen?seed=9", "--participant", CLIENT,
            "--condition", "rest", "--hold", "4", "--countdown", "0.5", "--yes", "--acq-time", week_ago,
        )  # fmt: skip
        t.wait("Still like a sleepy cat", "(hold still)")
        screen = t.done()
        assert (
            "no tremor detected" in screen and "Hz" not in screen.split("saved", 1)[-1].split("no tremor")[0]
        )

        # -- goals, then the second session: the previous best is the target line -----------
        t.run(
            "goals", "set", CLIENT, "--metric", "grip_strength_kgf", "--hand", "left",
            "--title", "Open a lunch box", "--thresholds", "10,14,18,22,26", "--target-date", "2027-03-01",
        )  # fmt: skip
        t.done()
        t.run(
            "record", "grip", "--device", "sim://grip?seed=10&peak_n=170", "--participant", CLIENT,
            "--hand", "left", "--trials", "1", "--countdown", "0.5", "--squeeze", "2", "--yes",
            "--note", "second visit; used the small handle",
        )  # fmt: skip
        screen = t.wait_regex(r"best before\s+(\d+\.\d) kg \(dotted line\)")
        best = float(screen.group(1))
        assert 12 < best < 22  # ~150 N = 15 kg in the first session
        screen = t.wait("┈")  # the previous best drawn as a dotted line on the chart
        t.done()
        elapsed = time.monotonic() - started
    finally:
        t.close()

    # -- what was stored ---------------------------------------------------------------------
    recs = {(r.metadata.session, r.metadata.task): r for r in map(read_recording, find_recordings(data))}
    assert set(recs) == {
        ("01", "grip"),
        ("01", "gripsustained"),
        ("01", "pinch"),
        ("01", "handwriting"),
        ("01", "spiral"),
        ("01", "tremorrest"),
        ("02", "grip"),
    }
    grip = analyze_recording(recs[("01", "grip")]).grip
    assert grip is not None
    assert [(tr.hand, tr.trial, tr.status) for tr in grip.trials] == [
        ("left", 1, "invalid"),
        ("left", 1, "invalid"),
        ("left", 1, "valid"),
        ("right", 1, "valid"),
        ("left", 2, "valid"),
        ("right", 2, "valid"),
    ]
    assert recs[("01", "handwriting")].metadata.extra["protocol"]["parameters"]["age_band"] == "child"
    assert recs[("01", "handwriting")].metadata.hand == "left"  # the dominant hand by default
    pegs = analyze_dexterity(next(data.rglob("*_task-ninehole_beh.tsv")))
    assert [(p.hand, p.status) for p in pegs.trials] == [
        ("left", "valid"),
        ("right", "invalid"),
        ("right", "valid"),
    ]
    assert 1.0 < pegs.summary("left").mean < 4.0
    (note,) = read_notes(next(data.rglob("*ses-01*_task-grip_*_motion.tsv")))
    assert note["text"] == "let go early" and note["time_s"] > 3
    side = json.loads(next(data.rglob("*ses-02*_task-grip_*_motion.json")).read_text())
    assert side["MotorlabNotes"] == [{"time_s": 0.0, "text": "second visit; used the small handle"}]
    assert elapsed < 240, f"the visit took {elapsed:.0f} s"
