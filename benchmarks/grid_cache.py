"""Wall time and trainings of a GridSearchCV over lambda_score, with and without ``memory``.

    python -m benchmarks.grid_cache
    python -m benchmarks.grid_cache --epochs 1 --width 4 --lambdas 0 1     # a quick check

The digits, abnormal digit 7 (DESIGN.md's leave-one-class-out split), a
labelled tuning set of the normal training images plus half of the 7s; a grid
of 5 ``lambda_score`` values x 3 folds (``NormalOnlySplit``), then one refit of
the best configuration on the normals. Counts trainings by the epochs the
training engine actually runs. Writes ``benchmarks/results/grid_cache.json``
and prints its table from it.
"""

from __future__ import annotations

import tempfile
import time

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import EpochScoring

from skgan_ad import SkipGANomalyDetector
from skgan_ad.metrics import anomaly_auc_scorer
from skgan_ad.model_selection import NormalOnlySplit

from ._harness import add_digits_options, digits_split, make_parser, parse_args, run_benchmark

N_FOLDS = 3
EPOCHS = []  # one entry per training epoch run, appended by the counting callback


def _count(net, X=None, y=None):
    EPOCHS.append(1)
    return 0.0


def search(memory, *, digit=7, lambdas=(0.0, 0.25, 0.5, 0.75, 1.0), width=16, n_epochs=5, device="cpu", args=None):
    """One grid search over ``lambdas`` and the refit; the trainings it ran, its wall time and held-out AUC."""
    EPOCHS.clear()
    split = digits_split(digit, args)
    abnormal_test = split.X_test[split.y_test == 1]
    tune_abnormal, eval_abnormal = abnormal_test[::2], abnormal_test[1::2]
    X_tune = np.concatenate([split.X_train, tune_abnormal])
    y_tune = np.r_[np.zeros(len(split.X_train), int), np.ones(len(tune_abnormal), int)]
    counter = EpochScoring(_count, on_train=True, use_caching=False, name="counted")
    detector = SkipGANomalyDetector(
        ngf=width, ndf=width, n_epochs=n_epochs, random_state=0, callbacks=[counter], memory=memory, device=device
    )
    grid = GridSearchCV(
        detector,
        {"lambda_score": list(lambdas)},
        scoring=anomaly_auc_scorer,
        cv=NormalOnlySplit(N_FOLDS),
        refit=False,
    )
    start = time.perf_counter()
    grid.fit(X_tune, y_tune)
    # refit=False + fit on normals: GridSearchCV's own refit would train on the anomalies too.
    best = detector.set_params(**grid.best_params_).fit(split.X_train)
    wall = time.perf_counter() - start
    X_eval = np.concatenate([split.X_test[split.y_test == 0], eval_abnormal])
    y_eval = np.r_[np.zeros((split.y_test == 0).sum(), int), np.ones(len(eval_abnormal), int)]
    auc = float(roc_auc_score(y_eval, best.anomaly_score(X_eval)))
    return dict(trainings=len(EPOCHS) // n_epochs, wall_s=wall, best=grid.best_params_, auc=auc)


def run(args) -> dict:
    settings = dict(digit=args.digit, lambdas=args.lambdas, width=args.width, n_epochs=args.epochs, device=args.device)
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        for label, memory in [("None", None), ("joblib cache (cold)", cache), ("joblib cache (warm)", cache)]:
            rows.append({"memory": label, **search(memory, **settings, args=args)})
            print(rows[-1], flush=True)
    return dict(settings=settings, n_folds=N_FOLDS, rows=rows)


def render(payload: dict) -> str:
    lines = ["| memory | trainings | wall time (s) | best lambda_score | held-out AUC |", "|---|---|---|---|---|"]
    lines += [
        f"| {r['memory']} | {r['trainings']} | {r['wall_s']:.1f} | {r['best']['lambda_score']} | {r['auc']:.3f} |"
        for r in payload["rows"]
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = make_parser(__doc__, seeds=None, device="cpu")
    parser.add_argument("--digit", type=int, default=7, help="the abnormal digit")
    parser.add_argument("--lambdas", type=float, nargs="+", default=[0.0, 0.25, 0.5, 0.75, 1.0])
    parser.add_argument("--width", type=int, default=16, help="ngf = ndf")
    parser.add_argument("--epochs", type=int, default=5)
    add_digits_options(parser)
    args = parse_args(parser, argv)
    return run_benchmark(args, "benchmarks.grid_cache", "grid_cache", run, render)


if __name__ == "__main__":
    main()
