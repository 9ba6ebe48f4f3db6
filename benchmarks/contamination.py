"""Training on contaminated data: what 5 % anomalies in the training set cost, and what trimming wins back.

    python -m benchmarks.contamination --threads 1
    python -m benchmarks.contamination --detector GANomaly --digits 4 7

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

Writes ``benchmarks/results/contamination_<detector>.json`` and prints its table from it.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from skgan_ad import GANomalyDetector, SkipGANomalyDetector

from ._harness import add_digits_options, digits_split, make_parser, parse_args, run_benchmark, timed

DETECTORS = {"SkipGANomaly": SkipGANomalyDetector, "GANomaly": GANomalyDetector}


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


def run_digit(make, digit: int, share: float, args=None) -> dict:
    """AUC of ``make(**params)`` trained clean, contaminated, and contaminated with trimming, on one digit."""
    split = digits_split(digit, args)
    X_dirty, is_injected, X_test, y_test = contaminate(split, share, np.random.RandomState(digit))
    out = {"n_train_clean": len(split.X_train), "n_injected": int(is_injected.sum())}
    runs = {
        "clean": (split.X_train, {}),
        "contaminated": (X_dirty, {}),
        "trimmed": (X_dirty, dict(trim_fraction=share, trim_warmup=2)),
    }
    for name, (X_train, params) in runs.items():
        # validation_fraction=0 keeps the training rows in X_train's order, so dropped indices map back;
        # the score statistics and offset_ are then taken on the training data (AUC does not use offset_).
        det, out[f"{name}_fit_s"] = timed(
            lambda X_train=X_train, params=params: make(validation_fraction=0.0, **params).fit(X_train)
        )
        out[name] = float(roc_auc_score(y_test, det.anomaly_score(X_test)))
        if params:
            dropped = np.asarray(det.history_[-1, "train_dropped"], dtype=int)
            out["dropped_last_epoch"] = len(dropped)
            out["dropped_were_injected"] = int(is_injected[dropped].sum())
    print(f"digit {digit}: " + ", ".join(f"{k} {v:.3g}" for k, v in out.items()), flush=True)
    return out


def run(args) -> dict:
    # The digits demo's configuration of each detector (widths and epochs can be changed for quick runs).
    params = dict(ngf=args.width, ndf=args.width, batch_size=16, random_state=0, device=args.device)
    if args.epochs is not None:
        params["n_epochs"] = args.epochs

    def make(**kw):
        return DETECTORS[args.detector](**params, **kw)

    records = {str(d): run_digit(make, d, args.share, args) for d in args.digits}
    return dict(detector=args.detector, params=params, share=args.share, records=records)


def render(payload: dict) -> str:
    records = payload["records"]
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
    return "\n".join(lines)


def main(argv=None):
    parser = make_parser(__doc__, seeds=None, device="cpu")
    parser.add_argument("--detector", choices=sorted(DETECTORS), default="SkipGANomaly")
    parser.add_argument("--digits", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--share", type=float, default=0.05)
    parser.add_argument("--width", type=int, default=32, help="ngf = ndf (the demo's 32)")
    parser.add_argument("--epochs", type=int, help="training epochs (default: the detector's)")
    add_digits_options(parser)
    args = parse_args(parser, argv)
    return run_benchmark(args, "benchmarks.contamination", f"contamination_{args.detector}", run, render)


if __name__ == "__main__":
    main()
