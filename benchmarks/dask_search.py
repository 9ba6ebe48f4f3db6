"""Speed-up of a GridSearchCV on a Dask LocalCluster over the same search in one process.

    python -m benchmarks.dask_search                              # 2 workers, the example's search
    python -m benchmarks.dask_search --workers 2 --epochs 1 --width 4 --max-train 100   # a quick check

The search of ``examples/dask_grid_search.py``: SkipGANomalyDetector on the
digits (abnormal digit 9, DESIGN.md's leave-one-class-out split), 2 ``w_con``
(trainings) x 4 ``lambda_score`` (score-only) candidates x 3 normal-only
folds, with a fresh ``memory=`` cache each run. The sequential search runs
in this process with torch using every core (``--threads`` to change); the
Dask search runs on a LocalCluster of ``--workers`` single-threaded workers
whose torch threads share the cores (``setup_workers``). The cluster's start
is timed apart from the search. The fold scores of each sequential run are
compared with the Dask run's: equal with the same torch thread count (one
per worker), close otherwise (other thread counts round differently).

Times depend on what else the machine runs: the load average (1 min, from
``os.getloadavg``) is recorded before and after each search.
"""

from __future__ import annotations

import os
import tempfile
import time

import joblib
import numpy as np
import torch
from sklearn.model_selection import GridSearchCV

from skgan_ad import SkipGANomalyDetector
from skgan_ad.metrics import anomaly_auc_scorer
from skgan_ad.model_selection import NormalOnlySplit
from skgan_ad.parallel import ClusterMemory, setup_workers

from ._harness import add_digits_options, digits_split, make_parser, parse_args, run_benchmark

GRID = {"w_con": [10.0, 40.0], "lambda_score": [0.0, 0.5, 0.9, 1.0]}
N_FOLDS = 3


def _search(memory, args, n_jobs=None) -> GridSearchCV:
    detector = SkipGANomalyDetector(
        ngf=args.width, ndf=args.width, batch_size=16, n_epochs=args.epochs, random_state=0, memory=memory
    )
    return GridSearchCV(
        detector, GRID, scoring=anomaly_auc_scorer, cv=NormalOnlySplit(N_FOLDS), refit=False, n_jobs=n_jobs
    )


def _fold_scores(search) -> np.ndarray:
    return np.column_stack([search.cv_results_[f"split{i}_test_score"] for i in range(N_FOLDS)])


def _timed_search(fit) -> dict:
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    search = fit()
    seconds = time.perf_counter() - start
    return dict(search=search, s=seconds, load_before=load_before, load_after=os.getloadavg()[0])


def run(args) -> dict:
    from distributed import Client, LocalCluster

    split = digits_split(args.digit, args)
    abnormal = split.X_test[split.y_test == 1][::2]
    X = np.concatenate([split.X_train, abnormal])
    y = np.r_[np.zeros(len(split.X_train), int), np.ones(len(abnormal), int)]
    # torch's own default (every core) and one thread: on a busy machine the single thread can be faster.
    thread_counts = [args.threads] if args.threads else sorted({os.cpu_count() or 1, 1}, reverse=True)
    sequential = {}
    with tempfile.TemporaryDirectory() as scratch:
        for threads in thread_counts:
            torch.set_num_threads(threads)
            search = _search(f"{scratch}/sequential{threads}", args)
            sequential[threads] = _timed_search(lambda search=search: search.fit(X, y))
            print(f"sequential, {threads} torch thread(s): {sequential[threads]['s']:.1f} s", flush=True)

        start = time.perf_counter()
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=None)
        client = Client(cluster)
        try:
            worker_threads = setup_workers(client)
            client.run(lambda: __import__("skgan_ad.parallel"))  # imports done before the clock starts
            cluster_s = time.perf_counter() - start

            def fit_on_dask():
                search = _search(ClusterMemory(f"{scratch}/dask"), args, n_jobs=-1)
                with joblib.parallel_backend("dask"):
                    return search.fit(X, y)

            dask = _timed_search(fit_on_dask)
            print(f"Dask: {dask['s']:.1f} s", flush=True)
        finally:
            client.close()
            cluster.close()

    # Training is deterministic for a given torch thread count; other counts round differently.
    reference = _fold_scores(dask["search"])
    for r in sequential.values():
        r["max_fold_score_difference"] = float(np.abs(_fold_scores(r["search"]) - reference).max())
    fastest = min(r["s"] for r in sequential.values())
    return dict(
        settings=dict(
            digit=args.digit, width=args.width, n_epochs=args.epochs, grid=GRID, n_folds=N_FOLDS, n_train=len(X)
        ),
        workers=args.workers,
        worker_torch_threads=worker_threads,
        cluster_start_s=cluster_s,
        sequential=[dict(torch_threads=t, **_times(r)) for t, r in sequential.items()],
        dask=_times(dask),
        speedup=fastest / dask["s"],
        dask_fold_scores=reference.tolist(),
    )


def _times(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "search"}


def render(payload: dict) -> str:
    dask = payload["dask"]
    lines = [
        "| search | torch threads | wall time (s) | load avg before / after | fold scores vs Dask's (max abs diff) |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| sequential, 1 process | {r['torch_threads']} | {r['s']:.1f} | "
        f"{r['load_before']:.1f} / {r['load_after']:.1f} | {r['max_fold_score_difference']:.1e} |"
        for r in payload["sequential"]
    ]
    lines += [
        f"| Dask LocalCluster, {payload['workers']} workers | {payload['worker_torch_threads']} per worker | "
        f"{dask['s']:.1f} | {dask['load_before']:.1f} / {dask['load_after']:.1f} | |",
        "",
        f"Speed-up over the faster sequential run {payload['speedup']:.2f}x "
        f"(cluster start {payload['cluster_start_s']:.1f} s, not included); "
        f"{payload['environment']['cpu_count']} CPU cores ({payload['environment']['cpu']}).",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = make_parser(__doc__, seeds=None, device="cpu")
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster workers (one thread each)")
    parser.add_argument("--digit", type=int, default=9, help="the abnormal digit")
    parser.add_argument("--width", type=int, default=16, help="ngf = ndf")
    parser.add_argument("--epochs", type=int, default=5)
    add_digits_options(parser)
    args = parse_args(parser, argv)
    return run_benchmark(args, "benchmarks.dask_search", "dask_search", run, render)


if __name__ == "__main__":
    main()
