"""Validated rows <-> the tensors the networks take: scaling, image padding, and back.

Scaling rule (fixed at fit time, applied to every later call):

* images whose training array held integers are read as 0..255 (booleans as
  0..1); float images are read between the training set's minimum and
  maximum. Either range is mapped to [-1, 1], the generator's Tanh range;
* tabular features are standardised with the training rows' mean and
  standard deviation (constant features keep a scale of 1).

Every finite input is usable, from 1e-300 to 1e300 in any dtype: the
statistics are computed in float64 on values first divided by their largest
magnitude (so nothing squared or summed can overflow), and scaled values are
computed without overflow, then clipped to +-:data:`NETWORK_INPUT_BOUND`
before the float32 networks see them. Training data (at most sqrt(n)
standard deviations from the mean, or within [-1, 1] for images) are never
clipped; a sample further out than the bound at scoring time gets the score
of the bound, the most abnormal score there is, instead of an overflow.

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


#: Largest magnitude of a scaled value fed to the networks. Training data never come near it
#: (standardised rows lie within sqrt(n) standard deviations of the mean); far enough below
#: float32's 3.4e38 that squared residuals and feature distances of scaled inputs stay finite.
NETWORK_INPUT_BOUND = 1e6
# Smallest scale kept: below float64's smallest normal number, half a scale could round to 0.
_TINY = np.finfo(np.float64).tiny


def fit_scaling(rows: np.ndarray, *, image: bool, value_range=None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(shift, scale)`` so that ``(rows - shift) / scale`` is what the networks see.

    ``value_range`` is the fixed (lo, hi) of integer or boolean images, None for floats.
    Both are float64 and finite, ``scale > 0``, for any finite ``rows``.
    """
    if image:
        lo, hi = value_range if value_range is not None else (float(rows.min()), float(rows.max()))
        # Halves first: (hi + lo) and (hi - lo) overflow for values near float64's maximum.
        half_range = hi / 2 - lo / 2
        return np.float64(hi / 2 + lo / 2), np.float64(half_range if half_range >= _TINY else 1.0)
    rows = np.asarray(rows, dtype=np.float64)
    # Mean and standard deviation of each column divided by its largest magnitude (values in
    # [-1, 1]), then scaled back: a plain std squares 1e200 to inf, a plain mean sums 1e308s to inf.
    magnitude = np.abs(rows).max(axis=0)
    magnitude[~(magnitude > 0)] = 1.0
    unit = rows / magnitude
    shift = unit.mean(axis=0) * magnitude
    scale = unit.std(axis=0) * magnitude
    scale[~(scale >= _TINY)] = 1.0
    return shift, scale


def scale_rows(rows: np.ndarray, shift, scale) -> np.ndarray:
    """``(rows - shift) / scale`` as float32, clipped to +-:data:`NETWORK_INPUT_BOUND`, for any finite rows.

    The difference is taken of halves (no overflow near float64's maximum); the quotient may
    still overflow to +-inf for a sample far outside the training range, and the clip makes it
    the bound, keeping its sign: more extreme input never scores as more normal.
    """
    with np.errstate(over="ignore"):
        scaled = scaled_clipped(np.asarray(rows, dtype=np.float64), np.asarray(shift), np.asarray(scale))
    return scaled.astype(np.float32)


def scaled_clipped(rows, shift, scale):
    """``(rows - shift) / scale`` from halves (the difference cannot overflow near float64's maximum),
    clipped to +-:data:`NETWORK_INPUT_BOUND`.

    Plain arithmetic on NumPy arrays and torch tensors alike: :func:`skgan_ad.export_onnx` traces it,
    so the graph scales its input exactly as :func:`scale_rows` does.
    """
    return ((rows / 2 - shift / 2) / (scale / 2)).clip(-NETWORK_INPUT_BOUND, NETWORK_INPUT_BOUND)


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
        return self.shape_rows(torch.from_numpy(np.ascontiguousarray(scale_rows(rows, shift, scale))))

    def shape_rows(self, x: torch.Tensor) -> torch.Tensor:
        """Scaled rows as the networks take them: images reshaped to (C, H, W) and border-padded."""
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
