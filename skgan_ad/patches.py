"""Patch-based scoring of images larger than a detector's network input.

A large image is cut into a grid of (possibly overlapping) patches; a
detector trained on the patches of normal images scores each patch, and an
image's score aggregates its patches' scores. The patch scores also locate
an anomaly (:meth:`PatchDetector.highest_patch`), and per-patch anomaly maps
stitch back into a full-size map (:meth:`PatchDetector.anomaly_map`). This is
the scheme of Zawar et al. (2022) for 256x256 patches of industrial images.

* :func:`patch_grid`, :func:`extract_patches` and :func:`stitch` are the pure
  array operations: the grid of patch corners, cutting, and putting per-patch
  maps back together (overlaps averaged);
* :class:`PatchDetector` wraps any outlier detector as a scikit-learn
  meta-estimator.
"""

from __future__ import annotations

from dataclasses import MISSING
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from . import _outlier
from ._batching import input_chunks
from ._outlier import AnomalyScoreMixin
from ._params import estimator_params, param
from ._smoothing import check_sigma, smooth_maps
from ._validation import (
    CONTAMINATION,
    FRACTION,
    IMAGE_LAYOUT,
    POSITIVE_INT,
    HasMethods,
    StrOptions,
    check_image_shape,
    check_varied,
    same_kind,
    validate_input,
)

__all__ = ["PatchDetector", "extract_patches", "patch_grid", "stitch"]


def _pair(value, name: str) -> tuple[int, int]:
    """``value`` (an int or an ``(h, w)`` pair of ints) as a pair of positive ints."""
    pair = (value, value) if isinstance(value, Integral) else value
    try:
        pair = tuple(pair)
    except TypeError:
        pair = ()
    if len(pair) != 2 or not all(isinstance(v, Integral) and not isinstance(v, bool) and v >= 1 for v in pair):
        raise ValueError(f"{name} must be a positive int or a (height, width) pair of positive ints, got {value!r}")
    return int(pair[0]), int(pair[1])


def _starts(length: int, size: int, stride: int) -> np.ndarray:
    """Patch starts along one axis: every ``stride``, plus one flush with the end if the stride misses it."""
    starts = np.arange(0, length - size + 1, stride)
    if starts[-1] + size < length:
        starts = np.append(starts, length - size)
    return starts


def patch_grid(height: int, width: int, patch_size, stride=None) -> np.ndarray:
    """Top-left corners of a grid of patches that covers an image exactly.

    Patches start every ``stride`` pixels from the top-left corner; where the
    stride does not land on the bottom (right) border, one more row (column)
    of patches is placed flush with it, so every pixel lies in at least one
    patch and no patch leaves the image.

    Parameters
    ----------
    height, width : int
        Image size in pixels.
    patch_size : int or (int, int)
        Patch height and width (one int: square patches).
    stride : int, (int, int) or None, default=None
        Step between patch corners; None means ``patch_size`` (no overlap).
        At most ``patch_size`` along each axis: a larger step would leave
        pixels that no patch covers.

    Returns
    -------
    grid : ndarray of shape (n_patches, 2), int64
        ``(top, left)`` of each patch, row by row (top to bottom, then left
        to right within a row).

    Raises
    ------
    ValueError
        If a size is not positive, the patch is larger than the image, or the
        stride exceeds the patch size.

    Examples
    --------
    >>> patch_grid(10, 8, 4).tolist()
    [[0, 0], [0, 4], [4, 0], [4, 4], [6, 0], [6, 4]]
    """
    height, width = _pair((height, width), "image size (height, width)")
    ph, pw = _pair(patch_size, "patch_size")
    sh, sw = (ph, pw) if stride is None else _pair(stride, "stride")
    if ph > height or pw > width:
        raise ValueError(f"patch_size {(ph, pw)} is larger than the image ({height}, {width})")
    if sh > ph or sw > pw:
        raise ValueError(
            f"stride {(sh, sw)} exceeds patch_size {(ph, pw)}: pixels between patches would not be covered"
        )
    tops, lefts = _starts(height, ph, sh), _starts(width, pw, sw)
    return np.stack(np.meshgrid(tops, lefts, indexing="ij"), axis=-1).reshape(-1, 2).astype(np.int64)


def _check_grid(grid, patch_size, image_size: tuple[int, int]) -> tuple[np.ndarray, int, int]:
    grid = np.asarray(grid)
    ph, pw = _pair(patch_size, "patch_size")
    if grid.ndim != 2 or grid.shape[1] != 2 or len(grid) == 0 or grid.dtype.kind not in "iu":
        raise ValueError(f"grid must be a non-empty (n_patches, 2) int array of (top, left), got shape {grid.shape}")
    h, w = image_size
    if grid.min() < 0 or grid[:, 0].max() + ph > h or grid[:, 1].max() + pw > w:
        raise ValueError(f"grid places {(ph, pw)} patches outside the ({h}, {w}) image")
    return grid, ph, pw


def _patch_pixels(grid: np.ndarray, ph: int, pw: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of every patch's pixels, broadcastable to (P, ph, pw)."""
    rows = grid[:, 0, None, None] + np.arange(ph)[None, :, None]
    cols = grid[:, 1, None, None] + np.arange(pw)[None, None, :]
    return rows, cols


def extract_patches(images, grid, patch_size) -> np.ndarray:
    """Cut images into the patches of a grid.

    Parameters
    ----------
    images : ndarray of shape (n, C, H, W)
    grid : ndarray of shape (P, 2)
        ``(top, left)`` corners, e.g. from :func:`patch_grid`.
    patch_size : int or (int, int)

    Returns
    -------
    patches : ndarray of shape (n * P, C, ph, pw), the dtype of ``images``
        Image-major: the P patches of image 0 (in grid order), then those of
        image 1, ...

    Examples
    --------
    >>> images = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> extract_patches(images, patch_grid(4, 4, 2), 2).shape
    (4, 1, 2, 2)
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"images must have shape (n, C, H, W), got {images.shape}")
    grid, ph, pw = _check_grid(grid, patch_size, images.shape[2:])
    rows, cols = _patch_pixels(grid, ph, pw)
    patches = images[:, :, rows, cols]  # (n, C, P, ph, pw)
    return patches.transpose(0, 2, 1, 3, 4).reshape(-1, images.shape[1], ph, pw)


def stitch(patch_maps, grid, image_size) -> np.ndarray:
    """Put per-patch maps back together into full-size maps, averaging where patches overlap.

    Each pixel gets the mean of the values the patches covering it give it,
    computed as ``ref + mean(v - ref)`` with ``ref`` one of those values, so
    that equal values (the patches of one image) come back exactly.

    Parameters
    ----------
    patch_maps : ndarray of shape (n, P, ph, pw)
    grid : ndarray of shape (P, 2)
        ``(top, left)`` corners; together the patches must cover the image.
    image_size : (int, int)
        ``(H, W)``.

    Returns
    -------
    maps : ndarray of shape (n, H, W), float64

    Examples
    --------
    >>> image = np.arange(30.0).reshape(1, 1, 5, 6)
    >>> grid = patch_grid(5, 6, 3, stride=2)
    >>> patches = extract_patches(image, grid, 3)
    >>> bool(np.array_equal(stitch(patches.reshape(1, len(grid), 3, 3), grid, (5, 6)), image[:, 0]))
    True
    """
    patch_maps = np.asarray(patch_maps, dtype=np.float64)
    if patch_maps.ndim != 4:
        raise ValueError(f"patch_maps must have shape (n, P, ph, pw), got {patch_maps.shape}")
    h, w = _pair(image_size, "image_size")
    grid, ph, pw = _check_grid(grid, patch_maps.shape[2:], (h, w))
    if len(grid) != patch_maps.shape[1]:
        raise ValueError(f"patch_maps holds {patch_maps.shape[1]} patches per image, the grid {len(grid)}")
    n = len(patch_maps)
    rows, cols = _patch_pixels(grid, ph, pw)
    flat = np.broadcast_to(rows * w + cols, (len(grid), ph, pw)).ravel()  # pixel index, patch-major
    counts = np.bincount(flat, minlength=h * w)
    if not counts.all():
        raise ValueError(f"the grid leaves {int(np.sum(counts == 0))} pixels of the ({h}, {w}) image uncovered")
    values = patch_maps.reshape(n, -1)
    ref = np.empty((n, h * w))
    ref[:, flat] = values  # one of the values of each pixel (the last patch written)
    deviations = np.zeros((n, h * w))
    np.add.at(deviations, (slice(None), flat), values - ref[:, flat])
    return (ref + deviations / counts).reshape(n, h, w)


def _inner_has(name: str):
    """For ``available_if``: the (fitted, else given) inner estimator has method ``name``."""

    def check(self) -> bool:
        inner = getattr(self, "estimator_", self.estimator)
        if not hasattr(inner, name):
            raise AttributeError(
                f"{name} needs an inner estimator with {name}; {type(inner).__name__} has none "
                f"(use one of skgan_ad's image detectors)"
            )
        return True

    return check


@estimator_params
class PatchDetector(AnomalyScoreMixin, OutlierMixin, BaseEstimator):
    """Score images larger than a detector's input through a grid of patches.

    ``fit`` cuts normal images into patches (:func:`patch_grid`) and fits a
    clone of ``estimator`` on all of them; an image's anomaly score then
    aggregates the anomaly scores of its patches (the maximum by default, so
    one abnormal patch makes the image abnormal). Any outlier detector works
    as ``estimator``: patches are handed to it as flat rows ``(N, C*ph*pw)``
    (in (C, ph, pw) order), with its ``image_shape`` parameter set to
    ``(C, ph, pw)`` when it has one, as skgan_ad's detectors do.

    Parameters
    ----------
    estimator : estimator
        Unfitted outlier detector with ``fit`` and ``score_samples`` (patch
        scores are ``anomaly_score`` when it has one, else
        ``-score_samples``); a clone is fitted.
    patch_size : int or (int, int), default=32
        Patch height and width. For skgan_ad's detectors a power of two of at
        least 8 avoids padding (see their size rule).
    stride : int, (int, int) or None, default=None
        Step between patches, at most ``patch_size``; None means
        ``patch_size`` (no overlap). Where the step does not reach the bottom
        (right) border exactly, one more row (column) of patches is placed
        flush with it.
    aggregate : {"max", "mean", "topk"}, default="max"
        How an image's score is made from its patch scores: the highest, the
        mean, or the mean of the ``top_k`` highest. Read at scoring time
        (``offset_`` is computed at fit with the value then set).
    top_k : int, default=3
        Number of highest patch scores averaged by ``aggregate="topk"``
        (all patches when an image has fewer).
    contamination : float in (0, 0.5], default=0.1
        Share of normal images to flag: ``offset_`` is this quantile of
        the held-out images' ``score_samples``.
    validation_fraction : float in [0, 1), default=0.1
        Share of the training images (at least one) held out from training
        to place ``offset_``. Whole images are held out, not patches. With 0
        the training images are reused, which makes ``offset_`` optimistic.
    image_shape : tuple (C, H, W) or None, default=None
        Needed only when ``X`` holds flattened images; also settles an
        ambiguous 4-D layout, as for the detectors.
    image_layout : {"auto", "channels_first", "channels_last"}, default="auto"
        How 4-D arrays are read, as for the detectors: (n, C, H, W) or
        (n, H, W, C); "auto" warns where it has to guess. Patches reach the
        inner estimator as flat (C, ph, pw) rows, whatever this is.
    random_state : int, RandomState instance or None, default=None
        Seeds the held-out split, and the inner estimator when it has a
        ``random_state`` parameter left at None (an explicit one is kept).

    Attributes
    ----------
    estimator_ : estimator
        The clone of ``estimator`` fitted on the training patches.
    grid_ : ndarray of shape (n_patches, 2), int64
        ``(top, left)`` of every patch, in the order of :meth:`patch_scores`.
    patch_shape_ : tuple of int
        ``(height, width)`` of a patch.
    image_shape_ : tuple of int
        ``(C, H, W)`` of the training images; later images must match it.
    n_features_in_ : int
        ``C * H * W``.
    offset_ : float
        ``decision_function = score_samples - offset_``.
    calibration_scores_ : ndarray of shape (n_held_out,)
        ``score_samples`` of the held-out images (the training images when
        ``validation_fraction=0``); ``offset_`` is their ``contamination``
        quantile.

    Notes
    -----
    Patches of different images (and of one image) are scored independently,
    so an image's score does not depend on the batch it comes in. Integer
    images are passed to the inner estimator as integers at fit, so
    skgan_ad's detectors read them as 0..255; float images are read by the
    inner estimator's own rule (between the training patches' min and max).

    Examples
    --------
    >>> import numpy as np
    >>> from skgan_ad import PatchDetector, SkipGANomalyDetector
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(size=(40, 16, 16))  # 40 grey 16x16 images
    >>> inner = SkipGANomalyDetector(n_epochs=2, batch_size=16, ngf=4, ndf=4, random_state=0)
    >>> det = PatchDetector(inner, patch_size=8, random_state=0).fit(X)
    >>> det.grid_.tolist()
    [[0, 0], [0, 8], [8, 0], [8, 8]]
    >>> det.patch_scores(X[:3]).shape
    (3, 4)
    >>> det.anomaly_map(X[:3]).shape
    (3, 16, 16)
    """

    estimator: object = param(MISSING, HasMethods(["fit", "score_samples"]), positional=True)
    patch_size: int | tuple = param(32, POSITIVE_INT, tuple, list)
    stride: int | tuple | None = param(None, POSITIVE_INT, tuple, list, None)
    aggregate: str = param("max", StrOptions({"max", "mean", "topk"}))
    top_k: int = param(3, POSITIVE_INT)
    contamination: float = param(0.1, CONTAMINATION)
    validation_fraction: float = param(0.1, FRACTION)
    image_shape: tuple | None = param(None, tuple, list, None)
    image_layout: str = param("auto", IMAGE_LAYOUT)
    random_state: int | np.random.RandomState | None = param(None, "random_state")

    # -- fitting -------------------------------------------------------------------
    def _fit(self, X, y=None) -> None:
        rows, _, image_shape, value_range = validate_input(
            self,
            X,
            reset=True,
            image_shape=check_image_shape(self.image_shape),
            image_layout=self.image_layout,
            ensure_varied=False,
        )
        if image_shape is None:
            raise ValueError(
                f"PatchDetector needs images, got 2-D X with {rows.shape[1]} features and no image_shape; pass "
                "(n, H, W), (n, C, H, W) or (n, H, W, C) arrays, or flat rows with image_shape=(C, H, W)"
            )
        check_varied(rows)
        c, h, w = image_shape
        grid = patch_grid(h, w, self.patch_size, self.stride)
        patch_shape = _pair(self.patch_size, "patch_size")

        rng = check_random_state(self.random_state)
        inner_seed = _outlier.draw_seed(rng)
        train, reference = _outlier.holdout_split(rows, self.validation_fraction, rng)

        inner = clone(self.estimator)
        params = inner.get_params(deep=False)
        if "image_shape" in params:
            inner.set_params(image_shape=(c, *patch_shape))
        if "random_state" in params and params["random_state"] is None:
            inner.set_params(random_state=inner_seed)
        patches = self._patch_rows(train, image_shape, grid, patch_shape)
        if value_range is not None:
            # Integer (boolean) input: keep the dtype so the inner detector reads 0..255 (0..1) too.
            patches = patches.astype(bool if value_range == (0.0, 1.0) else np.int64)
        try:
            self.estimator_ = inner.fit(patches)
        except (TypeError, ValueError) as err:
            # The inner estimator's message is about its own input, the patches: say whose they are.
            raise same_kind(
                err,
                f"estimator {type(inner).__name__} failed on the {len(patches)} patches of shape "
                f"{(c, *patch_shape)} cut from the {len(train)} training images of X: {err}",
            ) from err

        self.grid_ = grid
        self.patch_shape_ = patch_shape
        self.image_shape_ = image_shape
        self.calibration_scores_ = self._score_samples_rows(reference)
        self.offset_ = _outlier.threshold_at(self.calibration_scores_, self.contamination)

    # -- scoring ---------------------------------------------------------------------
    # Scoring validates and cuts at most this many bytes of float64 images at a time (at least one
    # image), so memory does not grow with the number of images beyond the outputs themselves.
    _CHUNK_BYTES = 1 << 25

    def patch_scores(self, X) -> np.ndarray:
        """Anomaly score of every patch, float64 of shape (n_samples, n_patches), in ``grid_`` order.

        Higher is more abnormal: the inner estimator's ``anomaly_score``, or
        ``-score_samples`` when it has none. Images are validated, cut and
        scored a few at a time (``_CHUNK_BYTES`` of float64 pixels), so a large
        or memory-mapped set of large images is never converted as a whole.
        """
        return np.concatenate([self._patch_scores_rows(rows) for rows in self._row_chunks(X)])

    def anomaly_score(self, X) -> np.ndarray:
        """Image anomaly score, float64 of shape (n_samples,): the ``aggregate`` of :meth:`patch_scores`."""
        return self._aggregate(self.patch_scores(X))

    def highest_patch(self, X) -> np.ndarray:
        """Where each image's highest-scoring patch is: int64 array of shape (n_samples, 4).

        Rows are ``(top, left, height, width)`` in pixels; the first patch in
        grid order wins a tie.
        """
        best = np.argmax(self.patch_scores(X), axis=1)
        corners = self.grid_[best]
        sizes = np.broadcast_to(np.asarray(self.patch_shape_, dtype=np.int64), corners.shape)
        return np.hstack([corners, sizes]).astype(np.int64)

    @available_if(_inner_has("anomaly_map"))
    def anomaly_map(self, X, sigma: float = 1.0) -> np.ndarray:
        """Per-pixel anomaly map stitched from the inner estimator's maps of the patches.

        The patches' maps are computed unsmoothed (``sigma=0``), stitched
        (overlaps averaged, see :func:`stitch`), and the full map is then
        smoothed once, so patch borders leave no seams.

        Parameters
        ----------
        X : array-like of images, any layout ``fit`` accepts
        sigma : float, default=1.0
            Standard deviation (pixels) of the Gaussian smoothing; 0 turns it off.

        Returns
        -------
        maps : ndarray of shape (n_samples, H, W), float64
        """
        check_sigma(sigma)
        return np.concatenate([self._maps_rows(rows, sigma) for rows in self._row_chunks(X)])

    def _maps_rows(self, rows: np.ndarray, sigma: float) -> np.ndarray:
        patches = self._patch_rows(rows, self.image_shape_, self.grid_, self.patch_shape_)
        patch_maps = np.asarray(self.estimator_.anomaly_map(patches, sigma=0), dtype=np.float64)
        maps = stitch(
            patch_maps.reshape(len(rows), len(self.grid_), *self.patch_shape_), self.grid_, self.image_shape_[1:]
        )
        return smooth_maps(maps, sigma)

    # -- helpers ---------------------------------------------------------------------
    def _validate(self, X) -> np.ndarray:
        """Rows of ``X`` after the checks against the fitted image shape."""
        check_is_fitted(self)
        try:
            rows, _, _, _ = validate_input(
                self, X, reset=False, image_shape=self.image_shape_, image_layout=self.image_layout
            )
        except ValueError as err:
            message = str(err)
            about_shape = any(word in message for word in ("features", "channel", "shape"))
            if not about_shape or str(self.image_shape_) in message:
                raise
            raise ValueError(f"{err} (PatchDetector expects images of shape (C, H, W) = {self.image_shape_})") from err
        return rows

    def _row_chunks(self, X):
        """Validated image rows of ``X``, a chunk of at most ``_CHUNK_BYTES`` (at least one image) at a time."""
        check_is_fitted(self)
        return input_chunks(X, lambda part: (self._validate(part), None), 1, self._CHUNK_BYTES)[2]

    @staticmethod
    def _patch_rows(rows: np.ndarray, image_shape, grid: np.ndarray, patch_shape) -> np.ndarray:
        """Flat patch rows ``(n * P, C * ph * pw)`` of flat image rows."""
        patches = extract_patches(rows.reshape(len(rows), *image_shape), grid, patch_shape)
        return patches.reshape(len(patches), -1)

    def _patch_scores_rows(self, rows: np.ndarray) -> np.ndarray:
        patches = self._patch_rows(rows, self.image_shape_, self.grid_, self.patch_shape_)
        return _outlier.anomaly_scores(self.estimator_, patches).reshape(len(rows), len(self.grid_))

    def _score_samples_rows(self, rows: np.ndarray) -> np.ndarray:
        return -self._aggregate(self._patch_scores_rows(rows))

    def _aggregate(self, scores: np.ndarray) -> np.ndarray:
        if self.aggregate == "max":
            return scores.max(axis=1)
        if self.aggregate == "mean":
            return scores.mean(axis=1)
        if self.aggregate == "topk":
            k = min(int(self.top_k), scores.shape[1])
            return np.sort(scores, axis=1)[:, -k:].mean(axis=1)
        raise ValueError(f"aggregate must be 'max', 'mean' or 'topk', got {self.aggregate!r}")
