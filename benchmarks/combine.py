"""Learned combination of score parts (ScoreCombiner) vs the fixed lambda_score, on the digits.

    python -m benchmarks.combine            # ten digits, ~4 min on 2 cores
    python -m benchmarks.combine --digits 3 7 --epochs 5

For each abnormal digit (DESIGN.md's leave-one-class-out split): the detector
trains on the normal training images; the combiner (logistic regression, and
an RBF SVM) learns from a labelled validation set of 200 normal training
images held out from the detector plus half of the abnormal digit's images;
both are evaluated on the normal test images plus the other half. The fixed
mix uses the *same trained networks* (``detector_`` of the combiner), so the
difference is the combination alone. Writes ``benchmarks/results/combine.json``
and prints its table from it.
"""

from __future__ import annotations

import tempfile

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.svm import SVC

from skgan_ad import SkipGANomalyDetector
from skgan_ad.model_selection import ScoreCombiner

from ._harness import add_digits_options, digits_split, make_parser, parse_args, run_benchmark

COLUMNS = ("fixed lambda=0.9", "logistic regression", "RBF SVM")
N_VALIDATION = 200  # normal training images held out from the detector for the combiners


def run_digit(digit: int, params: dict, args=None) -> list[float]:
    split = digits_split(digit, args)
    abnormal = split.X_test[split.y_test == 1]
    normal_train, normal_val = split.X_train[N_VALIDATION:], split.X_train[:N_VALIDATION]
    X_val = np.concatenate([normal_val, abnormal[::2]])
    y_val = np.r_[np.zeros(len(normal_val), int), np.ones(len(abnormal[::2]), int)]
    X_eval = np.concatenate([split.X_test[split.y_test == 0], abnormal[1::2]])
    y_eval = np.r_[np.zeros((split.y_test == 0).sum(), int), np.ones(len(abnormal[1::2]), int)]

    logistic = ScoreCombiner(SkipGANomalyDetector(**params)).fit(normal_train).fit_combiner(X_val, y_val)
    svm = ScoreCombiner(SkipGANomalyDetector(**params), SVC()).fit(normal_train).fit_combiner(X_val, y_val)
    return [
        float(roc_auc_score(y_eval, logistic.detector_.anomaly_score(X_eval))),
        float(roc_auc_score(y_eval, logistic.anomaly_score(X_eval))),
        float(roc_auc_score(y_eval, svm.anomaly_score(X_eval))),
    ]


def run(args) -> dict:
    # The demo's configuration by default; ``memory`` lets both combiners share one trained detector per digit.
    params = dict(ngf=args.width, ndf=args.width, batch_size=16, n_epochs=args.epochs, random_state=args.seed)
    records = {}
    with tempfile.TemporaryDirectory() as cache:
        for digit in args.digits:
            records[str(digit)] = dict(zip(COLUMNS, run_digit(digit, {**params, "memory": cache}, args), strict=True))
            print(f"digit {digit}: {records[str(digit)]}", flush=True)
    return dict(params=params, records=records)


def render(payload: dict) -> str:
    records = payload["records"]
    lines = ["| abnormal digit | " + " | ".join(COLUMNS) + " |", "|---|" + "---|" * len(COLUMNS)]
    lines += [f"| {d} | " + " | ".join(f"{r[c]:.3f}" for c in COLUMNS) + " |" for d, r in records.items()]
    means = [np.mean([r[c] for r in records.values()]) for c in COLUMNS]
    lines.append("| **mean** | " + " | ".join(f"**{m:.3f}**" for m in means) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = make_parser(__doc__, seeds="one", device="cpu")
    parser.add_argument("--digits", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--width", type=int, default=32, help="ngf = ndf (the demo's 32)")
    parser.add_argument("--epochs", type=int, default=15)
    add_digits_options(parser)
    args = parse_args(parser, argv)
    return run_benchmark(args, "benchmarks.combine", "combine", run, render)


if __name__ == "__main__":
    main()
