"""Pixel-level metrics on synthetic defects (#26): how well each detector's anomaly map finds the defect.

    python -m benchmarks.pixel_metrics --threads 1                   # MNIST class 0, seeds 0 1 2 (the README's run)
    python -m benchmarks.pixel_metrics --classes 0 2 --seeds 0 --n-fit 1000 --n-val 300 --n-anomalies 300
    python -m benchmarks.pixel_metrics --methods SkipGANomaly "IsolationForest (patches)" --params n_epochs=5

The split is the synthetic-defect split of ``benchmarks.dev_ablation --anomalies
defects``, built the same way: for each MNIST class (``--classes``) and seed,
the class's *training* images only (no test image is read) are permuted by
``skgan_ad.datasets.synthetic_defect_split(..., random_state=1000 + seed)`` into
``--n-fit`` images to fit on, ``--n-val`` normal test images and
``--n-anomalies`` further images that each get one synthetic defect (a
cut-and-paste patch, a Perlin-noise blotch or a scratch) with its exact mask.

For each method, on that test set:

* **image AUROC**: ROC AUC of the image anomaly scores (``anomaly_score``);
* **pixel AUROC**: ``skgan_ad.metrics.pixel_roc_auc`` of the anomaly maps
  against the masks, over every pixel of every test image (normal images'
  pixels are all negatives);
* **AUPRO**: ``skgan_ad.metrics.aupro`` (per-region overlap up to 30 %
  false-positive pixels, normalised; a constant map gets 0.15);
* **per defect type**: the image AUROC of each kind against the normal images
  (``skgan_ad.metrics.per_defect_auc`` on the split's ``defect_types``).

Methods: the five image detectors at their defaults (``--params`` overrides,
for quick runs only; each key goes to the detectors that have it), each
followed by its untrained control (``benchmarks._harness.UNTRAINED``: same
parameters and score, weights at their initialisation); their maps are
``anomaly_map(X, sigma=--sigma)`` (``|x - G(x)|`` smoothed). Baselines:
IsolationForest and PCA (16 components, probabilistic PCA's negative
log-likelihood) on ``--patch-size`` patches every ``--stride`` pixels through
``skgan_ad.PatchDetector`` (the image score is the highest patch score; the
map gives each pixel the mean score of the patches that cover it, stitched
with ``skgan_ad.patches.stitch``, as neither estimator has a map of its
own); PCA reconstruction of whole images (``_harness.BASELINES``' PCA(16); map:
``|x - PCA^-1(PCA(x))|`` smoothed like the detectors'), and kNN on pixels
(image score only, no map). A control without a model, ``intensity (no model)``: the
map is the image itself, smoothed, and the image score its mean intensity.

Writes ``benchmarks/results/pixel_metrics.json`` (``--tag`` adds a suffix).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from skgan_ad import (
    AnoGANDetector,
    DenseSkipAttentionDetector,
    EGBADDetector,
    GANomalyDetector,
    PatchDetector,
    SkipGANomalyDetector,
)
from skgan_ad.datasets import synthetic_defect_split
from skgan_ad.metrics import aupro, per_defect_auc, pixel_roc_auc
from skgan_ad.patches import stitch

from ._harness import (
    BASELINES,
    UNTRAINED_SUFFIX,
    load_dataset,
    make_parser,
    parse_args,
    parse_params,
    run_benchmark,
    timed,
    with_untrained,
)

DETECTORS = with_untrained(
    {
        "SkipGANomaly": (SkipGANomalyDetector, {}),
        "GANomaly": (GANomalyDetector, {}),
        "DenseSkipAttention": (DenseSkipAttentionDetector, {}),
        "AnoGAN": (AnoGANDetector, {}),
        "EGBAD": (EGBADDetector, {}),
    }
)
PATCH_BASELINES = {
    "IsolationForest (patches)": lambda seed: IsolationForest(random_state=seed),
    "PCA (patches)": lambda seed: PCA(16, random_state=seed),
}
WHOLE_IMAGE = ("PCA recon.", "kNN (pixels)")  # from _harness.BASELINES; PCA recon. gets a residual map
# No model: the map is the image itself, smoothed (bright defects on MNIST's black background score already), and
# the image score its mean intensity. What a map must beat before it localises anything.
INTENSITY = "intensity (no model)"
METHODS = [*DETECTORS, *PATCH_BASELINES, *WHOLE_IMAGE, INTENSITY]
# The README's run: one class, sizes that keep three seeds of all five detectors near 40 min on one shared core.
SPLIT = dict(n_fit=200, n_val=100, n_anomalies=120)
MAX_FPR = 0.3  # the MVTec AD protocol's integration limit of the PRO curve


def patch_score_maps(detector: PatchDetector, X) -> np.ndarray:
    """Each pixel's mean patch score over the patches of ``detector.grid_`` that cover it: (n, H, W)."""
    scores = detector.patch_scores(X)
    tiles = np.broadcast_to(scores[:, :, None, None], (*scores.shape, *detector.patch_shape_))
    return stitch(tiles, detector.grid_, detector.image_shape_[1:])


def _detector_params(make, extra: dict) -> dict:
    known = (getattr(make, "trained", make))().get_params()
    return {k: v for k, v in extra.items() if k in known}


def run_method(name: str, split, seed: int, args, extra: dict) -> tuple[np.ndarray, np.ndarray | None, dict]:
    """Fit ``name`` on the split's training images: its image scores, maps (None without one) and times."""
    X_train, X_test = split.X_train, split.X_test
    if name in DETECTORS:
        make, params = DETECTORS[name]
        det = make(**params, **_detector_params(make, extra), device=args.device, random_state=seed)
        _, fit_s = timed(lambda: det.fit(X_train))
        scores, score_s = timed(lambda: det.anomaly_score(X_test))
        maps, map_s = timed(lambda: det.anomaly_map(X_test, sigma=args.sigma))
        return scores, maps, dict(fit_s=fit_s, score_s=score_s, map_s=map_s, n_iter=int(det.n_iter_))
    if name in PATCH_BASELINES:
        det = PatchDetector(
            PATCH_BASELINES[name](seed), patch_size=args.patch_size, stride=args.stride, random_state=seed
        )
        _, fit_s = timed(lambda: det.fit(X_train))
        scores, score_s = timed(lambda: det.anomaly_score(X_test))
        maps, map_s = timed(lambda: patch_score_maps(det, X_test))
        return scores, maps, dict(fit_s=fit_s, score_s=score_s, map_s=map_s, n_patches=len(det.grid_))
    if name == INTENSITY:
        images = X_test.astype(np.float64) / 255.0
        maps, map_s = timed(lambda: gaussian_filter(images, (0, args.sigma, args.sigma)))
        return images.mean(axis=(1, 2)), maps, dict(fit_s=0.0, score_s=0.0, map_s=map_s)
    make, score = BASELINES[name]
    flat_train = X_train.reshape(len(X_train), -1).astype(np.float64) / 255.0
    flat_test = X_test.reshape(len(X_test), -1).astype(np.float64) / 255.0
    model, fit_s = timed(lambda: make(seed).fit(flat_train))
    scores, score_s = timed(lambda: score(model, flat_test))
    maps, map_s = None, None
    if name == "PCA recon.":
        residual = np.abs(flat_test - model.inverse_transform(model.transform(flat_test)))
        sigma = (0, args.sigma, args.sigma)
        maps, map_s = timed(lambda: gaussian_filter(residual.reshape(X_test.shape[:3]), sigma))
    return scores, maps, dict(fit_s=fit_s, score_s=score_s, map_s=map_s)


def evaluate(split, scores, maps) -> dict:
    """Image AUROC, pixel AUROC and AUPRO (with a map), and the image AUROC of each defect type."""
    out = dict(image_auc=float(roc_auc_score(split.y_test, scores)))
    if maps is not None:
        out.update(pixel_auc=pixel_roc_auc(split.masks, maps), aupro=aupro(split.masks, maps, max_fpr=MAX_FPR))
    out["per_defect"] = per_defect_auc(split.defect_types, scores)
    return out


def run(args) -> dict:
    X, y, _, _, classes = load_dataset("mnist", args.data_root, args.cache, test=False)
    extra = parse_params(args.params)
    run_detectors = [DETECTORS[m][0] for m in args.methods if m in DETECTORS]
    unused = [k for k in extra if not any(_detector_params(make, {k: None}) for make in run_detectors)]
    if unused:
        raise SystemExit(f"--params {unused} are parameters of none of the detectors run")
    sizes = dict(n_fit=args.n_fit, n_val=args.n_val, n_anomalies=args.n_anomalies)
    records = []
    for seed in args.seeds:
        for cls in args.classes:
            label = classes[cls]
            # The split of dev_ablation --anomalies defects: the class's training images, random_state 1000 + seed.
            split = synthetic_defect_split(X[y == label], **sizes, random_state=1000 + seed)
            kinds = dict(zip(*np.unique(split.defect_types, return_counts=True)))
            results = {}
            for name in args.methods:
                scores, maps, times = run_method(name, split, seed, args, extra)
                results[name] = {**evaluate(split, scores, maps), **times}
                r = results[name]
                shown = f"image {r['image_auc']:.3f}" + (
                    f", pixel {r['pixel_auc']:.3f}, AUPRO {r['aupro']:.3f}" if "aupro" in r else ""
                )
                print(f"class {label} seed {seed} {name}: {shown} (fit {times['fit_s']:.0f} s)", flush=True)
            records.append(
                {"class": label, "seed": seed, "kinds": {k: int(v) for k, v in kinds.items()}, "results": results}
            )
    return dict(
        dataset="mnist",
        images="training images of the class only (as dev_ablation --anomalies defects)",
        split=sizes,
        split_random_state="1000 + seed",
        params=extra,
        sigma=args.sigma,
        max_fpr=MAX_FPR,
        patches=dict(patch_size=args.patch_size, stride=args.stride),
        untrained=dict(suffix=UNTRAINED_SUFFIX.strip(), note="lr=1e-12, n_epochs=1, min_steps=0"),
        records=records,
    )


def _cell(values, bold=False) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    text = f"{np.mean(values):.3f}" + (f" ± {np.std(values, ddof=1):.3f}" if len(values) > 1 else "")
    return f"**{text}**" if bold else text


def render(payload: dict) -> str:
    records = payload["records"]
    methods = list(dict.fromkeys(m for r in records for m in r["results"]))
    kinds = list(dict.fromkeys(k for r in records for m in r["results"].values() for k in m["per_defect"]))
    kinds = [k for k in kinds if k != "mean"]
    split = payload["split"]
    lines = []
    for cls in dict.fromkeys(r["class"] for r in records):
        rows = [r for r in records if r["class"] == cls]
        seeds = [r["seed"] for r in rows]
        # The defective images of each kind, seed by seed (each defect's kind is drawn at random).
        counts = ", ".join(
            f"{k} {'/'.join(str(r['kinds'].get(k, 0)) for r in rows)}" for k in rows[0]["kinds"] if k != "good"
        )
        lines += [
            f"MNIST class {cls}, synthetic defects on training images; {split['n_fit']} images to fit, "
            f"{split['n_val']} normal and {split['n_anomalies']} defective test images ({counts}); "
            f"seeds {' '.join(map(str, seeds))}, mean ± sd over seeds; AUPRO up to FPR {payload['max_fpr']}",
            "",
            "| method | image AUROC | pixel AUROC | AUPRO | "
            + " | ".join(f"image AUC {k}" for k in kinds)
            + " | fit s |",
            "|---|---|---|---|" + "---|" * len(kinds) + "---|",
        ]
        best = {}
        for metric in ("image_auc", "pixel_auc", "aupro"):
            means = {
                m: np.mean([r["results"][m][metric] for r in rows]) for m in methods if metric in rows[0]["results"][m]
            }
            best[metric] = max(means, key=means.get) if means else None
        for m in methods:
            res = [r["results"][m] for r in rows]
            cells = [_cell([x.get(k) for x in res], best[k] == m) for k in ("image_auc", "pixel_auc", "aupro")]
            cells += [_cell([x["per_defect"].get(k) for x in res]) for k in kinds]
            cells.append(f"{np.mean([x['fit_s'] for x in res]):.0f}")
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines).rstrip()


def main(argv=None):
    parser = make_parser(__doc__, data=True)
    parser.set_defaults(seeds=[0, 1, 2])
    parser.add_argument("--classes", type=int, nargs="+", default=[0], help="MNIST classes, each its own domain")
    parser.add_argument("--n-fit", type=int, default=SPLIT["n_fit"], help="training images to fit on")
    parser.add_argument("--n-val", type=int, default=SPLIT["n_val"], help="normal test images")
    parser.add_argument("--n-anomalies", type=int, default=SPLIT["n_anomalies"], help="defective test images")
    parser.add_argument(
        "--methods", nargs="+", default=METHODS, choices=METHODS, metavar="METHOD", help="of " + ", ".join(METHODS)
    )
    parser.add_argument("--params", nargs="*", metavar="KEY=VALUE", help="detector parameters over the defaults")
    parser.add_argument("--sigma", type=float, default=1.0, help="smoothing of the maps (anomaly_map's default 1.0)")
    parser.add_argument("--patch-size", type=int, default=8, help="patches of the PatchDetector baselines")
    parser.add_argument("--stride", type=int, default=2, help="their step")
    args = parse_args(parser, argv)
    return run_benchmark(args, "benchmarks.pixel_metrics", "pixel_metrics", run, render)


if __name__ == "__main__":
    main()
