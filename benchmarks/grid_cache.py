"""Wall time and trainings of a GridSearchCV over lambda_score, with and without ``memory``.

    python benchmarks/grid_cache.py

The digits, abnormal digit 7 (DESIGN.md's leave-one-class-out split), a
labelled tuning set of the normal training images plus half of the 7s; a grid
of 5 ``lambda_score`` values x 3 folds (``NormalOnlySplit``), then one refit of
the best configuration on the normals. Counts trainings by the epochs the
training engine actually runs.
"""

from __future__ import annotations

import tempfile
import time

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import EpochScoring

from skgan_ad import SkipGANomalyDetector
from skgan_ad.datasets import digits_leave_one_out
from skgan_ad.metrics import anomaly_auc_scorer
from skgan_ad.model_selection import NormalOnlySplit

N_EPOCHS = 5
EPOCHS = []


def _count(net, X=None, y=None):
    EPOCHS.append(1)
    return 0.0


def run(memory):
    EPOCHS.clear()
    split = digits_leave_one_out(7)
    abnormal_test = split.X_test[split.y_test == 1]
    tune_abnormal, eval_abnormal = abnormal_test[::2], abnormal_test[1::2]
    X_tune = np.concatenate([split.X_train, tune_abnormal])
    y_tune = np.r_[np.zeros(len(split.X_train), int), np.ones(len(tune_abnormal), int)]
    counter = EpochScoring(_count, on_train=True, use_caching=False, name="counted")
    detector = SkipGANomalyDetector(
        ngf=16, ndf=16, n_epochs=N_EPOCHS, random_state=0, callbacks=[counter], memory=memory
    )
    search = GridSearchCV(
        detector,
        {"lambda_score": [0.0, 0.25, 0.5, 0.75, 1.0]},
        scoring=anomaly_auc_scorer,
        cv=NormalOnlySplit(3),
        refit=False,
    )
    start = time.perf_counter()
    search.fit(X_tune, y_tune)
    # refit=False + fit on normals: GridSearchCV's own refit would train on the anomalies too.
    best = detector.set_params(**search.best_params_).fit(split.X_train)
    wall = time.perf_counter() - start
    X_eval = np.concatenate([split.X_test[split.y_test == 0], eval_abnormal])
    y_eval = np.r_[np.zeros((split.y_test == 0).sum(), int), np.ones(len(eval_abnormal), int)]
    auc = roc_auc_score(y_eval, best.anomaly_score(X_eval))
    return dict(trainings=len(EPOCHS) // N_EPOCHS, wall_s=wall, best=search.best_params_, auc=auc)


def main():
    print("| memory | trainings | wall time (s) | best lambda_score | held-out AUC |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as cache:
        for label, memory in [("None", None), ("joblib cache (cold)", cache), ("joblib cache (warm)", cache)]:
            r = run(memory)
            print(
                f"| {label} | {r['trainings']} | {r['wall_s']:.1f} | {r['best']['lambda_score']} | {r['auc']:.3f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
