"""Image figures: reconstructions with their residuals, and anomaly maps over their images."""

from __future__ import annotations

import numpy as np
from sklearn.utils._plotting import _validate_style_kwargs

from ._common import (
    axes_row,
    check_images,
    check_matplotlib,
    display_images,
    image_shape_of,
    select,
    to_unit_range,
)


def _check_titles(titles, n: int):
    if titles is not None and len(titles) != n:
        raise ValueError(f"titles must give one title per image ({n}), got {len(titles)}")
    return titles


class ReconstructionDisplay:
    """Inputs, their reconstructions G(x) and residual maps ``|x - G(x)|``, one column per image.

    A generator trained on normal data reconstructs normal images and fails
    on anomalies: the residual row shows where. Inputs and reconstructions
    share one grey scale (the inputs' range); residuals share one colour scale
    from 0, so columns compare at a glance. Create it with
    :meth:`from_estimator` or :meth:`from_predictions`.

    Parameters
    ----------
    images, reconstructions : ndarray of shape (n, H, W) or (n, H, W, C)
        Inputs and reconstructions, in the same scale.
    residuals : ndarray of shape (n, H, W)
        ``|images - reconstructions|``, averaged over channels.
    titles : list of str or None, default=None
        One title per column.
    name : str or None, default=None
        Title of the figure.

    Attributes
    ----------
    axes_ : ndarray of matplotlib Axes, shape (3, n)
        Rows: inputs, reconstructions, residuals.
    figure_ : matplotlib Figure or SubFigure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skgan_ad import SkipGANomalyDetector
    >>> from skgan_ad.datasets import load_digits_images
    >>> from skgan_ad.plotting import ReconstructionDisplay
    >>> images, _ = load_digits_images()
    >>> det = SkipGANomalyDetector(n_epochs=1, ngf=4, ndf=4, random_state=0).fit(images[:100])
    >>> display = ReconstructionDisplay.from_estimator(det, images[100:], indices=[0, 1, 2])
    >>> display.axes_.shape
    (3, 3)
    """

    def __init__(self, *, images, reconstructions, residuals, titles=None, name=None):
        self.images = images
        self.reconstructions = reconstructions
        self.residuals = residuals
        self.titles = titles
        self.name = name

    def plot(
        self, fig=None, *, name=None, cmap="gray", residual_cmap="magma", row_labels=("input", "G(x)", "|x - G(x)|")
    ):
        """Draw the grid.

        Parameters
        ----------
        fig : matplotlib Figure or SubFigure, default=None
            Where to draw the 3 x n grid; None makes a new figure.
        name : str or None, default=None
            Figure title; None uses ``self.name``.
        cmap, residual_cmap : str, default="gray", "magma"
            Colour maps of grey images and of residuals.
        row_labels : three str, default ``("input", "G(x)", "|x - G(x)|")``

        Returns
        -------
        display : ReconstructionDisplay
        """
        check_matplotlib(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        n = len(self.images)
        self.figure_ = plt.figure(figsize=(1.2 * n, 3.8)) if fig is None else fig
        self.axes_ = self.figure_.subplots(3, n, squeeze=False)
        lo, hi = float(np.min(self.images)), float(np.max(self.images))
        rows = [to_unit_range(self.images, lo, hi), to_unit_range(self.reconstructions, lo, hi), self.residuals]
        residual_max = float(np.max(self.residuals)) or 1.0
        for i, row in enumerate(rows):
            kwargs = {"cmap": cmap, "vmin": 0.0, "vmax": 1.0} if i < 2 else {"cmap": residual_cmap, "vmin": 0.0}
            if i == 2:
                kwargs["vmax"] = residual_max
            for j, ax in enumerate(self.axes_[i]):
                ax.imshow(row[j], **kwargs)
                ax.set_xticks([])
                ax.set_yticks([])
            self.axes_[i, 0].set_ylabel(row_labels[i])
        for ax, title in zip(self.axes_[0], self.titles or ()):
            ax.set_title(title, fontsize="small")
        name = self.name if name is None else name
        if name:
            self.figure_.suptitle(name)
        return self

    @classmethod
    def from_estimator(cls, estimator, X, *, indices=None, titles=None, name=None, fig=None, **kwargs):
        """Reconstruct the chosen images with a fitted image detector and draw them.

        Parameters
        ----------
        estimator : fitted detector with ``reconstruct`` and ``image_shape_``
            Fitted on images; tabular detectors raise a ValueError.
        X : array-like of images, any layout the detector takes
        indices : array-like of int or None, default=None
            Which samples of ``X`` to show; None shows the first 8.
        titles : list of str or None, default=None
            One title per shown image.
        name : str or None, default=None
            Figure title.
        fig : matplotlib Figure or SubFigure, default=None
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : ReconstructionDisplay
        """
        check_matplotlib(f"{cls.__name__}.from_estimator")
        image_shape = image_shape_of(estimator, f"{cls.__name__}.from_estimator")
        X = select(X, indices)
        reconstructions = display_images(estimator.reconstruct(X), image_shape)
        return cls.from_predictions(
            display_images(X, image_shape), reconstructions, titles=titles, name=name, fig=fig, **kwargs
        )

    @classmethod
    def from_predictions(cls, images, reconstructions, *, titles=None, name=None, fig=None, **kwargs):
        """Draw precomputed reconstructions beside their inputs.

        Parameters
        ----------
        images, reconstructions : array-like of shape (n, H, W) or (n, H, W, C)
            In the same scale.
        titles, name, fig, **kwargs
            As in :meth:`from_estimator`.

        Returns
        -------
        display : ReconstructionDisplay
        """
        check_matplotlib(f"{cls.__name__}.from_predictions")
        images, reconstructions = check_images(images, "images"), check_images(reconstructions, "reconstructions")
        if images.shape != reconstructions.shape:
            raise ValueError(
                f"images and reconstructions must have the same shape, got {images.shape} and {reconstructions.shape}"
            )
        residuals = np.abs(images - reconstructions)
        if residuals.ndim == 4:
            residuals = residuals.mean(axis=-1)  # one map per image, as anomaly_map gives
        display = cls(
            images=images,
            reconstructions=reconstructions,
            residuals=residuals,
            titles=_check_titles(titles, len(images)),
            name=name,
        )
        return display.plot(fig=fig, **kwargs)


class AnomalyMapDisplay:
    """Anomaly maps laid over their images, one axes per image, optionally with a box or the true defects outlined.

    All maps share one colour scale, so a hot spot means the same in every
    image. Create it with :meth:`from_estimator` or :meth:`from_predictions`.

    Parameters
    ----------
    images : ndarray of shape (n, H, W) or (n, H, W, C)
        The images, in any scale; shown in grey (or colour) under the maps.
    anomaly_maps : ndarray of shape (n, H, W)
        One map per image (``detector.anomaly_map(X)``).
    boxes : ndarray of shape (n, 4) or None, default=None
        ``(top, left, height, width)`` of a rectangle to outline per image,
        e.g. :meth:`~skgan_ad.PatchDetector.highest_patch`.
    masks : ndarray of shape (n, H, W) or None, default=None
        Ground-truth defect masks (1 on defective pixels, e.g. ``split.masks``
        of :func:`~skgan_ad.datasets.load_industrial_folder`): their regions'
        outlines are drawn over the maps.
    titles : list of str or None, default=None
        One title per image.
    name : str or None, default=None
        Title of the figure.

    Attributes
    ----------
    axes_ : ndarray of matplotlib Axes, shape (n,)
    figure_ : matplotlib Figure or SubFigure
    overlays_ : list of matplotlib AxesImage
        The maps drawn (their colour limits are the shared scale).
    boxes_ : list of matplotlib Rectangle or None
    outlines_ : list of matplotlib ContourSet or None
        The ground-truth outlines drawn (None for an image without a defect, or without ``masks``).
    colorbar_ : matplotlib Colorbar or None

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skgan_ad.plotting import AnomalyMapDisplay
    >>> images = np.zeros((2, 8, 8))
    >>> maps = np.zeros((2, 8, 8))
    >>> maps[1, 2:4, 2:4] = 1.0
    >>> display = AnomalyMapDisplay.from_predictions(images, maps, boxes=[[0, 0, 4, 4], [2, 2, 2, 2]])
    >>> display.overlays_[0].get_clim()
    (0.0, 1.0)
    >>> outlined = AnomalyMapDisplay.from_predictions(images, maps, masks=maps > 0.5)
    >>> outlined.outlines_[0] is None, outlined.outlines_[1] is not None
    (True, True)
    """

    def __init__(self, *, images, anomaly_maps, boxes=None, masks=None, titles=None, name=None):
        self.images = images
        self.anomaly_maps = anomaly_maps
        self.boxes = boxes
        self.masks = masks
        self.titles = titles
        self.name = name

    def plot(
        self,
        ax=None,
        *,
        name=None,
        alpha=0.5,
        cmap="jet",
        vmin=None,
        vmax=None,
        colorbar=True,
        box_kwargs=None,
        mask_kwargs=None,
    ):
        """Draw each map over its image.

        Parameters
        ----------
        ax : matplotlib Axes or array-like of them, default=None
            One axes per image; None makes a new one-row figure.
        name : str or None, default=None
            Figure title; None uses ``self.name``.
        alpha : float, default=0.5
            Opacity of the maps.
        cmap : str, default="jet"
        vmin, vmax : float or None, default=None
            The shared colour scale; None takes the maps' minimum and maximum.
        colorbar : bool, default=True
            Draw one colour bar for all maps (the scale they share).
        box_kwargs : dict or None, default=None
            Passed to matplotlib's ``Rectangle``.
        mask_kwargs : dict or None, default=None
            Passed to matplotlib's ``contour`` (the ground-truth outlines).

        Returns
        -------
        display : AnomalyMapDisplay
        """
        check_matplotlib(f"{type(self).__name__}.plot")
        from matplotlib.patches import Rectangle

        self.axes_ = axes_row(ax, len(self.images), f"{type(self).__name__}.plot")
        self.figure_ = self.axes_[0].figure
        vmin = float(np.min(self.anomaly_maps)) if vmin is None else vmin
        vmax = float(np.max(self.anomaly_maps)) if vmax is None else vmax
        box_kwargs = _validate_style_kwargs({"fill": False, "edgecolor": "white", "linewidth": 1.5}, box_kwargs or {})
        mask_kwargs = _validate_style_kwargs({"colors": "white", "linewidths": 1.2}, mask_kwargs or {})
        self.overlays_, self.boxes_, self.outlines_ = [], [], []
        for j, ax in enumerate(self.axes_):
            # Each image in its own range: the map carries the comparison, the image only the context.
            image = self.images[j]
            shown = to_unit_range(image, float(image.min()), float(image.max()))
            ax.imshow(shown, cmap="gray" if shown.ndim == 2 else None, vmin=0, vmax=1)
            self.overlays_.append(ax.imshow(self.anomaly_maps[j], cmap=cmap, alpha=alpha, vmin=vmin, vmax=vmax))
            box = None
            if self.boxes is not None:
                top, left, height, width = self.boxes[j]
                # Pixel centres sit on integers, so a pixel's edge is half a pixel before it.
                box = ax.add_patch(Rectangle((left - 0.5, top - 0.5), width, height, **box_kwargs))
            self.boxes_.append(box)
            outline = None
            if self.masks is not None and self.masks[j].any():
                # The 0.5 level of the 0/1 mask runs along the defective pixels' outer edges.
                outline = ax.contour(self.masks[j].astype(float), levels=[0.5], **mask_kwargs)
            self.outlines_.append(outline)
            ax.set_xticks([])
            ax.set_yticks([])
        for ax, title in zip(self.axes_, self.titles or ()):
            ax.set_title(title, fontsize="small")
        self.colorbar_ = self.figure_.colorbar(self.overlays_[0], ax=list(self.axes_), pad=0.01) if colorbar else None
        name = self.name if name is None else name
        if name:
            self.figure_.suptitle(name)
        return self

    @classmethod
    def from_estimator(
        cls, estimator, X, *, indices=None, sigma=1.0, box=False, masks=None, titles=None, name=None, ax=None, **kwargs
    ):
        """Compute the anomaly maps of the chosen images with a fitted image detector and draw them.

        Parameters
        ----------
        estimator : fitted detector with ``anomaly_map`` and ``image_shape_``
            A GAN detector or :class:`~skgan_ad.PatchDetector` fitted on images.
        X : array-like of images, any layout the detector takes
        indices : array-like of int or None, default=None
            Which samples of ``X`` to show; None shows the first 8.
        sigma : float, default=1.0
            Smoothing of the maps, as in ``anomaly_map``.
        box : bool, default=False
            Outline each image's highest-scoring patch (needs ``highest_patch``,
            i.e. a :class:`~skgan_ad.PatchDetector`).
        masks : array-like of shape (n_samples, H, W) or None, default=None
            Ground-truth masks of all of ``X`` (``indices`` picks from them too); their outlines are drawn.
        titles, name : as in :meth:`from_predictions`
        ax : matplotlib Axes or array-like of them, default=None
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : AnomalyMapDisplay
        """
        check_matplotlib(f"{cls.__name__}.from_estimator")
        image_shape = image_shape_of(estimator, f"{cls.__name__}.from_estimator")
        if box and not hasattr(estimator, "highest_patch"):
            raise ValueError(
                f"box=True needs a detector with highest_patch (a PatchDetector), got {type(estimator).__name__}"
            )
        if masks is not None:
            masks = select(masks, indices)
        X = select(X, indices)
        maps = estimator.anomaly_map(X, sigma=sigma)
        boxes = estimator.highest_patch(X) if box else None
        return cls.from_predictions(
            display_images(X, image_shape), maps, boxes=boxes, masks=masks, titles=titles, name=name, ax=ax, **kwargs
        )

    @classmethod
    def from_predictions(
        cls, images, anomaly_maps, *, boxes=None, masks=None, titles=None, name=None, ax=None, **kwargs
    ):
        """Draw precomputed anomaly maps over their images.

        Parameters
        ----------
        images : array-like of shape (n, H, W) or (n, H, W, C)
        anomaly_maps : array-like of shape (n, H, W)
        boxes : array-like of shape (n, 4) or None, default=None
            ``(top, left, height, width)`` per image.
        masks : array-like of shape (n, H, W) or None, default=None
            Ground-truth defect masks (non-zero on defective pixels) to outline.
        titles : list of str or None, default=None
        name : str or None, default=None
        ax : matplotlib Axes or array-like of them, default=None
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : AnomalyMapDisplay
        """
        check_matplotlib(f"{cls.__name__}.from_predictions")
        images = check_images(images, "images")
        maps = np.asarray(anomaly_maps, dtype=np.float64)
        if maps.shape != images.shape[:3]:
            raise ValueError(f"anomaly_maps has shape {maps.shape}, expected the images' (n, H, W) {images.shape[:3]}")
        if boxes is not None:
            boxes = np.asarray(boxes)
            if boxes.shape != (len(images), 4):
                raise ValueError(f"boxes must have shape (n, 4) = ({len(images)}, 4), got {boxes.shape}")
        if masks is not None:
            masks = np.asarray(masks) != 0
            if masks.shape != maps.shape:
                raise ValueError(f"masks has shape {masks.shape}, expected the maps' (n, H, W) {maps.shape}")
        display = cls(
            images=images,
            anomaly_maps=maps,
            boxes=boxes,
            masks=masks,
            titles=_check_titles(titles, len(images)),
            name=name,
        )
        return display.plot(ax=ax, **kwargs)
