"""Analyse a whole dataset on all cores, then on a Dask cluster, and compare.

Generates 40 synthetic BIDS recordings (2 of them deliberately damaged) in a
temporary folder. On a real cluster pass ``scheduler="tcp://HOST:8786"``.

    python examples/batch_on_dask.py
"""

import tempfile

from motorlab.analysis.batch import analyze_batch
from motorlab.sim.dataset import generate_dataset


def main() -> None:
    root = tempfile.mkdtemp(prefix="motorlab-batch-")
    generate_dataset(root, n_recordings=40, n_corrupt=2, seed=1)

    local = analyze_batch(root, jobs=2)
    print(f"local: {len(local.rows)} rows, {len(local.errors)} errors")
    for err in local.errors:
        print("  error:", err)

    on_dask = analyze_batch(root, dask=True)  # a private LocalCluster on 127.0.0.1
    same = repr(on_dask.rows) == repr(local.rows)  # repr: NaN (no tremor peak...) equals NaN
    print(f"dask:  {len(on_dask.rows)} rows; identical to local: {same}")


if __name__ == "__main__":  # worker processes re-import this file
    main()
