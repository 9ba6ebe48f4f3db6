"""Tuning with GridSearchCV without leaking the test set
=====================================================

Tune SkipGANomalyDetector's loss and score weights with GridSearchCV, without leaking the test set.

::

    python examples/grid_search.py                          # ~2 min on 2 CPU cores
    python examples/grid_search.py --epochs 1 --width 4     # a quick check that it runs

Three things make this safe (each a trap otherwise):

1. ``scoring=anomaly_auc_scorer`` reads y=1 as anomaly. scikit-learn's
   ``scoring="roc_auc"`` scores ``decision_function``, which is *higher for
   normals*, and would pick the worst configuration.
2. ``cv=NormalOnlySplit(3)`` trains each fold on its normal samples only and
   validates on normals and anomalies.
3. ``refit=False``, then fit the chosen configuration on normals yourself:
   GridSearchCV's own refit would train on the anomalies of the tuning set.

``memory`` caches trained networks, so the score weights of the grid
(``embedding_weight``, ``lambda_score``) share one training per (w_con, fold). The test set (normal test images
and the other half of the abnormal digit) is used once, at the end.

The documentation's gallery does not run this script (minutes even at its
smallest settings); a stored run at the defaults (``python examples/grid_search.py``,
torch 2.13.0+cpu, 2 CPU cores shared with other jobs)::

    {'embedding_weight': 0.0, 'lambda_score': 0.0, 'w_con': 10.0}: validation AUC 0.759 +/- 0.070
    {'embedding_weight': 0.0, 'lambda_score': 0.0, 'w_con': 40.0}: validation AUC 0.735 +/- 0.087
    {'embedding_weight': 0.0, 'lambda_score': 0.9, 'w_con': 10.0}: validation AUC 0.766 +/- 0.069
    {'embedding_weight': 0.0, 'lambda_score': 0.9, 'w_con': 40.0}: validation AUC 0.758 +/- 0.084
    {'embedding_weight': 1.0, 'lambda_score': 0.0, 'w_con': 10.0}: validation AUC 0.951 +/- 0.012
    {'embedding_weight': 1.0, 'lambda_score': 0.0, 'w_con': 40.0}: validation AUC 0.953 +/- 0.011
    {'embedding_weight': 1.0, 'lambda_score': 0.9, 'w_con': 10.0}: validation AUC 0.951 +/- 0.012
    {'embedding_weight': 1.0, 'lambda_score': 0.9, 'w_con': 40.0}: validation AUC 0.953 +/- 0.011
    best: {'embedding_weight': 1.0, 'lambda_score': 0.0, 'w_con': 40.0}
    test AUC of the chosen configuration: 0.968
"""

import argparse
import tempfile

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV

from skgan_ad import SkipGANomalyDetector
from skgan_ad.datasets import digits_leave_one_out
from skgan_ad.metrics import anomaly_auc_scorer
from skgan_ad.model_selection import NormalOnlySplit


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--digit", type=int, default=9, help="the abnormal digit")
    parser.add_argument("--width", type=int, default=32, help="ngf = ndf")
    parser.add_argument("--epochs", type=int, default=15)
    args = parser.parse_args(argv)

    split = digits_leave_one_out(abnormal_class=args.digit)
    abnormal = split.X_test[split.y_test == 1]
    # A small labelled tuning set: the normal training images plus half of the abnormal digit's.
    X_tune = np.concatenate([split.X_train, abnormal[::2]])
    y_tune = np.r_[np.zeros(len(split.X_train), int), np.ones(len(abnormal[::2]), int)]
    X_test = np.concatenate([split.X_test[split.y_test == 0], abnormal[1::2]])
    y_test = np.r_[np.zeros((split.y_test == 0).sum(), int), np.ones(len(abnormal[1::2]), int)]

    with tempfile.TemporaryDirectory() as cache:
        # The demo's configuration: smaller or shorter runs are undertrained on ~900 images per fold.
        detector = SkipGANomalyDetector(
            ngf=args.width, ndf=args.width, batch_size=16, n_epochs=args.epochs, random_state=0, memory=cache
        )
        grid = {"w_con": [10.0, 40.0], "embedding_weight": [0.0, 1.0], "lambda_score": [0.0, 0.9]}
        search = GridSearchCV(detector, grid, scoring=anomaly_auc_scorer, cv=NormalOnlySplit(3), refit=False)
        search.fit(X_tune, y_tune)

        for params, mean, std in zip(
            search.cv_results_["params"], search.cv_results_["mean_test_score"], search.cv_results_["std_test_score"]
        ):
            print(f"{params}: validation AUC {mean:.3f} +/- {std:.3f}")
        print("best:", search.best_params_)

        best = detector.set_params(**search.best_params_).fit(split.X_train)  # normals only
        test_auc = roc_auc_score(y_test, best.anomaly_score(X_test))
        print(f"test AUC of the chosen configuration: {test_auc:.3f}")
    return search, test_auc


if __name__ == "__main__":
    main()
