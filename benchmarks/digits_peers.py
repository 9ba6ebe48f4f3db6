"""All our detectors on DESIGN.md's digits task, beside PyOD's AnoGAN and ALAD and simple baselines.

    pip install 'skgan_ad[peers]'                       # PyOD: optional benchmark dependency
    python -m benchmarks.digits_peers --threads 1       # ten digits, every method (see the README for the time)
    python -m benchmarks.digits_peers --digits 4 --methods AnoGAN PyOD-AnoGAN

Split (DESIGN.md, "Where the bar is"): for abnormal digit a, the other digits
are normal and split 80/20 with ``train_test_split(test_size=0.2,
random_state=0)``; train on the 80 %, test on the 20 % plus every image of
digit a; pixels / 16. Every method gets the same flattened rows (64
features); ours are told ``image_shape=(1, 8, 8)`` and so use their
convolutional networks, PyOD's use their fully connected ones.

Methods (one seed, ``random_state=0``; no parameter chosen on these labels
except SkipGANomaly's demo configuration, see the README):

* ours: SkipGANomaly, GANomaly, AnoGAN (scored twice from the same fitted
  networks: the paper's ``n_max=500`` search steps and a short ``n_max=50``),
  EGBAD, DenseSkipAttention, and AnoGAN and EGBAD once more on the tabular
  path (fully connected networks on the 64 standardised features, default
  parameters), which is what PyOD's models are;
* PyOD (default parameters): ``AnoGAN`` and ``ALAD`` (the BiGAN family's
  successor of EGBAD), the peers a scikit-learn user reaches for today;
* IsolationForest and PCA reconstruction error (16 components).

Reported per method: ROC AUC per digit and mean, fit time, and scoring time
per sample (the whole test set scored in one call, divided by its size).
Writes ``benchmarks/results/digits_peers.json`` after every digit, so an
interrupted run keeps what it finished; ``--resume`` runs only the (digit,
method) pairs that file lacks (PyOD's AnoGAN takes minutes per digit, so it
can be run on fewer digits than the rest). Without PyOD its methods are
skipped with a note. ``--width`` and ``--epochs`` shrink our image detectors
for a quick run (defaults: the demo's 32 and each detector's epochs).
"""

from __future__ import annotations

import os
import time

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from skgan_ad import (
    AnoGANDetector,
    DenseSkipAttentionDetector,
    EGBADDetector,
    GANomalyDetector,
    SkipGANomalyDetector,
)

from ._harness import (
    BASELINES,
    add_digits_options,
    command,
    digits_split,
    environment,
    fit_score,
    make_parser,
    parse_args,
    pyod_available,
    read_results,
    results_path,
    timed,
    write_results,
)

IMAGE = dict(image_shape=(1, 8, 8), random_state=0)
# name -> (detector class, parameters); the image detectors also get ``image_settings`` (widths, epochs).
OURS = {
    # The demo's configuration (README: picked on this split among 7, a selection on test labels).
    "SkipGANomaly": (SkipGANomalyDetector, dict(batch_size=16, **IMAGE)),
    "GANomaly": (GANomalyDetector, dict(batch_size=16, **IMAGE)),
    "AnoGAN": (AnoGANDetector, IMAGE),
    "EGBAD": (EGBADDetector, dict(batch_size=16, **IMAGE)),
    "DenseSkipAttention": (DenseSkipAttentionDetector, dict(batch_size=16, **IMAGE)),
    # The same two baselines on the tabular path (64 standardised features, fully connected networks),
    # the closest match to PyOD's fully connected AnoGAN and ALAD.
    "AnoGAN (MLP)": (AnoGANDetector, dict(random_state=0)),
    "EGBAD (MLP)": (EGBADDetector, dict(batch_size=16, random_state=0)),
}
PEERS = ("PyOD-AnoGAN", "PyOD-ALAD")
# PyOD's AnoGAN searches latent codes only inside fit, one training sample at a time; its
# decision_function does no search (one forward per sample from the code left by the last training
# sample). "PyOD-AnoGAN search" times that fit-time search: fit with 21 vs 1 query steps, 1 GAN epoch.
SEARCH_COST = "PyOD-AnoGAN search"
# Scoring-time ratios reported: (peer, ours).
RATIOS = [
    ("PyOD-AnoGAN", "AnoGAN"),
    ("PyOD-AnoGAN", "AnoGAN n_max=50"),
    ("PyOD-AnoGAN", "AnoGAN (MLP)"),
    ("PyOD-AnoGAN", "AnoGAN (MLP) n_max=50"),
    ("PyOD-ALAD", "EGBAD"),
    ("PyOD-ALAD", "EGBAD (MLP)"),
]


def _record(y, scores, fit_s, score_s):
    return dict(auc=float(roc_auc_score(y, scores)), fit_s=fit_s, score_ms=1000 * score_s / len(y))


def make_ours(name: str, width: int = 32, epochs: int | None = None, n_max: int | None = None):
    """One of ``OURS``; the image detectors at width ``width`` and, when given, ``epochs`` epochs; AnoGAN's
    search with ``n_max`` steps when given."""
    cls, params = OURS[name]
    if "image_shape" in params:
        params = {**params, "ngf": width, "ndf": width, **({"n_epochs": epochs} if epochs else {})}
    if n_max and cls is AnoGANDetector:
        params = {**params, "n_max": n_max}
    return cls(**params)


def run_digit(abnormal: int, methods: list[str], out: dict | None = None, args=None) -> dict:
    split = digits_split(abnormal, args)
    width, epochs = getattr(args, "width", 32), getattr(args, "epochs", None)
    n_max = getattr(args, "n_max", None)
    X_train = split.X_train.reshape(len(split.X_train), -1)
    X_test = split.X_test.reshape(len(split.X_test), -1)
    y = split.y_test
    out = {} if out is None else out
    for name in methods:
        if name in out:
            continue  # done by an earlier, resumed run
        if name in OURS:
            det, fit_s = timed(lambda name=name: make_ours(name, width, epochs, n_max).fit(X_train))
            scores, score_s = timed(lambda det=det: det.anomaly_score(X_test))
            out[name] = _record(y, scores, fit_s, score_s)
            if name.startswith("AnoGAN"):  # a shorter search on the same networks (n_max changes no training)
                scores, score_s = timed(lambda det=det: det.set_params(n_max=50).anomaly_score(X_test))
                out[f"{name} n_max=50"] = _record(y, scores, 0.0, score_s)
        elif name == SEARCH_COST:
            from pyod.models.anogan import AnoGAN

            times = []
            for steps in (1, 21):
                torch.manual_seed(0)
                _, fit_s = timed(lambda steps=steps: AnoGAN(device="cpu", epochs=1, epochs_query=steps).fit(X_train))
                times.append(fit_s)
            out[name] = dict(search_ms_per_sample_step=1000 * (times[1] - times[0]) / (20 * len(X_train)))
        elif name in PEERS:
            from pyod.models.alad import ALAD
            from pyod.models.anogan import AnoGAN

            torch.manual_seed(0)  # PyOD's models draw from the global torch RNG
            peer = AnoGAN(device="cpu") if name == "PyOD-AnoGAN" else ALAD(device="cpu")
            _, fit_s = timed(lambda peer=peer: peer.fit(X_train))
            scores, score_s = timed(lambda peer=peer: peer.decision_function(X_test))
            out[name] = _record(y, scores, fit_s, score_s)
        elif name in BASELINES:
            make, score = BASELINES[name]
            scores, fit_s, score_s = fit_score(lambda make=make: make(0), score, X_train, X_test)
            out[name] = _record(y, scores, fit_s, score_s)
        else:
            raise ValueError(f"unknown method {name!r}")
        print(f"  digit {abnormal} {name}: " + ", ".join(f"{k} {v:.3g}" for k, v in out[name].items()), flush=True)
    return out


def summary(records: list[dict]) -> str:
    """Markdown table; a method missing for some digits shows "-" there and averages over the digits it ran on."""
    methods = list(dict.fromkeys(m for r in records for m in r["results"]))
    digits = [r["digit"] for r in records]
    lines = [
        "| method | " + " | ".join(str(d) for d in digits) + " | **mean AUC** | fit s / digit | score ms/sample |",
        "|---|" + "---|" * (len(digits) + 3),
    ]
    for m in methods:
        if m == SEARCH_COST:
            continue
        rows = [r["results"].get(m) for r in records]
        done = [row for row in rows if row is not None]
        n_note = "" if len(done) == len(rows) else f" ({len(done)} digits)"
        lines.append(
            f"| {m} | "
            + " | ".join(f"{row['auc']:.3f}" if row else "-" for row in rows)
            + f" | **{np.mean([row['auc'] for row in done]):.3f}**{n_note}"
            + f" | {np.mean([row['fit_s'] for row in done]):.3g}"
            + f" | {np.mean([row['score_ms'] for row in done]):.3g} |"
        )
    ratios = []
    for peer, ours in RATIOS:
        both = [r["results"] for r in records if peer in r["results"] and ours in r["results"]]
        if both:
            p = np.mean([r[peer]["score_ms"] for r in both])
            o = np.mean([r[ours]["score_ms"] for r in both])
            ratios.append(
                f"scoring time {peer} / {ours} (mean over the {len(both)} digits both ran on): "
                f"{p:.3g} / {o:.3g} ms per sample = {p / o:.3g}x"
            )
    # Latent search cost per sample and step: ours batched (scoring time / n_max; epsilon=0 runs every step),
    # PyOD's one sample at a time inside fit.
    pyod = [r["results"][SEARCH_COST]["search_ms_per_sample_step"] for r in records if SEARCH_COST in r["results"]]
    if pyod:
        ratios.append(
            f"latent search, ms per sample and step: PyOD-AnoGAN (fit-time, one sample at a time) {np.mean(pyod):.3g}"
        )
        for ours, steps in [
            ("AnoGAN", 500),
            ("AnoGAN n_max=50", 50),
            ("AnoGAN (MLP)", 500),
            ("AnoGAN (MLP) n_max=50", 50),
        ]:
            done = [r["results"][ours]["score_ms"] / steps for r in records if ours in r["results"]]
            if done:
                ratios.append(
                    f"  {ours} (batched): {np.mean(done):.3g}, PyOD / ours = {np.mean(pyod) / np.mean(done):.3g}x"
                )
    return "\n".join(lines + [""] + ratios)


def render(payload: dict) -> str:
    return summary(payload["records"])


def main(argv=None):
    parser = make_parser(__doc__, seeds=None, device="cpu")
    parser.add_argument("--digits", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--methods", nargs="+", default=[*OURS, *PEERS, SEARCH_COST, *BASELINES])
    parser.add_argument("--width", type=int, default=32, help="ngf = ndf of our image detectors (the demo's 32)")
    parser.add_argument("--epochs", type=int, help="epochs of our image detectors (default: each detector's)")
    parser.add_argument("--n-max", type=int, help="AnoGAN's search steps of the first scoring (default: 500)")
    add_digits_options(parser)
    parser.add_argument(
        "--resume", action="store_true", help="keep the results file's runs and run only what is missing"
    )
    args = parse_args(parser, argv)
    if args.show:
        print(render(read_results(args.show)))
        return None
    path = results_path(args, "digits_peers")
    methods = pyod_available(args.methods, (*PEERS, SEARCH_COST))
    # Taken once, before anything runs or is written: the provenance of the code that runs (see _harness).
    env = environment("cpu")
    records, start, commands = [], time.perf_counter(), [command("benchmarks.digits_peers", args)]
    if args.resume and os.path.exists(path):
        previous = read_results(path)
        records = previous["records"]
        commands = [*previous.get("commands", [previous.get("command")]), *commands]
        start -= previous["wall_s"]
    by_digit = {r["digit"]: r for r in records}
    for digit in args.digits:
        if digit not in by_digit:
            by_digit[digit] = dict(digit=digit, results={})
            records.append(by_digit[digit])
        run_digit(digit, methods, by_digit[digit]["results"], args)
        records.sort(key=lambda r: r["digit"])
        # Written after every digit, so that an interrupted run keeps what it finished.
        payload = dict(commands=commands, wall_s=time.perf_counter() - start, environment=env, records=records)
        write_results(path, payload)
    payload = read_results(path)
    print(f"\n{render(payload)}\n\nwall time {payload['wall_s'] / 60:.1f} min; {payload['environment']}")
    return payload


if __name__ == "__main__":
    main()
