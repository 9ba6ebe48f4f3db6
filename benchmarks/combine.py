"""Learned combination of score parts (ScoreCombiner) vs the fixed lambda_score, on the digits.

    python benchmarks/combine.py            # ten digits, ~4 min on 2 cores

For each abnormal digit (DESIGN.md's leave-one-class-out split): the detector
trains on the normal training images; the combiner (logistic regression, and
an RBF SVM) learns from a labelled validation set of 200 normal training
images held out from the detector plus half of the abnormal digit's images;
both are evaluated on the normal test images plus the other half. The fixed
mix uses the *same trained networks* (``detector_`` of the combiner), so the
difference is the combination alone.
"""

from __future__ import annotations

import tempfile
import time

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.svm import SVC

from skgan_ad import SkipGANomalyDetector
from skgan_ad.datasets import digits_leave_one_out
from skgan_ad.model_selection import ScoreCombiner

# The demo's configuration; ``memory`` lets both combiners share one trained detector per digit.
PARAMS = dict(ngf=32, ndf=32, batch_size=16, n_epochs=15, random_state=0, memory=tempfile.mkdtemp())


def main():
    print("| abnormal digit | fixed lambda=0.9 | logistic regression | RBF SVM |")
    print("|---|---|---|---|")
    rows = []
    start = time.perf_counter()
    for digit in range(10):
        split = digits_leave_one_out(digit)
        abnormal = split.X_test[split.y_test == 1]
        normal_train, normal_val = split.X_train[200:], split.X_train[:200]
        X_val = np.concatenate([normal_val, abnormal[::2]])
        y_val = np.r_[np.zeros(len(normal_val), int), np.ones(len(abnormal[::2]), int)]
        X_eval = np.concatenate([split.X_test[split.y_test == 0], abnormal[1::2]])
        y_eval = np.r_[np.zeros((split.y_test == 0).sum(), int), np.ones(len(abnormal[1::2]), int)]

        logistic = ScoreCombiner(SkipGANomalyDetector(**PARAMS)).fit(normal_train).fit_combiner(X_val, y_val)
        svm = ScoreCombiner(SkipGANomalyDetector(**PARAMS), SVC()).fit(normal_train).fit_combiner(X_val, y_val)
        aucs = [
            roc_auc_score(y_eval, logistic.detector_.anomaly_score(X_eval)),
            roc_auc_score(y_eval, logistic.anomaly_score(X_eval)),
            roc_auc_score(y_eval, svm.anomaly_score(X_eval)),
        ]
        rows.append(aucs)
        print(f"| {digit} | " + " | ".join(f"{a:.3f}" for a in aucs) + " |", flush=True)
    mean = np.mean(rows, axis=0)
    print("| **mean** | " + " | ".join(f"**{a:.3f}**" for a in mean) + " |")
    print(f"\nwall time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
