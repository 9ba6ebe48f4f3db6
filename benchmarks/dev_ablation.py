"""Development-split ablation: which settings make the detectors beat PCA and IsolationForest.

    python -m benchmarks.dev_ablation --threads 2                       # MNIST one-class, classes 0 2 5
    python -m benchmarks.dev_ablation --classes 0 1 2 3 4 5 6 7 8 9 --seeds 0 1 2
    python -m benchmarks.dev_ablation --protocol leave-one-class-out --variants "GANomaly (default)"

Only *training* images are used (``skgan_ad.datasets.development_split``):
for each class and seed, 2,000 normal training images to fit, 500 disjoint
normal training images and 500 training images of the other classes to
validate (``random_state = 1000 + seed``). No test split is read: this is
where defaults are chosen; the test protocols (``benchmarks.detection``,
``examples/digits_demo.py``) are run once afterwards.

Every variant is a detector with some parameters; variants that differ only
in scoring parameters share trained networks (``memory=``), so the
difference between them is the score alone. Beside each detector's AUC the
table gives PCA reconstruction error (16 components) and IsolationForest on
the same split, and the JSON keeps the AUC of every score part. Writes
``benchmarks/results/dev_ablation_<data set>_<protocol>.json``.
"""

from __future__ import annotations

import tempfile

import numpy as np
from sklearn.metrics import roc_auc_score

from skgan_ad import GANomalyDetector, SkipGANomalyDetector
from skgan_ad.datasets import development_split

from ._harness import BASELINES, fit_score, load_dataset, make_parser, parse_args, parse_params, run_benchmark, timed

# name -> (detector class, parameters beyond the shared width); ``paper`` builds the paper's detector.
VARIANTS = {
    "SkipGANomaly paper (all skips)": (SkipGANomalyDetector.paper, {}),
    "no skips, unsmoothed": (SkipGANomalyDetector, dict(residual_sigma=0.0)),
    "no skips (default)": (SkipGANomalyDetector, {}),
    "no skips, pixel-normalised": (SkipGANomalyDetector, dict(residual_norm="pixel")),
    "no skips, pixel-normalised, unsmoothed": (SkipGANomalyDetector, dict(residual_norm="pixel", residual_sigma=0.0)),
    "innermost skip kept": (SkipGANomalyDetector, dict(n_skips=1)),
    "GANomaly (default)": (GANomalyDetector, {}),
    "GANomaly + residual (lambda 0.5)": (GANomalyDetector, dict(lambda_score=0.5, residual_sigma=1.0)),
}


def run_split(split, seed: int, variants, extra: dict, cache: str) -> dict:
    out = {}
    for name in variants:
        make, params = VARIANTS[name]
        det = make(**{**params, **extra}, random_state=seed, memory=cache)
        _, fit_s = timed(lambda det=det: det.fit(split.X_train))
        parts = det.score_components(split.X_test)
        out[name] = dict(
            auc=float(roc_auc_score(split.y_test, det.anomaly_score(split.X_test))),
            parts={k: float(roc_auc_score(split.y_test, v)) for k, v in parts.items()},
            fit_s=fit_s,
            n_iter=det.n_iter_,
        )
    flat_train = split.X_train.reshape(len(split.X_train), -1).astype(np.float32) / 255.0
    flat_test = split.X_test.reshape(len(split.X_test), -1).astype(np.float32) / 255.0
    for name, (make, score) in BASELINES.items():
        scores, _, _ = fit_score(lambda make=make: make(seed), score, flat_train, flat_test)
        out[name] = dict(auc=float(roc_auc_score(split.y_test, scores)))
    return out


def run(args) -> dict:
    X, y, _, _, classes = load_dataset(args.dataset, args.data_root, args.cache, test=False)
    extra = dict(ngf=args.width, ndf=args.width, **parse_params(args.params))
    sizes = dict(n_fit=args.n_fit, n_val=args.n_val, n_anomalies=args.n_anomalies)
    records = []
    with tempfile.TemporaryDirectory() as cache:
        for seed in args.seeds:
            for cls in args.classes:
                label = classes[cls]
                split = development_split(X, y, label, protocol=args.protocol, **sizes, random_state=1000 + seed)
                results = run_split(split, seed, args.variants, extra, cache)
                records.append({"class": label, "seed": seed, "results": results})
                aucs = ", ".join(f"{k} {v['auc']:.3f}" for k, v in results.items())
                print(f"class {label} seed {seed}: {aucs}", flush=True)
    return dict(dataset=args.dataset, protocol=args.protocol, params=extra, split=sizes, records=records)


def render(payload: dict) -> str:
    records = payload["records"]
    methods = list(records[0]["results"])
    lines = [
        f"{payload['dataset']} {payload['protocol']}, development split (training images only); ROC AUC",
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


def main(argv=None):
    parser = make_parser(__doc__, data=True, device="cpu")
    parser.add_argument("--dataset", choices=("mnist", "cifar10"), default="mnist")
    parser.add_argument("--protocol", choices=("one-class", "leave-one-class-out"), default="one-class")
    parser.add_argument("--classes", type=int, nargs="+", default=[0, 2, 5], help="class indices")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--width", type=int, default=32, help="ngf = ndf of every detector (default 32)")
    parser.add_argument("--params", nargs="*", help="KEY=VALUE detector parameters for every variant")
    parser.add_argument("--n-fit", type=int, default=2000, help="normal training images to fit on")
    parser.add_argument("--n-val", type=int, default=500, help="normal validation images")
    parser.add_argument("--n-anomalies", type=int, default=500, help="anomalous validation images")
    args = parse_args(parser, argv)
    stem = f"dev_ablation_{args.dataset}_{args.protocol}"
    return run_benchmark(args, "benchmarks.dev_ablation", stem, run, render)


if __name__ == "__main__":
    main()
