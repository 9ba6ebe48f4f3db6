"""Training on contaminated data: what 5 % anomalies in the training set cost, and what trimming wins back.

    python benchmarks/contamination.py --threads 1
    python benchmarks/contamination.py --detector GANomaly --digits 4 7

Digits task of DESIGN.md (abnormal digit a; the other digits normal, 80/20
split with random_state=0). For the contaminated runs, images of digit a are
moved from the test set into the training set until they are 5 % of it
(``--share``); they are then no longer in the test set, so every condition is
tested on the same images:

* ``clean``: trained on the normal training images only;
* ``contaminated``: normal + injected anomalies, ``trim_fraction=0``;
* ``trimmed``: the same data with ``trim_fraction=share`` and ``trim_warmup=2``:
  after two epochs, each epoch leaves out the share of training samples with
  the highest training loss. Also reported: how many of the samples dropped
  in the last epoch were injected anomalies (precision of the trimming).

Writes ``benchmarks/results/contamination_<detector>.json``.
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

from skgan_ad import GANomalyDetector, SkipGANomalyDetector
from skgan_ad.datasets import digits_leave_one_out

sys.path.insert(0, os.path.dirname(__file__))
from detection import environment  # noqa: E402

DETECTORS = {
    # The digits demo's configuration of each detector.
    "SkipGANomaly": lambda **kw: SkipGANomalyDetector(ngf=32, ndf=32, batch_size=16, random_state=0, **kw),
    "GANomaly": lambda **kw: GANomalyDetector(ngf=32, ndf=32, batch_size=16, random_state=0, **kw),
}


def contaminate(split, share: float, rng: np.random.RandomState):
    """Move anomalies from the test set into the training set until they are ``share`` of it."""
    abnormal = np.flatnonzero(split.y_test == 1)
    n_inject = int(round(share / (1 - share) * len(split.X_train)))
    if n_inject >= len(abnormal):
        raise ValueError(f"need {n_inject} anomalies to inject, the test set has {len(abnormal)}")
    inject = rng.choice(abnormal, n_inject, replace=False)
    keep = np.setdiff1d(np.arange(len(split.y_test)), inject)
    X_train = np.concatenate([split.X_train, split.X_test[inject]])
    is_injected = np.r_[np.zeros(len(split.X_train), bool), np.ones(n_inject, bool)]
    order = rng.permutation(len(X_train))  # anomalies spread through the training order
    return X_train[order], is_injected[order], split.X_test[keep], split.y_test[keep]


def run_digit(make, digit: int, share: float) -> dict:
    split = digits_leave_one_out(digit)
    X_dirty, is_injected, X_test, y_test = contaminate(split, share, np.random.RandomState(digit))
    out = {"n_train_clean": len(split.X_train), "n_injected": int(is_injected.sum())}
    runs = {
        "clean": (split.X_train, {}),
        "contaminated": (X_dirty, {}),
        "trimmed": (X_dirty, dict(trim_fraction=share, trim_warmup=2)),
    }
    for name, (X_train, params) in runs.items():
        start = time.perf_counter()
        # validation_fraction=0 keeps the training rows in X_train's order, so dropped indices map back;
        # the score statistics and offset_ are then taken on the training data (AUC does not use offset_).
        det = make(validation_fraction=0.0, **params).fit(X_train)
        out[name] = float(roc_auc_score(y_test, det.anomaly_score(X_test)))
        out[f"{name}_fit_s"] = time.perf_counter() - start
        if params:
            dropped = np.asarray(det.history_[-1, "train_dropped"], dtype=int)
            out["dropped_last_epoch"] = len(dropped)
            out["dropped_were_injected"] = int(is_injected[dropped].sum())
    print(f"digit {digit}: " + ", ".join(f"{k} {v:.3g}" for k, v in out.items()), flush=True)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--detector", choices=sorted(DETECTORS), default="SkipGANomaly")
    parser.add_argument("--digits", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--share", type=float, default=0.05)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--out", default=os.path.join("benchmarks", "results"))
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    command = " ".join(["python", "benchmarks/contamination.py", *(sys.argv[1:] if argv is None else argv)])
    start = time.perf_counter()
    records = {d: run_digit(DETECTORS[args.detector], d, args.share) for d in args.digits}
    wall_s = time.perf_counter() - start
    means = {k: float(np.mean([r[k] for r in records.values()])) for k in ("clean", "contaminated", "trimmed")}
    dropped = sum(r["dropped_last_epoch"] for r in records.values())
    hit = sum(r["dropped_were_injected"] for r in records.values())
    lines = [
        "| abnormal digit | clean | 5 % contaminated | contaminated + trimming | dropped that were injected |",
        "|---|---|---|---|---|",
        *(
            f"| {d} | {r['clean']:.3f} | {r['contaminated']:.3f} | {r['trimmed']:.3f} | "
            f"{r['dropped_were_injected']} / {r['dropped_last_epoch']} |"
            for d, r in records.items()
        ),
        f"| **mean** | **{means['clean']:.3f}** | **{means['contaminated']:.3f}** | **{means['trimmed']:.3f}** | "
        f"{hit} / {dropped} |",
    ]
    table = "\n".join(lines)
    print(f"\n{table}\n\nwall time {wall_s / 60:.1f} min; {environment('cpu')}")
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, f"contamination_{args.detector}.json"), "w") as f:
        json.dump(
            dict(command=command, wall_s=wall_s, environment=environment("cpu"), records=records, table=table),
            f,
            indent=1,
        )


if __name__ == "__main__":
    main()
