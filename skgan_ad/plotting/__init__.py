"""Figures of fitted detectors, as scikit-learn Display objects. Needs matplotlib (``pip install 'skgan_ad[plots]'``).

Each Display follows scikit-learn's pattern (:class:`sklearn.metrics.RocCurveDisplay`):
``from_estimator(detector, X, ...)`` computes what to draw from a fitted
detector and draws it, ``from_predictions(...)`` (or ``from_history``,
``from_features``) draws precomputed values, ``plot(ax=...)`` draws again on
other axes and returns the display, whose ``figure_`` and ``ax_`` (``axes_``
for grids) hold what was drawn.

* :class:`ScoreHistogramDisplay`: anomaly scores of normal vs anomalous samples, with the threshold;
* :class:`ReconstructionDisplay`: inputs, reconstructions G(x) and residual maps of chosen images;
* :class:`TrainingCurveDisplay`: generator, discriminator and validation losses from ``history_``;
* :class:`FeatureEmbeddingDisplay`: PCA or t-SNE of the discriminator's features, normal vs anomalous;
* :class:`AnomalyMapDisplay`: anomaly maps over their images, optionally with the highest patch outlined.

ROC and precision-recall curves are scikit-learn's own displays, fed with
anomaly scores (higher = more abnormal) and ``y = 1`` for anomalies::

    from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay
    RocCurveDisplay.from_predictions(y, detector.anomaly_score(X))
    PrecisionRecallDisplay.from_predictions(y, detector.anomaly_score(X))

Their ``from_estimator`` would rank by ``decision_function``, which is higher
for *normal* samples, and so draw the curve of the opposite class.
"""

from ._features import FeatureEmbeddingDisplay
from ._images import AnomalyMapDisplay, ReconstructionDisplay
from ._scores import ScoreHistogramDisplay
from ._training import TrainingCurveDisplay

__all__ = [
    "AnomalyMapDisplay",
    "FeatureEmbeddingDisplay",
    "ReconstructionDisplay",
    "ScoreHistogramDisplay",
    "TrainingCurveDisplay",
]
