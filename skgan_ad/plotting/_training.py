"""Training curves from a fitted detector's ``history_``."""

from __future__ import annotations

import numpy as np
from sklearn.utils._plotting import _validate_style_kwargs

from .._outlier import final_estimator
from ._common import check_matplotlib, single_axes

# The curves that say whether a GAN trained: its two players and the held-out loss.
DEFAULT_CURVES = {"train_loss": "generator", "train_d_loss": "discriminator", "valid_loss": "validation"}


class TrainingCurveDisplay:
    """Per-epoch losses of a fitted detector: generator, discriminator and validation loss by default.

    A discriminator loss falling to zero while the generator loss climbs is
    a collapsed game; a validation loss rising while the training losses fall
    is overfitting. Create it with :meth:`from_estimator` or
    :meth:`from_history`.

    Parameters
    ----------
    epochs : ndarray of shape (n_epochs,)
    losses : dict of str to ndarray of shape (n_epochs,)
        One curve per label; NaN where an epoch has no value.
    name : str or None, default=None
        Title of the axes.

    Attributes
    ----------
    lines_ : dict of str to matplotlib Line2D
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skgan_ad import SkipGANomalyDetector
    >>> from skgan_ad.plotting import TrainingCurveDisplay
    >>> X = np.random.RandomState(0).normal(size=(64, 4))
    >>> det = SkipGANomalyDetector(n_epochs=3, hidden_dims=(8, 4), random_state=0).fit(X)
    >>> sorted(TrainingCurveDisplay.from_estimator(det).lines_)
    ['discriminator', 'generator', 'validation']
    """

    def __init__(self, *, epochs, losses, name=None):
        self.epochs = epochs
        self.losses = losses
        self.name = name

    def plot(self, ax=None, *, name=None, yscale=None, line_kwargs=None):
        """Draw one line per loss.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        name : str or None, default=None
            Title; None uses ``self.name``.
        yscale : {"linear", "log"} or None, default=None
            None picks "log" when every loss is positive (the generator's
            weighted sum and the discriminator's cross-entropy differ by orders
            of magnitude), else "linear".
        line_kwargs : dict or None, default=None
            Passed to matplotlib's ``plot`` for every line.

        Returns
        -------
        display : TrainingCurveDisplay
        """
        check_matplotlib(f"{type(self).__name__}.plot")
        self.ax_, self.figure_ = single_axes(ax)
        line_kwargs = _validate_style_kwargs({"marker": "." if len(self.epochs) < 30 else None}, line_kwargs or {})
        self.lines_ = {}
        for label, values in self.losses.items():
            (self.lines_[label],) = self.ax_.plot(self.epochs, values, label=label, **line_kwargs)
        if yscale is None:
            values = np.concatenate([np.asarray(v, dtype=np.float64) for v in self.losses.values()])
            yscale = "log" if np.all(values[np.isfinite(values)] > 0) else "linear"
        self.ax_.set(xlabel="epoch", ylabel="loss", yscale=yscale)
        name = self.name if name is None else name
        if name:
            self.ax_.set_title(name)
        self.ax_.legend()
        return self

    @classmethod
    def from_estimator(cls, estimator, *, keys=None, name=None, ax=None, **kwargs):
        """Draw the curves of a fitted detector's ``history_``.

        Parameters
        ----------
        estimator : fitted detector (or Pipeline ending in one) with ``history_``
        keys, name, ax, **kwargs
            As in :meth:`from_history`; ``name`` defaults to the estimator's class name.

        Returns
        -------
        display : TrainingCurveDisplay
        """
        check_matplotlib(f"{cls.__name__}.from_estimator")
        history = getattr(final_estimator(estimator), "history_", None)
        if history is None:
            raise ValueError(f"{type(estimator).__name__} has no history_: fit it first (GAN detectors record one)")
        name = type(estimator).__name__ if name is None else name
        return cls.from_history(history, keys=keys, name=name, ax=ax, **kwargs)

    @classmethod
    def from_history(cls, history, *, keys=None, name=None, ax=None, **kwargs):
        """Draw curves from a skorch ``History`` (or any list of per-epoch dicts).

        Parameters
        ----------
        history : skorch.History or list of dict
            One dict per epoch, as ``detector.history_`` or ``net.history``.
        keys : list of str, dict of str to str, or None, default=None
            History keys to draw (a dict maps each key to its legend label).
            None draws ``train_loss`` (generator), ``train_d_loss``
            (discriminator) and ``valid_loss`` (validation), leaving out those
            the history lacks (no ``valid_loss`` with ``validation_fraction=0``).
        name : str or None, default=None
        ax : matplotlib Axes, default=None
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : TrainingCurveDisplay
        """
        check_matplotlib(f"{cls.__name__}.from_history")
        epochs = list(history)
        if not epochs:
            raise ValueError("history is empty: no epoch to draw")
        labels = DEFAULT_CURVES if keys is None else keys if isinstance(keys, dict) else {key: key for key in keys}
        present = {key for epoch in epochs for key in epoch}
        missing = [key for key in labels if key not in present]
        if keys is not None and missing:
            raise ValueError(f"keys {missing} are not in the history; it has {sorted(present)}")
        losses = {
            label: np.array([epoch.get(key, np.nan) for epoch in epochs], dtype=np.float64)
            for key, label in labels.items()
            if key in present
        }
        if not losses:
            raise ValueError(f"none of the keys {list(labels)} is in the history; it has {sorted(present)}")
        numbers = np.array([epoch.get("epoch", i + 1) for i, epoch in enumerate(epochs)])
        return cls(epochs=numbers, losses=losses, name=name).plot(ax=ax, **kwargs)
