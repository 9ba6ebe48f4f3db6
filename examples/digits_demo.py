"""Skip-GANomaly on scikit-learn's 8x8 digits, leave-one-class-out, beside two classic baselines.

For each abnormal digit a: the nine other digits are normal and split 80/20
(``train_test_split(test_size=0.2, random_state=0)``); every detector trains
on the normal 80% and is tested on the normal 20% plus all images of digit a
(the split of DESIGN.md's reference table). Prints ROC AUC per class for
SkipGANomalyDetector, IsolationForest and PCA reconstruction error, and the
GAN's training throughput; with matplotlib installed, saves a figure of score
histograms and reconstructions.

    python examples/digits_demo.py                 # all ten digits, a few minutes on 2 cores
    python examples/digits_demo.py --classes 1 7   # just some
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

from skgan_ad import SkipGANomalyDetector
from skgan_ad.datasets import digits_leave_one_out

# Chosen among the configurations in the README's sweep table (on this same split, so the
# mean is optimistic); the paper defaults (ngf=ndf=64, batch 64) are in that table too.
DETECTOR_PARAMS = dict(ngf=32, ndf=32, n_epochs=15, batch_size=16, random_state=0)


def pca_reconstruction_error(X_train, X_test, n_components=16):
    pca = PCA(n_components=n_components, random_state=0).fit(X_train)
    return ((X_test - pca.inverse_transform(pca.transform(X_test))) ** 2).sum(axis=1)


def run_class(abnormal: int, params: dict = DETECTOR_PARAMS):
    split = digits_leave_one_out(abnormal)
    flat_train, flat_test = split.X_train.reshape(len(split.X_train), -1), split.X_test.reshape(len(split.X_test), -1)

    start = time.perf_counter()
    detector = SkipGANomalyDetector(**params).fit(split.X_train)
    fit_seconds = time.perf_counter() - start
    gan_scores = detector.anomaly_score(split.X_test)

    iforest = IsolationForest(random_state=0).fit(flat_train)
    return {
        "class": abnormal,
        "SkipGANomaly": roc_auc_score(split.y_test, gan_scores),
        "IsolationForest": roc_auc_score(split.y_test, -iforest.score_samples(flat_test)),
        "PCA recon.": roc_auc_score(split.y_test, pca_reconstruction_error(flat_train, flat_test)),
        "images_per_s": len(split.X_train) * detector.n_iter_ / fit_seconds,
        "fit_s": fit_seconds,
        "detector": detector,
        "split": split,
        "scores": gan_scores,
    }


def print_table(results):
    methods = ["SkipGANomaly", "IsolationForest", "PCA recon."]
    print("\nROC AUC, leave-one-class-out on the 8x8 digits (abnormal class per row)")
    print("| abnormal digit | " + " | ".join(methods) + " | GAN fit (s) |")
    print("|---|" + "---|" * (len(methods) + 1))
    for r in results:
        print(f"| {r['class']} | " + " | ".join(f"{r[m]:.3f}" for m in methods) + f" | {r['fit_s']:.1f} |")
    print("| **mean** | " + " | ".join(f"**{np.mean([r[m] for r in results]):.3f}**" for m in methods) + " | |")
    throughput = np.mean([r["images_per_s"] for r in results])
    print(
        f"\nSkipGANomaly training throughput: {throughput:.0f} images/s "
        f"(torch {torch.__version__}, {torch.get_num_threads()} threads, device {results[0]['detector'].device_})"
    )


def save_figure(results, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no figure (pip install 'skgan_ad[plots]')")
        return
    from skgan_ad.plotting import plot_reconstructions, plot_score_histograms

    fig = plt.figure(figsize=(13, 7.5), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1, 1.1])
    shown = results[: min(len(results), 5)]
    for ax, r in zip(top.subplots(1, len(shown), squeeze=False)[0], shown):
        plot_score_histograms(
            r["scores"], r["split"].y_test, ax=ax, title=f"abnormal digit {r['class']}: AUC {r['SkipGANomaly']:.2f}"
        )
    r = results[0]
    split = r["split"]
    normal, abnormal = split.X_test[split.y_test == 0][:6], split.X_test[split.y_test == 1][:6]
    images = np.concatenate([normal, abnormal])
    plot_reconstructions(images, r["detector"].reconstruct(images), n=len(images), fig=bottom)
    bottom.suptitle(f"abnormal digit {r['class']}: 6 normal test images, then 6 abnormal ones")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"figure saved to {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--classes", type=int, nargs="+", default=list(range(10)), help="abnormal digits to run")
    parser.add_argument("--figure", default="examples/output/digits_demo.png", help="where to save the figure")
    parser.add_argument("--epochs", type=int, default=DETECTOR_PARAMS["n_epochs"], help="training epochs")
    parser.add_argument("--width", type=int, default=DETECTOR_PARAMS["ngf"], help="ngf = ndf")
    args = parser.parse_args(argv)
    params = {**DETECTOR_PARAMS, "n_epochs": args.epochs, "ngf": args.width, "ndf": args.width}
    results = []
    for abnormal in args.classes:
        results.append(run_class(abnormal, params))
        print(
            f"abnormal digit {abnormal}: SkipGANomaly AUC {results[-1]['SkipGANomaly']:.3f} "
            f"({results[-1]['fit_s']:.1f} s)",
            flush=True,
        )
    print_table(results)
    save_figure(results, args.figure)
    return results


if __name__ == "__main__":
    main()
