"""A 2-D embedding of the discriminator's features, normal against anomalous (Skip-GANomaly's Figure 6)."""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.utils._plotting import _validate_style_kwargs
from sklearn.utils.validation import check_array

from .._outlier import final_estimator
from ._common import LABELS, check_labels, check_matplotlib, single_axes

_AXIS_NAMES = {"pca": "PC", "tsne": "t-SNE"}


def discriminator_features(estimator, X) -> np.ndarray:
    """The discriminator's feature vector f(x) of each sample, float64 of shape (n_samples, n_features).

    f(x) is the last feature map before the discriminator's classifier (what
    the ``feature`` score part compares). EGBAD's discriminator judges pairs
    (x, E(x)), so it gets the encoder's code with each sample.
    """
    detector = final_estimator(estimator)
    if not hasattr(detector, "discriminator_features"):
        raise TypeError(
            f"{type(estimator).__name__} has no discriminator: discriminator features need a fitted GAN "
            "detector (use FeatureEmbeddingDisplay.from_features for features from elsewhere)"
        )
    return detector.discriminator_features(X)


class FeatureEmbeddingDisplay:
    """Samples placed by a 2-D embedding (PCA or t-SNE) of their discriminator features, coloured by class.

    Skip-GANomaly's Figure 6: when the discriminator has learned the normal
    data, anomalous samples fall away from the normal cluster. Create it with
    :meth:`from_estimator` or :meth:`from_features`.

    Parameters
    ----------
    embedding : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,)
        1 for anomalous samples, 0 for normal ones.
    method : {"pca", "tsne"}
        How the embedding was made (names the axes).
    name : str or None, default=None
        Title of the axes.

    Attributes
    ----------
    scatters_ : dict of str to matplotlib PathCollection
        Keys ``"normal"`` and ``"anomalous"``.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skgan_ad.plotting import FeatureEmbeddingDisplay
    >>> rng = np.random.RandomState(0)
    >>> features = np.r_[rng.normal(size=(30, 5)), rng.normal(loc=4, size=(5, 5))]
    >>> y = np.r_[np.zeros(30), np.ones(5)]
    >>> display = FeatureEmbeddingDisplay.from_features(features, y)
    >>> display.embedding.shape, display.ax_.get_xlabel()
    ((35, 2), 'PC 1')
    """

    def __init__(self, *, embedding, y, method, name=None):
        self.embedding = embedding
        self.y = y
        self.method = method
        self.name = name

    def plot(self, ax=None, *, name=None, scatter_kwargs=None):
        """Draw the normal and the anomalous samples.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        name : str or None, default=None
            Title; None uses ``self.name``.
        scatter_kwargs : dict or None, default=None
            Passed to matplotlib's ``scatter`` for both classes.

        Returns
        -------
        display : FeatureEmbeddingDisplay
        """
        check_matplotlib(f"{type(self).__name__}.plot")
        self.ax_, self.figure_ = single_axes(ax)
        scatter_kwargs = _validate_style_kwargs({"s": 12, "alpha": 0.7}, scatter_kwargs or {})
        y = np.asarray(self.y)
        self.scatters_ = {
            label: self.ax_.scatter(*self.embedding[y == value].T, label=label, **scatter_kwargs)
            for label, value in zip(LABELS, (0, 1))
        }
        axis = _AXIS_NAMES[self.method]
        self.ax_.set(xlabel=f"{axis} 1", ylabel=f"{axis} 2")
        name = self.name if name is None else name
        if name:
            self.ax_.set_title(name)
        self.ax_.legend()
        return self

    @classmethod
    def from_estimator(cls, estimator, X, y, *, method="pca", random_state=None, name=None, ax=None, **kwargs):
        """Embed the discriminator features of ``X`` from a fitted GAN detector and draw them.

        Parameters
        ----------
        estimator : fitted GAN detector (or Pipeline ending in one)
        X : array-like
            Samples, in any layout the detector takes.
        y : array-like of shape (n_samples,)
            1 for anomalous samples, 0 for normal ones.
        method, random_state, name, ax, **kwargs
            As in :meth:`from_features`; ``name`` defaults to the estimator's class name.

        Returns
        -------
        display : FeatureEmbeddingDisplay
        """
        check_matplotlib(f"{cls.__name__}.from_estimator")
        name = type(estimator).__name__ if name is None else name
        features = discriminator_features(estimator, X)
        return cls.from_features(features, y, method=method, random_state=random_state, name=name, ax=ax, **kwargs)

    @classmethod
    def from_features(cls, features, y, *, method="pca", random_state=None, name=None, ax=None, **kwargs):
        """Embed precomputed features in 2-D and draw them.

        Parameters
        ----------
        features : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            1 for anomalous samples, 0 for normal ones; both must be present.
        method : {"pca", "tsne"}, default="pca"
            :class:`~sklearn.decomposition.PCA` (fast, linear, deterministic) or
            :class:`~sklearn.manifold.TSNE` (the paper's figure; keeps local
            neighbourhoods, slow beyond a few thousand samples).
        random_state : int, RandomState instance or None, default=None
            Seeds the embedding.
        name : str or None, default=None
        ax : matplotlib Axes, default=None
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : FeatureEmbeddingDisplay
        """
        check_matplotlib(f"{cls.__name__}.from_features")
        if method not in _AXIS_NAMES:
            raise ValueError(f"method must be one of {sorted(_AXIS_NAMES)}, got {method!r}")
        features = check_array(features, dtype=np.float64, ensure_min_samples=3, input_name="features")
        y = check_labels(y, len(features), name="feature rows")
        if method == "pca":
            embedding = PCA(n_components=2, random_state=random_state).fit_transform(features)
        else:
            # t-SNE needs more samples than its perplexity; scikit-learn's default 30 otherwise.
            perplexity = min(30.0, (len(features) - 1) / 3)
            embedding = TSNE(perplexity=perplexity, init="pca", random_state=random_state).fit_transform(features)
        return cls(embedding=embedding, y=y, method=method, name=name).plot(ax=ax, **kwargs)
