"""Training throughput and scoring time of each detector and preset, beside classic peers in the same run.

    python -m benchmarks.speed                    # CPU
    python -m benchmarks.speed --device cuda      # on a GPU

Data: the 8x8 digits, and random images of MNIST's shape (28x28 grey, padded
to 32) and CIFAR-10's (32x32 RGB): speed does not depend on pixel values.
Each detector (``--methods``) runs with the network parameters of every
preset of ``benchmarks/detection.py`` (``--presets``; ``cpu``: ngf=ndf=32 and
AnoGAN's search cut to 50 steps; ``paper``: ngf=ndf=64 and 500 steps), for
``--epochs`` epochs.

Each detector runs at every ``--precisions`` (``float32``; ``bfloat16``
autocast with channels-last images, the detectors' ``precision`` parameter).
Two throughputs per detector: *training images/s* counts only the training
steps (each batch's generator and discriminator updates, timed by a skorch
callback, :class:`StepTimer`), the part that ``precision`` changes; *fit
images/s* divides the trained images by the whole ``fit``, which also
validates the input, computes each epoch's validation loss, and scores the
held-out normals and the training codes for the score statistics (all in
float32). Achieved GFLOP/s of training is the FLOPs of the training steps per image
(counted once by ``torch.utils.flop_counter`` on a 256-image, one-epoch fit:
forward and backward passes of both networks) times the training images per
second, beside the machine's matmul peak measured in the same run for that
precision (a 2048x2048 matrix product).

Writes ``benchmarks/results/speed_<device>.json`` (with the hardware and
library versions) and prints a markdown table from it. Times are wall-clock medians of
``--repeats`` runs; nothing here is asserted by the tests.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from skorch.callbacks import Callback
from torch.utils.flop_counter import FlopCounterMode

from skgan_ad.datasets import load_digits_images

from ._harness import BASELINES, make_parser, parse_args, parse_params, run_benchmark, timed
from .detection import GAN_METHODS, PRESETS, detector_params

DETECTORS = [name for name in GAN_METHODS if name != "U-Net AE"]  # the AE variant trains at SkipGANomaly's speed
BASELINE_LABELS = {"IsolationForest": "IsolationForest", "PCA recon.": "PCA(16) recon.", "kNN (pixels)": "kNN (pixels)"}


def _median_seconds(fn, repeats):
    return float(np.median([timed(fn)[1] for _ in range(repeats)]))


class StepTimer(Callback):
    """Records each epoch's wall time of the training steps alone (``train_step_s``), their images
    (``train_step_images``) and, with ``count_flops``, their FLOPs (``train_step_flops``, counted by
    ``torch.utils.flop_counter``, which slows the steps down) in the detector's ``history_``."""

    def __init__(self, count_flops: bool = False) -> None:
        self.count_flops = count_flops

    def on_epoch_begin(self, net, **kwargs):
        self.seconds, self.images, self.flops = 0.0, 0, 0

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:
            if self.count_flops:
                self.counter = FlopCounterMode(display=False)
                self.counter.__enter__()
            self.start = time.perf_counter()

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        if training:
            self.seconds += time.perf_counter() - self.start
            self.images += len(batch[0])
            if self.count_flops:
                self.counter.__exit__(None, None, None)
                self.flops += self.counter.get_total_flops()

    def on_epoch_end(self, net, **kwargs):
        net.history.record("train_step_s", self.seconds)
        net.history.record("train_step_images", self.images)
        if self.count_flops:
            net.history.record("train_step_flops", self.flops)


def fit_throughputs(det, X, repeats: int) -> tuple[float, float, float]:
    """``(fit seconds, training images/s of the steps alone, of the whole fit)``: medians over ``repeats`` fits."""
    fits, steps, whole = [], [], []
    for _ in range(repeats):
        _, seconds = timed(lambda: det.fit(X))
        images = sum(row["train_step_images"] for row in det.history_)
        fits.append(seconds)
        steps.append(images / sum(row["train_step_s"] for row in det.history_))
        whole.append(images / seconds)
    return float(np.median(fits)), float(np.median(steps)), float(np.median(whole))


DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


def matmul_peak_gflops(precision: str, device: str, repeats: int, n: int = 2048) -> float:
    """Measured GFLOP/s of an ``n x n`` matrix product in this precision: the machine's practical peak."""
    a = torch.randn(n, n, device=device).to(DTYPES[precision])
    b = torch.randn(n, n, device=device).to(DTYPES[precision])
    a @ b  # warm-up
    return 2 * n**3 / _median_seconds(lambda: a @ b, max(repeats, 5)) / 1e9


def fit_flops_per_image(det, X) -> float:
    """FLOPs of one training step per image (forward and backward passes of both networks), counted on a
    one-epoch fit of 256 images; the rest of ``fit`` (validation, scoring the held-out normals) is not counted."""
    counter = StepTimer(count_flops=True)
    probe = type(det)(**{**det.get_params(), "n_epochs": 1, "min_steps": 0, "callbacks": [("steps", counter)]})
    probe.fit(X[:256])
    return sum(row["train_step_flops"] for row in probe.history_) / sum(
        row["train_step_images"] for row in probe.history_
    )


def datasets(rng, n, which=("digits", "mnist", "cifar10")):
    digits, _ = load_digits_images()
    if "digits" in which:
        yield f"digits 8x8 (n={min(n, 1437)})", digits[:n]
    if "mnist" in which:
        yield f"MNIST-shaped 28x28 grey (n={n})", rng.randint(0, 256, size=(n, 28, 28)).astype(np.uint8)
    if "cifar10" in which:
        yield f"CIFAR-shaped 32x32 RGB (n={n})", rng.randint(0, 256, size=(n, 32, 32, 3)).astype(np.uint8)


def run(args) -> dict:
    rng = np.random.RandomState(0)
    rows = []
    peaks = {p: matmul_peak_gflops(p, args.device, args.repeats) for p in args.precisions}
    print(f"matmul peak GFLOP/s: {peaks}", flush=True)
    for name, X in datasets(rng, args.n, args.datasets):
        flat = X.reshape(len(X), -1).astype(np.float32)
        for method in args.methods:
            cls, extra = GAN_METHODS[method]
            for preset in args.presets:
                params = {**detector_params(PRESETS[preset], cls), **parse_params(args.params)}
                params = {k: v for k, v in params.items() if k not in ("n_epochs", "min_steps", "precision")}
                for precision in args.precisions:
                    det = cls(
                        **params,
                        **extra,
                        n_epochs=args.epochs,
                        precision=precision,
                        device=args.device,
                        random_state=0,
                        callbacks=[("step_timer", StepTimer())],
                    )
                    det.fit(X[:128])  # warm-up: a process's first convolutions pay one-off setup costs
                    fit_s, images_per_s, fit_images_per_s = fit_throughputs(det, X, args.repeats)
                    score_s = _median_seconds(lambda det=det, X=X: det.score_samples(X), args.repeats)
                    gflops = fit_flops_per_image(det, X) * images_per_s / 1e9
                    rows.append(
                        dict(
                            data=name,
                            method=f"{method}, preset {preset} ({params})",
                            precision=precision,
                            fit_s=fit_s,
                            train_images_per_s=images_per_s,
                            fit_images_per_s=fit_images_per_s,
                            train_gflops=gflops,
                            share_of_peak=gflops / peaks[precision],
                            score_ms_per_image=1e3 * score_s / len(X),
                        )
                    )
                    print(rows[-1], flush=True)
        for baseline, (make, score) in BASELINES.items():
            model = make(0).fit(flat)
            fit_s = _median_seconds(lambda make=make, flat=flat: make(0).fit(flat), args.repeats)
            score_s = _median_seconds(lambda model=model, score=score, flat=flat: score(model, flat), args.repeats)
            rows.append(
                dict(
                    data=name,
                    method=BASELINE_LABELS[baseline],
                    fit_s=fit_s,
                    train_images_per_s=len(flat) / fit_s,
                    fit_images_per_s=len(flat) / fit_s,
                    score_ms_per_image=1e3 * score_s / len(flat),
                )
            )
    return dict(epochs=args.epochs, repeats=args.repeats, matmul_peak_gflops=peaks, results=rows)


def render(payload: dict) -> str:
    lines = [
        "| data | method | precision | fit (s) | training images/s (steps) | fit images/s "
        "| training GFLOP/s (% of matmul peak) | scoring ms/image |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in payload["results"]:
        # Files written before precisions were measured have no GFLOP/s; before the step timer, images/s
        # was of the whole fit.
        compute = f"{r['train_gflops']:.1f} ({100 * r['share_of_peak']:.0f} %)" if "train_gflops" in r else ""
        steps = f"{r['train_images_per_s']:.0f}" if _steps_timed(r) else ""
        whole = r.get("fit_images_per_s", r["train_images_per_s"])
        lines.append(
            f"| {r['data']} | {r['method']} | {r.get('precision', 'float32')} | {r['fit_s']:.2f} | {steps} | "
            f"{whole:.0f} | {compute} | {r['score_ms_per_image']:.3f} |"
        )
    speedups = _precision_speedups(payload["results"])
    if speedups:
        lines.append("\nbfloat16 / float32 training images/s (steps): " + "; ".join(speedups) + ".")
    if "matmul_peak_gflops" in payload:
        peaks = ", ".join(f"{p} {g:.0f}" for p, g in payload["matmul_peak_gflops"].items())
        lines.append(f"\nMeasured matmul peak (GFLOP/s, 2048x2048): {peaks}.")
    return "\n".join(lines)


def _steps_timed(row: dict) -> bool:
    """Whether ``train_images_per_s`` of a result row is of the training steps alone: a detector's row
    (baselines have no precision) written since :class:`StepTimer` (older rows timed the whole fit)."""
    return "precision" in row and "fit_images_per_s" in row


def _precision_speedups(results) -> list[str]:
    """Lines ``data, method: 1.23x``, for every detector measured at both precisions (step throughput)."""
    by_precision = {
        (r["data"], r["method"], r["precision"]): r["train_images_per_s"] for r in results if _steps_timed(r)
    }
    return [
        f"{data}, {method.split(',')[0]}: {by_precision[data, method, 'bfloat16'] / value:.2f}x"
        for (data, method, precision), value in by_precision.items()
        if precision == "float32" and (data, method, "bfloat16") in by_precision
    ]


def main(argv=None):
    parser = make_parser(__doc__, seeds=None, device="cpu")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--n", type=int, default=1024, help="images per data set")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--methods", nargs="+", choices=DETECTORS, default=DETECTORS)
    parser.add_argument("--presets", nargs="+", choices=sorted(PRESETS), default=sorted(PRESETS))
    parser.add_argument("--precisions", nargs="+", choices=list(DTYPES), default=list(DTYPES))
    parser.add_argument("--params", nargs="+", metavar="KEY=VALUE", help="override the presets' detector parameters")
    parser.add_argument(
        "--datasets", nargs="+", choices=["digits", "mnist", "cifar10"], default=["digits", "mnist", "cifar10"]
    )
    args = parse_args(parser, argv)
    device = "cuda" if args.device != "cpu" and torch.cuda.is_available() else "cpu"
    return run_benchmark(args, "benchmarks.speed", f"speed_{device}", run, render)


if __name__ == "__main__":
    main()
