"""Histograms of anomaly scores, normal against anomalous, with the detector's threshold."""

from __future__ import annotations

import numpy as np
from sklearn.utils._plotting import _validate_style_kwargs
from sklearn.utils.validation import column_or_1d

from .._outlier import anomaly_scores
from ._common import LABELS, anomaly_threshold, check_labels, check_matplotlib, single_axes


class ScoreHistogramDisplay:
    """Histograms of anomaly scores of normal and anomalous samples, on shared bins, with the threshold.

    Where the two histograms overlap, no threshold separates the classes; the
    dashed line shows where the detector's ``predict`` cuts. Create it with
    :meth:`from_estimator` or :meth:`from_predictions`; all parameters are
    stored as attributes.

    Parameters
    ----------
    scores : ndarray of shape (n_samples,)
        Anomaly scores, higher = more abnormal (``detector.anomaly_score(X)``).
    y : ndarray of shape (n_samples,)
        1 for anomalous samples, 0 for normal ones.
    threshold : float or None, default=None
        Anomaly-score threshold to draw (``-detector.offset_``); None draws none.
    name : str or None, default=None
        Title of the axes.

    Attributes
    ----------
    bars_ : dict of str to matplotlib BarContainer
        The bars of each class, keys ``"normal"`` and ``"anomalous"``.
    threshold_line_ : matplotlib Line2D or None
        The threshold's vertical line.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skgan_ad.plotting import ScoreHistogramDisplay
    >>> scores = np.r_[np.random.RandomState(0).normal(size=50), [3.0, 4.0]]
    >>> y = np.r_[np.zeros(50), [1, 1]]
    >>> display = ScoreHistogramDisplay.from_predictions(scores, y, threshold=1.5, bins=10)
    >>> display.threshold_line_.get_xdata()[0]
    1.5
    """

    def __init__(self, *, scores, y, threshold=None, name=None):
        self.scores = scores
        self.y = y
        self.threshold = threshold
        self.name = name

    def plot(self, ax=None, *, name=None, bins=30, density=True, hist_kwargs=None, threshold_kwargs=None):
        """Draw the histograms and the threshold.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None makes a new figure.
        name : str or None, default=None
            Title; None uses ``self.name``.
        bins : int, sequence or str, default=30
            As in :func:`numpy.histogram_bin_edges`, over both classes' scores,
            so the two histograms share their bins.
        density : bool, default=True
            Normalise each class's histogram to unit area, so a few anomalies
            stay visible next to many normals; False shows counts.
        hist_kwargs, threshold_kwargs : dict or None, default=None
            Passed to matplotlib's ``hist`` (both classes) and ``axvline``.

        Returns
        -------
        display : ScoreHistogramDisplay
        """
        check_matplotlib(f"{type(self).__name__}.plot")
        self.ax_, self.figure_ = single_axes(ax)
        scores = np.asarray(self.scores, dtype=np.float64)
        y = np.asarray(self.y)
        edges = np.histogram_bin_edges(scores, bins=bins)
        hist_kwargs = _validate_style_kwargs({"alpha": 0.6}, hist_kwargs or {})
        self.bars_ = {}
        for label, value in zip(LABELS, (0, 1)):
            _, _, self.bars_[label] = self.ax_.hist(
                scores[y == value], bins=edges, density=density, label=label, **hist_kwargs
            )
        self.threshold_line_ = None
        if self.threshold is not None:
            line_kwargs = _validate_style_kwargs(
                {"color": "k", "linestyle": "--", "label": f"threshold {self.threshold:.3g}"}, threshold_kwargs or {}
            )
            self.threshold_line_ = self.ax_.axvline(self.threshold, **line_kwargs)
        self.ax_.set(xlabel="anomaly score", ylabel="density" if density else "count")
        name = self.name if name is None else name
        if name:
            self.ax_.set_title(name)
        self.ax_.legend()
        return self

    @classmethod
    def from_estimator(cls, estimator, X, y, *, threshold="offset", name=None, ax=None, **kwargs):
        """Score ``X`` with a fitted detector and draw its histograms and threshold.

        Parameters
        ----------
        estimator : fitted outlier detector or Pipeline ending in one
            Its anomaly scores come from ``anomaly_score``, else ``-score_samples``.
        X : array-like
            Samples to score, in any layout the detector takes.
        y : array-like of shape (n_samples,)
            1 for anomalous samples, 0 for normal ones.
        threshold : "offset", float or None, default="offset"
            "offset" draws the detector's own threshold ``-offset_`` (none when
            it has no ``offset_``); a float draws that; None draws none.
        name : str or None, default=None
            Title; None uses the estimator's class name.
        ax : matplotlib Axes, default=None
        **kwargs
            Passed to :meth:`plot` (``bins``, ``density``, ...).

        Returns
        -------
        display : ScoreHistogramDisplay
        """
        check_matplotlib(f"{cls.__name__}.from_estimator")
        if isinstance(threshold, str):
            if threshold != "offset":
                raise ValueError(f"threshold must be 'offset', a float or None, got {threshold!r}")
            threshold = anomaly_threshold(estimator)
        name = type(estimator).__name__ if name is None else name
        return cls.from_predictions(anomaly_scores(estimator, X), y, threshold=threshold, name=name, ax=ax, **kwargs)

    @classmethod
    def from_predictions(cls, scores, y, *, threshold=None, name=None, ax=None, **kwargs):
        """Draw the histograms of precomputed anomaly scores.

        Parameters
        ----------
        scores : array-like of shape (n_samples,)
            Anomaly scores, higher = more abnormal.
        y : array-like of shape (n_samples,)
            1 for anomalous samples, 0 for normal ones; both must be present.
        threshold : float or None, default=None
            Anomaly-score threshold to draw.
        name : str or None, default=None
            Title.
        ax : matplotlib Axes, default=None
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : ScoreHistogramDisplay
        """
        check_matplotlib(f"{cls.__name__}.from_predictions")
        scores = column_or_1d(scores).astype(np.float64)
        y = check_labels(y, len(scores))
        threshold = None if threshold is None else float(threshold)
        return cls(scores=scores, y=y, threshold=threshold, name=name).plot(ax=ax, **kwargs)
