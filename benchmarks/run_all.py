"""Run every benchmark and print its figures: ``python benchmarks/run_all.py [--quick]``.

``--quick`` shortens each (fewer recordings, 10-s streaming, 20-min memory run)
for a smoke check; the figures in README.md come from the full run.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_batch  # noqa: E402
import bench_memory  # noqa: E402
import bench_streaming  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    plan = [
        ("batch", bench_batch.main, ["--n", "40"] if args.quick else []),
        ("streaming", bench_streaming.main, ["--seconds", "10"] if args.quick else []),
        ("memory", bench_memory.main, ["--minutes", "20"] if args.quick else []),
    ]
    failed = []
    for name, fn, fn_args in plan:
        t0 = time.perf_counter()
        try:
            fn(fn_args)
        except Exception:  # one broken benchmark must not hide the others' figures
            failed.append(name)
            traceback.print_exc()
        print(f"-- {name} took {time.perf_counter() - t0:.0f} s\n", flush=True)
    if failed:
        print(f"benchmarks that failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
