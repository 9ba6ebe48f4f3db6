"""Figures people would rather look at than read. Needs matplotlib (``pip install skgan_ad[plots]``)."""

from __future__ import annotations

import numpy as np


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'skgan_ad[plots]'") from exc
    return plt


def plot_score_histograms(anomaly_scores, y, *, ax=None, bins=30, title=None):
    """Overlaid histograms of anomaly scores for normal (``y == 0``) and abnormal (``y == 1``) samples."""
    plt = _pyplot()
    ax = ax if ax is not None else plt.gca()
    scores, y = np.asarray(anomaly_scores), np.asarray(y)
    edges = np.histogram_bin_edges(scores, bins=bins)
    ax.hist(scores[y == 0], bins=edges, alpha=0.6, density=True, label="normal")
    ax.hist(scores[y == 1], bins=edges, alpha=0.6, density=True, label="abnormal")
    ax.set_xlabel("anomaly score")
    ax.set_ylabel("density")
    ax.legend()
    if title:
        ax.set_title(title)
    return ax


def plot_reconstructions(images, reconstructions, *, n=8, fig=None, row_labels=("input", "G(x)", "|x - G(x)|")):
    """A grid of inputs, their reconstructions and the absolute residuals (one column per image).

    ``images`` and ``reconstructions`` are (n, H, W) or (n, H, W, C) arrays in the same scale.
    """
    plt = _pyplot()
    images, reconstructions = np.asarray(images)[:n], np.asarray(reconstructions)[:n]
    residuals = np.abs(images - reconstructions)
    if residuals.ndim == 4:
        residuals = residuals.mean(axis=-1)
    n = len(images)
    fig = fig if fig is not None else plt.figure(figsize=(1.2 * n, 3.8))
    axes = fig.subplots(3, n, squeeze=False)
    lo, hi = float(images.min()), float(images.max())
    for j in range(n):
        for i, (row, kwargs) in enumerate(
            # One colour scale per row, so residuals of different images compare at a glance.
            [
                (images, {"vmin": lo, "vmax": hi}),
                (reconstructions, {"vmin": lo, "vmax": hi}),
                (residuals, {"vmin": 0.0, "vmax": float(residuals.max()) or 1.0}),
            ]
        ):
            ax = axes[i, j]
            ax.imshow(np.clip(row[j], lo, hi) if i < 2 else row[j], cmap="gray" if i < 2 else "magma", **kwargs)
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(row_labels[i])
    return fig


def plot_anomaly_map(image, anomaly_map, *, ax=None, alpha=0.5, cmap="jet", title=None, box=None):
    """Overlay an anomaly map (from ``detector.anomaly_map``) on its image.

    Parameters
    ----------
    image : array of shape (H, W) or (H, W, C)
        The image in any scale; shown in grey (or colour) under the map.
    anomaly_map : array of shape (H, W)
        One map, same height and width as ``image``.
    alpha : float
        Opacity of the map.
    box : (top, left, height, width) or None
        Optional rectangle to outline, e.g. the highest-scoring patch.
    """
    plt = _pyplot()
    image, anomaly_map = np.asarray(image, dtype=np.float64), np.asarray(anomaly_map, dtype=np.float64)
    if anomaly_map.shape != image.shape[:2]:
        raise ValueError(f"anomaly_map has shape {anomaly_map.shape}, expected the image's (H, W) {image.shape[:2]}")
    ax = ax if ax is not None else plt.gca()
    lo, hi = float(image.min()), float(image.max())
    shown = (image - lo) / (hi - lo) if hi > lo else np.zeros_like(image)
    ax.imshow(shown, cmap="gray" if shown.ndim == 2 else None, vmin=0, vmax=1)
    overlay = ax.imshow(anomaly_map, cmap=cmap, alpha=alpha)
    if box is not None:
        from matplotlib.patches import Rectangle

        top, left, height, width = box
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), width, height, fill=False, edgecolor="white", linewidth=1.5))
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return overlay
