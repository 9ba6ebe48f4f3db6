"""What every outlier estimator of the package shares: sign conventions, a clean fit, thresholds, seeds, maps.

One private module used by the detectors (``base.py``), :class:`~skgan_ad.PatchDetector`,
:class:`~skgan_ad.model_selection.ScoreCombiner` and :mod:`skgan_ad.metrics` alike:

* :class:`AnomalyScoreMixin` derives ``score_samples``, ``decision_function``
  and ``predict`` from an estimator's ``anomaly_score`` and ``offset_``, and
  gives it a ``fit`` that leaves no half-fitted state behind;
* :func:`anomaly_scores` reads any outlier detector's scores as "higher = more abnormal";
* :func:`holdout_split`, :func:`threshold_at` and :func:`draw_seed`: the held-out
  normals, the ``offset_`` taken on them (a conformal quantile, with
  :class:`CalibrationWarning` when they are too few), and the seeds handed down
  from ``random_state``;
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.pipeline import Pipeline

from . import _version


class InconsistentVersionWarning(UserWarning):
    """An estimator was unpickled under another skgan_ad version than the one that pickled it.

    Like scikit-learn's warning of the same name (which covers scikit-learn's
    own version only): fitted state may not mean the same under another
    version, so scores can silently change. :func:`skgan_ad.io.load` refuses
    incompatible files outright; a pickle can only warn.

    Attributes
    ----------
    estimator_name : str
    current_version, original_version : str
        This skgan_ad's version and the one recorded in the pickle
        (``"unknown"`` for pickles made before versions were recorded).
    """

    def __init__(self, *, estimator_name: str, current_version: str, original_version: str) -> None:
        super().__init__(estimator_name, current_version, original_version)
        self.estimator_name = estimator_name
        self.current_version = current_version
        self.original_version = original_version

    def __str__(self) -> str:
        return (
            f"Trying to unpickle estimator {self.estimator_name} from skgan_ad version {self.original_version} "
            f"when using version {self.current_version}. This might lead to breaking code or invalid results; "
            "refit it, or load it under the version that saved it (skgan_ad.save / skgan_ad.load refuse "
            "incompatible versions instead of guessing)."
        )


class AnomalyScoreMixin:
    """scikit-learn's outlier API from ``anomaly_score(X)`` (higher = more abnormal) and ``offset_``.

    Subclasses implement ``anomaly_score`` and, to use :meth:`_fit_cleanly`, ``_fit(X, y)``.
    """

    def score_samples(self, X) -> np.ndarray:
        """Normality score, float64: higher is more normal (``-anomaly_score(X)``)."""
        return -self.anomaly_score(X)

    def decision_function(self, X) -> np.ndarray:
        """``score_samples(X) - offset_``: negative for outliers."""
        return self.score_samples(X) - self.offset_

    def predict(self, X) -> np.ndarray:
        """Return -1 for outliers and +1 for inliers."""
        return np.where(self.decision_function(X) >= 0, 1, -1)

    def fit(self, X, y=None):
        """Fit on ``X``, taken to be normal samples; ``y`` is ignored unless the class docstring says otherwise.

        Returns
        -------
        self
        """
        return self._fit_cleanly(X, y)

    def _fit_cleanly(self, X, y=None):
        """Validate the parameters and run ``_fit(X, y)``; a failed fit leaves an unfitted estimator.

        Fitted state left by an earlier ``fit`` is removed first, so a refit
        never mixes attributes of two fits.
        """
        self._validate_params()
        # What a warm start continues from (None unless the estimator supports and asks for one).
        self._previous_fit = self._warm_start_state()
        self._forget_fit()
        try:
            self._fit(X, y)
        except BaseException:
            self._forget_fit()
            raise
        finally:
            del self._previous_fit
        return self

    def _warm_start_state(self):
        """The fitted state a new ``fit`` continues from, or None (the default: every fit starts afresh)."""
        return None

    def _forget_fit(self) -> None:
        for key in [k for k in vars(self) if k.endswith("_") and not k.startswith("__")]:
            delattr(self, key)

    # -- pickling: the library version travels with the state -----------------------
    def __getstate__(self):
        """Pickled state with ``_skgan_ad_version``: a pickle says which skgan_ad made it."""
        return {**super().__getstate__(), "_skgan_ad_version": _version.__version__}

    def __setstate__(self, state):
        """Restore a pickle; warn (:class:`InconsistentVersionWarning`) when another version made it."""
        state = dict(state)
        original = state.pop("_skgan_ad_version", "unknown")
        current = _version.__version__
        if original != current:
            warnings.warn(
                InconsistentVersionWarning(
                    estimator_name=type(self).__name__, current_version=current, original_version=original
                ),
                stacklevel=2,
            )
        super().__setstate__(state)


def final_estimator(estimator):
    """The estimator that holds the fitted state and scores: a :class:`~sklearn.pipeline.Pipeline`'s last
    step, else ``estimator`` itself."""
    return estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator


def anomaly_scores(estimator, X) -> np.ndarray:
    """Higher = more abnormal, float64: ``anomaly_score`` where the detector has it, else ``-score_samples``.

    A :class:`~sklearn.pipeline.Pipeline` has no ``anomaly_score`` of its own:
    its transformers run first, then its final step is asked.
    """
    if hasattr(estimator, "anomaly_score"):
        return np.asarray(estimator.anomaly_score(X), dtype=np.float64)
    final = final_estimator(estimator)
    if final is not estimator and hasattr(final, "anomaly_score"):
        Xt = X
        for _, step in estimator.steps[:-1]:
            if step is not None and not (isinstance(step, str) and step == "passthrough"):
                Xt = step.transform(Xt)
        return np.asarray(final.anomaly_score(Xt), dtype=np.float64)
    if hasattr(estimator, "score_samples"):
        return -np.asarray(estimator.score_samples(X), dtype=np.float64)
    raise TypeError(f"{type(estimator).__name__} has neither anomaly_score nor score_samples; cannot rank anomalies")


def holdout_split(rows: np.ndarray, fraction: float, rng: np.random.RandomState):
    """Split off ``fraction`` of the rows (at least one, leaving one to train on): ``(train, held_out)``.

    With ``fraction=0`` the training rows serve as the held-out set too (and
    ``rng`` is not drawn from), which makes thresholds taken on them optimistic.
    """
    n = len(rows)
    n_valid = min(n - 1, max(1, round(fraction * n))) if fraction > 0 else 0
    if n_valid == 0:
        return rows, rows
    order = rng.permutation(n)
    return rows[np.sort(order[n_valid:])], rows[np.sort(order[:n_valid])]


class CalibrationWarning(UserWarning):
    """Too few held-out normal scores for ``offset_`` to keep the requested false-positive rate closely.

    ``offset_`` is a finite-sample (conformal) quantile of the held-out normals'
    scores: new normal samples are flagged at a rate of at most
    ``contamination`` on average, but with few held-out scores that rate
    varies a lot from one fit to the next. The message gives the numbers.
    """


def conformal_rank(n: int, contamination: float) -> int:
    """``k = floor(contamination (n + 1))``: ``offset_`` is the ``k``-th smallest of ``n`` held-out scores.

    A new normal sample's score is then below it with probability ``k / (n + 1) <= contamination``
    (the scores being exchangeable and without ties); ``k = 0`` means no rank can promise that.
    """
    # The small tolerance keeps e.g. 0.1 * 30 = 3.0000000000000004 from being read as 3 when it is 3.
    return int(np.floor(contamination * (n + 1) + 1e-9))


def false_positive_spread(n: int, contamination: float) -> tuple[float, float]:
    """Mean and standard deviation, over fits, of the rate at which ``offset_`` flags new normal samples.

    With ``k`` of :func:`conformal_rank`, the rate is Beta(k, n + 1 - k)-distributed: mean ``k / (n + 1)``,
    variance ``mean (1 - mean) / (n + 2)``.
    """
    mean = conformal_rank(n, contamination) / (n + 1)
    return mean, float(np.sqrt(mean * (1 - mean) / (n + 2)))


def threshold_at(calibration_scores: np.ndarray, contamination: float, *, what: str = "held-out normal") -> float:
    """``offset_``: the finite-sample (conformal) ``contamination`` quantile of held-out normal scores.

    It is the ``k``-th smallest of the ``n`` scores, ``k = floor(contamination (n + 1))``
    (:func:`conformal_rank`), raised by one unit in the last place so that ``predict`` flags
    exactly ``k`` of the held-out samples and a new normal sample with probability
    ``k / (n + 1)``: at most ``contamination`` and within ``1 / (n + 1)`` of it. A plain
    percentile of the held-out scores promises nothing of the kind on small data.
    With fewer than ``4 (1 - contamination) / contamination - 2`` scores (34 at 0.1), the
    realised rate's spread over fits exceeds half of ``contamination``, and a
    :class:`CalibrationWarning` gives the numbers; with ``k = 0`` no rank keeps the promise,
    the smallest score is the offset, and about ``1 / (n + 1)`` of new normals are flagged.

    Examples
    --------
    >>> threshold_at(np.arange(99.0), 0.1)  # k = floor(0.1 * 100) = 10: just above the 10th smallest
    9.000000000000002
    """
    scores = np.sort(np.asarray(calibration_scores, dtype=np.float64))
    n, k = len(scores), conformal_rank(len(scores), contamination)
    # The spread is about sqrt(c (1 - c) / (n + 2)); within c / 2 from n + 2 >= 4 (1 - c) / c on (monotone in n,
    # unlike the exact spread, which jumps with the rank).
    enough = int(np.ceil(max(4 * (1 - contamination) / contamination - 2, 1 / contamination - 1) - 1e-9))
    if n < enough:
        mean, spread = false_positive_spread(n, contamination)
        if k == 0:
            said = (
                f"no threshold can keep contamination={contamination:g} on {n} {what} scores (that needs at least "
                f"{int(np.ceil(1 / contamination - 1 - 1e-9))}): offset_ is the smallest of them, and about "
                f"{1 / (n + 1):.3f} of new normal samples will be flagged"
            )
        else:
            said = (
                f"offset_ rests on only {n} {what} scores: at contamination={contamination:g} new normal samples are "
                f"flagged at a rate of {mean:.3f} on average, varying by {spread:.3f} (one standard deviation) from "
                "one fit to the next"
            )
        warnings.warn(
            CalibrationWarning(
                f"{said}; hold out at least {enough} normal samples (more training data or a larger "
                "validation_fraction) for a spread within half of contamination"
            ),
            stacklevel=2,
        )
    # Just above the k-th score, so that it is flagged itself: then exactly k of the n scores are flagged
    # (which scikit-learn's checks count on the training set when validation_fraction=0), and a new
    # normal sample is flagged when its score is at most the k-th, with probability k / (n + 1).
    return float(np.nextafter(scores[max(k, 1) - 1], np.inf))


def draw_seed(rng: np.random.RandomState) -> int:
    """One int32 seed from ``rng``, for a torch generator or an inner estimator's ``random_state``."""
    return int(rng.randint(np.iinfo(np.int32).max))
