"""Real-data validity: the UCI Parkinson spiral recordings through the importer and ``analyze_recording``.

Run: ``python benchmarks/bench_realdata.py [--root ../shared/realdata/uci_parkinson_spirals]``.

Reads every file of the dataset in place (never copied) with
:func:`motorlab.storage.importers.read_uci_spiral`, analyses every recording with
:func:`motorlab.analysis.analyze_recording`, and prints:

* per task and metric: n (PD / control), the PD-vs-control AUC (probability that a PD value
  exceeds a control value, ties counted half; Mann-Whitney U / (n1 n2)), the two-sided
  Mann-Whitney p, the direction the literature expects (``PD>`` or ``PD<``) and whether the
  data agree (AUC on the expected side of 0.5);
* counts of exceptions, NaN values and quality flags, and tremor frequencies outside the band.

Duplicated recordings (the README: all seven control files of test 2 hold one identical
recording, and two patient dynamic spirals are identical) are counted once, by the SHA-256
of their samples. Asserts nothing; it is a measurement.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from scipy.stats import mannwhitneyu, spearmanr

from motorlab.analysis import analyze_recording
from motorlab.storage.importers import read_uci_spiral

HERE = Path(__file__).resolve()
#: the shared copy, next to the checkout (or next to the worktree folder)
CANDIDATES = [p / "shared" / "realdata" / "uci_parkinson_spirals" for p in (HERE.parents[2], HERE.parents[3])]

#: metric -> expected direction in PD vs controls ("PD>" larger in PD, "PD<" smaller) and its source
EXPECTED: dict[str, tuple[str, str]] = {
    "radial_rms_error_cm": ("PD>", "larger radial deviation (Pullman 1998; Wang 2008; San Luciano 2016)"),
    "mean_abs_dr_dtheta_cm_per_rad": ("PD>", "less regular radius (Lin 2018: |dr/dtheta| tracks severity)"),
    "tremor_rms_cm": ("PD>", "more tremor in the drawing (Pullman 1998)"),
    "tremor_peak_to_background": ("PD>", "more tremor in the drawing"),
    "submovements_per_loop": ("PD>", "less smooth: more submovements (Rohrer 2002; San Luciano 2016)"),
    "sparc_median": ("PD<", "less smooth: more negative SPARC (Balasubramanian 2015)"),
    "ldlj_median": ("PD<", "less smooth: more negative LDLJ (Balasubramanian 2015)"),
    "mean_speed_cm_per_s": ("PD<", "bradykinesia: slower drawing (San Luciano 2016)"),
    "duration_s": ("PD>", "bradykinesia: longer drawing time"),
    "loop_spacing_cm": ("none", "set by the template (static) / the blinking template (dynamic)"),
    "n_loops": ("none", "set by the template"),
}
BANDS = {"tremor_peak_freq_Hz": (3.0, 12.0)}


def auc(pd_vals: np.ndarray, ctl_vals: np.ndarray) -> tuple[float, float]:
    """P(PD > control) (ties half) and the two-sided Mann-Whitney p."""
    u, p = mannwhitneyu(pd_vals, ctl_vals, alternative="two-sided")
    return float(u) / (pd_vals.size * ctl_vals.size), float(p)


def load(root: Path) -> tuple[list[dict], Counter, float, float]:
    rows: list[dict] = []
    errors: Counter[str] = Counter()
    seen: set[str] = set()
    t_read = t_an = 0.0
    for f in sorted(root.glob("*/*.txt")):
        group = "PD" if f.parent.name == "parkinson" else "control"
        t0 = time.perf_counter()
        try:
            recs = read_uci_spiral(f, participant=f.stem.replace("_", "").replace("-", "")[:24])
        except Exception as exc:
            errors[f"{f.name}: read: {type(exc).__name__}: {exc}"] += 1
            continue
        t_read += time.perf_counter() - t0
        for rec in recs:
            digest = rec.metadata.extra["import"]["samples_sha256"]
            if digest in seen:
                continue
            seen.add(digest)
            t1 = time.perf_counter()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    m = analyze_recording(rec)
            except Exception as exc:
                errors[f"{f.name} {rec.metadata.task}: {type(exc).__name__}: {exc}"] += 1
                continue
            t_an += time.perf_counter() - t1
            for row in m.to_rows():
                row.update(group=group, file=f.name, n_flags=len(m.quality))
                rows.append(row)
    return rows, errors, t_read, t_an


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=next((c for c in CANDIDATES if c.is_dir()), CANDIDATES[0]))
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rows, errors, t_read, t_an = load(args.root)
    print(f"== UCI spirals ({args.root}): {len(rows)} unique recordings analysed")
    print(f"   read {t_read:.2f} s, analysis {t_an:.2f} s (ratio {t_an / max(t_read, 1e-9):.2f}x)")
    print(f"   exceptions: {sum(errors.values())}")
    for msg, n in errors.most_common(10):
        print(f"     {n} x {msg}")
    out: dict = {"exceptions": sum(errors.values()), "auc": {}}
    by_task = defaultdict(list)
    for r in rows:
        by_task[r["task"]].append(r)
    for task, trs in sorted(by_task.items()):
        n_pd = sum(r["group"] == "PD" for r in trs)
        print(f"\n-- task {task}: {n_pd} PD, {len(trs) - n_pd} control recordings")
        flags = Counter(fl for r in trs for fl in filter(None, r["quality_flags"].split(";")))
        print("   quality flags: " + (", ".join(f"{k} {v}" for k, v in sorted(flags.items())) or "none"))
        det = [r for r in trs if r.get("tremor_detected")]
        print(
            f"   tremor detected: {sum(r['group'] == 'PD' for r in det)} PD, "
            f"{sum(r['group'] == 'control' for r in det)} control"
        )
        for key, (lo, hi) in BANDS.items():
            vals = np.array([r[key] for r in trs if key in r], float)
            fin = vals[np.isfinite(vals)]
            outside = int(np.count_nonzero((fin < lo) | (fin > hi)))
            print(f"   {key}: {fin.size} finite, {outside} outside {lo:g}-{hi:g} Hz")
            out.setdefault("outside_band", 0)
            out["outside_band"] += outside
        numeric = [
            k
            for k, v in trs[0].items()
            if isinstance(v, (int, float, np.floating)) and not isinstance(v, bool) and k != "n_flags"
        ]
        print(f"   {'metric':34s} {'n PD/ctl':>9s} {'NaN':>4s} {'AUC':>6s} {'p':>8s}  expected  agrees")
        for k in numeric:
            vals = np.array([r.get(k, math.nan) for r in trs], float)
            grp = np.array([r["group"] for r in trs])
            pd_v, ctl_v = (
                vals[(grp == "PD") & np.isfinite(vals)],
                vals[(grp == "control") & np.isfinite(vals)],
            )
            n_nan = int(np.count_nonzero(~np.isfinite(vals)))
            exp = EXPECTED.get(k, ("?", ""))[0]
            if pd_v.size < 2 or ctl_v.size < 2 or np.ptp(np.concatenate([pd_v, ctl_v])) == 0:
                print(f"   {k:34s} {pd_v.size:>4d}/{ctl_v.size:<4d} {n_nan:>4d}    n/a")
                continue
            a, p = auc(pd_v, ctl_v)
            agrees = {"PD>": "yes" if a > 0.5 else "NO", "PD<": "yes" if a < 0.5 else "NO"}.get(exp, "")
            out["auc"][(task, k)] = a
            print(
                f"   {k:34s} {pd_v.size:>4d}/{ctl_v.size:<4d} {n_nan:>4d} {a:6.3f} {p:8.2g}  {exp:8s}  {agrees}"
            )
        if "duration_s" in trs[0]:
            dur = np.array([r["duration_s"] for r in trs], float)
            for k in ("sparc_median", "ldlj_median", "submovements_per_loop", "mean_speed_cm_per_s"):
                v = np.array([r[k] for r in trs], float)
                ok = np.isfinite(v) & np.isfinite(dur)
                rho = spearmanr(v[ok], dur[ok])[0]
                print(f"   Spearman rho({k}, drawing duration) = {rho:+.2f}")
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")
    return out


if __name__ == "__main__":
    main()
