"""What every outlier estimator of the package shares: the sign conventions, a clean fit, the held-out split.

:class:`AnomalyScoreMixin` derives ``score_samples``, ``decision_function``
and ``predict`` from an estimator's ``anomaly_score`` and ``offset_``, and
gives it a ``fit`` that leaves no half-fitted state behind.
"""

from __future__ import annotations

import numpy as np


class AnomalyScoreMixin:
    """scikit-learn's outlier API from ``anomaly_score(X)`` (higher = more abnormal) and ``offset_``.

    Subclasses implement ``anomaly_score`` and, to use :meth:`_fit_cleanly`, ``_fit(X)``.
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

    def _fit_cleanly(self, X):
        """Validate the parameters and run ``_fit(X)``; a failed fit leaves an unfitted estimator."""
        self._validate_params()
        try:
            self._fit(X)
        except BaseException:
            for key in [k for k in vars(self) if k.endswith("_") and not k.startswith("__")]:
                delattr(self, key)
            raise
        return self


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
