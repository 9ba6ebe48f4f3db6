"""Detection benchmark: detectors x data sets x abnormal classes x seeds, beside simple baselines.

    python benchmarks/detection.py --preset cpu --dataset mnist                # ~30 min on 2 cores
    python benchmarks/detection.py --preset cpu --dataset cifar10
    python benchmarks/detection.py --preset paper --dataset cifar10 --device cuda   # full protocol, GPU
    python benchmarks/detection.py --dataset mnist --merge a.json b.json          # one table of two runs

Protocol: leave-one-class-out as the seed papers define it (train on the normal
classes' training images; test on their test images plus every image, train
and test, of the abnormal class). Data come from ``--data-root`` (default
``../shared/data``: ``mnist/`` IDX files and ``cifar10-jpeg.tar.gz``, extracted
once into ``--cache``). Nothing is downloaded.

Methods, all on the same split in the same run (``--methods`` picks some):

* ``SkipGANomaly``: the detector with the preset's parameters;
* ``GANomaly``, ``AnoGAN``, ``EGBAD``, ``DenseSkipAttention``: the other
  detectors with the same widths, epochs and batch size (AnoGAN's latent
  search is cut to ``n_max=50`` steps in the ``cpu`` preset: 500 steps on
  3,000 test images would take longer than all the training);
* ``U-Net AE``: the same generator and training loop with ``w_adv=0, w_lat=0``
  and ``lambda_score=1``, i.e. a plain autoencoder scored by reconstruction:
  the difference to ``SkipGANomaly`` is what the adversarial part adds (its
  discriminator still trains, but touches neither the generator nor the score);
* ``IsolationForest`` on pixels (default parameters, ``random_state=seed``);
* ``PCA recon.``: squared reconstruction error with 16 components.

Each method is reported by ROC AUC and by recall at 5 % false positives
(Zawar et al.'s emphasis: the share of anomalies caught when 5 % of normal
images may be flagged). No epoch or parameter is chosen on test labels (the
reference code picked the best epoch by test AUC). Writes ``<out>/<dataset>_<preset>.json`` (every
AUC, fit and score time, the environment and the command) and prints a
markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tarfile
import time

import numpy as np
import sklearn
import torch
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

import skgan_ad
from skgan_ad import (
    AnoGANDetector,
    DenseSkipAttentionDetector,
    EGBADDetector,
    GANomalyDetector,
    SkipGANomalyDetector,
)
from skgan_ad.datasets import leave_one_class_out, load_image_folder, load_mnist
from skgan_ad.metrics import recall_at_fpr

PRESETS = {
    # Subsampled and narrowed so that ten classes of one data set take about half an hour on 2 cores.
    "cpu": dict(
        max_train=3000, max_test=3000, detector=dict(ngf=32, ndf=32, n_epochs=5, batch_size=64), anogan=dict(n_max=50)
    ),
    # The papers' protocol and sizes (Skip-GANomaly: ngf=ndf=64, 15 epochs, batch 64), for a GPU.
    "paper": dict(
        max_train=None, max_test=None, detector=dict(ngf=64, ndf=64, n_epochs=15, batch_size=64), anogan=dict()
    ),
}

# Paper numbers (ROC AUC, CIFAR-10, leave-one-class-out) to print beside ours, keyed by class name.
# Skip-GANomaly's Table I is not available offline to this project; fill in from the paper when it
# is, citing the table. Absent values print as "n/a".
PAPER_AUC: dict[str, dict[str, float]] = {"cifar10": {}, "mnist": {}}


def load_dataset(name: str, data_root: str, cache: str):
    """Return (X_train, y_train, X_test, y_test, class_names), labels as class names."""
    if name == "mnist":
        X_train, y_train = load_mnist(os.path.join(data_root, "mnist"), "train")
        X_test, y_test = load_mnist(os.path.join(data_root, "mnist"), "test")
        classes = [str(c) for c in range(10)]
    elif name == "cifar10":
        root = os.path.join(cache, "cifar10")
        if not os.path.isdir(root):
            os.makedirs(cache, exist_ok=True)
            with tarfile.open(os.path.join(data_root, "cifar10-jpeg.tar.gz")) as tar:
                tar.extractall(cache, filter="data")
        X_train, y_train, classes = load_image_folder(os.path.join(root, "train"))
        X_test, y_test, _ = load_image_folder(os.path.join(root, "test"))
        classes = list(classes)
    else:
        raise ValueError(f"unknown dataset {name!r}")
    return X_train, _named(y_train, classes), X_test, _named(y_test, classes), classes


def _named(labels, classes) -> np.ndarray:
    """Class names for labels given as indices into ``classes``; names pass through."""
    return np.array([classes[i] if isinstance(i, (int, np.integer)) else i for i in labels])


def write_json(path: str, payload: dict) -> None:
    """Write a benchmark's results (creating the folder) and say where."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        json.dump(payload, f, indent=1)
    print(f"written to {path}")


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


# name -> (detector class, parameters beyond the preset's): the GAN methods of the harness.
GAN_METHODS = {
    "SkipGANomaly": (SkipGANomalyDetector, {}),
    "U-Net AE": (SkipGANomalyDetector, dict(w_adv=0.0, w_lat=0.0, lambda_score=1.0)),
    "GANomaly": (GANomalyDetector, {}),
    "AnoGAN": (AnoGANDetector, {}),
    "EGBAD": (EGBADDetector, {}),
    "DenseSkipAttention": (DenseSkipAttentionDetector, {}),
}
BASELINES = ("IsolationForest", "PCA recon.")
DEFAULT_METHODS = ("SkipGANomaly", "U-Net AE", "IsolationForest", "PCA recon.")


def _record(y, scores, fit_s, score_s) -> dict:
    return dict(
        auc=float(roc_auc_score(y, scores)), recall_at_5fpr=recall_at_fpr(y, scores, 0.05), fit_s=fit_s, score_s=score_s
    )


def run_split(split, seed, preset, device, methods=DEFAULT_METHODS):
    flat_train = split.X_train.reshape(len(split.X_train), -1).astype(np.float32) / 255.0
    flat_test = split.X_test.reshape(len(split.X_test), -1).astype(np.float32) / 255.0
    results = {}
    for name in methods:
        if name in GAN_METHODS:
            cls, extra = GAN_METHODS[name]
            if cls is AnoGANDetector:
                extra = {**extra, **preset["anogan"]}
            det = cls(**preset["detector"], **extra, device=device, random_state=seed)
            _, fit_s = _timed(lambda det=det: det.fit(split.X_train))
            scores, score_s = _timed(lambda det=det: det.anomaly_score(split.X_test))
        elif name == "IsolationForest":
            model, fit_s = _timed(lambda: IsolationForest(random_state=seed).fit(flat_train))
            scores, score_s = _timed(lambda model=model: -model.score_samples(flat_test))
        elif name == "PCA recon.":
            model, fit_s = _timed(lambda: PCA(16, random_state=seed).fit(flat_train))
            scores, score_s = _timed(
                lambda m=model: ((flat_test - m.inverse_transform(m.transform(flat_test))) ** 2).sum(1)
            )
        else:
            raise ValueError(f"unknown method {name!r}; choose from {[*GAN_METHODS, *BASELINES]}")
        results[name] = _record(split.y_test, scores, fit_s, score_s)
    return results


def environment(device):
    return dict(
        python=platform.python_version(),
        torch=torch.__version__,
        sklearn=sklearn.__version__,
        skgan_ad=skgan_ad.__version__,
        machine=platform.machine(),
        cpu_count=os.cpu_count(),
        torch_threads=torch.get_num_threads(),
        cuda_device=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        device=device,
    )


def markdown_table(records, classes, dataset, metric="auc"):
    methods = list(records[0]["results"])
    paper_column = metric == "auc"
    lines = [
        "| abnormal class | " + " | ".join(methods) + (" | paper (Skip-GANomaly) |" if paper_column else " |"),
        "|---|" + "---|" * (len(methods) + paper_column),
    ]
    per_method = {m: [] for m in methods}
    for cls in classes:
        rows = [r for r in records if r["class"] == cls]
        if not rows:
            continue
        cells = []
        for m in methods:
            aucs = [r["results"][m][metric] for r in rows if metric in r["results"][m]]
            per_method[m].append(np.mean(aucs))
            cells.append(f"{np.mean(aucs):.3f}" + (f" ± {np.std(aucs):.3f}" if len(aucs) > 1 else ""))
        paper = PAPER_AUC.get(dataset, {}).get(cls)
        paper_cell = f" {paper if paper is not None else 'n/a'} |" if paper_column else ""
        lines.append(f"| {cls} | " + " | ".join(cells) + " |" + paper_cell)
    means = " | ".join(f"**{np.mean(per_method[m]):.3f}**" for m in methods)
    lines.append("| **mean** | " + means + (" | |" if paper_column else " |"))
    return "\n".join(lines)


def parse_run_arguments(parser: argparse.ArgumentParser, argv=None) -> argparse.Namespace:
    """Add the options every data-set benchmark shares (device, threads, where data and results live), parse,
    and apply ``--threads``."""
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--data-root", default=os.path.join("..", "shared", "data"))
    parser.add_argument("--cache", default=os.path.join("benchmarks", "output", "cache"))
    parser.add_argument("--out", default=os.path.join("benchmarks", "results"))
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    return args


def print_merged(paths, dataset: str) -> None:
    """Print the tables of several results files of the same methods as one."""
    records = []
    for path in paths:
        with open(path) as f:
            records += json.load(f)["records"]
    methods = {tuple(r["results"]) for r in records}
    if len(methods) > 1:
        raise ValueError(f"the files hold different methods: {sorted(methods)}")
    classes = list(dict.fromkeys(r["class"] for r in records))
    print(f"ROC AUC\n{markdown_table(records, classes, dataset)}")
    print(f"\nrecall at 5 % false positives\n{markdown_table(records, classes, dataset, metric='recall_at_5fpr')}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="cpu")
    parser.add_argument("--dataset", choices=["mnist", "cifar10"], default="mnist")
    parser.add_argument("--classes", nargs="+", help="abnormal classes (names); default all ten")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument(
        "--methods", nargs="+", default=list(DEFAULT_METHODS), help="of " + ", ".join([*GAN_METHODS, *BASELINES])
    )
    parser.add_argument("--tag", default="", help="suffix of the results file, to keep runs of other methods apart")
    parser.add_argument(
        "--merge",
        nargs="+",
        metavar="JSON",
        help="print one AUC and one recall table for these results files (the same methods on other classes or "
        "seeds, e.g. a run split in two); trains nothing",
    )
    args = parse_run_arguments(parser, argv)
    if args.merge:
        print_merged(args.merge, args.dataset)
        return
    command = " ".join(["python", "benchmarks/detection.py", *(sys.argv[1:] if argv is None else argv)])
    preset = PRESETS[args.preset]

    (X_train, y_train, X_test, y_test, classes), load_s = _timed(
        lambda: load_dataset(args.dataset, args.data_root, args.cache)
    )
    print(f"{args.dataset}: {len(X_train)} train / {len(X_test)} test images loaded in {load_s:.0f} s", flush=True)
    records = []
    start = time.perf_counter()
    for cls in args.classes or classes:
        for seed in args.seeds:
            split = leave_one_class_out(
                X_train,
                y_train,
                X_test,
                y_test,
                cls,
                max_train=preset["max_train"],
                max_test=preset["max_test"],
                random_state=seed,
            )
            results = run_split(split, seed, preset, args.device, args.methods)
            records.append(
                dict(
                    cls=cls,
                    seed=seed,
                    n_train=len(split.X_train),
                    n_test=len(split.X_test),
                    n_abnormal_test=int(split.y_test.sum()),
                    results=results,
                )
            )
            records[-1]["class"] = records[-1].pop("cls")
            print(
                f"class {cls} seed {seed}: "
                + ", ".join(f"{m} {r['auc']:.3f} ({r['fit_s']:.0f}s)" for m, r in results.items()),
                flush=True,
            )
    wall_s = time.perf_counter() - start
    table = markdown_table(records, classes, args.dataset)
    recall_table = markdown_table(records, classes, args.dataset, metric="recall_at_5fpr")
    env = environment(args.device)
    print(
        f"\nROC AUC\n{table}\n\nrecall at 5 % false positives\n{recall_table}\n\nwall time {wall_s / 60:.1f} min; {env}"
    )
    write_json(
        os.path.join(args.out, f"{args.dataset}_{args.preset}{'_' + args.tag if args.tag else ''}.json"),
        dict(
            command=command,
            preset=args.preset,
            preset_params=preset,
            seeds=args.seeds,
            wall_s=wall_s,
            environment=env,
            records=records,
            table=table,
            recall_table=recall_table,
        ),
    )


if __name__ == "__main__":
    main()
