"""Run every benchmark in this folder and print its figures: ``python benchmarks/run_all.py``.

Options: ``--quick`` shortens the batch, streaming and memory benchmarks (40
recordings, 10-s streaming, 20-min memory file) for a smoke check; ``--only
batch,memory`` or ``--skip codecs`` choose by name (``bench_<name>.py``). Every
other ``bench_*.py`` found here runs as its own process with its default
arguments. The figures in README.md come from the full run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

#: benchmarks run in-process, with their --quick arguments
QUICK_ARGS = {
    "batch": ["--n", "40"],
    "streaming": ["--seconds", "10"],
    "memory": ["--minutes", "20"],
}


def _names() -> list[str]:
    found = sorted(p.stem[len("bench_") :] for p in HERE.glob("bench_*.py"))
    return [n for n in QUICK_ARGS if n in found] + [n for n in found if n not in QUICK_ARGS]


def _run(name: str, quick: bool) -> None:
    if name in QUICK_ARGS:
        module = __import__(f"bench_{name}")
        module.main(QUICK_ARGS[name] if quick else [])
    else:
        subprocess.run([sys.executable, str(HERE / f"bench_{name}.py")], check=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="", help="comma-separated names to run (default: all)")
    ap.add_argument("--skip", default="", help="comma-separated names to leave out")
    args = ap.parse_args(argv)
    names = _names()
    if args.only:
        wanted = args.only.split(",")
        unknown = sorted(set(wanted) - set(names))
        if unknown:
            ap.error(f"unknown benchmark(s) {', '.join(unknown)}; have {', '.join(names)}")
        names = [n for n in names if n in wanted]
    names = [n for n in names if n not in args.skip.split(",")]
    failed = []
    for name in names:
        t0 = time.perf_counter()
        try:
            _run(name, args.quick)
        except Exception:  # one broken benchmark must not hide the others' figures
            failed.append(name)
            traceback.print_exc()
        print(f"-- {name} took {time.perf_counter() - t0:.0f} s\n", flush=True)
    if failed:
        print(f"benchmarks that failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
