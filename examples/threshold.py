"""A threshold at a target false-positive rate
===========================================

Choose a threshold at a target false-positive rate, and check it on normal data never seen in training.

::

    python examples/threshold.py                          # ~1 min on 2 CPU cores
    python examples/threshold.py --epochs 1 --width 4     # a quick check that it runs

Two ways, both calibrated on held-out normal data (``validation_fraction``):

* ``contamination=alpha``: ``predict`` flags the samples whose score is below
  the alpha-quantile of held-out normal scores (``offset_``);
* conformal p-values: ``conformal_p_values(detector, X) <= alpha``, where a
  sample's p-value is the share of held-out normal scores at least as
  anomalous. On new normal data, P(p <= alpha) <= alpha.

Either way the false-positive rate on new normals comes out near alpha; the
recall on anomalies is what the detector buys at that rate.

The documentation's gallery does not run this script (minutes even at its
smallest settings); a stored run at the defaults (``python examples/threshold.py``,
2 shared CPU cores, torch 2.13.0+cpu, 176 s), each line ending in ``(258
calibration scores, 323 unseen normals)``::

    target FPR 0.01: predict -> FPR 0.006, recall 0.388; p-values -> FPR 0.006, recall 0.388
    target FPR 0.05: predict -> FPR 0.028, recall 0.852; p-values -> FPR 0.028, recall 0.852
    target FPR 0.10: predict -> FPR 0.102, recall 0.967; p-values -> FPR 0.102, recall 0.967
"""

import argparse
import tempfile

import numpy as np

from skgan_ad import SkipGANomalyDetector
from skgan_ad.datasets import digits_leave_one_out
from skgan_ad.metrics import conformal_p_values


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--digit", type=int, default=3, help="the abnormal digit")
    parser.add_argument("--width", type=int, default=32, help="ngf = ndf")
    parser.add_argument("--epochs", type=int, default=15)
    args = parser.parse_args(argv)

    split = digits_leave_one_out(abnormal_class=args.digit)
    normal_unseen = split.X_test[split.y_test == 0]
    abnormal = split.X_test[split.y_test == 1]

    rows = []
    # offset_ is set at fit; with ``memory`` a refit for another contamination reuses the trained networks.
    with tempfile.TemporaryDirectory() as cache:
        for alpha in (0.01, 0.05, 0.10):
            detector = SkipGANomalyDetector(
                ngf=args.width,
                ndf=args.width,
                batch_size=16,
                n_epochs=args.epochs,
                contamination=alpha,
                validation_fraction=0.2,
                random_state=0,
                memory=cache,
            ).fit(split.X_train)
            row = dict(
                alpha=alpha,
                fpr=np.mean(detector.predict(normal_unseen) == -1),
                recall=np.mean(detector.predict(abnormal) == -1),
                p_fpr=np.mean(conformal_p_values(detector, normal_unseen) <= alpha),
                p_recall=np.mean(conformal_p_values(detector, abnormal) <= alpha),
            )
            rows.append(row)
            print(
                f"target FPR {alpha:.2f}: predict -> FPR {row['fpr']:.3f}, recall {row['recall']:.3f}; "
                f"p-values -> FPR {row['p_fpr']:.3f}, recall {row['p_recall']:.3f} "
                f"({len(detector.calibration_scores_)} calibration scores, {len(normal_unseen)} unseen normals)"
            )
    return rows


if __name__ == "__main__":
    main()
