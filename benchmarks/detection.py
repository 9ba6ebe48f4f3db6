"""Detection benchmark: detectors x data sets x classes x seeds, beside simple baselines, under two protocols.

    python -m benchmarks.detection --preset cpu --dataset mnist                      # ~30 min on 2 cores
    python -m benchmarks.detection --preset cpu --dataset cifar10
    python -m benchmarks.detection --preset cpu --dataset mnist --protocol one-class  # every method
    python -m benchmarks.detection --preset paper --dataset cifar10 --device cuda     # full protocol, GPU
    python -m benchmarks.detection --dataset mnist --merge a.json b.json              # one table of two runs
    python -m benchmarks.detection --show benchmarks/results/cifar10_cpu.json         # a table, trains nothing

Protocols (``--protocol``; ``skgan_ad.datasets``, ``../shared/data/README.md``):

* ``leave-one-class-out``: the named class is the anomaly; train on the
  other classes' training images; test on their test images plus the named
  class's *test* images. This departs from the seed papers, whose test set
  also holds every *training* image of the named class
  (``leave_one_class_out(..., anomalies="all")``): those are the images that
  development splits (``benchmarks/dev_ablation.py``) draw their anomalies
  from, so here the test set is disjoint from every development split
  (issue 23). ``--anomalies all`` restores the papers' test set. The results
  file records which (``"anomalies"``; files without the key were made under
  the papers' protocol);
* ``one-class``: the named class is normal; train on its training images;
  test on the whole test split, every other class an anomaly.

``--classes`` names the abnormal classes (leave-one-class-out) or the normal
ones (one-class); default all ten. Data come from ``--data-root`` (default
``../shared/data``: ``mnist/`` IDX files and ``cifar10-jpeg.tar.gz``, extracted
once into ``--cache``). Nothing is downloaded.

Methods, all on the same split in the same run (``--methods`` picks some; the
default for leave-one-class-out is ``SkipGANomaly``, its untrained control,
``U-Net AE`` and the three pixel baselines; every method for one-class):

* ``SkipGANomaly``: the detector with the preset's parameters;
* ``<method> (untrained)``, for every GAN method below: the control of
  issue 25, the same detector class with the same parameters and the same
  score but ``lr=1e-12, n_epochs=1, min_steps=0`` (whatever the preset or
  ``--params`` say), so its weights stay at their initialisation and only
  BatchNorm's running statistics adapt: a method that does not beat its own
  untrained network gains nothing from training;
* ``U-Net AE``: the same generator and training loop with ``w_adv=0, w_lat=0``
  and ``lambda_score=1``, i.e. a plain autoencoder scored by its residual:
  the difference to ``SkipGANomaly`` is what the adversarial part adds (its
  discriminator still trains, but touches neither the generator nor the score);
* ``IsolationForest`` on pixels (default parameters, ``random_state=seed``);
* ``PCA recon.``: squared reconstruction error with 16 components;
* ``kNN (pixels)``: the detectors' ``embedding`` score on raw pixels (mean
  distance to the 5 nearest standardised training rows) instead of a learned code;
* ``GANomaly``, ``AnoGAN``, ``EGBAD``, ``DenseSkipAttention``: the other
  detectors with the same widths, epochs and batch size (AnoGAN's latent
  search is cut to ``n_max=50`` steps in the ``cpu`` preset: 500 steps on
  3,000 test images would take longer than all the training);
* ``PyOD AutoEncoder``, ``PyOD DeepSVDD``: peers at PyOD's defaults on the
  flattened pixels (``pip install 'skgan_ad[peers]'``; skipped with a note when
  PyOD is not installed).

``--params KEY=VALUE ...`` overrides the preset's detector parameters (every
GAN detector gets them), e.g. ``--params n_epochs=15 ngf=64``. Each preset
states its training budget, and the run prints it in optimiser steps.

Each method is reported by ROC AUC and by recall at 5 % false positives
(Zawar et al.'s emphasis: the share of anomalies caught when 5 % of normal
images may be flagged). No epoch or parameter is chosen on test labels (the
reference code picked the best epoch by test AUC). The published numbers of
``PAPER_AUC`` (from ``../shared/PAPERS.md``) are printed beside ours only for
the same data set and protocol, each column named with its source; they come
from other protocols of model selection (see benchmarks/README.md), and the
leave-one-class-out ones from the papers' test set, anomalies from both splits.

Writes ``<out>/<dataset>_<preset>.json`` (leave-one-class-out) or
``<out>/<dataset>_one_class_<preset>.json`` (every AUC, fit and score time,
the environment and the command) and prints markdown tables from it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import torch

from skgan_ad import (
    AnoGANDetector,
    DenseSkipAttentionDetector,
    EGBADDetector,
    GANomalyDetector,
    SkipGANomalyDetector,
)
from skgan_ad.datasets import leave_one_class_out, one_class

from ._harness import (
    BASELINES,
    anomaly_score,
    detection_record,
    fit_score,
    load_dataset,
    make_parser,
    parse_args,
    parse_params,
    pyod_available,
    read_results,
    run_benchmark,
    timed,
    with_untrained,
)

LOCO, ONE_CLASS = "leave-one-class-out", "one-class"
SPLITS = {LOCO: leave_one_class_out, ONE_CLASS: one_class}
# Where leave-one-class-out takes its anomalies (--anomalies): "test", leave_one_class_out's default, or "all"
# (the papers' protocol, to reproduce their test sets; not for our tables: see the module docstring).
ANOMALIES = ("test", "all")

PRESETS = {
    # Subsampled and narrowed so that ten classes of one data set take about half an hour on 2 cores.
    # Training budget: 5 epochs of the 3,000 training images less the 10 % held out (2,700) at batch 64,
    # i.e. 5 x 43 = 215 optimiser steps per network (printed at the start of a run). The detector
    # parameters are passed through as they are: a budget in steps (the detectors' ``min_steps``) is set
    # here, or per run with --params min_steps=N.
    "cpu": dict(
        max_train=3000,
        max_test=3000,
        detector=dict(ngf=32, ndf=32, n_epochs=5, batch_size=64),
        anogan=dict(n_max=50),
    ),
    # The papers' protocol and sizes (Skip-GANomaly: ngf=ndf=64, 15 epochs, batch 64), for a GPU.
    # Training budget: 15 epochs of the full training split (CIFAR-10 leave-one-class-out: 45,000 less
    # 10 % at batch 64, 15 x 633 = 9,495 optimiser steps).
    "paper": dict(
        max_train=None, max_test=None, detector=dict(ngf=64, ndf=64, n_epochs=15, batch_size=64), anogan=dict()
    ),
}


@dataclass(frozen=True)
class PaperColumn:
    """A published column of ROC AUCs: its source, per class where published, and the published mean."""

    label: str
    mean: float
    per_class: dict[str, float] = field(default_factory=dict)


# Skip-GANomaly's Table I orders its columns so; "car" is CIFAR-10's automobile, "plane" its airplane.
_TABLE_I_CLASSES = ("bird", "automobile", "cat", "deer", "dog", "frog", "horse", "airplane", "ship", "truck")


def _table_i(model: str, mean: float, values) -> PaperColumn:
    per_class = dict(zip(_TABLE_I_CLASSES, values, strict=True))
    return PaperColumn(f"paper: {model} (Skip-GANomaly Table I, leave-one-class-out)", mean, per_class)


def _one_class(method: str, mean: float) -> PaperColumn:
    return PaperColumn(f"paper: {method} (one-class, published mean)", mean)


# Published ROC AUC, as in ../shared/PAPERS.md, keyed by (data set, protocol). Shown only beside results of
# the same data set and protocol. Their model selection differs from ours (best epoch on the test set, see
# benchmarks/README.md), and our CIFAR-10 copy is JPEG-re-encoded. The leave-one-class-out figures were measured
# under the papers' protocol: the abnormal class's training images were test anomalies too (anomalies="all"),
# where ours are its test images only by default (PAPER_PROTOCOL_NOTE is printed above such tables).
PAPER_AUC: dict[tuple[str, str], list[PaperColumn]] = {
    ("cifar10", LOCO): [
        _table_i("AnoGAN", 0.434, (0.411, 0.492, 0.399, 0.335, 0.393, 0.321, 0.399, 0.516, 0.567, 0.511)),
        _table_i("EGBAD", 0.462, (0.383, 0.514, 0.448, 0.374, 0.481, 0.353, 0.526, 0.577, 0.413, 0.555)),
        _table_i("GANomaly", 0.610, (0.510, 0.631, 0.587, 0.593, 0.628, 0.683, 0.605, 0.633, 0.616, 0.617)),
        _table_i("Skip-GANomaly", 0.731, (0.448, 0.953, 0.607, 0.602, 0.615, 0.931, 0.788, 0.797, 0.659, 0.907)),
    ],
    ("mnist", ONE_CLASS): [
        _one_class("Deep SVDD, Ruff et al. 2018", 0.948),
        _one_class("OCGAN, Perera et al. 2019", 0.975),
        _one_class("GEOM, Golan and El-Yaniv 2018", 0.980),
        _one_class("AnoGAN as reported by OCGAN", 0.937),
    ],
    ("cifar10", ONE_CLASS): [
        _one_class("Deep SVDD, Ruff et al. 2018", 0.648),
        _one_class("OCGAN, Perera et al. 2019", 0.657),
        _one_class("GEOM, Golan and El-Yaniv 2018", 0.860),
        _one_class("AnoGAN as reported by OCGAN", 0.612),
    ],
}


PAPER_PROTOCOL_NOTE = (
    "paper columns: published under the papers' protocol (leave-one-class-out anomalies from the training and the "
    "test split; best epoch by test AUC)"
)


def paper_columns(dataset: str, protocol: str) -> list[PaperColumn]:
    return PAPER_AUC.get((dataset, protocol), [])


def anomalies_note(payload: dict) -> str:
    """Where a results file's leave-one-class-out anomalies came from ("" for one-class)."""
    if payload.get("protocol", LOCO) != LOCO:
        return ""
    if payload.get("anomalies", "all") == "all":  # files from before the key existed: the papers' protocol
        return "anomalies: the abnormal class's training and test images (the papers' protocol)"
    return "anomalies: the abnormal class's test images only (not the papers' protocol: no training image)"


# name -> (detector class, parameters beyond the preset's): the GAN methods of the harness, each followed by
# its untrained control "<name> (untrained)" (the same class, parameters and score, weights left at their
# initialisation: _harness.UNTRAINED).
GAN_METHODS = with_untrained(
    {
        "SkipGANomaly": (SkipGANomalyDetector, {}),
        "U-Net AE": (SkipGANomalyDetector, dict(w_adv=0.0, w_lat=0.0, lambda_score=1.0)),
        "GANomaly": (GANomalyDetector, {}),
        "AnoGAN": (AnoGANDetector, {}),
        "EGBAD": (EGBADDetector, {}),
        "DenseSkipAttention": (DenseSkipAttentionDetector, {}),
    }
)


# PyOD's peers at their default parameters (batch 32), on flattened pixels in [0, 1]. The batch is cut to
# the training set's size when that is smaller: PyOD then trains on no batch at all and fails.
def _pyod_autoencoder(seed, X):
    from pyod.models.auto_encoder import AutoEncoder

    return AutoEncoder(batch_size=min(32, len(X)), random_state=seed, verbose=0)


def _pyod_deep_svdd(seed, X):
    from pyod.models.deep_svdd import DeepSVDD

    return DeepSVDD(n_features=X.shape[1], batch_size=min(32, len(X)), random_state=seed, verbose=0)


# name -> make(seed, X_train)
PYOD_PEERS = {"PyOD AutoEncoder": _pyod_autoencoder, "PyOD DeepSVDD": _pyod_deep_svdd}
ALL_METHODS = (*GAN_METHODS, *BASELINES, *PYOD_PEERS)
DEFAULT_METHODS = {
    LOCO: ("SkipGANomaly", "SkipGANomaly (untrained)", "U-Net AE", "IsolationForest", "PCA recon.", "kNN (pixels)"),
    ONE_CLASS: ALL_METHODS,
}


def detector_params(preset: dict, cls) -> dict:
    """The preset's parameters for a detector class (AnoGAN's search options added)."""
    return {**preset["detector"], **(preset["anogan"] if cls is AnoGANDetector else {})}


def make_detector(name: str, preset: dict, device: str, seed: int):
    """The unfitted detector of GAN method ``name``: the preset's parameters < the method's < device and seed."""
    make, extra = GAN_METHODS[name]
    params = {**detector_params(preset, getattr(make, "trained", make)), **extra}
    return make(**params, device=device, random_state=seed)


def training_budget(preset: dict, n_train: int) -> str:
    """The preset's training budget on ``n_train`` images, in words and optimiser steps.

    As the detectors count it: ``n_epochs`` epochs, or more when those make fewer than ``min_steps`` steps.
    """
    params = {**SkipGANomalyDetector().get_params(), **preset["detector"]}
    n_fit = n_train - round(params["validation_fraction"] * n_train)
    per_epoch = max(1, math.ceil(n_fit / params["batch_size"]))
    min_steps = params.get("min_steps", 0)
    epochs = max(params["n_epochs"], math.ceil(min_steps / per_epoch))
    return (
        f"{epochs} epochs (n_epochs={params['n_epochs']}, min_steps={min_steps}) of {n_fit} training images "
        f"(of {n_train}; the rest held out) at batch {params['batch_size']}: about {epochs * per_epoch} optimiser "
        "steps per network"
    )


def run_split(split, seed, preset, device, methods):
    flat_train = split.X_train.reshape(len(split.X_train), -1).astype(np.float32) / 255.0
    flat_test = split.X_test.reshape(len(split.X_test), -1).astype(np.float32) / 255.0
    results = {}
    for name in methods:
        if name in GAN_METHODS:
            scores, fit_s, score_s = fit_score(
                lambda name=name: make_detector(name, preset, device, seed), anomaly_score, split.X_train, split.X_test
            )
        elif name in BASELINES:
            make, score = BASELINES[name]
            scores, fit_s, score_s = fit_score(lambda make=make: make(seed), score, flat_train, flat_test)
        elif name in PYOD_PEERS:
            torch.manual_seed(seed)  # PyOD's networks draw from the global torch RNG
            make = PYOD_PEERS[name]
            scores, fit_s, score_s = fit_score(
                lambda make=make: make(seed, flat_train),
                lambda m, X: m.decision_function(X),
                flat_train,
                flat_test,
            )
        else:
            raise ValueError(f"unknown method {name!r}; choose from {list(ALL_METHODS)}")
        results[name] = detection_record(split.y_test, scores, fit_s, score_s)
    return results


def _cell(values) -> str:
    return f"{np.mean(values):.3f}" + (f" ± {np.std(values):.3f}" if len(values) > 1 else "")


def markdown_table(records, dataset: str, protocol: str = LOCO, metric: str = "auc") -> str:
    """One row per class (mean ± std over seeds), one column per method, then the published columns (AUC only)."""
    methods = list(records[0]["results"])
    classes = list(dict.fromkeys(r["class"] for r in records))
    papers = paper_columns(dataset, protocol) if metric == "auc" else []
    row_name = "abnormal class" if protocol == LOCO else "normal class"
    lines = [
        f"| {row_name} | " + " | ".join([*methods, *(p.label for p in papers)]) + " |",
        "|---|" + "---|" * (len(methods) + len(papers)),
    ]
    per_method = {m: [] for m in methods}
    for cls in classes:
        rows = [r for r in records if r["class"] == cls]
        cells = []
        for m in methods:
            values = [r["results"][m][metric] for r in rows if metric in r["results"][m]]
            if values:  # files from before a metric existed lack it
                per_method[m].append(np.mean(values))
            cells.append(_cell(values) if values else "n/a")
        cells += [f"{p.per_class[cls]:.3f}" if cls in p.per_class else "" for p in papers]
        lines.append(f"| {cls} | " + " | ".join(cells) + " |")
    # A published mean is over all ten classes: shown only when the table has all ten too.
    paper_means = [f"**{p.mean:.3f}**" if len(classes) == 10 else "" for p in papers]
    means = [f"**{np.mean(per_method[m]):.3f}**" if per_method[m] else "n/a" for m in methods]
    lines.append("| **mean** | " + " | ".join(means + paper_means) + " |")
    return "\n".join(lines)


def render(payload: dict, dataset: str | None = None) -> str:
    """The ROC AUC and recall tables of a results file (files written before protocols existed are
    leave-one-class-out, and name their data set in their command only)."""
    named = re.search(r"--dataset[ =](\w+)", payload.get("command", ""))
    dataset = payload.get("dataset") or (named.group(1) if named else dataset)
    protocol = payload.get("protocol", LOCO)
    records = payload["records"]
    notes = [anomalies_note(payload)]
    if protocol == LOCO and paper_columns(dataset, protocol):
        papers_test_set = payload.get("anomalies", "all") == "all"
        notes.append(PAPER_PROTOCOL_NOTE + ("" if papers_test_set else ", not on our test set"))
    return (
        f"{dataset}, {protocol}\n"
        + "".join(f"{note}\n" for note in notes if note)
        + f"\nROC AUC\n{markdown_table(records, dataset, protocol)}\n\n"
        f"recall at 5 % false positives\n{markdown_table(records, dataset, protocol, metric='recall_at_5fpr')}"
    )


def merge(paths, dataset: str) -> dict:
    """The records of several results files of the same methods and protocol, as one results payload."""
    payloads = [read_results(path) for path in paths]
    records = [r for p in payloads for r in p["records"]]
    methods = {tuple(r["results"]) for r in records}
    if len(methods) > 1:
        raise ValueError(f"the files hold different methods: {sorted(methods)}")
    protocols = {p.get("protocol", LOCO) for p in payloads}
    if len(protocols) > 1:
        raise ValueError(f"the files hold different protocols: {sorted(protocols)}")
    protocol = protocols.pop()
    anomalies = {p.get("anomalies", "all") for p in payloads} if protocol == LOCO else {None}
    if len(anomalies) > 1:
        raise ValueError("the files take their leave-one-class-out anomalies from different splits")
    return dict(dataset=dataset, protocol=protocol, anomalies=anomalies.pop(), records=records)


def run(args) -> dict:
    preset = PRESETS[args.preset]
    preset = {**preset, "detector": {**preset["detector"], **parse_params(args.params)}}
    methods = pyod_available(args.methods or DEFAULT_METHODS[args.protocol], PYOD_PEERS)
    (X_train, y_train, X_test, y_test, classes), load_s = timed(
        lambda: load_dataset(args.dataset, args.data_root, args.cache)
    )
    print(f"{args.dataset}: {len(X_train)} train / {len(X_test)} test images loaded in {load_s:.0f} s", flush=True)
    records, budget = [], None
    anomalies = {"anomalies": args.anomalies} if args.protocol == LOCO else {}
    for cls in args.classes or classes:
        for seed in args.seeds:
            split = SPLITS[args.protocol](
                X_train,
                y_train,
                X_test,
                y_test,
                cls,
                **anomalies,
                max_train=preset["max_train"],
                max_test=preset["max_test"],
                random_state=seed,
            )
            if budget is None:
                budget = training_budget(preset, len(split.X_train))
                print(f"training budget ({args.preset} preset): {budget}", flush=True)
            results = run_split(split, seed, preset, args.device, methods)
            records.append(
                {
                    "class": cls,
                    "seed": seed,
                    "n_train": len(split.X_train),
                    "n_test": len(split.X_test),
                    "n_abnormal_test": int(split.y_test.sum()),
                    "results": results,
                }
            )
            print(
                f"class {cls} seed {seed}: "
                + ", ".join(f"{m} {r['auc']:.3f} ({r['fit_s']:.0f}s)" for m, r in results.items()),
                flush=True,
            )
    return dict(
        dataset=args.dataset,
        protocol=args.protocol,
        anomalies=anomalies.get("anomalies"),
        preset=args.preset,
        preset_params=preset,
        training_budget=budget,
        seeds=args.seeds,
        load_s=load_s,
        records=records,
    )


def results_stem(args) -> str:
    protocol = "" if args.protocol == LOCO else "_one_class"
    return f"{args.dataset}{protocol}_{args.preset}"


def main(argv=None):
    parser = make_parser(__doc__, data=True)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="cpu")
    parser.add_argument("--dataset", choices=["mnist", "cifar10"], default="mnist")
    parser.add_argument("--protocol", choices=sorted(SPLITS), default=LOCO)
    parser.add_argument(
        "--anomalies",
        choices=ANOMALIES,
        default=ANOMALIES[0],
        help="leave-one-class-out only: the abnormal class's test images ('test', default: disjoint from every "
        "development split) or its training and test images ('all': the papers' protocol)",
    )
    parser.add_argument("--classes", nargs="+", help="abnormal (leave-one-class-out) or normal (one-class) classes")
    parser.add_argument(
        "--methods", nargs="+", choices=ALL_METHODS, metavar="METHOD", help="of " + ", ".join(ALL_METHODS)
    )
    parser.add_argument("--params", nargs="+", metavar="KEY=VALUE", help="override the preset's detector parameters")
    parser.add_argument(
        "--merge",
        nargs="+",
        metavar="JSON",
        help="print one AUC and one recall table for these results files (the same methods and protocol on other "
        "classes or seeds, e.g. a run split in two); trains nothing",
    )
    args = parse_args(parser, argv)
    if args.merge:
        print(render(merge(args.merge, args.dataset)))
        return None
    return run_benchmark(
        args, "benchmarks.detection", results_stem(args), run, lambda payload: render(payload, args.dataset)
    )


if __name__ == "__main__":
    main()
