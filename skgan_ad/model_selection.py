"""Model selection with anomaly labels, without training on anomalies or tuning on the test set.

* :class:`NormalOnlySplit` wraps any cross-validation splitter so every
  training fold holds normal samples only, while test folds keep both classes:
  with :func:`skgan_ad.metrics.anomaly_auc_scorer` it makes ``GridSearchCV``
  tune a detector the way it will be used (trained on normals, judged on
  labelled data).
* :class:`ScoreCombiner` learns how to mix a detector's score parts
  (``score_components``) from a small labelled validation set, instead of the
  fixed ``embedding_weight`` / ``lambda_score`` weighting.

Labels are ``y = 1`` for an anomaly and ``y = 0`` for a normal sample.
"""

from __future__ import annotations

from dataclasses import MISSING
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import BaseCrossValidator, StratifiedKFold, check_cv, train_test_split
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_consistent_length, check_is_fitted

from ._outlier import AnomalyScoreMixin, threshold_at
from ._params import estimator_params, param
from ._validation import CONTAMINATION, POSITIVE_INT, HasMethods, Interval
from .metrics import check_anomaly_labels

__all__ = ["NormalOnlySplit", "ScoreCombiner"]


class NormalOnlySplit(BaseCrossValidator):
    """Cross-validation that trains on the normal samples of each training fold only.

    Each split of the wrapped splitter becomes ``(train[y[train] == 0], test)``:
    the anomalies of a training fold are dropped (a detector is fitted on
    normal data), the test fold is kept whole (normals and anomalies, so a
    ranking metric can be computed on it). Every sample still lies in exactly
    one test fold.

    Parameters
    ----------
    cv : int, cross-validation generator or iterable, default=5
        An int (or None, meaning 5) is ``StratifiedKFold(cv, shuffle=False)``
        on the anomaly labels, so every test fold gets both classes in
        proportion. Anything else goes through
        :func:`sklearn.model_selection.check_cv` (e.g. ``StratifiedKFold(5,
        shuffle=True, random_state=0)``, ``GroupKFold``, a list of splits).

    Notes
    -----
    ``GridSearchCV(refit=True)`` refits ``best_estimator_`` on *all* of the
    ``X`` given to ``fit``, anomalies included; the splitter cannot prevent
    that. Pass ``refit=False`` and fit the chosen configuration on the normal
    samples yourself, as in the example. Use :func:`skgan_ad.metrics.anomaly_auc_scorer`
    (or ``make_anomaly_scorer``), not ``scoring="roc_auc"``, which ranks
    anomalies backwards for outlier detectors.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.base import clone
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skgan_ad import SkipGANomalyDetector
    >>> from skgan_ad.metrics import anomaly_auc_scorer
    >>> rng = np.random.RandomState(0)
    >>> X = np.r_[rng.normal(size=(120, 2)), rng.normal(size=(30, 2)) + 3]
    >>> y = np.r_[np.zeros(120, int), np.ones(30, int)]
    >>> det = SkipGANomalyDetector(n_epochs=2, hidden_dims=(8, 4), random_state=0)
    >>> search = GridSearchCV(
    ...     det, {"embedding_weight": [0.0, 1.0]}, scoring=anomaly_auc_scorer, cv=NormalOnlySplit(3), refit=False
    ... ).fit(X, y)
    >>> best = clone(det).set_params(**search.best_params_).fit(X[y == 0])
    >>> [len(train) for train, _ in NormalOnlySplit(3).split(X, y)]
    [80, 80, 80]
    """

    def __init__(self, cv=5):
        self.cv = cv

    def _splitter(self):
        if self.cv is None or (isinstance(self.cv, Integral) and not isinstance(self.cv, bool)):
            # Explicit rather than check_cv's choice, which depends on the label type it sees.
            return StratifiedKFold(n_splits=5 if self.cv is None else int(self.cv), shuffle=False)
        return check_cv(self.cv)

    def split(self, X, y=None, groups=None):
        """Generate ``(train, test)`` index arrays; train holds only samples with ``y == 0``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Only its length is used (and whatever the wrapped splitter reads).
        y : array-like of shape (n_samples,)
            Required: 1 for an anomaly, 0 for a normal sample.
        groups : array-like of shape (n_samples,), default=None
            Passed to the wrapped splitter.

        Yields
        ------
        train : ndarray of int
            Indices of the normal samples of the training fold.
        test : ndarray of int
            Indices of the test fold, both classes.
        """
        if y is None:
            raise ValueError(
                "NormalOnlySplit needs the labels y (1 anomaly, 0 normal) to drop anomalies from the training "
                "folds; pass them to split(), or to GridSearchCV.fit(X, y) / cross_val_score(..., y=y)"
            )
        y = check_anomaly_labels(y)
        check_consistent_length(X, y, groups)
        for i, (train, test) in enumerate(self._splitter().split(X, y, groups)):
            train = np.asarray(train)
            normal_train = train[y[train] == 0]
            if len(normal_train) == 0:
                raise ValueError(f"training fold {i} has no normal sample (y == 0) to fit a detector on")
            yield normal_train, np.asarray(test)

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """Number of splits, that of the wrapped splitter."""
        return self._splitter().get_n_splits(X, y, groups)


@estimator_params
class ScoreCombiner(AnomalyScoreMixin, OutlierMixin, BaseEstimator):
    """Learn how to combine a detector's score parts from a small labelled validation set.

    A detector's anomaly score mixes parts of its :meth:`~skgan_ad.BaseGANDetector.score_components`
    with fixed weights (``embedding_weight`` and ``lambda_score``). When a few
    labelled anomalies are available, a classifier on the standardised parts
    (``score_components(X, standardize=True)``, columns in sorted name order)
    can learn a better mix, linear or not. The detector's networks are trained
    on normal data only; only the small combiner sees the anomalies.

    Two ways to fit:

    * ``fit(X_normal)`` then ``fit_combiner(X_val, y_val)``: the detector
      trains on ``X_normal``, the combiner on a separate labelled set;
    * ``fit(X, y)`` with labels: the anomalies and a ``validation_size``
      share of the normals (stratified, seeded by ``random_state``) go to the
      combiner, the remaining normals train the detector. This one-call form
      also works in ``cross_val_score`` / ``GridSearchCV`` with an ordinary
      ``StratifiedKFold`` (not :class:`NormalOnlySplit`, which would hide the
      anomalies the combiner needs).

    Parameters
    ----------
    detector : estimator
        An unfitted detector with ``score_components(X, standardize=True)``,
        e.g. :class:`~skgan_ad.SkipGANomalyDetector`; a clone is fitted.
    combiner : classifier or None, default=None
        Any binary classifier with ``decision_function`` or ``predict_proba``
        (``LogisticRegression()`` when None; e.g. ``SVC()`` for a non-linear
        mix). A clone is fitted with ``y = 1`` for anomalies.
    contamination : float in (0, 0.5] or None, default=None
        Share of normal validation samples to flag, which places ``offset_``.
        None takes the detector's ``contamination`` (0.1 if it has none).
    validation_size : float in (0, 1) or int, default=0.3
        Only for ``fit(X, y)`` with labels: share (or number) of the normal
        samples held out for the combiner.
    random_state : int, RandomState instance or None, default=None
        Only for ``fit(X, y)`` with labels: seeds the held-out split.

    Attributes
    ----------
    detector_ : estimator
        The fitted clone of ``detector``.
    combiner_ : classifier
        The fitted clone of ``combiner`` (set by :meth:`fit_combiner`).
    component_names_ : list of str
        The score parts, in the order of the combiner's input columns.
    offset_ : float
        ``decision_function = score_samples - offset_``: the ``contamination``
        quantile of ``score_samples`` on the normal samples of the combiner's
        validation set. The combiner was fitted on those same samples, so the
        threshold is somewhat optimistic; a detector's own ``offset_`` comes
        from held-out normals no model has seen, but the combined score has
        no such set (the detector's held-out normals are not kept).
    n_features_in_ : int
        From the detector.

    Examples
    --------
    >>> import numpy as np
    >>> from skgan_ad import SkipGANomalyDetector
    >>> rng = np.random.RandomState(0)
    >>> X_normal = rng.normal(size=(200, 2))
    >>> X_val = np.r_[rng.normal(size=(40, 2)), rng.normal(size=(10, 2)) + 3]
    >>> y_val = np.r_[np.zeros(40, int), np.ones(10, int)]
    >>> det = SkipGANomalyDetector(n_epochs=2, hidden_dims=(8, 4), random_state=0)
    >>> model = ScoreCombiner(det).fit(X_normal).fit_combiner(X_val, y_val)
    >>> model.anomaly_score(X_val[:3]).shape
    (3,)
    """

    detector: object = param(MISSING, HasMethods(["fit", "score_components"]), positional=True)
    combiner: object = param(None, HasMethods(["fit"]), None, positional=True)
    contamination: float | None = param(None, CONTAMINATION, None)
    validation_size: float | int = param(0.3, Interval(Real, 0, 1, closed="neither"), POSITIVE_INT)
    random_state: int | np.random.RandomState | None = param(None, "random_state")

    # -- fitting -------------------------------------------------------------------
    def fit(self, X, y=None):
        """Fit a clone of the detector on normal data, and the combiner too when ``y`` has anomalies.

        Parameters
        ----------
        X : array-like
            Normal samples when ``y`` is None; otherwise labelled samples.
        y : array-like of shape (n_samples,) or None, default=None
            None (or all 0): ``X`` is normal and trains the detector; call
            :meth:`fit_combiner` next. With anomalies (1): split as described
            in the class docstring and fit both.

        Returns
        -------
        self
        """
        # The same clean-fit path as every estimator here: parameters validated, and a
        # failed fit (or refit) leaves nothing of an earlier fit behind.
        return self._fit_cleanly(X, y)

    def _fit(self, X, y=None) -> None:
        if y is None or not np.any(check_anomaly_labels(y)):
            self._fit_detector(X)
            return
        y = check_anomaly_labels(y)
        check_consistent_length(X, y)
        normal = np.flatnonzero(y == 0)
        if len(normal) < 2:
            raise ValueError("fit(X, y) needs at least two normal samples (y == 0): one to train, one to validate")
        train, held_out = train_test_split(normal, test_size=self.validation_size, random_state=self.random_state)
        validation = np.sort(np.concatenate([held_out, np.flatnonzero(y == 1)]))
        self._fit_detector(_safe_indexing(X, np.sort(train)))
        self.fit_combiner(_safe_indexing(X, validation), y[validation])

    def _fit_detector(self, X) -> None:
        self.detector_ = clone(self.detector).fit(X)
        if hasattr(self.detector_, "n_features_in_"):
            self.n_features_in_ = self.detector_.n_features_in_

    def fit_combiner(self, X, y):
        """Fit the combiner on the standardised score parts of labelled samples (after :meth:`fit`).

        Use samples the detector was not trained on: its training samples are
        memorised and score too well.

        Parameters
        ----------
        X : array-like
            Labelled validation samples, both classes.
        y : array-like of shape (n_samples,)
            1 for an anomaly, 0 for a normal sample.

        Returns
        -------
        self
        """
        check_is_fitted(self, "detector_")
        y = check_anomaly_labels(y)
        if len(np.unique(y)) < 2:
            raise ValueError("fit_combiner needs both normal (0) and anomalous (1) samples")
        contamination = self.contamination
        if contamination is None:
            contamination = getattr(self.detector_, "contamination", 0.1)
        if not isinstance(contamination, Real) or not 0 < contamination <= 0.5:
            raise ValueError(f"contamination must be a float in (0, 0.5], got {contamination!r}")

        parts = self.detector_.score_components(X, standardize=True)
        check_consistent_length(next(iter(parts.values())), y)
        names = sorted(parts)
        features = _stack(parts, names)
        combiner = clone(LogisticRegression() if self.combiner is None else self.combiner).fit(features, y)
        if not (hasattr(combiner, "decision_function") or hasattr(combiner, "predict_proba")):
            raise TypeError(f"combiner must have decision_function or predict_proba; got {self.combiner!r}")
        # Set together, once everything has worked: a failed call leaves the earlier combiner in place.
        self.component_names_, self.combiner_ = names, combiner
        self.offset_ = threshold_at(-self._combined(features[y == 0]), contamination)
        return self

    # -- scoring ---------------------------------------------------------------------
    def anomaly_score(self, X) -> np.ndarray:
        """The combiner's anomaly score of ``X``, float64 of shape (n,): higher is more abnormal.

        ``decision_function`` of the combiner when it has one (a logit or a
        margin: it does not saturate at 0 or 1), else the predicted
        probability of the anomaly class.
        """
        check_is_fitted(self, "combiner_")
        return self._combined(_stack(self.detector_.score_components(X, standardize=True), self.component_names_))

    # -- helpers ---------------------------------------------------------------------

    def _combined(self, features: np.ndarray) -> np.ndarray:
        combiner = self.combiner_
        positive = list(combiner.classes_).index(1)
        if hasattr(combiner, "decision_function"):
            values = np.asarray(combiner.decision_function(features), dtype=np.float64)
            # Binary decision_function scores classes_[1]; flip if the anomaly class is classes_[0].
            return values if positive == 1 else -values
        return np.asarray(combiner.predict_proba(features)[:, positive], dtype=np.float64)


def _stack(parts: dict, names: list) -> np.ndarray:
    """Score parts as the combiner's input columns, in the order of ``names``."""
    return np.column_stack([np.asarray(parts[name], dtype=np.float64) for name in names])
