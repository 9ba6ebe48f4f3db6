"""Input checking: user arrays -> validated float rows, and the layout to undo it.

This is the one module that touches scikit-learn's private helpers (the
parameter-constraint classes); everything else imports them from here.

Accepted inputs
---------------
* tabular rows ``(n, d)`` (no ``image_shape``);
* flat image rows ``(n, C*H*W)`` with ``image_shape=(C, H, W)``;
* image arrays ``(n, H, W)`` (one channel), ``(n, C, H, W)`` or ``(n, H, W, C)``.

A 4-D array without ``image_shape`` is read as channels-last when its last
axis has at most 4 entries and its second axis more than 4, and as
channels-first (PyTorch's order) otherwise; pass ``image_shape`` to decide an
ambiguous case. Every layout is flattened to rows in (C, H, W) order and then
goes through :func:`sklearn.utils.validation.validate_data`, which gives the
usual errors for NaN/inf, strings, empty or too small inputs and a wrong
number of features.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import HasMethods, Interval, Options, StrOptions  # noqa: F401  (re-exported)
from sklearn.utils.validation import validate_data

__all__ = [
    "CONTAMINATION",
    "FRACTION",
    "NON_NEGATIVE",
    "NON_NEGATIVE_INT",
    "POSITIVE",
    "POSITIVE_INT",
    "UNIT_INTERVAL",
    "HasMethods",
    "InputLayout",
    "Interval",
    "PositiveIntTuple",
    "StrOptions",
    "check_image_shape",
    "validate_input",
]


# The constraints most parameters use (scikit-learn's ``_parameter_constraints`` vocabulary).
NON_NEGATIVE = Interval(Real, 0, None, closed="left")
POSITIVE = Interval(Real, 0, None, closed="neither")
POSITIVE_INT = Interval(Integral, 1, None, closed="left")
NON_NEGATIVE_INT = Interval(Integral, 0, None, closed="left")
UNIT_INTERVAL = Interval(Real, 0, 1, closed="both")
FRACTION = Interval(Real, 0, 1, closed="left")
CONTAMINATION = Interval(Real, 0, 0.5, closed="right")


class PositiveIntTuple(Options):
    """Parameter constraint: a non-empty tuple or list of positive ints (layer widths such as ``hidden_dims``).

    scikit-learn's ``_parameter_constraints`` accepts only its own constraint
    classes, so this one subclasses ``Options`` and replaces its test.
    """

    def __init__(self) -> None:
        super().__init__(tuple, set())

    def is_satisfied_by(self, val) -> bool:
        return (
            isinstance(val, (tuple, list))
            and len(val) > 0
            and all(isinstance(v, Integral) and not isinstance(v, bool) and v >= 1 for v in val)
        )

    def __str__(self) -> str:
        return "a non-empty tuple of positive ints"


@dataclass(frozen=True)
class InputLayout:
    """How one call's ``X`` was laid out, so outputs can be given back in its shape.

    ``kind`` is ``"rows"`` (2-D input, tabular or flat images), ``"hw"``,
    ``"chw"`` or ``"hwc"``.
    """

    kind: str
    sample_shape: tuple[int, ...]

    def restore(self, rows: np.ndarray, image_shape: tuple[int, int, int] | None) -> np.ndarray:
        """Reshape ``(n, C*H*W)`` rows (C, H, W order) back to this layout."""
        n = rows.shape[0]
        if self.kind == "rows":
            return rows
        c, h, w = image_shape
        images = rows.reshape(n, c, h, w)
        if self.kind == "hw":
            return images[:, 0]
        if self.kind == "hwc":
            return images.transpose(0, 2, 3, 1)
        return images


def check_image_shape(image_shape) -> tuple[int, int, int] | None:
    """Return ``image_shape`` as a ``(C, H, W)`` tuple of positive ints, or None."""
    if image_shape is None:
        return None
    try:
        shape = tuple(int(s) for s in image_shape)
    except (TypeError, ValueError):
        shape = ()
    if len(shape) != 3 or min(shape) < 1 or shape != tuple(image_shape):
        raise ValueError(f"image_shape must be (channels, height, width) with positive ints, got {image_shape!r}")
    return shape


def _nd_array(X) -> np.ndarray | None:
    """``X`` as an ndarray when it is a 3-D/4-D (or deeper) array-like, else None."""
    if sp.issparse(X) or hasattr(X, "iloc") or hasattr(X, "__dataframe__"):
        return None
    try:
        ndim = np.ndim(X)
    except (TypeError, ValueError):
        return None
    return np.asarray(X) if ndim > 2 else None


def _layout_of(arr: np.ndarray, image_shape: tuple[int, int, int] | None) -> tuple[InputLayout, tuple]:
    """Find the layout of an image array and its (C, H, W), checked against ``image_shape``."""
    shape = arr.shape[1:]
    if arr.ndim == 3:
        chw = (1, *shape)
        if image_shape is not None and image_shape != chw:
            raise ValueError(
                f"X has images of shape {shape} (one channel), but image_shape is {image_shape}; "
                f"expected (n, {image_shape[1]}, {image_shape[2]}) arrays with image_shape[0] == 1"
            )
        return InputLayout("hw", shape), chw
    if arr.ndim != 4:
        raise ValueError(
            f"X must be 2-D (n_samples, n_features), 3-D (n, H, W) or 4-D (n, C, H, W) / (n, H, W, C); "
            f"got an array with {arr.ndim} dimensions, shape {arr.shape}"
        )
    as_chw, as_hwc = shape, (shape[2], shape[0], shape[1])
    if image_shape is None:
        channels_last = shape[2] <= 4 < shape[0]
        return (InputLayout("hwc", shape), as_hwc) if channels_last else (InputLayout("chw", shape), as_chw)
    if as_chw == image_shape:
        return InputLayout("chw", shape), as_chw
    if as_hwc == image_shape:
        return InputLayout("hwc", shape), as_hwc
    c, h, w = image_shape
    for got, kind in ((as_chw, "(n, C, H, W)"), (as_hwc, "(n, H, W, C)")):
        if got[1:] == (h, w):
            raise ValueError(f"X has {got[0]} channel(s) read as {kind}, but {c} channel(s) are expected")
    raise ValueError(
        f"X has images of shape {shape}, which matches image_shape {image_shape} neither as (C, H, W) nor as (H, W, C)"
    )


def _value_range(X) -> tuple[float, float] | None:
    """The fixed range of integer (0..255) or boolean (0..1) input; None for floats."""
    try:
        kinds = {getattr(d, "kind", "f") for d in X.dtypes} if hasattr(X, "dtypes") else {np.asarray(X).dtype.kind}
    except (TypeError, ValueError):  # ragged lists and the like: validate_data explains
        return None
    if kinds == {"b"}:
        return (0.0, 1.0)
    return (0.0, 255.0) if kinds <= set("uib") else None


def validate_input(
    estimator, X, *, reset: bool, image_shape: tuple[int, int, int] | None
) -> tuple[np.ndarray, InputLayout, tuple[int, int, int] | None, tuple[float, float] | None]:
    """Validate ``X`` and flatten it to float rows.

    Parameters
    ----------
    estimator : the detector; ``n_features_in_`` / ``feature_names_in_`` are
        set on it when ``reset`` and checked against it otherwise.
    reset : True in ``fit``.
    image_shape : the image shape to expect (the ``image_shape`` parameter in
        ``fit``, the fitted ``image_shape_`` afterwards), or None for tabular
        data at fit time.

    Returns
    -------
    rows : ndarray (n, d), float32 or float64, finite.
    layout : how to give outputs back in ``X``'s own shape.
    image_shape : (C, H, W) for images, None for tabular data.
    value_range : (0, 255) when ``X`` held integers, (0, 1) for booleans,
        None for floats (images are then read between their min and max).
    """
    arr = _nd_array(X)
    if arr is not None:
        if not reset and image_shape is None:
            raise ValueError(
                f"the detector was fitted on tabular rows with {estimator.n_features_in_} features; "
                f"got an array of shape {arr.shape}"
            )
        layout, image_shape = _layout_of(arr, image_shape)
        if layout.kind == "hwc":
            arr = arr.transpose(0, 3, 1, 2)
        X = arr.reshape(arr.shape[0], -1)
    else:
        layout = InputLayout("rows", ())
    value_range = None if sp.issparse(X) else _value_range(X)
    rows = validate_data(
        estimator,
        X,
        reset=reset,
        dtype=[np.float32, np.float64],
        ensure_min_samples=2 if reset else 1,
    )
    if layout.kind == "rows" and image_shape is not None and rows.shape[1] != int(np.prod(image_shape)):
        raise ValueError(
            f"X has {rows.shape[1]} features per row, but image_shape {image_shape} needs "
            f"{int(np.prod(image_shape))} (= C * H * W)"
        )
    return rows, layout, image_shape, value_range
