"""DenseSkipAttention ablation: with and without attention, with and without spectral normalisation.

    python benchmarks/ablation.py --threads 1
    python benchmarks/ablation.py --digits 4 7 --ngf 32

Digits task of DESIGN.md (abnormal digit a; other digits normal, 80/20 split
with random_state=0), the same split and seed for all four variants, so the
only difference is the switch. Reported: ROC AUC and recall at 5 % false
positives per digit and their means, and the fit time. Writes
``benchmarks/results/ablation.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from skgan_ad import DenseSkipAttentionDetector
from skgan_ad.datasets import digits_leave_one_out
from skgan_ad.metrics import recall_at_fpr

sys.path.insert(0, os.path.dirname(__file__))
from detection import environment  # noqa: E402

VARIANTS = {
    "attention + SN (full)": dict(attention=True, spectral_norm=True),
    "no attention": dict(attention=False, spectral_norm=True),
    "no SN": dict(attention=True, spectral_norm=False),
    "neither": dict(attention=False, spectral_norm=False),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--digits", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--ngf", type=int, default=16, help="ngf = ndf")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--out", default=os.path.join("benchmarks", "results", "ablation.json"))
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    command = " ".join(["python", "benchmarks/ablation.py", *(sys.argv[1:] if argv is None else argv)])
    common = dict(ngf=args.ngf, ndf=args.ngf, n_epochs=args.epochs, batch_size=args.batch_size, random_state=args.seed)
    records, start = {name: {} for name in VARIANTS}, time.perf_counter()
    for digit in args.digits:
        split = digits_leave_one_out(digit)
        for name, switches in VARIANTS.items():
            t0 = time.perf_counter()
            det = DenseSkipAttentionDetector(**common, **switches).fit(split.X_train)
            fit_s = time.perf_counter() - t0
            scores = det.anomaly_score(split.X_test)
            records[name][digit] = dict(
                auc=float(roc_auc_score(split.y_test, scores)),
                recall_at_5fpr=recall_at_fpr(split.y_test, scores, 0.05),
                fit_s=fit_s,
            )
            print(f"digit {digit} {name}: {records[name][digit]}", flush=True)
    wall_s = time.perf_counter() - start
    lines = [
        "| variant | "
        + " | ".join(str(d) for d in args.digits)
        + " | **mean AUC** | **mean recall @ 5 % FPR** | fit s |",
        "|---|" + "---|" * (len(args.digits) + 3),
    ]
    for name, rows in records.items():
        lines.append(
            f"| {name} | "
            + " | ".join(f"{rows[d]['auc']:.3f}" for d in args.digits)
            + f" | **{np.mean([r['auc'] for r in rows.values()]):.3f}**"
            + f" | **{np.mean([r['recall_at_5fpr'] for r in rows.values()]):.3f}**"
            + f" | {sum(r['fit_s'] for r in rows.values()):.0f} |"
        )
    table = "\n".join(lines)
    print(f"\n{table}\n\nwall time {wall_s / 60:.1f} min; {environment('cpu')}")
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(
            dict(
                command=command,
                params=common,
                wall_s=wall_s,
                environment=environment("cpu"),
                records=records,
                table=table,
            ),
            f,
            indent=1,
        )


if __name__ == "__main__":
    main()
