"""Synthetic defects and their masks
=================================

Synthetic defects with their masks outlined: the README's figure ``docs/images/synthetic_defects.png``.

:func:`skgan_ad.datasets.synthetic_defects` draws one defect on each normal
image and returns its mask, the pixels it changed: a cut-and-paste patch
(CutPaste), a Perlin-noise blotch (DRAEM) or a thin scratch. The figure shows
two of each kind on three domains: 28x28 grey digits (MNIST's training images
where ``<data-root>/mnist`` holds them, else scikit-learn's 8x8 digits
upscaled), 32x32 colour photographs (CIFAR-10's training images where
``<data-root>/cifar10-jpeg.tar.gz`` is, else left out) and 32x32 random
smooth colour textures (always). For each domain: the normal images, the
defective ones, and the defective ones with their masks outlined. Nothing is
downloaded.

::

    python examples/synthetic_defects.py                     # writes docs/images/synthetic_defects.png
    python examples/synthetic_defects.py --data-root /nowhere --output /tmp/defects.png   # no data: the fallbacks

``--maps`` draws the README's inspection figure instead, ``docs/images/inspection_maps.png``: an
inspection end to end. A detector (``--detector``, SkipGANomaly by default; ``--width``, ``--epochs``)
is fitted on ``--n-fit`` training images of one digit (``--digit``; MNIST where found, else the 8x8
digits upscaled), on the split of ``benchmarks.pixel_metrics``' seed ``--seed``
(:func:`skgan_ad.datasets.synthetic_defect_split`). For one
normal test image and two of each defect kind, the figure shows the image with its true defect
outlined, the detector's anomaly map (``anomaly_map``, ``|x - G(x)|`` smoothed) with the same
outline, and the map of PCA reconstruction (16 components) beside it; the pixel AUROC and AUPRO
of both maps over the whole test set (:func:`skgan_ad.metrics.pixel_roc_auc`,
:func:`skgan_ad.metrics.aupro`) are printed and in the row labels. The defaults are a quick run
(a minute or two on one CPU core). The README's figure shows the benchmark's best localiser, its
seed-0 detector (DenseSkipAttention at its defaults, 200 images to fit; 5-15 minutes on one core):

::

    python examples/synthetic_defects.py --maps              # writes docs/images/inspection_maps.png
    python examples/synthetic_defects.py --maps --detector DenseSkipAttention --n-fit 200 --epochs 15  # README's
"""

from __future__ import annotations

import argparse
import io
import os
import tarfile

import numpy as np
from scipy import ndimage

from skgan_ad.datasets import load_digits_images, load_mnist, perlin_noise, synthetic_defects

KINDS = ("cutpaste", "blotch", "scratch")
PER_KIND = 2
DEFAULT_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data")


def grey_digits(data_root: str, n: int, rng) -> tuple[np.ndarray, str]:
    """``n`` 28x28 grey digits, uint8: MNIST training images if found, else the 8x8 digits upscaled."""
    try:
        images, _ = load_mnist(os.path.join(data_root, "mnist"), "train")
        return images[rng.choice(len(images), n, replace=False)], "MNIST (training images)"
    except (FileNotFoundError, ValueError):
        images, _ = load_digits_images()
        chosen = images[rng.choice(len(images), n, replace=False)]
        upscaled = np.clip(ndimage.zoom(chosen, (1, 3.5, 3.5), order=1), 0, 1)
        return np.rint(upscaled * 255).astype(np.uint8), "scikit-learn digits, 8x8 upscaled to 28x28"


def cifar_photos(data_root: str, n: int) -> np.ndarray | None:
    """The first training image of ``n`` CIFAR-10 classes, (n, 32, 32, 3) uint8, or None without the archive."""
    path = os.path.join(data_root, "cifar10-jpeg.tar.gz")
    if not os.path.isfile(path):
        return None
    from PIL import Image

    found = {}
    with tarfile.open(path, "r|gz") as tar:
        for member in tar:
            parts = member.name.split("/")
            if member.isfile() and len(parts) == 4 and parts[1] == "train" and parts[2] not in found:
                found[parts[2]] = np.asarray(Image.open(io.BytesIO(tar.extractfile(member).read())).convert("RGB"))
                if len(found) == n:
                    break
    return np.stack(list(found.values())) if len(found) == n else None


def colour_textures(n: int, side: int, rng) -> np.ndarray:
    """``n`` random smooth colour textures, (n, side, side, 3) uint8: two octaves of Perlin noise a channel."""
    textures = np.empty((n, side, side, 3))
    for image in textures:
        for c in range(3):
            image[..., c] = perlin_noise((side, side), (2, 2), rng) + 0.5 * perlin_noise((side, side), (4, 4), rng)
    low, high = textures.min(axis=(1, 2, 3), keepdims=True), textures.max(axis=(1, 2, 3), keepdims=True)
    return np.rint((textures - low) / (high - low) * 255).astype(np.uint8)


def outline(ax, mask: np.ndarray, colour: str) -> None:
    """Draw the boundary of ``mask`` along the pixels' edges (every edge between a masked and an unmasked pixel)."""
    from matplotlib import patheffects
    from matplotlib.collections import LineCollection

    padded = np.pad(mask.astype(bool), 1)
    segments = []
    # Horizontal edges: between rows r - 1 and r of the image (padded rows r and r + 1).
    for r, c in zip(*np.nonzero(padded[1:, 1:-1] != padded[:-1, 1:-1])):
        segments.append([(c - 0.5, r - 0.5), (c + 0.5, r - 0.5)])
    for r, c in zip(*np.nonzero(padded[1:-1, 1:] != padded[1:-1, :-1])):
        segments.append([(c - 0.5, r - 0.5), (c - 0.5, r + 0.5)])
    # A black rim under the line: it shows on any image, the defect's own colour included.
    halo = [patheffects.Stroke(linewidth=2.5, foreground="black"), patheffects.Normal()]
    ax.add_collection(LineCollection(segments, colors=colour, linewidths=1.0, path_effects=halo))


def one_digit(data_root: str, digit: int) -> tuple[np.ndarray, str]:
    """The training images of one digit, uint8: MNIST's (28x28) if found, else the 8x8 digits' upscaled to 28x28."""
    try:
        images, labels = load_mnist(os.path.join(data_root, "mnist"), "train")
        return images[labels == digit], f"MNIST training images of digit {digit}"
    except (FileNotFoundError, ValueError):
        images, labels = load_digits_images()
        upscaled = np.clip(ndimage.zoom(images[labels == digit], (1, 3.5, 3.5), order=1), 0, 1)
        return np.rint(upscaled * 255).astype(np.uint8), f"scikit-learn digits of {digit}, upscaled to 28x28"


def inspection_maps(args) -> None:
    """The ``--maps`` figure: images with their true defects outlined, a detector's maps and PCA's."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA

    from skgan_ad import DenseSkipAttentionDetector, GANomalyDetector, SkipGANomalyDetector
    from skgan_ad.datasets import synthetic_defect_split
    from skgan_ad.metrics import aupro, pixel_roc_auc
    from skgan_ad.plotting import AnomalyMapDisplay

    images, source = one_digit(args.data_root, args.digit)
    # benchmarks.pixel_metrics' split of its seed (100 normal and 120 defective test images, random_state
    # 1000 + seed), smaller where there are fewer images: with the same --n-fit and the detector's defaults the
    # detector is the benchmark's.
    n_val = min(100, (len(images) - args.n_fit) // 2)
    n_anomalies = min(120, len(images) - args.n_fit - n_val)
    split = synthetic_defect_split(
        images, n_fit=args.n_fit, n_val=n_val, n_anomalies=n_anomalies, random_state=1000 + args.seed
    )
    make = {
        "SkipGANomaly": SkipGANomalyDetector,
        "GANomaly": GANomalyDetector,
        "DenseSkipAttention": DenseSkipAttentionDetector,
    }[args.detector]
    detector = make(n_epochs=args.epochs, ngf=args.width, ndf=args.width, random_state=args.seed)
    detector.fit(split.X_train)
    flat_train = split.X_train.reshape(len(split.X_train), -1) / 255.0
    flat_test = split.X_test.reshape(len(split.X_test), -1) / 255.0
    pca = PCA(min(16, len(flat_train) - 1), random_state=args.seed).fit(flat_train)
    residual = np.abs(flat_test - pca.inverse_transform(pca.transform(flat_test))).reshape(split.X_test.shape)
    maps = {
        f"{args.detector} ({args.epochs} epochs)": detector.anomaly_map(split.X_test),
        "PCA reconstruction (16)": ndimage.gaussian_filter(residual, (0, 1, 1)),  # smoothed as anomaly_map is
    }
    scores = {}
    for name, m in maps.items():
        scores[name] = pixel_roc_auc(split.masks, m), aupro(split.masks, m)
        print(f"{name}: pixel AUROC {scores[name][0]:.3f}, AUPRO {scores[name][1]:.3f} over {len(m)} test images")

    # One normal test image, then PER_KIND defective ones of each kind (as many as there are).
    kinds = split.defect_types
    shown = [int(np.flatnonzero(kinds == "good")[0])]
    shown += [int(i) for kind in KINDS for i in np.flatnonzero(kinds == kind)[:PER_KIND]]
    titles = ["normal" if kinds[i] == "good" else str(kinds[i]) for i in shown]
    fig, axes = plt.subplots(1 + len(maps), len(shown), figsize=(1.45 * len(shown) + 1.2, 1.6 * (1 + len(maps)) + 0.6))
    for ax, i, title in zip(axes[0], shown, titles):
        ax.imshow(split.X_test[i], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        outline(ax, split.masks[i], "red")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize=9)
    axes[0, 0].set_ylabel("image,\ntrue defect", fontsize=8)
    for row, (name, m) in zip(axes[1:], maps.items()):
        AnomalyMapDisplay.from_predictions(split.X_test[shown], m[shown], masks=split.masks[shown], ax=row)
        pixel, pro = scores[name]
        row[0].set_ylabel(f"{name}\npixel AUROC {pixel:.2f}\nAUPRO {pro:.2f}", fontsize=7)
    fig.suptitle(
        f"Anomaly maps on synthetic defects ({source}; fitted on {args.n_fit}); outlined: the true defect", fontsize=9
    )
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    fig.savefig(args.output, dpi=args.dpi, bbox_inches="tight")
    print(f"wrote {args.output}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=DEFAULT_DATA, help="holds mnist/ and cifar10-jpeg.tar.gz, if any")
    parser.add_argument("--output", help="default docs/images/synthetic_defects.png (--maps: inspection_maps.png)")
    parser.add_argument("--seed", type=int, default=0, help="of the images picked and of the defects")
    parser.add_argument("--dpi", type=int, default=100)
    maps = parser.add_argument_group("--maps: the inspection figure")
    maps.add_argument("--maps", action="store_true", help="draw images, anomaly maps and true defects instead")
    maps.add_argument("--digit", type=int, default=0, help="the normal class (default 0)")
    maps.add_argument("--n-fit", type=int, default=300, help="training images to fit on (default 300)")
    maps.add_argument("--detector", default="SkipGANomaly", choices=["SkipGANomaly", "GANomaly", "DenseSkipAttention"])
    maps.add_argument("--epochs", type=int, default=5, help="the detector's epochs (default 5; its own default 15)")
    maps.add_argument("--width", type=int, default=64, help="the detector's ngf = ndf (default 64, its own)")
    args = parser.parse_args(argv)
    if args.maps:
        args.output = args.output or "docs/images/inspection_maps.png"
        return inspection_maps(args)
    args.output = args.output or "docs/images/synthetic_defects.png"

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.RandomState(args.seed)
    n = PER_KIND * len(KINDS)
    grey, grey_name = grey_digits(args.data_root, n, rng)
    domains = [(grey_name, grey, "red")]
    photos = cifar_photos(args.data_root, n)
    if photos is not None:
        domains.append(("CIFAR-10 (training images)", photos, "cyan"))
    domains.append(("random smooth colour textures", colour_textures(n, 32, rng), "white"))

    rows = ["normal", "with a defect", "mask outlined"]
    fig = plt.figure(figsize=(1.5 * n, 1.7 * len(rows) * len(domains)), layout="constrained")
    fig.suptitle("skgan_ad.datasets.synthetic_defects: one defect an image, its mask outlined", fontsize=11)
    for panel, (name, images, colour) in zip(np.atleast_1d(fig.subfigures(len(domains), 1)), domains):
        panel.suptitle(name, fontsize=10, fontweight="bold")
        axes = panel.subplots(len(rows), n)
        # PER_KIND columns of each kind in turn, each column titled with its defect's kind.
        parts = [
            synthetic_defects(images[k * PER_KIND : (k + 1) * PER_KIND], kind, random_state=rng)
            for k, kind in enumerate(KINDS)
        ]
        defective, masks, kinds_used = (np.concatenate(p) for p in zip(*parts))
        cmap = "gray" if images.ndim == 3 else None
        for i in range(n):
            for r, image in enumerate([images[i], defective[i], defective[i]]):
                ax = axes[r, i]
                ax.imshow(image, cmap=cmap, vmin=0, vmax=255, interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
                if r == 2:
                    outline(ax, masks[i], colour)
                if i == 0:
                    ax.set_ylabel(rows[r], fontsize=8)
            axes[0, i].set_title(kinds_used[i], fontsize=9)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    fig.savefig(args.output, dpi=args.dpi)
    print(f"wrote {args.output} ({', '.join(name for name, _, _ in domains)})")


if __name__ == "__main__":
    main()
