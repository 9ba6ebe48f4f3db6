"""Every detector on the 8x8 digits
================================

Every detector at its defaults on scikit-learn's 8x8 digits, leave-one-class-out, beside two classic baselines.

For each abnormal digit a: the nine other digits are normal and split 80/20
(``train_test_split(test_size=0.2, random_state=0)``); every detector trains
on the normal 80% and is tested on the normal 20% plus all images of digit a
(the split of DESIGN.md's reference table). Prints ROC AUC per class for the
five GAN detectors (their defaults, ``random_state=0``), each beside the same detector
untrained (weights at initialisation: ``lr=1e-12``, one epoch), IsolationForest,
PCA reconstruction error and k-nearest-neighbour distance on raw pixels, and
training throughput; with matplotlib
installed, saves a figure of SkipGANomaly's score histograms and
reconstructions.

No setting here was chosen on this split: the detectors run at their
defaults, which were chosen on development splits of MNIST training images
(``python -m benchmarks.dev_ablation``).

::

    python examples/digits_demo.py                          # all ten digits, all detectors
    python examples/digits_demo.py --classes 1 7 --detectors SkipGANomaly GANomaly
    python examples/digits_demo.py --classes 1 --epochs 1 --width 4   # a quick check that it runs
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

from skgan_ad import AnoGANDetector, DenseSkipAttentionDetector, EGBADDetector, GANomalyDetector, SkipGANomalyDetector
from skgan_ad.datasets import digits_leave_one_out

DETECTORS = {
    "SkipGANomaly": SkipGANomalyDetector,
    "GANomaly": GANomalyDetector,
    "DenseSkipAttention": DenseSkipAttentionDetector,
    "AnoGAN": AnoGANDetector,
    "EGBAD": EGBADDetector,
}
# "kNN (pixels)" is the detectors' default score (mean distance to the 5 nearest standardised training
# samples) on raw pixels instead of a learned code: what the networks add shows against it.
BASELINES = ("IsolationForest", "PCA recon.", "kNN (pixels)")
# The control of every detector (issue 25): the same network and score with its weights left at their
# initialisation (only BatchNorm statistics adapt). A trained detector that does not beat it gains
# nothing from training.
UNTRAINED = {"lr": 1e-12, "n_epochs": 1, "min_steps": 0}


def pca_reconstruction_error(X_train, X_test, n_components=16):
    pca = PCA(n_components=n_components, random_state=0).fit(X_train)
    return ((X_test - pca.inverse_transform(pca.transform(X_test))) ** 2).sum(axis=1)


def knn_distance(X_train, X_test, n_neighbors=5):
    scaler = StandardScaler().fit(X_train)
    neighbours = NearestNeighbors(n_neighbors=n_neighbors).fit(scaler.transform(X_train))
    return neighbours.kneighbors(scaler.transform(X_test))[0].mean(axis=1)


def run_class(abnormal: int, detectors=tuple(DETECTORS), params: dict | None = None):
    """ROC AUC of each detector (defaults, plus ``params``) and of the baselines for one abnormal digit."""
    split = digits_leave_one_out(abnormal)
    flat_train, flat_test = split.X_train.reshape(len(split.X_train), -1), split.X_test.reshape(len(split.X_test), -1)
    result = {"class": abnormal, "split": split, "fit_s": {}, "images_per_s": {}, "detectors": {}, "scores": {}}
    for name in detectors:
        start = time.perf_counter()
        detector = DETECTORS[name](random_state=0, **(params or {})).fit(split.X_train)
        fit_seconds = time.perf_counter() - start
        result["scores"][name] = detector.anomaly_score(split.X_test)
        result[name] = roc_auc_score(split.y_test, result["scores"][name])
        result["fit_s"][name] = fit_seconds
        result["images_per_s"][name] = len(split.X_train) * detector.n_iter_ / fit_seconds
        result["detectors"][name] = detector
        control = DETECTORS[name](random_state=0, **{**(params or {}), **UNTRAINED}).fit(split.X_train)
        result[f"{name} (untrained)"] = roc_auc_score(split.y_test, control.anomaly_score(split.X_test))
    iforest = IsolationForest(random_state=0).fit(flat_train)
    result["IsolationForest"] = roc_auc_score(split.y_test, -iforest.score_samples(flat_test))
    result["PCA recon."] = roc_auc_score(split.y_test, pca_reconstruction_error(flat_train, flat_test))
    result["kNN (pixels)"] = roc_auc_score(split.y_test, knn_distance(flat_train, flat_test))
    return result


def print_table(results, detectors):
    methods = [*(m for name in detectors for m in (name, f"{name} (untrained)")), *BASELINES]
    print("\nROC AUC, leave-one-class-out on the 8x8 digits (abnormal class per row), detectors at their defaults")
    print("| abnormal digit | " + " | ".join(methods) + " |")
    print("|---|" + "---|" * len(methods))
    for r in results:
        print(f"| {r['class']} | " + " | ".join(f"{r[m]:.3f}" for m in methods) + " |")
    print("| **mean** | " + " | ".join(f"**{np.mean([r[m] for r in results]):.3f}**" for m in methods) + " |")
    device = next(iter(results[0]["detectors"].values())).device_
    print(f"\nTraining (torch {torch.__version__}, {torch.get_num_threads()} threads, device {device}):")
    for name in detectors:
        throughput = np.mean([r["images_per_s"][name] for r in results])
        seconds = np.mean([r["fit_s"][name] for r in results])
        print(f"- {name}: {throughput:.0f} images/s, {seconds:.1f} s per digit")


def save_figure(results, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no figure (pip install 'skgan_ad[plots]')")
        return
    from skgan_ad.plotting import ReconstructionDisplay, ScoreHistogramDisplay

    fig = plt.figure(figsize=(13, 7.5), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1, 1.1])
    name = next(iter(results[0]["detectors"]))
    shown = results[: min(len(results), 5)]
    for ax, r in zip(top.subplots(1, len(shown), squeeze=False)[0], shown):
        ScoreHistogramDisplay.from_predictions(
            r["scores"][name],
            r["split"].y_test,
            threshold=-r["detectors"][name].offset_,
            name=f"{name}, abnormal digit {r['class']}: AUC {r[name]:.2f}",
            ax=ax,
        )
    r = results[0]
    split = r["split"]
    normal, abnormal = np.flatnonzero(split.y_test == 0)[:6], np.flatnonzero(split.y_test == 1)[:6]
    ReconstructionDisplay.from_estimator(
        r["detectors"][name],
        split.X_test,
        indices=np.r_[normal, abnormal],
        name=f"abnormal digit {r['class']}: 6 normal test images, then 6 abnormal ones",
        fig=bottom,
    )
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"figure saved to {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--classes", type=int, nargs="+", default=list(range(10)), help="abnormal digits to run")
    parser.add_argument("--detectors", nargs="+", choices=list(DETECTORS), default=list(DETECTORS))
    parser.add_argument("--figure", default="examples/output/digits_demo.png", help="where to save the figure")
    parser.add_argument("--epochs", type=int, help="training epochs (default: each detector's own)")
    parser.add_argument("--width", type=int, help="ngf = ndf (default: each detector's own)")
    args = parser.parse_args(argv)
    params = {}
    if args.epochs is not None:
        params["n_epochs"] = args.epochs
    if args.width is not None:
        params.update(ngf=args.width, ndf=args.width)
    results = []
    for abnormal in args.classes:
        results.append(run_class(abnormal, args.detectors, params))
        aucs = ", ".join(f"{name} {results[-1][name]:.3f}" for name in args.detectors)
        print(f"abnormal digit {abnormal}: {aucs}", flush=True)
    print_table(results, args.detectors)
    save_figure(results, args.figure)
    return results


if __name__ == "__main__":
    main()
