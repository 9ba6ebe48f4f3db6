"""Grid search on a Dask cluster
=============================

GridSearchCV of a detector on a Dask cluster, against the same search in one process.

::

    python examples/dask_grid_search.py                                  # a LocalCluster of 2 workers
    python examples/dask_grid_search.py --scheduler tcp://HOST:8786 --cache /shared/skgan-cache
    python examples/dask_grid_search.py --epochs 1 --width 4 --max-train 120 --in-process   # a quick check

scikit-learn's search runs its fits and scores on the cluster through
joblib's Dask backend (``with joblib.parallel_backend("dask"): search.fit(...)``);
nothing in the search changes. Two things make it efficient:

* ``memory=ClusterMemory(folder)``: the trained networks are cached on a
  folder every worker reads and writes, with one lock per entry, so the
  score-weight candidates (score-only) of one fold share one training
  even when they run at the same time on different workers;
* ``setup_workers(client)``: each worker's torch gets its share of the cores
  (Dask starts workers with ``OMP_NUM_THREADS=1``).

A real cluster: start ``dask scheduler`` on one machine and ``dask worker
tcp://HOST:8786 --nthreads 1`` on each (with GPUs: one worker per GPU, each
with its own ``CUDA_VISIBLE_DEVICES=i``; ``device="auto"`` then trains on it),
install skgan_ad on every worker, and pass ``--scheduler`` and a ``--cache``
folder that all workers mount at the same path.

The script runs the search twice, in this process (with as many torch
threads as a worker task) and on Dask, and prints the largest difference of
their cross-validated scores: 0, training being deterministic for a given
thread count. ``python -m benchmarks.dask_search`` measures the speed-up.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import joblib
import numpy as np
import torch
from sklearn.model_selection import GridSearchCV

from skgan_ad import SkipGANomalyDetector
from skgan_ad.datasets import digits_leave_one_out
from skgan_ad.metrics import anomaly_auc_scorer
from skgan_ad.model_selection import NormalOnlySplit
from skgan_ad.parallel import ClusterMemory, setup_workers

GRID = {"w_con": [10.0, 40.0], "embedding_weight": [0.0, 1.0], "lambda_score": [0.0, 0.9]}


def make_search(memory, width: int, epochs: int, n_jobs=None) -> GridSearchCV:
    """The search of ``examples/grid_search.py``: 2 trainings (w_con) x 4 score weights, 3 normal-only folds."""
    detector = SkipGANomalyDetector(
        ngf=width, ndf=width, batch_size=16, n_epochs=epochs, random_state=0, memory=memory, device="auto"
    )
    return GridSearchCV(detector, GRID, scoring=anomaly_auc_scorer, cv=NormalOnlySplit(3), refit=False, n_jobs=n_jobs)


def tuning_set(digit: int, max_train: int | None = None):
    """The normal training images of the digits split (the first ``max_train``) plus half of the abnormal digit's,
    labelled (1 = anomaly)."""
    split = digits_leave_one_out(abnormal_class=digit)
    normal = split.X_train[:max_train]
    abnormal = split.X_test[split.y_test == 1][::2]
    return np.concatenate([normal, abnormal]), np.r_[np.zeros(len(normal), int), np.ones(len(abnormal), int)]


def test_scores(search) -> np.ndarray:
    """Every candidate's score on every fold, (candidates, folds)."""
    folds = sorted(k for k in search.cv_results_ if k.startswith("split") and k.endswith("_test_score"))
    return np.column_stack([search.cv_results_[k] for k in folds])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scheduler", help="address of a running Dask scheduler (default: start a LocalCluster)")
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster workers (one thread each)")
    parser.add_argument("--in-process", action="store_true", help="LocalCluster workers as threads of this process")
    parser.add_argument("--cache", help="a folder every worker can reach (default: a temporary folder)")
    parser.add_argument("--digit", type=int, default=9, help="the abnormal digit")
    parser.add_argument("--width", type=int, default=16, help="ngf = ndf")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--max-train", type=int, help="the first N normal training images only (quick runs)")
    parser.add_argument("--no-sequential", action="store_true", help="skip the one-process search (no comparison)")
    args = parser.parse_args(argv)

    from distributed import Client, LocalCluster

    X, y = tuning_set(args.digit, args.max_train)
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        if args.scheduler:
            cluster, client = None, Client(args.scheduler)
        else:
            cluster = LocalCluster(
                n_workers=args.workers, threads_per_worker=1, processes=not args.in_process, dashboard_address=None
            )
            client = Client(cluster)
        try:
            threads = setup_workers(client)
            n_workers = len(client.scheduler_info(n_workers=-1)["workers"])
            print(f"Dask: {n_workers} workers at {client.scheduler.address}, {threads} torch thread(s) per task")
            if not args.no_sequential:
                # As many torch threads as each worker task has: training is deterministic for a given
                # thread count, so the two searches must then agree exactly.
                own_threads = torch.get_num_threads()
                torch.set_num_threads(threads)
                start = time.perf_counter()
                sequential = make_search(f"{scratch}/sequential", args.width, args.epochs).fit(X, y)
                results["sequential"] = (sequential, time.perf_counter() - start)
                torch.set_num_threads(own_threads)

            search = make_search(ClusterMemory(args.cache or f"{scratch}/dask"), args.width, args.epochs, n_jobs=-1)
            start = time.perf_counter()
            with joblib.parallel_backend("dask"):
                search.fit(X, y)
            results["dask"] = (search, time.perf_counter() - start)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()

    for params, mean, std in zip(
        search.cv_results_["params"], search.cv_results_["mean_test_score"], search.cv_results_["std_test_score"]
    ):
        print(f"{params}: validation AUC {mean:.3f} +/- {std:.3f}")
    print("best:", search.best_params_)
    print(f"Dask search: {results['dask'][1]:.1f} s")
    if "sequential" in results:
        difference = np.abs(test_scores(search) - test_scores(results["sequential"][0])).max()
        seconds = results["sequential"][1]
        print(
            f"sequential search ({threads} torch thread(s)): {seconds:.1f} s; ratio {seconds / results['dask'][1]:.2f}x"
        )
        print(f"largest difference of a fold's test score, Dask vs sequential: {difference:.2e}")
    return {name: search for name, (search, _) in results.items()}


if __name__ == "__main__":
    main()
