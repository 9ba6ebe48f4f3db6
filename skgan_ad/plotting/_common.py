"""What the Displays share: the matplotlib check, axes, labels, thresholds and image layouts."""

from __future__ import annotations

import numpy as np
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _num_samples

from .._outlier import final_estimator
from .._validation import _layout_of
from ..metrics import check_anomaly_labels

LABELS = ("normal", "anomalous")  # y == 0, y == 1


def check_matplotlib(caller: str) -> None:
    """Raise an ImportError naming the extra to install when matplotlib is missing.

    scikit-learn's ``check_matplotlib_support`` would point to ``pip install
    matplotlib``; the package's extra pins the version it is tested with.
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"{caller} needs matplotlib: pip install 'skgan_ad[plots]'") from exc


def single_axes(ax):
    """``(ax, figure)``: the given axes, or new ones on a new figure (as scikit-learn's Displays do)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    return ax, ax.figure


def axes_row(ax, n: int, caller: str) -> np.ndarray:
    """``n`` axes, one per image: the given Axes (or array of them), or a new one-row figure."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(1, n, figsize=(1.2 * n + 1.0, 1.8), squeeze=False, layout="constrained")
    axes = np.ravel(np.asarray(ax, dtype=object))
    if len(axes) != n:
        raise ValueError(f"{caller} draws {n} image(s), one per axes; ax has {len(axes)} axes")
    return axes


def check_labels(y, n_samples: int, name: str = "scores") -> np.ndarray:
    """``y`` checked by :func:`~skgan_ad.metrics.check_anomaly_labels`, with both classes present, one per sample."""
    y = check_anomaly_labels(y)
    if len(y) != n_samples:
        raise ValueError(f"y has {len(y)} labels but there are {n_samples} {name}; they must match one to one")
    values = np.unique(y)
    if len(values) < 2:
        raise ValueError(f"y must hold both normal (0) and anomalous (1) samples, got only {values.tolist()}")
    return y


def anomaly_threshold(estimator) -> float | None:
    """The threshold on the anomaly score (higher = more abnormal): ``-offset_``, or None without ``offset_``.

    ``predict`` flags a sample when ``score_samples - offset_ < 0``, i.e. when
    its anomaly score ``-score_samples`` exceeds ``-offset_``.
    """
    offset = getattr(final_estimator(estimator), "offset_", None)
    return None if offset is None else -float(offset)


def select(X, indices):
    """Rows ``indices`` of ``X`` (the first 8 when None), any array-like."""
    indices = np.arange(min(8, _num_samples(X))) if indices is None else np.atleast_1d(np.asarray(indices))
    if indices.size == 0:
        raise ValueError("indices must select at least one sample")
    return _safe_indexing(X, indices)


def image_shape_of(estimator, caller: str) -> tuple[int, int, int]:
    """The fitted ``image_shape_`` (C, H, W); a clear error for detectors fitted on tabular rows."""
    image_shape = getattr(final_estimator(estimator), "image_shape_", None)
    if image_shape is None:
        raise ValueError(f"{caller} needs images; {type(estimator).__name__} was fitted on tabular rows")
    return tuple(image_shape)


def display_images(X, image_shape: tuple[int, int, int]) -> np.ndarray:
    """Images in any layout the detectors take (flat rows, (n, H, W), (n, C, H, W), (n, H, W, C)),
    as ``imshow`` wants them: (n, H, W) for one channel, (n, H, W, C) otherwise."""
    arr = np.asarray(X, dtype=np.float64)
    c, h, w = image_shape
    if arr.ndim == 2:  # flat rows, in (C, H, W) order
        arr = arr.reshape(len(arr), c, h, w)
    elif arr.ndim == 3:
        arr = arr[:, None]
    elif _layout_of(arr, image_shape)[0].kind == "hwc":
        arr = arr.transpose(0, 3, 1, 2)
    return arr[:, 0] if c == 1 else arr.transpose(0, 2, 3, 1)


def check_images(images, name: str) -> np.ndarray:
    """``images`` as float64 (n, H, W) or (n, H, W, C): the layouts ``from_predictions`` takes."""
    images = np.asarray(images, dtype=np.float64)
    if images.ndim not in (3, 4):
        raise ValueError(f"{name} must have shape (n, H, W) or (n, H, W, C), got an array of shape {images.shape}")
    return images


def to_unit_range(images: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Images mapped from [lo, hi] to [0, 1] and clipped: what ``imshow`` shows the same way for grey and colour."""
    if hi <= lo:
        return np.zeros_like(images)
    return np.clip((images - lo) / (hi - lo), 0.0, 1.0)
