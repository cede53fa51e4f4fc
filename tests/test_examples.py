"""The scripts in examples/ run and print what they promise."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parent.parent / "examples"


def _run(name: str, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_metrics_from_arrays():
    out = _run("metrics_from_arrays.py")
    freq = float(re.search(r"tremor: ([\d.]+) Hz", out).group(1))
    rms = float(re.search(r"RMS ([\d.]+) m/s", out).group(1))
    assert freq == pytest.approx(5.5, abs=0.05) and rms == pytest.approx(0.3 / 2**0.5, rel=0.02)
    assert "GAS T-score: 50.0" in out


def test_record_and_analyze(tmp_path):
    out = _run("record_and_analyze.py", str(tmp_path))
    assert len(re.findall(r"trial \d: peak", out)) == 2
    assert list(tmp_path.rglob("*_motion.tsv"))


def test_batch_on_dask():
    out = _run("batch_on_dask.py")
    assert "2 errors" in out and "identical to local: True" in out
