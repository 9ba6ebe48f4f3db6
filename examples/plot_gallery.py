"""The figures of skgan_ad.plotting
================================

The documentation's figures: one SkipGANomaly detector on the 8x8 digits, drawn by ``skgan_ad.plotting``.

Leave-one-class-out on scikit-learn's digits (``skgan_ad.datasets.digits_leave_one_out``):
the detector trains, at its defaults, on the normal 80% of the nine other
digits and is tested on the normal 20% plus every image of the abnormal
digit. The default abnormal digit, 8, is the one whose AUC in the digits table of
the documentation's Measured page (0.982) is nearest SkipGANomaly's mean over the ten digits
(0.986): a typical case, not the best one. Writes into ``--output``:

* ``score_histogram.png``: :class:`~skgan_ad.plotting.ScoreHistogramDisplay`, with the threshold ``-offset_``;
* ``reconstructions.png``: :class:`~skgan_ad.plotting.ReconstructionDisplay`, 6 normal and 6 abnormal test images;
* ``training_curves.png``: :class:`~skgan_ad.plotting.TrainingCurveDisplay`;
* ``feature_embedding.png``: :class:`~skgan_ad.plotting.FeatureEmbeddingDisplay` (t-SNE; ``--embedding pca``: PCA);
* ``anomaly_maps.png``: :class:`~skgan_ad.plotting.AnomalyMapDisplay`;
* ``roc_curve.png``: scikit-learn's ``RocCurveDisplay.from_predictions`` on the anomaly scores.

::

    OMP_NUM_THREADS=1 python examples/plot_gallery.py     # docs/images/ (2 CPU cores: about 2 minutes)
    python examples/plot_gallery.py --epochs 1 --width 4 --embedding pca --output /tmp/gallery  # a quick check
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from sklearn.metrics import RocCurveDisplay, roc_auc_score

from skgan_ad import SkipGANomalyDetector
from skgan_ad.datasets import digits_leave_one_out
from skgan_ad.plotting import (
    AnomalyMapDisplay,
    FeatureEmbeddingDisplay,
    ReconstructionDisplay,
    ScoreHistogramDisplay,
    TrainingCurveDisplay,
)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--abnormal", type=int, default=8, help="the abnormal digit (default: 8, a typical one)")
    parser.add_argument("--epochs", type=int, help="training epochs (default: the detector's own)")
    parser.add_argument("--width", type=int, help="ngf = ndf (default: the detector's own)")
    parser.add_argument("--seed", type=int, default=0, help="random_state of the detector and of t-SNE")
    parser.add_argument("--output", default="docs/images", help="folder the PNG files go to")
    parser.add_argument("--dpi", type=int, default=100)
    parser.add_argument(
        "--embedding", choices=["tsne", "pca"], default="tsne", help="of the discriminator features (pca: faster)"
    )
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    params = {"random_state": args.seed}
    if args.epochs is not None:
        params["n_epochs"] = args.epochs
    if args.width is not None:
        params.update(ngf=args.width, ndf=args.width)
    split = digits_leave_one_out(args.abnormal)
    detector = SkipGANomalyDetector(**params).fit(split.X_train)
    scores = detector.anomaly_score(split.X_test)
    auc = roc_auc_score(split.y_test, scores)
    print(f"abnormal digit {args.abnormal}: ROC AUC {auc:.3f} ({detector.n_iter_} epochs, seed {args.seed})")
    os.makedirs(args.output, exist_ok=True)

    def save(fig, filename):
        path = os.path.join(args.output, filename)
        fig.savefig(path, dpi=args.dpi)
        plt.close(fig)
        print(f"saved {path}")

    title = f"SkipGANomaly, abnormal digit {args.abnormal}"
    display = ScoreHistogramDisplay.from_estimator(
        detector, split.X_test, split.y_test, name=f"{title}: ROC AUC {auc:.2f}"
    )
    save(display.figure_, "score_histogram.png")

    normal, abnormal = np.flatnonzero(split.y_test == 0)[:6], np.flatnonzero(split.y_test == 1)[:6]
    chosen = np.r_[normal, abnormal]
    titles = [f"{'digit ' + str(args.abnormal) if split.y_test[i] else 'normal'}\nA={scores[i]:.1f}" for i in chosen]
    fig = plt.figure(figsize=(10, 3.6), layout="constrained")
    ReconstructionDisplay.from_estimator(
        detector, split.X_test, indices=chosen, titles=titles, name=f"{title}: 6 normal, then 6 abnormal", fig=fig
    )
    save(fig, "reconstructions.png")

    save(TrainingCurveDisplay.from_estimator(detector, name=title).figure_, "training_curves.png")

    display = FeatureEmbeddingDisplay.from_estimator(
        detector,
        split.X_test,
        split.y_test,
        method=args.embedding,
        random_state=args.seed,
        name=f"{title}: f(x), {'t-SNE' if args.embedding == 'tsne' else 'PCA'}",
    )
    save(display.figure_, "feature_embedding.png")

    display = AnomalyMapDisplay.from_estimator(
        detector, split.X_test, indices=chosen, titles=titles, name=f"{title}: anomaly maps"
    )
    save(display.figure_, "anomaly_maps.png")

    display = RocCurveDisplay.from_predictions(split.y_test, scores, name=title, plot_chance_level=True)
    save(display.figure_, "roc_curve.png")
    return detector


if __name__ == "__main__":
    main()
