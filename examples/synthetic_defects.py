"""Synthetic defects with their masks outlined: the README's figure ``docs/images/synthetic_defects.png``.

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

    python examples/synthetic_defects.py                     # writes docs/images/synthetic_defects.png
    python examples/synthetic_defects.py --data-root /nowhere --output /tmp/defects.png   # no data: the fallbacks
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=DEFAULT_DATA, help="holds mnist/ and cifar10-jpeg.tar.gz, if any")
    parser.add_argument("--output", default="docs/images/synthetic_defects.png")
    parser.add_argument("--seed", type=int, default=0, help="of the images picked and of the defects")
    parser.add_argument("--dpi", type=int, default=100)
    args = parser.parse_args(argv)

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
