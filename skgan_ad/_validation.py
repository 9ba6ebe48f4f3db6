"""Input checking: user arrays -> validated float rows, and the layout to undo it.

This is the one module that touches scikit-learn's private helpers (the
parameter-constraint classes); everything else imports them from here.

Accepted inputs
---------------
* tabular rows ``(n, d)`` (no ``image_shape``);
* flat image rows ``(n, C*H*W)`` with ``image_shape=(C, H, W)``;
* image arrays ``(n, H, W)`` (one channel), ``(n, C, H, W)`` or ``(n, H, W, C)``.

How a 4-D array is read is the ``image_layout`` parameter's choice:
"channels_first" is (n, C, H, W), "channels_last" (n, H, W, C). With "auto"
(the default) a reading is *plausible* when its image has no more channels
than pixels along its shorter side (C <= min(H, W), true of every RGB(A) or
grey image of at least 4 x 4 pixels and of most multispectral ones); the one
plausible reading is taken. When both are plausible (the first and last axes
are equal and no longer than the middle one, e.g. (n, 3, 8, 3) or
(n, 8, 8, 8)) or neither is (e.g. (n, 5, 2, 3)), the old rule decides
(channels-last when the last axis has at most 4 entries and the first more
than 4, else channels-first) and an :class:`AmbiguousLayoutWarning` says so.
``image_shape`` (C, H, W) settles the layout too. Flat rows are always in
(C, H, W) order; 3-D arrays are (n, H, W) single-channel images.

Every layout is flattened to rows in (C, H, W) order and then goes through
:func:`sklearn.utils.validation.validate_data`, which gives the usual errors
for NaN/inf, strings, empty or too small inputs and a wrong number of
features (prefixed with ``X:`` where scikit-learn's message does not name it).
At fit time, ``X`` whose samples are all identical is refused: there is no
variation to learn what is normal from, and no spread to place a threshold in.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import HasMethods, Interval, Options, StrOptions  # noqa: F401  (re-exported)
from sklearn.utils.validation import validate_data

__all__ = [
    "CONTAMINATION",
    "FRACTION",
    "IMAGE_LAYOUT",
    "NON_NEGATIVE",
    "NON_NEGATIVE_INT",
    "POSITIVE",
    "POSITIVE_INT",
    "UNIT_INTERVAL",
    "AmbiguousLayoutWarning",
    "HasMethods",
    "InputLayout",
    "Interval",
    "PositiveIntTuple",
    "StrOptions",
    "check_image_shape",
    "check_varied",
    "same_kind",
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
#: The ``image_layout`` parameter's values.
IMAGE_LAYOUT = StrOptions({"auto", "channels_first", "channels_last"})

_LAYOUT_KINDS = {"channels_first": "chw", "channels_last": "hwc"}
_LAYOUT_NAMES = {"chw": "channels-first (n, C, H, W)", "hwc": "channels-last (n, H, W, C)"}


class AmbiguousLayoutWarning(UserWarning):
    """A 4-D image array could be read both as (n, C, H, W) and as (n, H, W, C), and ``image_layout="auto"``
    had to guess; pass ``image_layout="channels_first"`` or ``"channels_last"`` (or ``image_shape``)."""


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


def _plausible(chw: tuple[int, int, int]) -> bool:
    """An image of this (C, H, W) has no more channels than pixels along its shorter side."""
    c, h, w = chw
    return c <= min(h, w)


def _warn_ambiguous(shape: tuple, kind: str, as_hwc: tuple) -> None:
    warnings.warn(
        f"X holds 4-D images of shape {shape}, which read as channels-first give (C, H, W) = {shape} and read as "
        f"channels-last give (C, H, W) = {as_hwc}; read as {_LAYOUT_NAMES[kind]}. Pass "
        "image_layout='channels_first' or 'channels_last' (or image_shape=(C, H, W)) to say which",
        AmbiguousLayoutWarning,
        stacklevel=4,
    )


def _layout_of(
    arr: np.ndarray, image_shape: tuple[int, int, int] | None, image_layout: str = "auto"
) -> tuple[InputLayout, tuple]:
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
    readings = {"chw": shape, "hwc": (shape[2], shape[0], shape[1])}
    if image_layout != "auto":
        kind = _LAYOUT_KINDS[image_layout]
        if image_shape is not None and readings[kind] != image_shape:
            raise ValueError(
                f"X has images of shape {shape}, read as {_LAYOUT_NAMES[kind]} (image_layout={image_layout!r}): "
                f"(C, H, W) = {readings[kind]}, but image_shape is {image_shape}"
            )
        return InputLayout(kind, shape), readings[kind]
    if image_shape is None:
        candidates = [kind for kind, chw in readings.items() if _plausible(chw)]
    else:
        candidates = [kind for kind, chw in readings.items() if chw == image_shape]
        if not candidates:
            c, h, w = image_shape
            for kind, got in readings.items():
                if got[1:] == (h, w):
                    raise ValueError(
                        f"X has {got[0]} channel(s) read as {_LAYOUT_NAMES[kind]}, but {c} channel(s) are expected"
                    )
            raise ValueError(
                f"X has images of shape {shape}, which matches image_shape {image_shape} neither as (C, H, W) "
                "nor as (H, W, C)"
            )
    if len(candidates) == 1:
        kind = candidates[0]
    else:
        # Both readings fit (or neither is plausible): the rule of earlier versions decides, with a warning.
        kind = "hwc" if shape[2] <= 4 < shape[0] else "chw"
        _warn_ambiguous(shape, kind, readings["hwc"])
    return InputLayout(kind, shape), readings[kind]


def _value_range(X) -> tuple[float, float] | None:
    """The fixed range of integer (0..255) or boolean (0..1) input; None for floats."""
    try:
        kinds = {getattr(d, "kind", "f") for d in X.dtypes} if hasattr(X, "dtypes") else {np.asarray(X).dtype.kind}
    except (TypeError, ValueError):  # ragged lists and the like: validate_data explains
        return None
    if kinds == {"b"}:
        return (0.0, 1.0)
    return (0.0, 255.0) if kinds <= set("uib") else None


def check_varied(rows: np.ndarray, name: str = "X") -> None:
    """Refuse training data whose samples are all identical: nothing to learn normal variation from."""
    if len(rows) > 1 and not (rows != rows[:1]).any():
        raise ValueError(
            f"{name} holds {len(rows)} identical samples: a detector learns what normal variation looks like, "
            "and these have none (and no spread to place a threshold in); pass samples that differ"
        )


def same_kind(err: Exception, message: str) -> Exception:
    """A new error of ``err``'s type (a ValueError / TypeError when that type cannot be made from a message),
    so callers and scikit-learn's estimator checks see the type they expect under a clearer message."""
    try:
        return type(err)(message)
    except Exception:  # an exception class with a constructor of its own
        return (TypeError if isinstance(err, TypeError) else ValueError)(message)


# scikit-learn's input messages that already say which input is at fault.
_NAMES_X = re.compile(r"\bX\b")


def validate_input(
    estimator,
    X,
    *,
    reset: bool,
    image_shape: tuple[int, int, int] | None,
    image_layout: str = "auto",
    ensure_varied: bool = True,
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
    image_layout : {"auto", "channels_first", "channels_last"}
        How a 4-D ``X`` is read (see the module docstring).
    ensure_varied : refuse, when ``reset``, an ``X`` whose samples are all
        identical (:func:`check_varied`); a caller that has its own checks
        to run first passes False and calls it later.

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
        if arr.shape[0] == 0:
            raise ValueError(f"X holds 0 samples (array dimensions {arr.shape}); at least {2 if reset else 1} needed")
        layout, image_shape = _layout_of(arr, image_shape, image_layout)
        if layout.kind == "hwc":
            arr = arr.transpose(0, 3, 1, 2)
        X = arr.reshape(arr.shape[0], -1)
    else:
        layout = InputLayout("rows", ())
    value_range = None if sp.issparse(X) else _value_range(X)
    try:
        rows = validate_data(
            estimator,
            X,
            reset=reset,
            dtype=[np.float32, np.float64],
            ensure_min_samples=2 if reset else 1,
        )
    except (TypeError, ValueError) as err:
        if _NAMES_X.search(str(err)):
            raise
        raise same_kind(err, f"X: {err}") from err
    if layout.kind == "rows" and image_shape is not None and rows.shape[1] != int(np.prod(image_shape)):
        raise ValueError(
            f"X has {rows.shape[1]} features per row, but image_shape {image_shape} needs "
            f"{int(np.prod(image_shape))} (= C * H * W)"
        )
    if reset and ensure_varied:
        check_varied(rows)
    return rows, layout, image_shape, value_range
