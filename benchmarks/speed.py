"""Training throughput and scoring time of each detector and preset, beside classic peers in the same run.

    python benchmarks/speed.py                    # CPU
    python benchmarks/speed.py --device cuda      # on a GPU

Data: the 8x8 digits, and random images of MNIST's shape (28x28 grey, padded
to 32) and CIFAR-10's (32x32 RGB): speed does not depend on pixel values.
Each detector (``--methods``) runs with the network parameters of every
preset of ``benchmarks/detection.py`` (``--presets``; ``cpu``: ngf=ndf=32 and
AnoGAN's search cut to 50 steps; ``paper``: ngf=ndf=64 and 500 steps), for
``--epochs`` epochs.

Prints a markdown table and writes JSON to benchmarks/output/speed.json with
the hardware and library versions. Times are wall-clock medians of
``--repeats`` runs; nothing here is asserted by the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np
import sklearn
import torch
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest

import skgan_ad
from skgan_ad import AnoGANDetector
from skgan_ad.datasets import load_digits_images

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks.detection import GAN_METHODS, PRESETS  # noqa: E402

DETECTORS = [name for name in GAN_METHODS if name != "U-Net AE"]  # the AE variant trains at SkipGANomaly's speed


def _median_seconds(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def datasets(rng, n, which=("digits", "mnist", "cifar10")):
    digits, _ = load_digits_images()
    if "digits" in which:
        yield f"digits 8x8 (n={min(n, 1437)})", digits[:n]
    if "mnist" in which:
        yield f"MNIST-shaped 28x28 grey (n={n})", rng.randint(0, 256, size=(n, 28, 28)).astype(np.uint8)
    if "cifar10" in which:
        yield f"CIFAR-shaped 32x32 RGB (n={n})", rng.randint(0, 256, size=(n, 32, 32, 3)).astype(np.uint8)


def run(args):
    rng = np.random.RandomState(0)
    rows = []
    for name, X in datasets(rng, args.n, args.datasets):
        flat = X.reshape(len(X), -1).astype(np.float32)
        for method in args.methods:
            cls, extra = GAN_METHODS[method]
            for preset in args.presets:
                config = PRESETS[preset]
                params = {k: v for k, v in config["detector"].items() if k != "n_epochs"}
                if cls is AnoGANDetector:
                    params.update(config["anogan"])
                det = cls(**params, **extra, n_epochs=args.epochs, device=args.device, random_state=0)
                det.fit(X[:128])  # warm-up: a process's first convolutions pay one-off setup costs
                fit_s = _median_seconds(lambda det=det, X=X: det.fit(X), args.repeats)
                score_s = _median_seconds(lambda det=det, X=X: det.score_samples(X), args.repeats)
                n_train = len(X) - round(det.validation_fraction * len(X))
                rows.append(
                    dict(
                        data=name,
                        method=f"{method}, preset {preset} ({params})",
                        fit_s=fit_s,
                        train_images_per_s=n_train * det.n_iter_ / fit_s,
                        score_ms_per_image=1e3 * score_s / len(X),
                    )
                )
                print(rows[-1], flush=True)
        for label, make, score in [
            ("IsolationForest", lambda: IsolationForest(random_state=0), lambda m, Z: m.score_samples(Z)),
            ("PCA(16) recon.", lambda: PCA(16), lambda m, Z: ((Z - m.inverse_transform(m.transform(Z))) ** 2).sum(1)),
        ]:
            model = make().fit(flat)
            fit_s = _median_seconds(lambda make=make, flat=flat: make().fit(flat), args.repeats)
            score_s = _median_seconds(lambda model=model, score=score, flat=flat: score(model, flat), args.repeats)
            rows.append(
                dict(
                    data=name,
                    method=label,
                    fit_s=fit_s,
                    train_images_per_s=len(flat) / fit_s,
                    score_ms_per_image=1e3 * score_s / len(flat),
                )
            )
    return rows


def environment(device):
    cuda = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return dict(
        python=platform.python_version(),
        torch=torch.__version__,
        sklearn=sklearn.__version__,
        skgan_ad=skgan_ad.__version__,
        cpu=platform.processor() or platform.machine(),
        cpu_count=os.cpu_count(),
        torch_threads=torch.get_num_threads(),
        cuda_device=cuda,
        device=device,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--n", type=int, default=1024, help="images per data set")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--methods", nargs="+", choices=DETECTORS, default=DETECTORS)
    parser.add_argument("--presets", nargs="+", choices=sorted(PRESETS), default=sorted(PRESETS))
    parser.add_argument(
        "--datasets", nargs="+", choices=["digits", "mnist", "cifar10"], default=["digits", "mnist", "cifar10"]
    )
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    parser.add_argument("--out", default="benchmarks/results/speed_cpu.json")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = run(args)
    env = environment(args.device)
    print(f"environment: {env}")
    print("| data | method | fit (s) | training images/s | scoring ms/image |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['data']} | {r['method']} | {r['fit_s']:.2f} | {r['train_images_per_s']:.0f} | "
            f"{r['score_ms_per_image']:.3f} |"
        )
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(
            dict(
                command=" ".join(["python", "benchmarks/speed.py", *(sys.argv[1:] if argv is None else argv)]),
                environment=env,
                epochs=args.epochs,
                results=rows,
            ),
            f,
            indent=2,
        )
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
