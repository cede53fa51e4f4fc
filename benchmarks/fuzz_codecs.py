"""Fuzz every device codec with random and mutated inputs: ``feed()`` must never raise.

Run: ``python benchmarks/fuzz_codecs.py [--inputs 1000000] [--seed 1] [--only vernier,tindeq] [--jobs 2]``

For each codec of ``motorlab.devices.codecs.fuzzing.TARGETS``, ``--inputs``
inputs are drawn (:func:`~motorlab.devices.codecs.fuzzing.fuzz_input`): random
bytes, and valid captures with bits flipped, bytes replaced, pieces cut short,
spliced, duplicated or dropped, length fields lied about (with a valid
checksum), fed in pieces cut at random points. Each input is fed piece by
piece to a codec that lives on across inputs (state carries over, as on a
real link; a fresh, primed codec every ``--fresh`` inputs), with warnings
turned into errors. Every ``feed`` result is checked
(:func:`~motorlab.devices.codecs.fuzzing.check_events`), and so is
``stats.bytes_in``. Prints, per codec: inputs, bytes, feed calls, events,
unexpected exceptions, bad results, run time; then the first failures with
the input that caused them (hex), to reproduce. Exit status 1 if any.
Codecs run in parallel processes (``--jobs``, default: CPU count).
"""

from __future__ import annotations

import argparse
import os
import random
import time
import traceback
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field


@dataclass
class Result:
    name: str
    inputs: int = 0
    bytes_fed: int = 0
    calls: int = 0
    events: int = 0
    exceptions: int = 0
    bad_results: int = 0
    seconds: float = 0.0
    examples: list[str] = field(default_factory=list)


def fuzz_one(name: str, n_inputs: int, seed: int, fresh_every: int) -> Result:
    """Fuzz the codec ``name`` with ``n_inputs`` inputs from ``seed``."""
    from motorlab.devices.codecs.fuzzing import (
        TARGETS,
        Corpus,
        check_events,
        feed_piece,
        fuzz_input,
        next_host_time,
    )

    target = next(t for t in TARGETS if t.name == name)
    rng = random.Random(f"{seed}:{name}")
    res = Result(name)
    corpus = Corpus.build(target, rng)
    codec, expected_in, host_time = None, 0, 1000.0
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning (overflow, invalid cast) is a failure too
        for i in range(n_inputs):
            if codec is None or i % fresh_every == 0:
                codec, expected_in = target.make(), 0
                target.prime(codec, rng.randint(0, 40))
                expected_in = codec.stats.bytes_in
            elif rng.random() < 0.05:
                target.prime(codec, rng.randint(1, 8))
                expected_in = codec.stats.bytes_in
            pieces = fuzz_input(corpus, rng)
            res.inputs += 1
            for piece in pieces:
                res.calls += 1
                res.bytes_fed += len(piece)
                expected_in += len(piece)
                host_time = next_host_time(rng, host_time)
                try:
                    events = feed_piece(target, codec, piece, host_time)
                except Exception:
                    res.exceptions += 1
                    _note(res, "exception", pieces, traceback.format_exc(limit=-3))
                    codec = None  # its state may be broken: start again
                    break
                problem = check_events(target, events, host_time)
                if problem is None and codec.stats.bytes_in != expected_in:
                    problem = f"stats.bytes_in {codec.stats.bytes_in}, fed {expected_in}"
                if problem is not None:
                    res.bad_results += 1
                    _note(res, problem, pieces, "")
                    codec = None
                    break
                res.events += len(events)
    res.seconds = time.perf_counter() - t0
    return res


def _note(res: Result, what: str, pieces: list[bytes], detail: str) -> None:
    if len(res.examples) < 5:
        hexes = " | ".join(p.hex() for p in pieces)[:600]
        res.examples.append(f"{res.name}: {what}\n  input pieces: {hexes}\n{detail}")


def main(argv: list[str] | None = None) -> int:
    from motorlab.devices.codecs.fuzzing import TARGETS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", type=int, default=1_000_000, help="inputs per codec (default 10^6)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", default="", help="comma-separated codec names (default: all)")
    ap.add_argument(
        "--fresh", type=int, default=500, help="a fresh, primed codec every N inputs (default 500)"
    )
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args(argv)
    names = [t.name for t in TARGETS]
    wanted = args.only.split(",") if args.only else names
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        ap.error(f"unknown codec(s) {', '.join(unknown)}; have {', '.join(names)}")

    print(
        f"fuzzing {len(wanted)} codecs, {args.inputs:,} inputs each, seed {args.seed}, {args.jobs} processes"
    )
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(fuzz_one, name, args.inputs, args.seed, args.fresh) for name in wanted]
        results = [f.result() for f in futures]
    head = f"{'codec':<15}{'inputs':>11}{'bytes':>14}{'feed calls':>12}{'events':>12}{'exceptions':>12}"
    print(head + f"{'bad results':>13}{'time s':>9}")
    for r in results:
        print(
            f"{r.name:<15}{r.inputs:>11,}{r.bytes_fed:>14,}{r.calls:>12,}{r.events:>12,}"
            f"{r.exceptions:>12}{r.bad_results:>13}{r.seconds:>9.1f}"
        )
    failures = [e for r in results for e in r.examples]
    for example in failures:
        print("\n" + example)
    total = sum(r.exceptions + r.bad_results for r in results)
    print(f"\n{total} unexpected exceptions or bad results; wall time {time.perf_counter() - t0:.0f} s")
    return 1 if total else 0


if __name__ == "__main__":
    raise SystemExit(main())
