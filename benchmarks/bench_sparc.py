"""SPARC speed: motorlab.analysis.sparc versus a plain transcription of the published steps.

The transcription follows Balasubramanian et al. (JNER 2015) step by step with a
full complex FFT, as the reference code does; motorlab computes only the real
half spectrum. Both must give identical output (checked), then the speed ratio
is printed. Run: ``python benchmarks/bench_sparc.py``.
"""

from __future__ import annotations

import timeit

import numpy as np

from motorlab.analysis import sparc


def sparc_published(
    speed: np.ndarray, fs: float, padlevel: int = 4, fc: float = 10.0, amp_th: float = 0.05
) -> float:
    """Spectral arc length exactly as the published algorithm describes it (no shortcuts)."""
    nfft = int(2 ** (np.ceil(np.log2(len(speed))) + padlevel))
    freqs = np.arange(0, fs, fs / nfft)
    mag = np.abs(np.fft.fft(speed, nfft))
    mag = mag / mag.max()
    below = freqs <= fc
    f_sel, m_sel = freqs[below], mag[below]
    idx = np.nonzero(m_sel >= amp_th)[0]
    f_sel, m_sel = f_sel[idx[0] : idx[-1] + 1], m_sel[idx[0] : idx[-1] + 1]
    return -float(np.sum(np.sqrt((np.diff(f_sel) / (f_sel[-1] - f_sel[0])) ** 2 + np.diff(m_sel) ** 2)))


def main() -> None:
    rng = np.random.default_rng(0)
    print(f"{'samples':>8} {'fs':>6} {'published ms':>13} {'motorlab ms':>12} {'speed-up':>9}  identical")
    for n, fs in ((101, 100.0), (1001, 1000.0), (5001, 1000.0), (60001, 1000.0)):
        t = np.arange(n) / fs
        s = np.clip(t / t[-1], 0, 1)
        v = 30 * s**2 - 60 * s**3 + 30 * s**4 + 0.02 * rng.standard_normal(n)
        a, b = sparc_published(v, fs), sparc(v, fs)
        same = abs(a - b) <= 1e-9 * abs(a)
        reps = max(3, int(2000 / n))
        t_pub = min(timeit.repeat(lambda: sparc_published(v, fs), number=reps, repeat=5)) / reps
        t_ml = min(timeit.repeat(lambda: sparc(v, fs), number=reps, repeat=5)) / reps
        print(
            f"{n:8d} {fs:6.0f} {t_pub * 1e3:13.3f} {t_ml * 1e3:12.3f} {t_pub / t_ml:8.2f}x  {same} ({a:.10f})"
        )


if __name__ == "__main__":
    main()
