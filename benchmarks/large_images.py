"""Large images, patch by patch: scoring throughput and peak memory at 256, 512 and 1024 pixels.

    python -m benchmarks.large_images --threads 2
    python -m benchmarks.large_images --sizes 256 --counts 2 4 --threads 1   # a quick check

For each side (``--sizes``) and channel count (grey, RGB), a ``PatchDetector`` of a small
SkipGANomaly (``--width``, one epoch; the network's quality is not the point here) is fitted on
the 64x64 patches of a few smooth random training images, then scores ``--counts`` uint8 images
read from a memory-mapped file. Reported: images/s and megapixels/s of ``anomaly_score``, and the
peak anonymous memory above the level before the call (Linux ``RssAnon``, sampled every
millisecond; the memory-mapped pages belong to the file). PatchDetector validates and cuts at
most 32 MiB of float64 pixels at a time, so the peak should not grow with the image count. The
peer in the same run is IsolationForest scoring the same patches' pixels through the same
PatchDetector.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import joblib
import numpy as np
from scipy.ndimage import gaussian_filter
from sklearn.ensemble import IsolationForest

from skgan_ad import PatchDetector, SkipGANomalyDetector

from ._harness import make_parser, parse_args, run_benchmark
from .memory import _memmap

# Run in a fresh process: load the detector, map the images, score once to warm up, then measure.
_MEASURE = """
import json, sys, joblib, numpy as np, torch
from benchmarks.memory import peak_above_baseline
torch.set_num_threads(int(sys.argv[3]))
detector = joblib.load(sys.argv[1])
images = np.load(sys.argv[2], mmap_mode="r")
detector.anomaly_score(images[:1])
peak, seconds = peak_above_baseline(lambda: detector.anomaly_score(images))
print(json.dumps({"peak_mib": peak, "seconds": seconds}))
"""


def _measure(detector_path: str, images_path: str, threads: int) -> dict:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, detector_path, images_path, str(threads)],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _images(n: int, side: int, channels: int, seed: int) -> np.ndarray:
    """Smooth random uint8 images (n, side, side[, channels]), like textures of a surface."""
    rng = np.random.default_rng(seed)
    shape = (n, side, side) if channels == 1 else (n, side, side, channels)
    sigma = (0, side / 64, side / 64) + ((0,) if channels > 1 else ())
    smooth = gaussian_filter(rng.random(shape), sigma=sigma)
    smooth = (smooth - smooth.min()) / (np.ptp(smooth) or 1.0)
    return (smooth * 255).astype(np.uint8)


def run(args) -> dict:
    records = []
    with tempfile.TemporaryDirectory() as folder:
        for side in args.sizes:
            for channels in (1, 3):
                train = _images(args.n_train, side, channels, seed=0)
                methods = {
                    "SkipGANomaly": SkipGANomalyDetector(
                        ngf=args.width, ndf=args.width, n_epochs=1, batch_size=64, random_state=0
                    ),
                    "IsolationForest": IsolationForest(random_state=0),
                }
                for name, inner in methods.items():
                    detector = PatchDetector(inner, patch_size=64, random_state=0).fit(train)
                    detector_path = os.path.join(folder, "detector.joblib")
                    joblib.dump(detector, detector_path)
                    for count in args.counts:
                        name_npy = f"x{side}_{channels}_{count}.npy"
                        _memmap(
                            folder,
                            name_npy,
                            (count, *train.shape[1:]),
                            np.uint8,
                            lambda k, i, c=channels, s=side: _images(k, s, c, seed=1 + i),
                        )
                        measured = _measure(detector_path, os.path.join(folder, name_npy), args.threads or 1)
                        seconds = measured["seconds"]
                        records.append(
                            {
                                "method": name,
                                "side": side,
                                "channels": channels,
                                "images": count,
                                "patches_per_image": len(detector.grid_),
                                "seconds": seconds,
                                "images_per_s": count / seconds,
                                "megapixels_per_s": count * side * side / seconds / 1e6,
                                "peak_mib": measured["peak_mib"],
                            }
                        )
                        print(records[-1], flush=True)
                        os.remove(os.path.join(folder, name_npy))
    return {"width": args.width, "n_train": args.n_train, "records": records}


def render(payload: dict) -> str:
    lines = [
        f"PatchDetector, 64x64 patches (SkipGANomaly ngf=ndf={payload['width']}, one epoch); uint8 images from a "
        "memory-mapped file",
        "",
        "| method | side | channels | images | patches / image | images/s | megapixels/s | peak memory above "
        "baseline (MiB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in payload["records"]:
        lines.append(
            f"| {r['method']} | {r['side']} | {r['channels']} | {r['images']} | {r['patches_per_image']} | "
            f"{r['images_per_s']:.2f} | {r['megapixels_per_s']:.2f} | {r['peak_mib']:.1f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = make_parser(__doc__, seeds=None, device="cpu")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    parser.add_argument("--counts", type=int, nargs="+", default=[4, 16], help="images scored per measurement")
    parser.add_argument("--n-train", type=int, default=4, help="training images (their patches train the detector)")
    parser.add_argument("--width", type=int, default=8, help="ngf = ndf of the inner SkipGANomaly")
    args = parse_args(parser, argv)
    return run_benchmark(args, "benchmarks.large_images", "large_images", run, render)


if __name__ == "__main__":
    main()
