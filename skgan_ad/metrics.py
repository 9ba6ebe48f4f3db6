"""Evaluation with anomaly labels: model-selection scorers, recall at a fixed FPR, conformal p-values, min-max scaling,
and the industrial-inspection metrics (pixel-level ROC AUC, AUPRO, ROC AUC per defect type).

Labels throughout are ``y = 1`` for an anomaly and ``y = 0`` for a normal
sample, the convention of :mod:`skgan_ad.datasets` and of the seed papers.

Why not ``scoring="roc_auc"``
-----------------------------
scikit-learn's built-in ``"roc_auc"`` (and ``"average_precision"``) scorer
ranks samples by ``decision_function`` and treats the larger label as the
positive class. For an outlier detector ``decision_function`` is *higher for
normal samples*, so with ``y = 1`` marking anomalies that scorer returns
``1 - AUC``: it is largest for the detector that ranks anomalies as the most
normal, and ``GridSearchCV(scoring="roc_auc")`` silently picks the worst
configuration, with no error or warning. The scorers here rank by the anomaly
score (``anomaly_score(X)``, or ``-score_samples(X)`` for any other
detector), so larger is better as ``GridSearchCV`` expects::

    >>> import numpy as np
    >>> from sklearn.metrics import get_scorer
    >>> from skgan_ad import SkipGANomalyDetector
    >>> from skgan_ad.metrics import anomaly_auc_scorer
    >>> rng = np.random.RandomState(0)
    >>> det = SkipGANomalyDetector(n_epochs=2, hidden_dims=(8, 4), random_state=0).fit(rng.normal(size=(200, 2)))
    >>> X = np.r_[rng.normal(size=(50, 2)), rng.normal(size=(50, 2)) + 4]
    >>> y = np.r_[np.zeros(50, int), np.ones(50, int)]
    >>> auc = anomaly_auc_scorer(det, X, y)
    >>> bool(np.isclose(get_scorer("roc_auc")(det, X, y), 1 - auc))  # the trap
    True
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import partial
from numbers import Real

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.utils.validation import check_consistent_length, check_is_fitted, column_or_1d

from ._outlier import anomaly_scores, final_estimator

__all__ = [
    "anomaly_auc_scorer",
    "anomaly_average_precision_scorer",
    "aupro",
    "check_anomaly_labels",
    "conformal_p_values",
    "make_anomaly_scorer",
    "make_recall_at_fpr_scorer",
    "min_max_normalise",
    "per_defect_auc",
    "pixel_roc_auc",
    "recall_at_fpr",
]


def check_anomaly_labels(y) -> np.ndarray:
    """Validate labels that read ``1`` as anomaly and ``0`` as normal; return them as an int array.

    Labels in scikit-learn's ``predict`` convention (``-1`` outlier, ``+1``
    inlier) are refused rather than guessed at: read as "larger label =
    anomaly" they would invert every score silently.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Values in {0, 1} (booleans accepted).

    Returns
    -------
    y : ndarray of shape (n_samples,), int
    """
    if y is None:
        raise ValueError("labels y are required: 1 for an anomaly, 0 for a normal sample")
    y = column_or_1d(y, warn=True)
    values = set(np.unique(y).tolist())
    if not values <= {0, 1}:
        raise ValueError(
            f"labels must be 1 for an anomaly and 0 for a normal sample, got values {sorted(values)!r}; "
            "for scikit-learn's predict convention (-1 outlier, +1 inlier) pass (y == -1).astype(int)"
        )
    return y.astype(int)


_METRICS = {"roc_auc": roc_auc_score, "average_precision": average_precision_score}


class _AnomalyScorer:
    """``scorer(estimator, X, y)``: ``metric(y, anomaly scores)`` with ``y = 1`` for anomalies."""

    def __init__(self, metric: Callable, name: str):
        self._metric = metric
        self._name = name

    def __call__(self, estimator, X, y, sample_weight=None) -> float:
        y = check_anomaly_labels(y)
        scores = anomaly_scores(estimator, X)
        if sample_weight is None:
            return float(self._metric(y, scores))
        return float(self._metric(y, scores, sample_weight=sample_weight))

    def __repr__(self) -> str:
        return f"make_anomaly_scorer({self._name})"


def make_anomaly_scorer(metric="roc_auc") -> Callable:
    """A scorer ``(estimator, X, y) -> float`` for ``GridSearchCV`` / ``cross_val_score`` with ``y = 1`` anomalies.

    The metric is computed on the estimator's anomaly scores: ``anomaly_score(X)``
    when the estimator (or the final step of a :class:`~sklearn.pipeline.Pipeline`)
    has it, else ``-score_samples(X)``, so any scikit-learn outlier detector
    works too. Larger is better. See the module docstring for why the built-in
    ``"roc_auc"`` must not be used with anomaly labels.

    Parameters
    ----------
    metric : {"roc_auc", "average_precision"} or callable, default="roc_auc"
        A name, or any ``metric(y_true, anomaly_scores) -> float`` where larger
        is better and ``y_true`` is 1 for anomalies.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y, sample_weight=None) -> float``.

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skgan_ad import SkipGANomalyDetector
    >>> from skgan_ad.model_selection import NormalOnlySplit
    >>> search = GridSearchCV(
    ...     SkipGANomalyDetector(),
    ...     {"lambda_score": [0.0, 0.5, 1.0]},
    ...     scoring=make_anomaly_scorer("average_precision"),
    ...     cv=NormalOnlySplit(3),
    ...     refit=False,
    ... )
    """
    if isinstance(metric, str):
        if metric not in _METRICS:
            raise ValueError(f"metric must be one of {sorted(_METRICS)} or a callable, got {metric!r}")
        return _AnomalyScorer(_METRICS[metric], repr(metric))
    if callable(metric):
        return _AnomalyScorer(metric, getattr(metric, "__name__", repr(metric)))
    raise TypeError(f"metric must be a string or a callable, got {type(metric).__name__}")


#: ROC AUC of the anomaly scores, ``y = 1`` anomaly: ``GridSearchCV(..., scoring=anomaly_auc_scorer)``.
anomaly_auc_scorer = make_anomaly_scorer("roc_auc")
#: Average precision of the anomaly scores (anomalies as the positive class), ``y = 1`` anomaly.
anomaly_average_precision_scorer = make_anomaly_scorer("average_precision")


def conformal_p_values(detector, X=None, *, scores=None) -> np.ndarray:
    """Conformal p-values of ``X`` against the held-out normal scores seen at fit.

    ``p(x) = (1 + #{c in calibration_scores_ : c <= score_samples(x)}) / (1 + n_calibration)``:
    the share of held-out normals at least as anomalous as ``x``, with the
    ``+1`` counting ``x`` itself. If new normal samples are exchangeable with
    the held-out ones (same distribution, neither used to train the networks),
    ``P(p(x) <= alpha) <= alpha`` for every ``alpha``: flagging ``p <= alpha``
    keeps the false-positive rate on new normals at most ``alpha`` (about
    ``alpha`` in practice), for any model, however poorly trained. A small
    p-value means anomalous. Unlike ``predict``'s fixed ``contamination``, the
    level can be chosen after fitting, and p-values feed multiple-testing
    procedures such as Benjamini-Hochberg.

    The resolution is ``1 / (1 + n_calibration)``: raise ``validation_fraction``
    for small ``alpha``. With ``validation_fraction=0`` the calibration scores
    are the training samples' own, which the networks have memorised, and the
    p-values are too small (a warning says so).

    Parameters
    ----------
    detector : fitted detector or Pipeline ending in one
        Anything with ``score_samples`` whose (final) estimator has
        ``calibration_scores_``, the ``score_samples`` of its held-out normals.
    X : array-like, optional
        Samples to test, in any layout the detector accepts.
    scores : array-like of shape (n_samples,), optional
        ``detector.score_samples`` of the samples, when already computed
        (give either ``X`` or ``scores``): nothing is scored again.

    Returns
    -------
    p_values : ndarray of shape (n_samples,), float64
        Values in (0, 1].

    Raises
    ------
    NotFittedError
        If the detector is not fitted or has no ``calibration_scores_``.

    Examples
    --------
    >>> import numpy as np
    >>> from skgan_ad import SkipGANomalyDetector
    >>> rng = np.random.RandomState(0)
    >>> det = SkipGANomalyDetector(n_epochs=2, hidden_dims=(8, 4), validation_fraction=0.3, random_state=0)
    >>> det = det.fit(rng.normal(size=(300, 2)))
    >>> p = conformal_p_values(det, rng.normal(size=(5, 2)))
    >>> bool(((p > 0) & (p <= 1)).all())
    True
    """
    final = final_estimator(detector)
    check_is_fitted(final)
    calibration = getattr(final, "calibration_scores_", None)
    if calibration is None:
        # NotFittedError is both a ValueError and an AttributeError, so callers catching either see it.
        raise NotFittedError(
            f"{type(final).__name__} has no calibration_scores_ (score_samples of held-out normals stored at "
            "fit); conformal p-values need a skgan_ad detector fitted with validation_fraction > 0"
        )
    if getattr(final, "validation_fraction", None) == 0:
        warnings.warn(
            "the detector was fitted with validation_fraction=0: its calibration scores are those of the "
            "training samples, so the p-values are too small (more false positives than alpha)",
            UserWarning,
            stacklevel=2,
        )
    calibration = np.sort(np.asarray(calibration, dtype=np.float64))
    if (X is None) == (scores is None):
        raise ValueError("give either X (samples to score) or scores (their score_samples), not both or neither")
    scores = np.asarray(detector.score_samples(X) if scores is None else scores, dtype=np.float64)
    if scores.ndim != 1 or not np.isfinite(scores).all():
        raise ValueError(f"scores must be a 1-D array of finite score_samples values, got shape {scores.shape}")
    # side="right" counts calibration scores <= score: ties count as "at least as anomalous".
    n_as_anomalous = np.searchsorted(calibration, scores, side="right")
    return (1.0 + n_as_anomalous) / (1.0 + len(calibration))


def min_max_normalise(scores) -> np.ndarray:
    """Min-max scale scores to [0, 1] over the given batch (Eq. 6 of GANomaly / Skip-GANomaly).

    ``(s - min(s)) / (max(s) - min(s))``, all zeros when every score is equal.

    .. warning::
       For evaluation and plotting only. The result depends on the whole
       scored batch: the same sample gets a different value when the batch
       changes, and the test set's extremes leak into every score. Never use
       it inside ``score_samples`` or to set a threshold; the detectors'
       scores are standardised on held-out normals at fit time instead. A
       monotone rescaling of one batch leaves ROC AUC and average precision
       unchanged, so it matters only for plotting or pooling scores.

    Parameters
    ----------
    scores : array-like of shape (n_samples,)

    Returns
    -------
    scaled : ndarray of shape (n_samples,), float64, in [0, 1]

    Examples
    --------
    >>> min_max_normalise([2.0, 4.0, 3.0])
    array([0. , 1. , 0.5])
    """
    scores = column_or_1d(np.asarray(scores, dtype=np.float64))
    if scores.size == 0:
        return scores
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores must be finite")
    low, span = scores.min(), np.ptp(scores)
    if span == 0:
        return np.zeros_like(scores)
    return (scores - low) / span


def recall_at_fpr(y_true, anomaly_scores, fpr=0.05) -> float:
    """Recall of the anomalies at the lowest threshold whose false-positive rate is at most ``fpr``.

    A sample is flagged when its anomaly score is strictly above the
    threshold. The threshold is the lowest one that flags at most
    ``floor(fpr * n_normal)`` normal samples; normals tied at the threshold
    are not flagged (nor are anomalies tied with them), so ties never push
    the realised false-positive rate above ``fpr``. The emphasis of
    Zawar et al. (2022): how many anomalies are caught at a tolerable rate
    of false alarms.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        1 for an anomaly, 0 for a normal sample; both must be present.
    anomaly_scores : array-like of shape (n_samples,)
        Higher is more abnormal (``anomaly_score(X)``, or ``-score_samples(X)``).
    fpr : float in [0, 1], default=0.05
        The largest false-positive rate accepted on the normals. With 0 only
        anomalies scored above every normal count; with 1 every sample is
        flagged (recall 1).

    Returns
    -------
    recall : float
        Share of the anomalies flagged, in [0, 1].

    Examples
    --------
    >>> y = [0, 0, 0, 0, 1, 1]
    >>> scores = [0.1, 0.2, 0.3, 0.9, 0.5, 1.0]
    >>> recall_at_fpr(y, scores, fpr=0.0)  # threshold 0.9: only the anomaly at 1.0
    0.5
    >>> recall_at_fpr(y, scores, fpr=0.25)  # threshold 0.3: one false positive (0.9)
    1.0
    """
    if not isinstance(fpr, Real) or isinstance(fpr, bool) or not 0 <= fpr <= 1:
        raise ValueError(f"fpr must be a number in [0, 1], got {fpr!r}")
    y = check_anomaly_labels(y_true)
    scores = column_or_1d(np.asarray(anomaly_scores, dtype=np.float64))
    check_consistent_length(y, scores)
    if not np.all(np.isfinite(scores)):
        raise ValueError("anomaly_scores must be finite")
    normal, anomalous = np.sort(scores[y == 0])[::-1], scores[y == 1]
    if len(normal) == 0 or len(anomalous) == 0:
        raise ValueError("recall_at_fpr needs both normal (0) and anomalous (1) samples")
    # Normals allowed above the threshold; the relative 1e-12 absorbs round-off in fpr * n (0.29 * 100 = 28.999...).
    n_false = int(np.floor(fpr * len(normal) * (1 + 1e-12)))
    if n_false >= len(normal):
        return 1.0
    # Threshold at the (n_false + 1)-th highest normal score: only the n_false normals strictly above it
    # (fewer with ties) are flagged, and any lower threshold would flag that normal too.
    threshold = normal[n_false]
    return float(np.mean(anomalous > threshold))


class _RecallAtFPRScorer(_AnomalyScorer):
    def __init__(self, fpr: float):
        super().__init__(partial(recall_at_fpr, fpr=fpr), f"recall_at_fpr(fpr={fpr!r})")
        self._fpr = fpr

    def __call__(self, estimator, X, y, sample_weight=None) -> float:
        if sample_weight is not None:
            raise ValueError("recall_at_fpr does not support sample_weight")
        return super().__call__(estimator, X, y)

    def __repr__(self) -> str:
        return f"make_recall_at_fpr_scorer(fpr={self._fpr!r})"


def make_recall_at_fpr_scorer(fpr=0.05) -> Callable:
    """A scorer ``(estimator, X, y) -> float``: :func:`recall_at_fpr` of the estimator's anomaly scores.

    For ``GridSearchCV`` / ``cross_val_score`` with ``y = 1`` for anomalies,
    like :func:`make_anomaly_scorer`: samples are ranked by ``anomaly_score(X)``
    (or ``-score_samples(X)``), and the threshold is set on each test fold's
    normals, so the detector's own ``offset_`` plays no part. Larger is better.

    Parameters
    ----------
    fpr : float in [0, 1], default=0.05
        The false-positive rate accepted on the normals of each test fold.
        With few normals per fold the rate moves in steps of ``1 / n_normal``.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y) -> float``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import IsolationForest
    >>> from sklearn.model_selection import cross_val_score
    >>> from skgan_ad.model_selection import NormalOnlySplit
    >>> rng = np.random.RandomState(0)
    >>> X = np.r_[rng.normal(size=(90, 2)), rng.normal(size=(30, 2)) + 5]
    >>> y = np.r_[np.zeros(90, int), np.ones(30, int)]
    >>> recall = make_recall_at_fpr_scorer(fpr=0.05)
    >>> scores = cross_val_score(IsolationForest(random_state=0), X, y, scoring=recall, cv=NormalOnlySplit(3))
    >>> bool((scores > 0.9).all())  # well-separated anomalies: nearly all caught at 5 % FPR
    True
    """
    if not isinstance(fpr, Real) or isinstance(fpr, bool) or not 0 <= fpr <= 1:
        raise ValueError(f"fpr must be a number in [0, 1], got {fpr!r}")
    return _RecallAtFPRScorer(fpr)


# ---------------------------------------------------------------------------
# Industrial inspection: pixel-level metrics against ground-truth masks, and image-level AUC per defect type
# ---------------------------------------------------------------------------


def _check_masks_and_maps(masks, maps, caller: str) -> tuple[np.ndarray, np.ndarray]:
    """``masks`` as bool and ``maps`` as float64, both (n, H, W); both pixel classes must be present."""
    masks, maps = np.asarray(masks), np.asarray(maps, dtype=np.float64)
    if masks.ndim != 3 or maps.shape != masks.shape:
        raise ValueError(
            f"{caller}: masks and maps must both have shape (n_images, H, W), got {masks.shape} and {maps.shape}"
        )
    if not ((masks == 0) | (masks == 1)).all():
        raise ValueError(f"{caller}: masks must hold 1 on defective pixels and 0 elsewhere")
    if not np.isfinite(maps).all():
        raise ValueError(f"{caller}: maps must be finite")
    masks = masks.astype(bool)
    n_defective = int(masks.sum())
    if n_defective == 0 or n_defective == masks.size:
        kind = "no defective pixel (1)" if n_defective == 0 else "no normal pixel (0)"
        raise ValueError(
            f"{caller}: the masks hold {kind}, so the metric is undefined; it needs both defective and normal pixels"
        )
    return masks, maps


def pixel_roc_auc(masks, maps) -> float:
    """ROC AUC of the anomaly maps over all pixels of all images, the ground-truth masks marking the positives.

    Every pixel of every image is one sample (so large defects weigh more
    than small ones; :func:`aupro` weighs each defect region equally). This is
    the pixel-level AUROC of the MVTec AD protocol, computed with
    :func:`sklearn.metrics.roc_auc_score`.

    Parameters
    ----------
    masks : array-like of shape (n_images, H, W)
        1 on defective pixels, 0 elsewhere (booleans accepted); all zeros for
        a normal image.
    maps : array-like of shape (n_images, H, W)
        Anomaly maps (``detector.anomaly_map(X)``): higher is more anomalous.

    Returns
    -------
    auc : float
        In [0, 1]; 0.5 for a map that does not tell the pixels apart.

    Raises
    ------
    ValueError
        If the shapes differ or are not (n, H, W), ``masks`` holds other
        values than 0 and 1, ``maps`` is not finite, or the masks hold no
        defective pixel or no normal pixel.

    Examples
    --------
    >>> import numpy as np
    >>> masks = np.zeros((2, 4, 4), dtype=int)
    >>> masks[1, 1:3, 1:3] = 1
    >>> maps = masks.astype(float)
    >>> pixel_roc_auc(masks, maps)
    1.0
    >>> maps[0, 0, 0] = 1.0  # one normal pixel tied with the four defective ones
    >>> round(pixel_roc_auc(masks, maps), 4)  # (4 * 27 + 4 * 0.5) / (4 * 28)
    0.9821
    """
    masks, maps = _check_masks_and_maps(masks, maps, "pixel_roc_auc")
    return float(roc_auc_score(masks.ravel(), maps.ravel()))


def _area_up_to(x: np.ndarray, y: np.ndarray, x_max: float) -> float:
    """Trapezoid-rule area under the curve through (x, y) (x non-decreasing, x[0] <= x_max <= x[-1]) from x[0]
    to ``x_max``; the curve's value at ``x_max`` is interpolated linearly between its neighbours."""
    inside = int(np.searchsorted(x, x_max, side="right"))  # the points with x <= x_max
    xs, ys = x[:inside], y[:inside]
    area = float(np.sum(0.5 * (ys[1:] + ys[:-1]) * np.diff(xs)))
    if inside < len(x) and xs[-1] < x_max:
        x0, x1, y0, y1 = xs[-1], x[inside], ys[-1], y[inside]
        y_at = y0 + (y1 - y0) * (x_max - x0) / (x1 - x0)
        area += float(0.5 * (y0 + y_at) * (x_max - x0))
    return area


def aupro(masks, maps, max_fpr=0.3) -> float:
    """Normalised area under the per-region-overlap (PRO) curve up to a false-positive rate of ``max_fpr``.

    The localisation metric of the MVTec AD protocol (Bergmann et al., "The
    MVTec Anomaly Detection Dataset", IJCV 2021), computed as its evaluation
    code does:

    * each connected component of a mask is one defect region, with
      8-connectivity (a 3x3 structure of ones: pixels touching at a corner
      belong to the same region); components never span two images;
    * at a threshold ``t`` (a pixel is flagged when its map value is at least
      ``t``), the PRO is the mean over all regions of all images of the share
      of the region's pixels flagged, so a small defect weighs as much as a
      large one; the false-positive rate is the share of flagged pixels among
      the normal pixels (0 in the masks) of all images, normal images
      included;
    * the curve has one point per distinct map value, plus (0, 0); its area
      from FPR 0 to ``max_fpr`` by the trapezoid rule, the point at exactly
      ``max_fpr`` interpolated linearly between its neighbours, divided by
      ``max_fpr``.

    1.0 is a perfect map (every defective pixel above every normal one); a
    constant map gives ``max_fpr / 2`` (0.15 at the default). The scores are
    sorted once: the cost is that of one sort of all pixels.

    Parameters
    ----------
    masks : array-like of shape (n_images, H, W)
        1 on defective pixels, 0 elsewhere (booleans accepted); all zeros for
        a normal image, whose pixels count as normal ones only.
    maps : array-like of shape (n_images, H, W)
        Anomaly maps (``detector.anomaly_map(X)``): higher is more anomalous.
    max_fpr : float in (0, 1], default=0.3
        The false-positive rate up to which the curve is integrated; 0.3 is
        the MVTec AD protocol's.

    Returns
    -------
    aupro : float
        In [0, 1].

    Raises
    ------
    ValueError
        If ``max_fpr`` is not in (0, 1], the shapes differ or are not
        (n, H, W), ``masks`` holds other values than 0 and 1, ``maps`` is not
        finite, or the masks hold no defective pixel or no normal pixel.

    Examples
    --------
    >>> import numpy as np
    >>> masks = np.zeros((2, 8, 8), dtype=int)
    >>> masks[1, 2:4, 2:4] = 1  # a region of four pixels
    >>> masks[1, 6, 6] = 1  # and one of a single pixel
    >>> aupro(masks, masks.astype(float))
    1.0
    >>> round(aupro(masks, np.zeros((2, 8, 8))), 4)  # a constant map
    0.15
    >>> maps = np.zeros((2, 8, 8))
    >>> maps[1, 2:4, 2:4] = 1.0  # finds the large region only: PRO 0.5 at FPR 0
    >>> round(aupro(masks, maps), 4)  # (0.5 + 0.65) / 2 * 0.3 / 0.3
    0.575
    """
    if not isinstance(max_fpr, Real) or isinstance(max_fpr, bool) or not 0 < max_fpr <= 1:
        raise ValueError(f"max_fpr must be a number in (0, 1], got {max_fpr!r}")
    masks, maps = _check_masks_and_maps(masks, maps, "aupro")
    from scipy import ndimage

    # 8-connectivity within each image (the middle plane of the 3x3x3 structure), none across images.
    structure = np.zeros((3, 3, 3), dtype=bool)
    structure[1] = True
    regions, n_regions = ndimage.label(masks, structure=structure)
    regions = regions.ravel()
    sizes = np.bincount(regions)  # sizes[0]: the normal pixels
    # Each flagged pixel adds 1 / n_normal to the FPR (a normal one) or 1 / (n_regions * its region's size) to the PRO.
    weights = np.zeros(len(sizes))
    weights[1:] = 1.0 / (n_regions * sizes[1:])
    order = np.argsort(maps.ravel())[::-1]
    scores, regions = maps.ravel()[order], regions[order]
    fpr = np.cumsum(regions == 0) / sizes[0]
    pro = np.cumsum(weights[regions])
    # One point per distinct threshold: after the last pixel of each run of tied scores.
    last = np.r_[scores[1:] != scores[:-1], True]
    fpr = np.r_[0.0, fpr[last]]
    pro = np.r_[0.0, np.minimum(pro[last], 1.0)]  # the minimum drops the cumulative sum's round-off above 1
    return float(_area_up_to(fpr, pro, float(max_fpr)) / max_fpr)


def per_defect_auc(y_kind, scores, normal="good") -> dict[str, float]:
    """Image-level ROC AUC of each defect type against the normal images, and their mean.

    For each defect type the AUC is computed on the normal images and the
    images of that type only, so a hard type is not hidden by easy ones, as
    in the per-category tables of the MVTec AD literature.

    Parameters
    ----------
    y_kind : array-like of shape (n_samples,)
        The kind of each image: ``normal`` for a normal image, otherwise its
        defect type (e.g. the ``defect_types`` of
        :func:`skgan_ad.datasets.load_industrial_folder`). Compared as strings.
    scores : array-like of shape (n_samples,)
        Anomaly scores, higher is more abnormal (``anomaly_score(X)``, or
        ``-score_samples(X)``).
    normal : str, default="good"
        The kind of the normal images.

    Returns
    -------
    aucs : dict of str to float
        The AUC of each defect type, in sorted order of the types, then
        ``"mean"``: their unweighted mean.

    Raises
    ------
    ValueError
        If the lengths differ, the scores are not finite, there is no normal
        image or no defect type, or a defect type is named ``"mean"``.

    Examples
    --------
    >>> kinds = ["good", "good", "crack", "crack", "scratch"]
    >>> scores = [0.1, 0.4, 0.9, 0.3, 0.5]
    >>> per_defect_auc(kinds, scores)
    {'crack': 0.75, 'scratch': 1.0, 'mean': 0.875}
    """
    kinds = column_or_1d(np.asarray(y_kind)).astype(str)
    scores = column_or_1d(np.asarray(scores, dtype=np.float64))
    check_consistent_length(kinds, scores)
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores must be finite")
    is_normal = kinds == str(normal)
    if not is_normal.any():
        raise ValueError(f"per_defect_auc needs normal images: no sample is of the normal kind {normal!r}")
    types = sorted(set(kinds[~is_normal].tolist()))
    if not types:
        raise ValueError(f"per_defect_auc needs defective images: every sample is of the normal kind {normal!r}")
    if "mean" in types:
        raise ValueError("a defect type is named 'mean', which names the mean AUC in the result; rename it")
    aucs = {}
    for kind in types:
        chosen = is_normal | (kinds == kind)
        aucs[kind] = float(roc_auc_score(kinds[chosen] == kind, scores[chosen]))
    aucs["mean"] = float(np.mean(list(aucs.values())))
    return aucs
