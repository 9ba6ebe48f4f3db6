"""How much of a published AUC is protocol: the reference code's evaluation replayed on our networks.

    python -m benchmarks.reference_protocol                     # CIFAR-10, ten classes, cpu preset, 15 epochs
    python -m benchmarks.reference_protocol --classes bird automobile --epochs 5
    python -m benchmarks.reference_protocol --replot benchmarks/results/reference_protocol_cifar10_cpu.json

Skip-GANomaly's reference code (github.com/samet-akcay/skip-ganomaly, read in
``lib/models/skipganomaly.py`` and ``lib/data/``) evaluates CIFAR-10 in a way
our detectors refuse to (see benchmarks/README.md, "Caveats"):

* the test set is built as [normal test images, abnormal training images,
  abnormal test images] and read **unshuffled** in batches of 64, so nearly
  every batch holds one label only;
* the networks are never put in eval mode, so **BatchNorm normalises each test
  batch by its own statistics**: a batch of anomalies is measured against
  itself, and the label of the batch leaks into every score in it;
* the test set is scored after **every epoch** and the best AUC is kept.

This script trains ``SkipGANomalyDetector`` once per abnormal class (the
``cpu`` preset's sizes and widths of ``detection.py``, 15 epochs as in the
paper) and keeps a copy of the networks after each epoch. Its test set is the
reference code's, anomalies from both splits
(``leave_one_class_out(..., anomalies="all")``), not ``detection.py``'s
default (the abnormal class's test images only): what is replayed here is
the papers' protocol. Each copy is then
scored on the same test images with the reference score
``0.9 * mean((x - G(x))^2) + 0.1 * mean((f(x) - f(G(x)))^2)`` (the detector's
unstandardised ``residual`` and ``feature`` parts) in three modes:

* ``eval``: BatchNorm running statistics, so a score does not depend on its
  batch (our protocol);
* ``train-BN, shuffled``: batch statistics, test images in random order;
* ``train-BN, reference order``: batch statistics, test images in the
  reference code's order.

Each mode is reported at the last epoch (no test labels used) and at the best
epoch by test AUC (the reference code's selection), beside the detector's own
score at the last epoch (``ours``: eval mode, parts standardised on held-out
normals). Training is the same in every column: only the evaluation differs.
The paper column is Skip-GANomaly's Table I (CIFAR-10, leave-one-class-out,
the reference protocol), from ``PAPER_AUC`` in ``benchmarks/detection.py``.

The train-mode passes run on copies, through the detector's private scoring
hook (``_batch_components``): the library itself offers no way to score with
batch statistics, on purpose. Writes
``benchmarks/results/reference_protocol_<dataset>_<preset>.json`` (and ``.png``,
the AUC of every epoch in each mode, with matplotlib) and prints a markdown
table.
"""

from __future__ import annotations

import copy
import os
import time

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from skorch.callbacks import Callback

from skgan_ad import SkipGANomalyDetector
from skgan_ad.datasets import leave_one_class_out

from ._harness import load_dataset, make_parser, parse_args, parse_params, results_path, run_benchmark
from .detection import LOCO, PRESETS, paper_columns

# The reference code's test batch size and score mix (lib/models/skipganomaly.py, test()).
REFERENCE_BATCH = 64
REFERENCE_LAMBDA = 0.9
MODES = ("eval", "train-BN, shuffled", "train-BN, reference order")


class EpochSnapshots(Callback):
    """Hand ``(epoch, generator_state, discriminator_state)``, CPU copies, to ``sink`` after each epoch.

    The detector deep-copies its callbacks before training; ``sink`` is a
    function, which a deep copy shares rather than copies, so the snapshots
    reach the caller.
    """

    def __init__(self, sink):
        self.sink = sink

    def on_epoch_end(self, net, **kwargs):
        states = [
            {k: v.detach().cpu().clone() for k, v in m.state_dict().items()} for m in (net.module_, net.discriminator_)
        ]
        self.sink((len(net.history), *states))


def reference_scores(
    detector, generator, discriminator, x, *, train_mode: bool, order: np.ndarray, batch_size: int = REFERENCE_BATCH
) -> np.ndarray:
    """The reference code's anomaly score of every image, in batches taken in ``order``."""
    generator.train(train_mode)
    discriminator.train(train_mode)
    geometry = detector._geometry()
    scores = np.empty(len(x))
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            idx = order[start : start + batch_size]
            parts, _ = detector._batch_components(generator, discriminator, x[idx], geometry)
            mixed = REFERENCE_LAMBDA * parts["residual"] + (1 - REFERENCE_LAMBDA) * parts["feature"]
            scores[idx] = mixed.cpu().numpy()
    return scores


def evaluate_snapshots(detector, snapshots, X_test, y_test, seed: int) -> dict[str, list[float]]:
    """Test AUC of every epoch's networks in every mode of ``MODES``."""
    rows, _ = detector._validate(X_test)
    x = detector._geometry().to_network(rows, detector.input_shift_, detector.input_scale_)
    x = x.to(next(detector.generator_.parameters()).device)
    reference_order = np.argsort(y_test, kind="stable")  # normals first, as the reference builds its test set
    shuffled = np.random.RandomState(seed).permutation(len(y_test))
    settings = {
        "eval": (False, reference_order),  # order is irrelevant in eval mode
        "train-BN, shuffled": (True, shuffled),
        "train-BN, reference order": (True, reference_order),
    }
    generator, discriminator = copy.deepcopy(detector.generator_), copy.deepcopy(detector.discriminator_)
    aucs: dict[str, list[float]] = {mode: [] for mode in MODES}
    for _, g_state, d_state in snapshots:
        for mode, (train_mode, order) in settings.items():
            # Reload before each mode: a train-mode pass updates BatchNorm's running statistics.
            generator.load_state_dict(g_state)
            discriminator.load_state_dict(d_state)
            scores = reference_scores(detector, generator, discriminator, x, train_mode=train_mode, order=order)
            aucs[mode].append(float(roc_auc_score(y_test, scores)))
    return aucs


def run_class(split, seed: int, params: dict, device: str) -> dict:
    snapshots: list = []
    detector = SkipGANomalyDetector(
        **params, device=device, random_state=seed, callbacks=[("snapshots", EpochSnapshots(snapshots.append))]
    )
    start = time.perf_counter()
    detector.fit(split.X_train)
    fit_s = time.perf_counter() - start
    ours = float(roc_auc_score(split.y_test, detector.anomaly_score(split.X_test)))
    start = time.perf_counter()
    aucs = evaluate_snapshots(detector, snapshots, split.X_test, split.y_test, seed)
    return dict(ours_last=ours, per_epoch=aucs, fit_s=fit_s, evaluate_s=time.perf_counter() - start)


COLUMNS = (
    ("ours, last epoch", lambda r: r["ours_last"]),
    ("eval, last", lambda r: r["per_epoch"]["eval"][-1]),
    ("eval, best on test", lambda r: max(r["per_epoch"]["eval"])),
    ("train-BN shuffled, best", lambda r: max(r["per_epoch"]["train-BN, shuffled"])),
    ("train-BN ref. order, last", lambda r: r["per_epoch"]["train-BN, reference order"][-1]),
    ("train-BN ref. order, best (reference protocol)", lambda r: max(r["per_epoch"]["train-BN, reference order"])),
)


def paper_column(dataset: str) -> dict[str, float]:
    """Skip-GANomaly's published AUC per class for this data set under leave-one-class-out (empty if none)."""
    return next((p.per_class for p in paper_columns(dataset, LOCO) if "Skip-GANomaly (" in p.label), {})


def markdown_table(records, dataset: str) -> str:
    paper = paper_column(dataset)
    lines = [
        "| abnormal class | "
        + " | ".join(name for name, _ in COLUMNS)
        + " | paper: Skip-GANomaly (Table I, leave-one-class-out, reference protocol) |",
        "|---|" + "---|" * (len(COLUMNS) + 1),
    ]
    for record in records:
        cells = " | ".join(f"{get(record):.3f}" for _, get in COLUMNS)
        value = paper.get(record["class"])
        lines.append(f"| {record['class']} | {cells} | {'n/a' if value is None else f'{value:.3f}'} |")
    means = " | ".join(f"**{np.mean([get(r) for r in records]):.3f}**" for _, get in COLUMNS)
    paper_values = [paper[r["class"]] for r in records if r["class"] in paper]
    paper_mean = f"**{np.mean(paper_values):.3f}**" if len(paper_values) == len(records) else ""
    lines.append(f"| **mean** | {means} | {paper_mean} |")
    return "\n".join(lines)


def plot_curves(records, path: str) -> bool:
    """Test AUC per epoch in each mode (thin: each class; thick: the mean), ours at the last epoch.

    Returns False, saving nothing, when matplotlib is not installed.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no figure (pip install 'skgan_ad[plots]')")
        return False
    ours_mean = np.mean([r["ours_last"] for r in records])
    fig, axes = plt.subplots(1, len(MODES), figsize=(4 * len(MODES), 3.4), sharey=True)
    for ax, mode in zip(axes, MODES, strict=True):
        curves = np.array([r["per_epoch"][mode] for r in records])
        epochs = np.arange(1, curves.shape[1] + 1)
        ax.plot(epochs, curves.T, color="0.75", lw=0.8)
        ax.plot(epochs, curves.mean(0), color="C0", lw=2.5, label="mean over classes")
        ax.plot(epochs[-1], ours_mean, "o", color="C3", label="ours (mean), last epoch")
        ax.axhline(0.5, color="k", lw=0.6, ls=":")
        ax.set_title(mode)
        ax.set_xlabel("epoch")
    axes[0].set_ylabel("test ROC AUC")
    axes[0].legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    print(f"figure written to {path}")
    return True


def run(args) -> dict:
    preset = PRESETS[args.preset]
    params = {**preset["detector"], "n_epochs": args.epochs, **parse_params(args.params)}
    X_train, y_train, X_test, y_test, classes = load_dataset(args.dataset, args.data_root, args.cache)
    records = []
    for cls in args.classes or classes:
        split = leave_one_class_out(
            X_train,
            y_train,
            X_test,
            y_test,
            cls,
            anomalies="all",  # the reference code's test set: see the module docstring
            max_train=preset["max_train"],
            max_test=preset["max_test"],
            random_state=args.seed,
        )
        record = {"class": cls, "n_train": len(split.X_train), "n_test": len(split.X_test)}
        records.append({**record, **run_class(split, args.seed, params, args.device)})
        record = records[-1]
        curves = ", ".join(f"{mode} {np.round(v, 3).tolist()}" for mode, v in record["per_epoch"].items())
        print(f"class {cls}: ours {record['ours_last']:.3f}; per epoch: {curves}", flush=True)
    return dict(dataset=args.dataset, preset=args.preset, params=params, seed=args.seed, records=records)


def main(argv=None):
    parser = make_parser(__doc__, seeds="one", data=True)
    parser.add_argument("--dataset", choices=["cifar10", "mnist"], default="cifar10")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="cpu")
    parser.add_argument("--epochs", type=int, default=15, help="training epochs (paper: 15)")
    parser.add_argument("--classes", nargs="+", help="abnormal classes (names); default all ten")
    parser.add_argument("--params", nargs="+", metavar="KEY=VALUE", help="override the preset's detector parameters")
    parser.add_argument(
        "--replot", metavar="JSON", help="redraw the table and figure of a results file of this script; trains nothing"
    )
    args = parse_args(parser, argv)
    if args.replot:
        args.show = args.replot
    # The paper column follows PAPER_AUC as it is now; the measured columns come from the file.
    stem = f"reference_protocol_{args.dataset}_{args.preset}"
    payload = run_benchmark(
        args,
        "benchmarks.reference_protocol",
        stem,
        run,
        lambda payload: markdown_table(payload["records"], payload.get("dataset", args.dataset)),
    )
    plot_curves(payload["records"], os.path.splitext(args.show or results_path(args, stem))[0] + ".png")
    return payload


if __name__ == "__main__":
    main()
