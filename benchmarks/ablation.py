"""DenseSkipAttention ablation: with and without attention, with and without spectral normalisation.

    python -m benchmarks.ablation --threads 1
    python -m benchmarks.ablation --digits 4 7 --ngf 32

Digits task of DESIGN.md (abnormal digit a; other digits normal, 80/20 split
with random_state=0), the same split and seed for all four variants, so the
only difference is the switch. Reported: ROC AUC and recall at 5 % false
positives per digit and their means, and the fit time. Writes
``benchmarks/results/ablation.json`` and prints its table from it.
"""

from __future__ import annotations

import numpy as np

from skgan_ad import DenseSkipAttentionDetector

from ._harness import (
    add_digits_options,
    anomaly_score,
    detection_record,
    digits_split,
    fit_score,
    make_parser,
    parse_args,
    run_benchmark,
)

VARIANTS = {
    "attention + SN (full)": dict(attention=True, spectral_norm=True),
    "no attention": dict(attention=False, spectral_norm=True),
    "no SN": dict(attention=True, spectral_norm=False),
    "neither": dict(attention=False, spectral_norm=False),
}


def run(args) -> dict:
    common = dict(ngf=args.ngf, ndf=args.ngf, n_epochs=args.epochs, batch_size=args.batch_size, random_state=args.seed)
    records = {name: {} for name in VARIANTS}
    for digit in args.digits:
        split = digits_split(digit, args)
        for name, switches in VARIANTS.items():
            make = lambda switches=switches: DenseSkipAttentionDetector(**common, **switches)  # noqa: E731
            scores, fit_s, score_s = fit_score(make, anomaly_score, split.X_train, split.X_test)
            records[name][str(digit)] = detection_record(split.y_test, scores, fit_s, score_s)
            print(f"digit {digit} {name}: {records[name][str(digit)]}", flush=True)
    return dict(params=common, records=records)


def render(payload: dict) -> str:
    records = payload["records"]
    digits = list(next(iter(records.values())))
    lines = [
        "| variant | " + " | ".join(digits) + " | **mean AUC** | **mean recall @ 5 % FPR** | fit s |",
        "|---|" + "---|" * (len(digits) + 3),
    ]
    for name, rows in records.items():
        lines.append(
            f"| {name} | "
            + " | ".join(f"{rows[d]['auc']:.3f}" for d in digits)
            + f" | **{np.mean([r['auc'] for r in rows.values()]):.3f}**"
            + f" | **{np.mean([r['recall_at_5fpr'] for r in rows.values()]):.3f}**"
            + f" | {sum(r['fit_s'] for r in rows.values()):.0f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = make_parser(__doc__, seeds="one", device="cpu")
    parser.add_argument("--digits", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--ngf", type=int, default=16, help="ngf = ndf")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=32)
    add_digits_options(parser)
    args = parse_args(parser, argv)
    return run_benchmark(args, "benchmarks.ablation", "ablation", run, render)


if __name__ == "__main__":
    main()
