"""Validated rows <-> the tensors the networks take: scaling, image padding, and back.

Scaling rule (fixed at fit time, applied to every later call):

* images whose training array held integers are read as 0..255 (booleans as
  0..1); float images are read between the training set's minimum and
  maximum. Either range is mapped to [-1, 1], the generator's Tanh range;
* tabular features are standardised with the training rows' mean and
  standard deviation (constant features keep a scale of 1).

Size rule for images: a network takes a square side ``S``, a power of two
of at least 8. An ``H x W`` image is padded to ``S = max(8, next power of two
>= max(H, W))`` by repeating its border pixels (equal margins, the odd pixel
at the bottom / right); outputs are cropped back to ``H x W``, and every score
is computed on the original pixels only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

MIN_NETWORK_SIZE = 8


def fit_scaling(rows: np.ndarray, *, image: bool, value_range=None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(shift, scale)`` so that ``(rows - shift) / scale`` is what the networks see.

    ``value_range`` is the fixed (lo, hi) of integer or boolean images, None for floats.
    """
    if image:
        lo, hi = value_range if value_range is not None else (float(rows.min()), float(rows.max()))
        half_range = (hi - lo) / 2
        return np.float64((hi + lo) / 2), np.float64(half_range if half_range > 0 else 1.0)
    shift = rows.mean(axis=0, dtype=np.float64)
    scale = rows.std(axis=0, dtype=np.float64)
    scale[~(scale > 0)] = 1.0
    return shift, scale


@dataclass(frozen=True)
class Geometry:
    """Where the data live: tabular rows of ``n_features`` or ``(C, H, W)`` images padded to ``size``."""

    n_features: int
    image_shape: tuple[int, int, int] | None = None

    @property
    def is_image(self) -> bool:
        return self.image_shape is not None

    @property
    def size(self) -> int:
        """Side of the square network input (images only)."""
        _, h, w = self.image_shape
        return max(MIN_NETWORK_SIZE, 1 << (max(h, w) - 1).bit_length())

    @property
    def channels(self) -> int:
        return self.image_shape[0]

    def _margins(self) -> tuple[int, int, int, int]:
        _, h, w = self.image_shape
        top, left = (self.size - h) // 2, (self.size - w) // 2
        return left, self.size - w - left, top, self.size - h - top

    def to_network(self, rows: np.ndarray, shift, scale) -> torch.Tensor:
        """Scale rows and shape them as network input (float32, on the CPU)."""
        x = torch.from_numpy(np.ascontiguousarray((rows - shift) / scale, dtype=np.float32))
        if not self.is_image:
            return x
        x = x.reshape(-1, *self.image_shape)
        margins = self._margins()
        return F.pad(x, margins, mode="replicate") if any(margins) else x

    def crop(self, x: torch.Tensor) -> torch.Tensor:
        """The original pixels of padded network tensors (identity for tabular data)."""
        if not self.is_image:
            return x
        left, _, top, _ = self._margins()
        _, h, w = self.image_shape
        return x[..., top : top + h, left : left + w]

    def to_rows(self, x: torch.Tensor, shift, scale) -> np.ndarray:
        """Invert :meth:`to_network`: float64 rows in the input's own scale."""
        flat = self.crop(x).reshape(len(x), -1).detach().cpu().numpy().astype(np.float64)
        return flat * scale + shift
