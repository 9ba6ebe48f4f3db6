"""Gaussian smoothing of residual and anomaly maps: one kernel for the score and for the maps.

The ``residual`` score part (``residual_sigma``) smooths torch tensors inside the scoring
graph (which :func:`skgan_ad.export_onnx` traces); :meth:`anomaly_map` smooths NumPy maps
after it. Both go through :func:`gaussian_blur`, so they cannot drift apart.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import torch
import torch.nn.functional as F


def gaussian_blur(maps: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian smoothing of ``(n, C, H, W)`` maps, each channel alone; borders repeat the edge value.

    The kernel reaches ``4 sigma`` (scipy's ``gaussian_filter`` default) and is applied along
    rows then columns, as :func:`scipy.ndimage.gaussian_filter` with ``mode="nearest"`` does
    (equal to float round-off).
    """
    radius = max(1, int(4.0 * sigma + 0.5))
    offsets = torch.arange(-radius, radius + 1, dtype=maps.dtype, device=maps.device)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = kernel / kernel.sum()
    n, c, h, w = maps.shape
    flat = F.pad(maps.reshape(n * c, 1, h, w), (radius, radius, radius, radius), mode="replicate")
    flat = F.conv2d(flat, kernel.view(1, 1, 1, -1))
    flat = F.conv2d(flat, kernel.view(1, 1, -1, 1))
    return flat.reshape(n, c, h, w)


def check_sigma(sigma) -> float:
    """Validate the smoothing width of an anomaly map (before any work is done)."""
    if not isinstance(sigma, Real) or isinstance(sigma, bool) or not sigma >= 0:
        raise ValueError(f"sigma must be a non-negative number, got {sigma!r}")
    return float(sigma)


def smooth_maps(maps: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian-smooth each ``(H, W)`` map of ``(n, H, W)`` maps (float64); ``sigma=0`` returns them as they are.

    Smoothing suppresses one-pixel reconstruction noise so that coherent
    defects stand out; borders repeat the edge value.
    """
    if check_sigma(sigma) == 0:
        return maps
    smoothed = gaussian_blur(torch.from_numpy(np.ascontiguousarray(maps, dtype=np.float64))[:, None], sigma)
    return smoothed[:, 0].numpy()
