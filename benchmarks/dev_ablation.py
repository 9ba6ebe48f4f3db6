"""Development-split ablation: which settings make the detectors beat PCA and IsolationForest.

    python -m benchmarks.dev_ablation --threads 2                       # MNIST one-class, classes 0 2 5
    python -m benchmarks.dev_ablation --classes 0 1 2 3 4 5 6 7 8 9 --seeds 0 1 2
    python -m benchmarks.dev_ablation --protocol leave-one-class-out --variants "GANomaly (default)"
    python -m benchmarks.dev_ablation --dataset mnist8 --protocol leave-one-class-out --width 64 --classes 1 3 5 7 9
    python -m benchmarks.dev_ablation --dataset cifar10 --anomalies defects   # synthetic defects as the anomalies

``--dataset mnist8`` is the development set of the 8x8 digits task: MNIST
training images made 8x8 like the UCI digits (``skgan_ad.datasets.to_optdigits``,
then / 16 like ``load_digits_images``), with the digits split's sizes by
default (1,294 normals to fit, 324 normal and 180 anomalous validation images).

Only *training* images are used (``skgan_ad.datasets.development_split``):
for each class and seed, 2,000 normal training images to fit, 500 disjoint
normal training images and 500 training images of the other classes to
validate (mnist8: the digits' sizes above; ``random_state = 1000 + seed``). No test split is
read: this is where defaults are chosen; the test protocols (``benchmarks.detection``,
``examples/digits_demo.py``) are run once afterwards.

``--anomalies defects`` (one-class only) makes the classes an "industrial-like"
development domain: the validation anomalies are synthetic defects (cut-and-paste
patches, Perlin-noise blotches, scratches: ``skgan_ad.datasets.synthetic_defect_split``)
drawn on further training images of the normal class itself, disjoint from those
to fit and validate on, instead of images of the other classes. Its results go to
``dev_ablation_<data set>_one-class_defects.json``.

Every variant is a detector with some parameters; variants that differ only
in scoring parameters share trained networks (``memory=``), so the
difference between them is the score alone. ``<detector> (untrained)`` is
the control of issue 25: the detector's default with the same parameters and
score but its weights left at their initialisation (``lr=1e-12, n_epochs=1,
min_steps=0``, whatever ``--params`` say). Beside each detector's AUC the
table gives PCA reconstruction error (16 components), IsolationForest and
kNN on pixels on the same split, and the JSON keeps the AUC of every score part. Writes
``benchmarks/results/dev_ablation_<data set>_<protocol>.json``.
"""

from __future__ import annotations

import tempfile

import numpy as np
from joblib import Memory
from sklearn.metrics import roc_auc_score

from skgan_ad import AnoGANDetector, DenseSkipAttentionDetector, EGBADDetector, GANomalyDetector, SkipGANomalyDetector
from skgan_ad.datasets import development_split, synthetic_defect_split, to_optdigits

from ._feature_probes import probe_scores
from ._harness import (
    BASELINES,
    fit_score,
    load_dataset,
    make_parser,
    parse_args,
    parse_params,
    read_results,
    run_benchmark,
    timed,
    untrained,
)

# name -> (detector class, parameters beyond the shared width); ``paper`` builds the paper's detector.
VARIANTS = {
    "SkipGANomaly paper (all skips)": (SkipGANomalyDetector.paper, {}),
    "no skips, unsmoothed": (SkipGANomalyDetector, dict(residual_sigma=0.0)),
    "no skips (default)": (SkipGANomalyDetector, {}),
    "no skips, pixel-normalised": (SkipGANomalyDetector, dict(residual_norm="pixel")),
    "no skips, pixel-normalised, unsmoothed": (SkipGANomalyDetector, dict(residual_norm="pixel", residual_sigma=0.0)),
    "innermost skip kept": (SkipGANomalyDetector, dict(n_skips=1)),
    "GANomaly (default)": (GANomalyDetector, {}),
    # The untrained controls (issue 25): each detector's default with its weights left at their initialisation
    # (_harness.UNTRAINED: lr=1e-12, n_epochs=1, min_steps=0, over --params too); same parameters, same score.
    "SkipGANomaly (untrained)": (untrained(SkipGANomalyDetector), {}),
    "GANomaly (untrained)": (untrained(GANomalyDetector), {}),
    "DenseSkipAttention (untrained)": (untrained(DenseSkipAttentionDetector), {}),
    "AnoGAN (untrained)": (untrained(AnoGANDetector), {}),
    "EGBAD (untrained)": (untrained(EGBADDetector), {}),
    "GANomaly + residual (lambda 0.5)": (GANomalyDetector, dict(lambda_score=0.5, residual_sigma=1.0)),
    # Leads of issue #13 (the 8x8 digits task), run on --dataset mnist8 with --width 64 (the detectors' defaults).
    "SkipGANomaly min_steps 1000": (SkipGANomalyDetector, dict(min_steps=1000)),
    "SkipGANomaly min_steps 3000": (SkipGANomalyDetector, dict(min_steps=3000)),
    "SkipGANomaly batch 16": (SkipGANomalyDetector, dict(batch_size=16)),
    "SkipGANomaly lr 1e-3": (SkipGANomalyDetector, dict(lr=1e-3)),
    "SkipGANomaly width 32": (SkipGANomalyDetector, dict(ngf=32, ndf=32)),
    "SkipGANomaly width 16": (SkipGANomalyDetector, dict(ngf=16, ndf=16)),
    "SkipGANomaly 8 epochs": (SkipGANomalyDetector, dict(n_epochs=8)),
    "SkipGANomaly 4 epochs": (SkipGANomalyDetector, dict(n_epochs=4)),
    "SkipGANomaly width 32, lambda 0.5": (SkipGANomalyDetector, dict(ngf=32, ndf=32, lambda_score=0.5)),
    "SkipGANomaly lambda 1": (SkipGANomalyDetector, dict(lambda_score=1.0)),
    "SkipGANomaly lambda 0.5": (SkipGANomalyDetector, dict(lambda_score=0.5)),
    "SkipGANomaly unnormalised": (SkipGANomalyDetector, dict(residual_norm="none")),
    "SkipGANomaly unsmoothed": (SkipGANomalyDetector, dict(residual_sigma=0.0)),
    "SkipGANomaly min_steps 1000, lambda 1": (SkipGANomalyDetector, dict(min_steps=1000, lambda_score=1.0)),
    "GANomaly min_steps 1000": (GANomalyDetector, dict(min_steps=1000)),
    "GANomaly min_steps 3000": (GANomalyDetector, dict(min_steps=3000)),
    "GANomaly batch 16": (GANomalyDetector, dict(batch_size=16)),
    "GANomaly lr 1e-3": (GANomalyDetector, dict(lr=1e-3)),
    "GANomaly width 32": (GANomalyDetector, dict(ngf=32, ndf=32)),
    "GANomaly width 16": (GANomalyDetector, dict(ngf=16, ndf=16)),
    "GANomaly 8 epochs": (GANomalyDetector, dict(n_epochs=8)),
    "GANomaly 4 epochs": (GANomalyDetector, dict(n_epochs=4)),
    "GANomaly nz 16": (GANomalyDetector, dict(nz=16)),
    "GANomaly + pixel residual (lambda 0.5)": (
        GANomalyDetector,
        dict(lambda_score=0.5, residual_sigma=1.0, residual_norm="pixel"),
    ),
    "GANomaly min_steps 1000 + residual (lambda 0.5)": (
        GANomalyDetector,
        dict(min_steps=1000, lambda_score=0.5, residual_sigma=1.0),
    ),
    "DenseSkipAttention (default)": (DenseSkipAttentionDetector, {}),
    "DenseSkipAttention min_steps 3000": (DenseSkipAttentionDetector, dict(min_steps=3000)),
    "DenseSkipAttention 8 epochs": (DenseSkipAttentionDetector, dict(n_epochs=8)),
    "DenseSkipAttention lambda 1": (DenseSkipAttentionDetector, dict(lambda_score=1.0)),
    "DenseSkipAttention pixel-normalised, smoothed": (
        DenseSkipAttentionDetector,
        dict(residual_norm="pixel", residual_sigma=1.0),
    ),
    "AnoGAN (default)": (AnoGANDetector, {}),
    "AnoGAN min_steps 3000": (AnoGANDetector, dict(min_steps=3000)),
    "AnoGAN lambda 1": (AnoGANDetector, dict(lambda_score=1.0)),
    "AnoGAN n_max 300": (AnoGANDetector, dict(n_max=300)),
    "AnoGAN 8 epochs": (AnoGANDetector, dict(n_epochs=8)),
    "EGBAD (default)": (EGBADDetector, {}),
    "EGBAD min_steps 3000": (EGBADDetector, dict(min_steps=3000)),
    "EGBAD lambda 1": (EGBADDetector, dict(lambda_score=1.0)),
    "EGBAD cross-entropy term": (EGBADDetector, dict(disc_term="ce")),
    "EGBAD 8 epochs": (EGBADDetector, dict(n_epochs=8)),
    "EGBAD lambda 0": (EGBADDetector, dict(lambda_score=0.0)),
    # The embedding part (issue 13): each detector's default against its paper score alone (embedding_weight
    # 0, trained networks shared through memory=), mixtures, and the number of neighbours.
    "SkipGANomaly paper score (embedding 0)": (SkipGANomalyDetector, dict(embedding_weight=0.0)),
    "SkipGANomaly embedding 0.8": (SkipGANomalyDetector, dict(embedding_weight=0.8)),
    "SkipGANomaly n_neighbors 1": (SkipGANomalyDetector, dict(n_neighbors=1)),
    "SkipGANomaly n_neighbors 20": (SkipGANomalyDetector, dict(n_neighbors=20)),
    "GANomaly paper score (embedding 0)": (GANomalyDetector, dict(embedding_weight=0.0)),
    "GANomaly embedding 0.8": (GANomalyDetector, dict(embedding_weight=0.8)),
    "GANomaly n_neighbors 1": (GANomalyDetector, dict(n_neighbors=1)),
    "GANomaly n_neighbors 20": (GANomalyDetector, dict(n_neighbors=20)),
    "DenseSkipAttention paper score (embedding 0)": (DenseSkipAttentionDetector, dict(embedding_weight=0.0)),
    "AnoGAN paper score (embedding 0)": (AnoGANDetector, dict(embedding_weight=0.0)),
    "EGBAD paper score (embedding 0)": (EGBADDetector, dict(embedding_weight=0.0)),
    # Issue 25: the self-supervised rotation head of the discriminator (w_rotation, trained beside the adversarial
    # loss) and its GEOM-style score part (rotation_weight); the scoring variants share each trained network.
    "SkipGANomaly rotation head": (SkipGANomalyDetector, dict(w_rotation=1.0)),
    "SkipGANomaly rotation score 0.25": (SkipGANomalyDetector, dict(w_rotation=1.0, rotation_weight=0.25)),
    "SkipGANomaly rotation score 0.5": (SkipGANomalyDetector, dict(w_rotation=1.0, rotation_weight=0.5)),
    "SkipGANomaly rotation score 1": (SkipGANomalyDetector, dict(w_rotation=1.0, rotation_weight=1.0)),
    "SkipGANomaly rotation score 0.5 (untrained)": (
        untrained(SkipGANomalyDetector),
        dict(w_rotation=1.0, rotation_weight=0.5),
    ),
    "GANomaly rotation head": (GANomalyDetector, dict(w_rotation=1.0)),
    "GANomaly rotation score 0.25": (GANomalyDetector, dict(w_rotation=1.0, rotation_weight=0.25)),
    "GANomaly rotation score 0.5": (GANomalyDetector, dict(w_rotation=1.0, rotation_weight=0.5)),
    "GANomaly rotation score 1": (GANomalyDetector, dict(w_rotation=1.0, rotation_weight=1.0)),
    "GANomaly rotation score 0.5 (untrained)": (untrained(GANomalyDetector), dict(w_rotation=1.0, rotation_weight=0.5)),
    # Mixed precision (issue 13): the AUC of bfloat16 training against float32, over seeds.
    "SkipGANomaly bfloat16": (SkipGANomalyDetector, dict(precision="bfloat16")),
    "GANomaly bfloat16": (GANomalyDetector, dict(precision="bfloat16")),
}

# --n-fit / --n-val / --n-anomalies when not given; mnist8 mirrors digits_leave_one_out (about 1,294 / 324 / 180).
SPLIT_SIZES = {"mnist8": (1294, 324, 180)}


def make_variant(name: str, width: int, extra: dict, seed: int, cache: str | None = None):
    """The unfitted detector of variant ``name``: --width < the variant's own parameters < --params (``extra``)."""
    make, params = VARIANTS[name]
    return make(**{"ngf": width, "ndf": width, **params, **extra}, random_state=seed, memory=cache)


def run_split(
    split, seed: int, variants, width: int, extra: dict, cache: str, keep_parts: bool = False, probes: bool = False
) -> dict:
    out = {}
    for name in variants:
        det = make_variant(name, width, extra, seed, cache)
        _, fit_s = timed(lambda det=det: det.fit(split.X_train))
        parts = det.score_components(split.X_test)
        out[name] = dict(
            auc=float(roc_auc_score(split.y_test, det.anomaly_score(split.X_test))),
            parts={k: float(roc_auc_score(split.y_test, v)) for k, v in parts.items()},
            fit_s=fit_s,
            n_iter=det.n_iter_,
        )
        if probes:
            # kNN on the encoder's intermediate features (benchmarks._feature_probes), same fitted network.
            scores = probe_scores(det, split.X_train, split.X_test, seed)
            out[name]["probes"] = {k: float(roc_auc_score(split.y_test, v)) for k, v in scores.items()}
            if keep_parts:
                out[name]["probe_scores"] = {k: np.round(v, 4).tolist() for k, v in scores.items()}
        if keep_parts:
            # Each part standardised on held-out normals as the score uses it: mixtures of the parts can be
            # evaluated afterwards (benchmarks.dev_mixtures) without training again.
            standardized = det.score_components(split.X_test, standardize=True)
            out[name]["standardized"] = {k: np.round(v, 3).tolist() for k, v in standardized.items()}
    scale = 255.0 if split.X_train.dtype.kind in "ui" else 1.0  # mnist8 is float in [0, 1] already
    flat_train = split.X_train.reshape(len(split.X_train), -1).astype(np.float32) / scale
    flat_test = split.X_test.reshape(len(split.X_test), -1).astype(np.float32) / scale
    for name, (make, score) in BASELINES.items():
        scores, _, _ = fit_score(lambda make=make: make(seed), score, flat_train, flat_test)
        out[name] = dict(auc=float(roc_auc_score(split.y_test, scores)))
    return out


def run(args) -> dict:
    source = "mnist" if args.dataset == "mnist8" else args.dataset
    X, y, _, _, classes = load_dataset(source, args.data_root, args.cache, test=False)
    if args.dataset == "mnist8":
        # / 16: the scale of load_digits_images, which the digits task feeds the detectors. Cached (joblib
        # hashes the function's code and the images), as the conversion takes half a minute.
        X = Memory(args.cache, verbose=0).cache(to_optdigits)(X) / 16.0
    extra = parse_params(args.params)
    n_fit, n_val, n_anomalies = SPLIT_SIZES.get(args.dataset, (2000, 500, 500))
    sizes = dict(n_fit=args.n_fit or n_fit, n_val=args.n_val or n_val, n_anomalies=args.n_anomalies or n_anomalies)
    records = []
    with tempfile.TemporaryDirectory() as cache:
        for seed in args.seeds:
            for cls in args.classes:
                label = classes[cls]
                if args.anomalies == "defects":
                    split = synthetic_defect_split(X[y == label], **sizes, random_state=1000 + seed)
                else:
                    split = development_split(X, y, label, protocol=args.protocol, **sizes, random_state=1000 + seed)
                results = run_split(split, seed, args.variants, args.width, extra, cache, args.keep_parts, args.probes)
                record = {"class": label, "seed": seed, "results": results}
                if args.keep_parts:
                    record["y"] = np.asarray(split.y_test).astype(int).tolist()
                records.append(record)
                aucs = ", ".join(f"{k} {v['auc']:.3f}" for k, v in results.items())
                print(f"class {label} seed {seed}: {aucs}", flush=True)
    params = dict(ngf=args.width, ndf=args.width, **extra)
    return dict(
        dataset=args.dataset,
        protocol=args.protocol,
        anomalies=args.anomalies,
        params=params,
        split=sizes,
        records=records,
    )


# What the validation anomalies are, for the table's title; results files from before --anomalies are "classes".
ANOMALIES = {
    "classes": {"one-class": "the other classes' images", "leave-one-class-out": "the held-out class's images"},
    "defects": {"one-class": "synthetic defects (cutpaste, blotch, scratch) on held-out images of the class"},
}


def render(payload: dict) -> str:
    records = payload["records"]
    methods = list(records[0]["results"])
    lines = [
        f"{payload['dataset']} {payload['protocol']}, development split (training images only; "
        f"anomalies: {ANOMALIES[payload.get('anomalies', 'classes')][payload['protocol']]}); ROC AUC",
        "",
        "| class | " + " | ".join(methods) + " |",
        "|---|" + "---|" * len(methods),
    ]
    for cls in dict.fromkeys(r["class"] for r in records):
        rows = [r["results"] for r in records if r["class"] == cls]
        cells = []
        for m in methods:
            values = [row[m]["auc"] for row in rows]
            cells.append(f"{np.mean(values):.3f}" + (f" ± {np.std(values):.3f}" if len(values) > 1 else ""))
        lines.append(f"| {cls} | " + " | ".join(cells) + " |")
    means = [np.mean([r["results"][m]["auc"] for r in records]) for m in methods]
    lines.append("| **mean** | " + " | ".join(f"**{v:.3f}**" for v in means) + " |")
    return "\n".join(lines)


def summary(paths, classes=None, reference=None) -> str:
    """Variant -> mean AUC over the held-out classes, mean ± std over seeds, pooling the records of ``paths``.

    For runs split into one file per class or seed (``--tag``). A variant's row uses the (class, seed) pairs it
    ran on; the class count says how many classes its mean is over, so rows over different classes stand out.
    ``classes`` (labels) keeps only those classes. With ``reference`` (a variant), a paired column: the mean over
    seeds of (variant - reference) on the (class, seed) pairs both ran on, ± its std over seeds, which is
    the seed noise that matters when comparing two variants on the same splits.
    """
    records = [r for path in paths for r in read_results(path)["records"]]
    records = [r for r in records if classes is None or r["class"] in classes]
    methods = list(dict.fromkeys(m for r in records for m in r["results"]))
    table = {}  # method -> seed -> class -> AUC
    for r in records:
        for m, result in r["results"].items():
            table.setdefault(m, {}).setdefault(r["seed"], {})[r["class"]] = result["auc"]

    def over_seeds(by_seed):
        # Over seeds, only the classes every seed has, so that seed-to-seed spread is not a change of classes.
        common = sorted(set.intersection(*(set(v) for v in by_seed.values())))
        means = [np.mean([v[c] for c in common]) for v in by_seed.values()]
        return np.mean(means), (f"{np.std(means):.3f}" if len(means) > 1 else "-"), len(means), common

    head = "| variant | mean AUC | ± std over seeds | seeds | classes |"
    if reference:
        head += f" Δ vs {reference} (paired, ± std over seeds) |"
    lines = [head, "|---" * head.count(" |") + "|"]
    for m in methods:
        mean, spread, n_seeds, common = over_seeds(table[m])
        line = f"| {m} | {mean:.3f} | {spread} | {n_seeds} | {' '.join(common)} |"
        if reference:
            ref = table[reference]
            diff = {
                s: {c: v - ref[s][c] for c, v in by_class.items() if c in ref.get(s, {})}
                for s, by_class in table[m].items()
                if s in ref
            }
            d_mean, d_spread, *_ = over_seeds(diff)
            line += f" {d_mean:+.3f} ± {d_spread} |"
        lines.append(line)
    return "\n".join(lines)


def main(argv=None):
    parser = make_parser(__doc__, data=True, device="cpu")
    parser.add_argument("--dataset", choices=("mnist", "mnist8", "cifar10"), default="mnist")
    parser.add_argument("--protocol", choices=("one-class", "leave-one-class-out"), default="one-class")
    parser.add_argument("--classes", type=int, nargs="+", default=[0, 2, 5], help="class indices")
    parser.add_argument(
        "--anomalies",
        choices=tuple(ANOMALIES),
        default="classes",
        help="validation anomalies: images of the other classes (default), or synthetic defects on the normal "
        "class's own held-out training images (one-class only)",
    )
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--width", type=int, default=32, help="ngf = ndf of every detector (default 32)")
    parser.add_argument("--params", nargs="*", help="KEY=VALUE detector parameters for every variant")
    parser.add_argument("--n-fit", type=int, help="normal training images to fit on (default 2000; mnist8 1294)")
    parser.add_argument("--n-val", type=int, help="normal validation images (default 500; mnist8 324)")
    parser.add_argument("--n-anomalies", type=int, help="anomalous validation images (default 500; mnist8 180)")
    parser.add_argument(
        "--keep-parts",
        action="store_true",
        help="keep every validation sample's standardised score parts in the JSON (for benchmarks.dev_mixtures)",
    )
    parser.add_argument(
        "--probes",
        action="store_true",
        help="also score each fitted network by kNN on its encoder's intermediate features, pooled and per "
        "location (benchmarks._feature_probes)",
    )
    parser.add_argument("--summary", nargs="+", metavar="JSON", help="print the summary of results files; runs nothing")
    parser.add_argument("--summary-classes", nargs="+", metavar="LABEL", help="only these classes in --summary")
    parser.add_argument("--summary-reference", metavar="VARIANT", help="--summary adds differences to this variant")
    args = parse_args(parser, argv)
    if args.anomalies == "defects" and args.protocol != "one-class":
        parser.error("--anomalies defects draws the defects on the normal class: it takes --protocol one-class")
    if args.summary:
        print(summary(args.summary, args.summary_classes, args.summary_reference))
        return None
    stem = f"dev_ablation_{args.dataset}_{args.protocol}" + ("_defects" if args.anomalies == "defects" else "")
    return run_benchmark(args, "benchmarks.dev_ablation", stem, run, render)


if __name__ == "__main__":
    main()
