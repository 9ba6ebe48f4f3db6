"""Checksums of every detector's outputs: proof that a refactoring changed no score, to the bit.

    python -m benchmarks.checksums --tag before        # on the commit before the change
    python -m benchmarks.checksums --check benchmarks/results/checksums_before.json   # after it

Fits the five detectors (tiny settings, a fixed seed) on 8x8 digit images and on tabular rows and
hashes (SHA-256 of the float64 bytes) ``score_samples``, ``score_components``, ``decision_function``,
``reconstruct``, ``anomaly_map`` (images) and ``embed``, of new samples and of training samples
(scored leave-one-out). Bit-for-bit equality holds on one machine only: another CPU rounds
differently, so compare runs made on the same machine (the JSON records which).
"""

from __future__ import annotations

import hashlib
import sys

import numpy as np

from skgan_ad import AnoGANDetector, DenseSkipAttentionDetector, EGBADDetector, GANomalyDetector, SkipGANomalyDetector
from skgan_ad.datasets import load_digits_images

from ._harness import make_parser, parse_args, read_results, run_benchmark

DETECTORS = {
    "SkipGANomaly": (SkipGANomalyDetector, {}),
    "GANomaly": (GANomalyDetector, {"nz": 8}),
    "AnoGAN": (AnoGANDetector, {"nz": 8, "n_max": 5}),
    "EGBAD": (EGBADDetector, {"nz": 8}),
    "DenseSkipAttention": (DenseSkipAttentionDetector, {}),
}
TINY = dict(n_epochs=2, batch_size=16, ngf=8, ndf=8, hidden_dims=(8, 4), random_state=0)


def _digest(value) -> str:
    return hashlib.sha256(np.ascontiguousarray(value, dtype=np.float64).tobytes()).hexdigest()[:16]


def run(args) -> dict:
    images, _ = load_digits_images()
    rows = np.random.RandomState(0).normal(size=(200, 6))
    data = {"images": (images[:150], images[150:210]), "rows": (rows[:150], rows[150:])}
    sums = {}
    for name, (cls, params) in DETECTORS.items():
        for kind, (train, new) in data.items():
            detector = cls(**TINY, **params, embedding_weight=0.5).fit(train)
            out = {}
            for which, X in (("new", new), ("train", train[:40])):
                out[f"score_samples/{which}"] = detector.score_samples(X)
                out[f"decision_function/{which}"] = detector.decision_function(X)
                for part, values in detector.score_components(X).items():
                    out[f"{part}/{which}"] = values
            out["reconstruct"] = detector.reconstruct(new)
            out["embed"] = detector.embed(new)
            if kind == "images":
                out["anomaly_map"] = detector.anomaly_map(new)
            sums[f"{name}/{kind}"] = {key: _digest(value) for key, value in out.items()}
    return {"checksums": sums}


def render(payload: dict) -> str:
    """One row per detector and data kind: how many outputs were hashed, and a digest of all of them."""
    lines = ["| detector / data | outputs | digest of the outputs' digests |", "|---|---|---|"]
    for key, sums in payload["checksums"].items():
        lines.append(f"| {key} | {len(sums)} | {hashlib.sha256(str(sorted(sums.items())).encode()).hexdigest()[:16]} |")
    return "\n".join(lines)


def main(argv=None):
    parser = make_parser(__doc__, seeds=None, device="cpu")
    parser.add_argument("--check", metavar="JSON", help="compare with the checksums of this file; exit 1 if any differ")
    args = parse_args(parser, argv)
    payload = run_benchmark(args, "benchmarks.checksums", "checksums", run, render)
    if args.check:
        before = read_results(args.check)["checksums"]
        differ = [
            f"{key} {output}"
            for key in sorted(set(before) | set(payload["checksums"]))
            for output in sorted(set(before.get(key, {})) | set(payload["checksums"].get(key, {})))
            if before.get(key, {}).get(output) != payload["checksums"].get(key, {}).get(output)
        ]
        print(f"identical to {args.check}" if not differ else f"DIFFERENT from {args.check}: " + ", ".join(differ))
        if differ:
            sys.exit(1)


if __name__ == "__main__":
    main()
