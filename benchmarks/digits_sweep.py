"""Mean ROC AUC of SkipGANomalyDetector over the ten digits (leave-one-class-out) for a few configurations.

The split is DESIGN.md's (other digits normal, 80/20 with random_state=0;
test = normal 20% + all images of the abnormal digit). It is the same split
the demo reports on, so choosing a configuration here and reporting it there
is selection on test labels: the README says so beside the numbers.

    python -m benchmarks.digits_sweep                       # every configuration (~30 min on 2 cores)
    python -m benchmarks.digits_sweep --config bs16_w32     # one

Beside the AUC of the score, the AUC of each score part alone: ``residual``
(R, the input-space error) and ``feature`` (L, the discriminator-feature
distance). Writes ``benchmarks/results/digits_sweep.json`` and prints its
table from it.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from skgan_ad import SkipGANomalyDetector

from ._harness import add_digits_options, digits_split, make_parser, parse_args, run_benchmark, timed

CONFIGS = {
    "paper_defaults": dict(),  # ngf=ndf=64, batch 64, lr 2e-4, 15 epochs, lambda 0.9
    "w32": dict(ngf=32, ndf=32),
    "w32_lambda1": dict(ngf=32, ndf=32, lambda_score=1.0),
    "w32_lambda0": dict(ngf=32, ndf=32, lambda_score=0.0),
    "w16": dict(ngf=16, ndf=16),
    "w32_lr2e-3": dict(ngf=32, ndf=32, lr=2e-3),
    "bs16_w32": dict(ngf=32, ndf=32, batch_size=16),
}
PARTS = ("residual", "feature")


def evaluate(params, classes=range(10), seed=0, args=None) -> dict:
    """AUC of the score and of each part alone, per abnormal digit."""
    rows = {}
    for abnormal in classes:
        split = digits_split(abnormal, args)
        # A sweep of the paper's score (residual and feature parts): embedding_weight=0 unless a config sets it.
        det = SkipGANomalyDetector(random_state=seed, **{"embedding_weight": 0.0, **params}).fit(split.X_train)
        parts = det.score_components(split.X_test)
        rows[str(abnormal)] = {
            "score": float(roc_auc_score(split.y_test, det.anomaly_score(split.X_test))),
            **{k: float(roc_auc_score(split.y_test, parts[k])) for k in PARTS},
        }
    return rows


def run(args) -> dict:
    configs = {}
    for name in args.config:
        params = {**CONFIGS[name], **({"n_epochs": args.epochs} if args.epochs else {}), "device": args.device}
        per_digit, seconds = timed(lambda params=params: evaluate(params, args.digits, args.seed, args))
        configs[name] = dict(params=params, per_digit=per_digit, seconds=seconds)
        print(f"{name}: mean AUC {np.mean([r['score'] for r in per_digit.values()]):.3f}", flush=True)
    return dict(seed=args.seed, configs=configs)


def render(payload: dict) -> str:
    lines = [
        "| configuration | per-class AUC | mean AUC | mean AUC of R alone | of L alone | time (s) |",
        "|---|---|---|---|---|---|",
    ]
    for name, config in payload["configs"].items():
        rows = config["per_digit"].values()
        means = [np.mean([r[k] for r in rows]) for k in ("score", *PARTS)]
        lines.append(
            f"| {name} {config['params']} | "
            + " ".join(f"{r['score']:.3f}" for r in rows)
            + " | "
            + " | ".join(f"{m:.3f}" for m in means)
            + f" | {config['seconds']:.0f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = make_parser(__doc__, seeds="one", device="cpu")
    parser.add_argument("--config", choices=sorted(CONFIGS), nargs="+", default=list(CONFIGS))
    parser.add_argument("--digits", type=int, nargs="+", default=list(range(10)), help="abnormal digits")
    parser.add_argument("--epochs", type=int, help="override every configuration's n_epochs (quick runs)")
    add_digits_options(parser)
    args = parse_args(parser, argv)
    return run_benchmark(args, "benchmarks.digits_sweep", "digits_sweep", run, render)


if __name__ == "__main__":
    main()
