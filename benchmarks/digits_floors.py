"""Trained against untrained AUC of the configurations that ``tests/test_digits.py`` checks.

The test floors must lie above what the same networks score *untrained* (``lr=1e-12``, one epoch:
the weights stay at initialisation, only BatchNorm statistics adapt), or a broken training loop
would pass them. For each test's detector, split and seed this fits both and scores the papers'
score (``embedding_weight=0``) and the default score (``embedding_weight=1``).

    python -m benchmarks.digits_floors --seeds 0 1 2 --threads 1
"""

from __future__ import annotations

from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from skgan_ad import AnoGANDetector, DenseSkipAttentionDetector, EGBADDetector, GANomalyDetector, SkipGANomalyDetector
from skgan_ad.datasets import digits_leave_one_out, load_digits_images, one_class

from ._harness import UNTRAINED, make_parser, parse_args, run_benchmark


def _one_class_digit_0():
    images, labels = load_digits_images()
    X_train, X_test, y_train, y_test = train_test_split(images, labels, test_size=0.5, random_state=0)
    return one_class(X_train, y_train, X_test, y_test, normal_class=0, max_test=300, random_state=0)


#: test name -> (detector class, its parameters in the test, split)
CASES = {
    "skip_ganomaly_loco_4": (SkipGANomalyDetector, dict(ngf=16, ndf=16, n_epochs=5), lambda: digits_leave_one_out(4)),
    "ganomaly_loco_4": (
        GANomalyDetector,
        dict(ngf=16, ndf=16, nz=32, n_epochs=8, batch_size=16),
        lambda: digits_leave_one_out(4),
    ),
    "anogan_loco_4": (
        AnoGANDetector,
        dict(ngf=16, ndf=16, nz=32, n_epochs=8, n_max=30),
        lambda: digits_leave_one_out(4),
    ),
    "egbad_one_class_0": (
        EGBADDetector,
        dict(ngf=16, ndf=16, nz=32, n_epochs=20, batch_size=16, disc_term="ce", lambda_score=0.5),
        _one_class_digit_0,
    ),
    "dense_skip_attention_one_class_0": (
        DenseSkipAttentionDetector,
        dict(ngf=8, ndf=8, n_epochs=20, batch_size=16),
        _one_class_digit_0,
    ),
}


def run(args) -> dict:
    results = {}
    for name, (cls, params, make_split) in CASES.items():
        split = make_split()
        for seed in args.seeds:
            for state, extra in (("trained", {}), ("untrained", UNTRAINED)):
                detector = cls(**{**params, **extra, "random_state": seed}).fit(split.X_train)
                row = {}
                for weight, label in ((0.0, "papers"), (1.0, "default")):
                    detector.set_params(embedding_weight=weight)
                    row[label] = roc_auc_score(split.y_test, detector.anomaly_score(split.X_test))
                results.setdefault(name, {}).setdefault(state, {})[str(seed)] = row
                print(name, seed, state, {k: round(v, 3) for k, v in row.items()}, flush=True)
    return {"results": results}


def render(payload: dict) -> str:
    """One row per test configuration: trained | untrained AUC per seed, for both scores."""
    lines = ["| configuration | score | trained | untrained |", "|---|---|---|---|"]
    for name, states in payload["results"].items():
        for score in ("papers", "default"):
            cells = [
                " / ".join(f"{row[score]:.3f}" for row in states[state].values()) for state in ("trained", "untrained")
            ]
            lines.append(f"| {name} | {score} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(make_parser(__doc__, device="cpu"), argv)
    return run_benchmark(args, "benchmarks.digits_floors", "digits_floors", run, render)


if __name__ == "__main__":
    main()
