"""Peak memory of scoring large inputs: does it grow with the number of rows?

    python -m benchmarks.memory                              # 0.1M, 0.3M and 1M tabular rows, uint8 images
    python -m benchmarks.memory --rows 100000 --images 2000  # a quick check

Scores memory-mapped data (float32 tabular rows, 30 features; uint8 28x28
images) with detectors fitted on a small sample, and reports the peak
anonymous memory *above* what the process held before each call (Linux:
``RssAnon`` of ``/proc/self/status``, sampled every millisecond; the pages of
the memory-mapped input belong to the file and are left out).
The peer in the same run is scikit-learn's ``IsolationForest.score_samples``,
which also works in chunks. Scoring converts at most
``BaseGANDetector._CHUNK_BYTES`` (32 MiB) of float64 input at a time, so
the peak should be a constant plus the outputs themselves (8 bytes per row
for each score part kept while scoring).
"""

from __future__ import annotations

import gc
import os
import tempfile
import threading
import time

import numpy as np
from sklearn.ensemble import IsolationForest

from skgan_ad import GANomalyDetector, SkipGANomalyDetector

from ._harness import make_parser, parse_args, run_benchmark

N_FEATURES = 30


def _anon_kib() -> int:
    # Anonymous memory only: the pages of a memory-mapped input are the file's, not the process's.
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("RssAnon"))


def peak_above_baseline(fn) -> tuple[float, float]:
    """(peak anonymous MiB above the level before the call, seconds) of ``fn()``, sampled every millisecond."""
    gc.collect()
    before = _anon_kib()
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _anon_kib())
            time.sleep(0.001)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    peak[0] = max(peak[0], _anon_kib())
    del out
    return (peak[0] - before) / 1024, seconds


def _memmap(folder: str, name: str, shape: tuple, dtype, fill) -> np.memmap:
    X = np.lib.format.open_memmap(os.path.join(folder, name), mode="w+", dtype=dtype, shape=shape)
    step = 100_000
    for i in range(0, shape[0], step):
        X[i : i + step] = fill(min(step, shape[0] - i), i)
    X.flush()
    return np.load(os.path.join(folder, name), mmap_mode="r")


def run(args) -> dict:
    rng = np.random.default_rng(args.seeds[0])
    records = []
    with tempfile.TemporaryDirectory() as folder:
        train = rng.normal(size=(2000, N_FEATURES)).astype(np.float32)
        tabular = {
            "GANomaly": GANomalyDetector(n_epochs=1, random_state=0, device=args.device).fit(train),
            "IsolationForest (peer)": IsolationForest(random_state=0).fit(train),
        }
        for n in args.rows:
            X = _memmap(
                folder,
                f"rows_{n}.npy",
                (n, N_FEATURES),
                np.float32,
                lambda k, i: np.random.default_rng(i).normal(size=(k, N_FEATURES)),
            )
            for name, model in tabular.items():
                calls = {"score_samples": model.score_samples, "predict": model.predict}
                if hasattr(model, "reconstruct"):
                    calls["reconstruct"] = model.reconstruct
                for call, fn in calls.items():
                    peak, seconds = peak_above_baseline(lambda fn=fn, X=X: fn(X))
                    records.append(
                        dict(
                            data="float32 rows x30 (memmap)",
                            method=name,
                            call=call,
                            n=n,
                            peak_mib=peak,
                            seconds=seconds,
                            output_mib=n * 8 * (N_FEATURES if call == "reconstruct" else 1) / 2**20,
                        )
                    )
                    print(records[-1], flush=True)
            del X
        images = rng.integers(0, 256, size=(500, 28, 28), dtype=np.uint8)
        detector = SkipGANomalyDetector(ngf=8, ndf=8, n_epochs=1, random_state=0, device=args.device).fit(images)
        for n in args.images:
            X = _memmap(
                folder,
                f"images_{n}.npy",
                (n, 28, 28),
                np.uint8,
                lambda k, i: np.random.default_rng(i).integers(0, 256, size=(k, 28, 28)),
            )
            for call in ("score_samples", "anomaly_map"):
                fn = getattr(detector, call)
                peak, seconds = peak_above_baseline(lambda fn=fn, X=X: fn(X))
                out_mib = n * 8 / 2**20 if call == "score_samples" else n * 28 * 28 * 8 / 2**20
                records.append(
                    dict(
                        data="uint8 28x28 images (memmap)",
                        method="SkipGANomaly (ngf=8)",
                        call=call,
                        n=n,
                        peak_mib=peak,
                        seconds=seconds,
                        output_mib=out_mib,
                    )
                )
                print(records[-1], flush=True)
            del X
    return dict(records=records)


def render(payload: dict) -> str:
    lines = [
        "| data | method | call | rows | peak MiB | output MiB | rows/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in payload["records"]:
        lines.append(
            f"| {r['data']} | {r['method']} | {r['call']} | {r['n']:,} | {r['peak_mib']:.1f} | "
            f"{r['output_mib']:.1f} | {r['n'] / r['seconds']:,.0f} |"
        )
    lines.append("\npeak MiB: anonymous memory above the level before the call (outputs included).")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = make_parser(__doc__, device="cpu")
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    parser.add_argument("--images", type=int, nargs="+", default=[10_000, 30_000])
    args = parse_args(parser, argv)
    run_benchmark(args, "benchmarks.memory", "memory", run, render)


if __name__ == "__main__":
    main()
