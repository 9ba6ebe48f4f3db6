"""``BaseGANDetector``: the scikit-learn contract every detector shares.

A detector declares its own parameters with ``param(default, *constraints)``
(the shared ones are declared here once) and fills in hooks:

* ``_build_networks(geometry)`` -> ``(generator, discriminator)``;
* ``_build_objective(geometry)`` -> a ``skgan_ad.losses.GANObjective``;
* ``_batch_components(generator, discriminator, x, geometry)`` -> ``(parts, code)``:
  the per-sample score parts of a network batch, named from :data:`SCORE_PARTS`,
  and the batch's embedding code when computing the parts produced it on the
  way (None otherwise);
* optionally ``_embedding(generator, discriminator, x, geometry)``, the learned
  code whose distance to the normal training codes is the ``embedding`` part
  (by default the generator's ``encode`` when it has one, else the
  discriminator's features).

Everything else lives here once: parameter validation, input validation,
the held-out split, score standardisation and weighting, ``offset_``,
batching at scoring time, devices and pickling. Building and training the
networks is the training engine's (``skgan_ad._training.fit_networks``); scoring runs through
``skgan_ad._batching``, the ``embedding`` part through ``skgan_ad._embedding``, and the
shared docstring text comes from ``skgan_ad._docstrings``.
"""

from __future__ import annotations

import copy
import functools
import operator
import os
from abc import ABCMeta, abstractmethod

import numpy as np
import torch
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._batching import batch_outputs, gather, input_chunks
from ._device import resolve_device
from ._docstrings import fill_docstring
from ._embedding import CodeIndex, reference_codes, row_keys
from ._outlier import AnomalyScoreMixin, draw_seed, holdout_split, threshold_at
from ._params import estimator_params, param
from ._preprocessing import Geometry
from ._smoothing import check_sigma, gaussian_blur, smooth_maps
from ._trainer import TrainingDivergedError
from ._training import fit_networks
from ._validation import (
    CONTAMINATION,
    FRACTION,
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    POSITIVE,
    POSITIVE_INT,
    UNIT_INTERVAL,
    HasMethods,
    PositiveIntTuple,
    StrOptions,
    check_image_shape,
    validate_input,
)
from .losses import RotationPrediction, rotation_cross_entropy
from .nets.rotation import attach_rotation_head

__all__ = ["SCORE_PARTS", "BaseGANDetector", "resolve_device"]

#: The one vocabulary of score parts: every detector's ``score_components(X)`` keys come from here.
SCORE_PARTS = {
    "residual": "input-space error between x and its reconstruction G(x)",
    "feature": "distance between the discriminator's features of x and of G(x)",
    "latent": "mismatch between an encoder's latent code of x and of G(x)",
    "latent_norm": "distance of x's latent code from the typical set of the N(0, I) prior",
    "discriminator": "the discriminator's cross-entropy of x against the label 'real' (disc_term='ce')",
    "embedding": "distance of x's learned code from its nearest normal training codes (k nearest neighbours)",
    "rotation": "cross-entropy of the discriminator's rotation head on x's four rotations (images, w_rotation > 0)",
}


@estimator_params
class BaseGANDetector(AnomalyScoreMixin, OutlierMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class of the GAN detectors; not for direct use.

    Subclasses are decorated with ``skgan_ad._params.estimator_params``,
    declare their own parameters with ``skgan_ad._params.param``
    (default and constraints; a plain annotated default overrides a shared
    default and keeps its constraints) and implement the hooks above.
    ``fit(X)`` trains on ``X``, taken to be normal samples (``y`` is ignored).
    """

    n_epochs: int = param(15, POSITIVE_INT)
    min_steps: int = param(0, NON_NEGATIVE_INT)
    batch_size: int = param(64, POSITIVE_INT)
    lr: float = param(2e-4, POSITIVE)
    precision: str = param("float32", StrOptions({"float32", "bfloat16"}))
    embedding_weight: float = param(1.0, UNIT_INTERVAL)
    n_neighbors: int = param(5, POSITIVE_INT)
    w_rotation: float = param(0.0, NON_NEGATIVE)
    rotation_weight: float = param(0.0, UNIT_INTERVAL)
    lambda_score: float = param(0.9, UNIT_INTERVAL)
    residual_sigma: float = param(0.0, NON_NEGATIVE)
    residual_norm: str = param("none", StrOptions({"none", "pixel"}))
    contamination: float = param(0.1, CONTAMINATION)
    validation_fraction: float = param(0.1, FRACTION)
    trim_fraction: float = param(0.0, FRACTION)
    trim_warmup: int = param(2, NON_NEGATIVE_INT)
    image_shape: tuple | None = param(None, tuple, list, None)
    image_layout: str = param("auto", StrOptions({"auto", "channels_first", "channels_last"}))
    ngf: int = param(64, POSITIVE_INT)
    ndf: int = param(64, POSITIVE_INT)
    hidden_dims: tuple = param((64, 32), PositiveIntTuple())
    device: str | torch.device = param("auto", str, torch.device)
    random_state: int | np.random.RandomState | None = param(None, "random_state")
    verbose: int = param(0, "verbose")
    callbacks: list | tuple | None = param(None, list, tuple, None)
    memory: str | os.PathLike | None = param(None, None, str, os.PathLike, HasMethods(["cache"]))
    warm_start: bool = param(False, "boolean")

    # Parameters that never change the trained networks (scoring, thresholds, caching, logging):
    # left out of the training cache's key. Detectors add their own score parameters.
    _scoring_params = frozenset(
        {
            "embedding_weight",
            "n_neighbors",
            "rotation_weight",
            "lambda_score",
            "residual_sigma",
            "residual_norm",
            "contamination",
            "memory",
            "verbose",
        }
    )

    # How the residual compares x with G(x), pixel by pixel: "l1" (|r|) or "l2" (r^2).
    _distance = "l1"
    # Added to the held-out per-pixel residual scale (network units, where images span [-1, 1]):
    # pixels that normal data never get wrong (MNIST's empty border) must not blow a score up.
    _PIXEL_SCALE_FLOOR = 1e-3

    # The seed paper's settings of the parameters whose defaults here differ from it or that the
    # paper does not have: ``paper()`` builds the paper's detector from them.
    _paper_params = {
        "min_steps": 0,
        "precision": "float32",
        "residual_sigma": 0.0,
        "residual_norm": "none",
        "embedding_weight": 0.0,
        "w_rotation": 0.0,
        "rotation_weight": 0.0,
    }

    # Parameters added after files were first saved, with the value that rebuilds what an older file stored
    # (skgan_ad.load fills them in where a file lacks them; today's default may differ).
    _added_params = {"w_rotation": 0.0, "rotation_weight": 0.0}

    # Whether the discriminator judges images alone, so that it can carry the rotation head (EGBAD's judges
    # (image, code) pairs).
    _rotation_capable = True

    # At most this many training samples' codes are kept as the ``embedding`` part's neighbours.
    _EMBEDDING_MAX_REFERENCE = 8192

    @classmethod
    def paper(cls, **params):
        """The detector as its paper specifies it (network, losses, score, training budget); ``params`` override.

        The library's defaults are chosen on development splits and may differ
        from the paper's (a documented parameter each); this keeps the exact
        reproduction one line away, e.g. ``SkipGANomalyDetector.paper(random_state=0)``.
        """
        return cls(**{**cls._paper_params, **params})

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.__doc__ = fill_docstring(cls.__doc__)

    def _warm_start_state(self):
        """With ``warm_start=True``, the last fit's networks, scaling, history and trainer state."""
        if not (self.warm_start and hasattr(self, "training_state_")):
            return None
        return {
            "generator": self.generator_,
            "discriminator": self.discriminator_,
            "shift": self.input_shift_,
            "scale": self.input_scale_,
            "history": self.history_,
            "trainer_state": self.training_state_,
            "image_shape": self.image_shape_,
            "n_features": self.n_features_in_,
        }

    # -- hooks ---------------------------------------------------------------------
    @abstractmethod
    def _build_networks(self, geometry: Geometry) -> tuple[torch.nn.Module, torch.nn.Module]:
        """Return fresh ``(generator, discriminator)`` for data of this geometry."""

    def _new_networks(self, geometry: Geometry) -> tuple[torch.nn.Module, torch.nn.Module]:
        """:meth:`_build_networks` with the global random state left as it was.

        Module constructors draw default weights from PyTorch's global RNG (overwritten by the
        seeded initialisation, or by stored weights when loading); forking it keeps the user's
        random state untouched. Training, the ``memory=`` cache and :func:`skgan_ad.load` build
        networks only through here.
        """
        with torch.random.fork_rng(devices=[]):
            generator, discriminator = self._build_networks(geometry)
            if self._has_rotation_head(geometry):
                attach_rotation_head(discriminator, geometry.channels, geometry.size)
            return generator, discriminator

    def _has_rotation_head(self, geometry: Geometry) -> bool:
        """Whether the networks for data of this geometry carry the rotation head (images, ``w_rotation > 0``)."""
        return geometry.is_image and self.w_rotation > 0 and self._rotation_capable

    def _objective(self, geometry: Geometry):
        """:meth:`_build_objective`, with the rotation loss added to the discriminator's where it has the head."""
        objective = self._build_objective(geometry)
        if self._has_rotation_head(geometry):
            objective = RotationPrediction(objective, self.w_rotation)
        return objective

    def _check_rotation_params(self, geometry: Geometry) -> None:
        if self.w_rotation > 0 and not self._rotation_capable:
            raise ValueError(
                f"{type(self).__name__}'s discriminator judges (image, code) pairs and cannot carry the rotation "
                f"head: w_rotation must be 0, got {self.w_rotation:g}"
            )
        if geometry.is_image and self.rotation_weight > 0:
            if not self._rotation_capable:
                raise ValueError(
                    f"{type(self).__name__} has no rotation score part (its discriminator cannot carry the rotation "
                    f"head): rotation_weight must be 0, got {self.rotation_weight:g}"
                )
            if not self._has_rotation_head(geometry):
                raise ValueError(
                    f"rotation_weight={self.rotation_weight:g} weighs the rotation score part, which needs the "
                    "discriminator's rotation head trained: set w_rotation > 0 (or rotation_weight=0)"
                )

    @abstractmethod
    def _build_objective(self, geometry: Geometry):
        """Return the :class:`~skgan_ad.losses.GANObjective` to train with on data of this geometry."""

    @abstractmethod
    def _batch_components(self, generator, discriminator, x: torch.Tensor, geometry: Geometry) -> tuple:
        """``(parts, code)``: per-sample score parts (higher = more abnormal) of one network batch
        (eval mode, no grad), and the batch's :meth:`_embedding` code if the parts' networks computed
        it on the way (else None, and the code is computed separately).

        Keys come from :data:`SCORE_PARTS`; ``geometry.crop`` restricts image
        tensors to the original pixels.
        """

    def _embedding(self, generator, discriminator, x: torch.Tensor, geometry: Geometry) -> torch.Tensor:
        """The learned code of ``x`` that the ``embedding`` part compares, shape ``(n, n_codes)``.

        The generator's ``encode(x)`` where it has one (an encoder-decoder's
        bottleneck); otherwise the discriminator's features of ``x``.
        """
        encode = getattr(generator, "encode", None)
        if encode is not None:
            return encode(x).flatten(1)
        return discriminator(self._discriminator_input(generator, x))[1].flatten(1)

    def _generate(self, generator, discriminator, x: torch.Tensor, geometry: Geometry) -> torch.Tensor:
        """G(x) for :meth:`reconstruct` and :meth:`anomaly_map`; override when G returns more than images."""
        return generator(x)

    def _latent_size(self, geometry: Geometry) -> int:
        """Latent size of the detectors with an ``nz`` parameter: ``nz`` for images; for rows at most
        the narrowest hidden width, so the code is a bottleneck."""
        return self.nz if geometry.is_image else min(self.nz, int(self.hidden_dims[-1]))

    # -- fitting -------------------------------------------------------------------
    def _fit(self, X, y=None) -> None:
        image_shape = check_image_shape(self.image_shape)
        rows, _, image_shape, value_range = validate_input(
            self, X, reset=True, image_shape=image_shape, image_layout=self.image_layout
        )
        resolve_device(self.device)  # fail before any work on a device that is not there
        self._check_rotation_params(Geometry(rows.shape[1], image_shape))
        rng = check_random_state(self.random_state)
        seed = draw_seed(rng)
        train_rows, reference_rows = holdout_split(rows, self.validation_fraction, rng)
        valid_rows = None if reference_rows is train_rows else reference_rows

        previous = self._previous_fit
        if previous is not None and (previous["image_shape"] != image_shape or previous["n_features"] != rows.shape[1]):
            raise ValueError(
                f"warm_start=True continues the last fit, whose data had image_shape {previous['image_shape']} "
                f"and {previous['n_features']} features; X has image_shape {image_shape} and {rows.shape[1]} "
                "features. Set warm_start=False to fit afresh"
            )
        trained = fit_networks(self, train_rows, valid_rows, image_shape, value_range, seed, resume=previous)
        self.image_shape_ = image_shape
        self.input_shift_, self.input_scale_ = trained["shift"], trained["scale"]
        self.device_ = trained["device"]
        self.generator_ = trained["generator"].eval()
        self.discriminator_ = trained["discriminator"].eval()
        self.history_ = trained["history"]
        self.n_iter_ = sum(1 for row in self.history_ if "train_loss" in row)
        if self.warm_start and "trainer_state" in trained:
            self.training_state_ = trained["trainer_state"]

        # The per-pixel residual scale, then the statistics of each score part and the
        # threshold, all on held-out normals: the training rows have been memorised.
        self.residual_scale_ = None
        if self.residual_norm == "pixel":
            self.residual_scale_ = self._pixel_scale(reference_rows)
        self._fit_embedding(self._untrimmed(train_rows), rng)
        raw = self._raw_components(reference_rows)
        with np.errstate(over="ignore", invalid="ignore"):
            # Weights can stay finite yet grow so large (a huge lr) that the score parts overflow.
            broken = sorted(name for name, v in raw.items() if not (np.isfinite(v).all() and np.isfinite(v.std())))
        if broken:
            raise TrainingDivergedError(
                f"training produced networks whose score part(s) {broken} are not finite on held-out normal "
                f"samples (the weights grew too large); lower lr (it was {self.lr:g}) or check the data for "
                "extreme values"
            )
        self.component_stats_ = {
            name: (float(values.mean()), float(values.std()) if values.std() > 0 else 1.0)
            for name, values in raw.items()
        }
        # score_samples of the held-out normals: offset_ and conformal p-values come from them.
        self.calibration_scores_ = -self._combine(raw)
        self.offset_ = threshold_at(self.calibration_scores_, self.contamination)

    # -- scoring ---------------------------------------------------------------------
    def anomaly_score(self, X) -> np.ndarray:
        """The anomaly score A(x), float64: higher is more abnormal.

        ``A(x) = t T(x) + (1 - t) {w e(x) + (1 - w) [lambda_score r(x) + (1 - lambda_score) o(x)
        (+ latent_norm_weight n(x))]}`` with ``w = embedding_weight``, ``e`` the standardised
        ``embedding`` part, ``r`` the ``residual`` part, ``o`` the detector's other part,
        ``n`` the latent-norm part where the detector has one (the square bracket is
        the paper's score), and ``t = rotation_weight``, ``T`` the ``rotation`` part where
        the discriminator has the rotation head (``w_rotation > 0``; else ``t = 0``).
        Each part is centred and scaled by its mean and standard deviation on
        held-out normals at fit time, so no other sample affects a score.
        """
        check_is_fitted(self)
        # Only the parts the weights use: the others would add exact zeros.
        weights = self._component_weights(self.component_stats_)
        raw, _ = self._map_input(X, self._components_fn({name for name, w in weights.items() if w != 0}))
        return self._combine(raw)

    def score_components(self, X, standardize: bool = False) -> dict[str, np.ndarray]:
        """The parts of the anomaly score before weighting, float64 arrays of shape (n,).

        Keys come from one vocabulary (:data:`skgan_ad.base.SCORE_PARTS`):
        ``residual``, ``feature``, ``latent``, ``latent_norm``, ``discriminator``,
        ``embedding``.
        With ``standardize=True`` each part is centred and scaled by its
        held-out normal statistics, as it enters :meth:`anomaly_score`.
        """
        raw, _ = self._map_input(X, self._components_fn())
        if not standardize:
            return raw
        return {name: (values - mean) / std for name, values, mean, std in self._standardise(raw)}

    def reconstruct(self, X) -> np.ndarray:
        """G(x), shaped like ``X`` and in its own scale (float64)."""
        rows, layout = self._map_input(
            X,
            lambda generator, discriminator, x, geometry: geometry.to_rows(
                self._generate(generator, discriminator, x, geometry), self.input_shift_, self.input_scale_
            ),
        )
        return layout.restore(rows, self.image_shape_)

    def anomaly_map(self, X, sigma: float = 1.0) -> np.ndarray:
        """Per-pixel anomaly map: ``|x - G(x)|`` averaged over channels, Gaussian-smoothed.

        Parameters
        ----------
        X : array-like of images, any layout ``fit`` accepts
        sigma : float, default=1.0
            Standard deviation (pixels) of the Gaussian smoothing; 0 turns it off.
            Smoothing suppresses one-pixel reconstruction noise so that
            coherent defects stand out.

        Returns
        -------
        maps : ndarray of shape (n_samples, H, W), float64
            At the input's resolution (padding cropped off), in the network's
            [-1, 1] pixel scale, so maps of different images compare directly.
        """
        check_sigma(sigma)
        check_is_fitted(self)
        if self.image_shape_ is None:
            raise ValueError("anomaly_map needs images; this detector was fitted on tabular rows")
        maps, _ = self._map_input(
            X,
            # Smoothed batch by batch (each map alone), so memory stays bounded.
            lambda generator, discriminator, x, geometry: smooth_maps(
                geometry.crop((x - self._generate(generator, discriminator, x, geometry)).abs().mean(dim=1))
                .cpu()
                .numpy()
                .astype(np.float64),
                sigma,
            ),
        )
        return maps

    def discriminator_features(self, X) -> np.ndarray:
        """The discriminator's feature vector f(x) of each sample, float64 of shape (n_samples, n_features).

        f(x) is the last feature map before the discriminator's classifier,
        what the ``feature`` score part compares between x and G(x); an
        embedding of it shows whether anomalies fall away from the normal
        cluster (Skip-GANomaly's Figure 6, ``plotting.FeatureEmbeddingDisplay``).
        """
        features, _ = self._map_input(
            X,
            lambda generator, discriminator, x, geometry: (
                discriminator(self._discriminator_input(generator, x))[1].flatten(1).cpu().numpy()
            ),
        )
        return features

    def embed(self, X) -> np.ndarray:
        """The learned code of each sample that the ``embedding`` score part compares, float64 (n_samples, n_codes).

        The generator's encoder code where it has one (GANomaly's and EGBAD's
        ``z``, the U-Net's bottleneck), otherwise the discriminator's features
        (AnoGAN). ``embedding_center_`` / ``embedding_scale_`` standardise it;
        the part is the mean distance to the ``n_neighbors`` nearest rows of
        ``embedding_reference_``.
        """
        codes, _ = self._map_input(X, self._embedding)
        return codes

    def _discriminator_input(self, generator, x: torch.Tensor):
        """What the discriminator judges for real samples ``x`` (EGBAD's judges pairs (x, E(x)))."""
        return x

    # -- helpers ---------------------------------------------------------------------
    def _residual_map(self, x: torch.Tensor, x_hat: torch.Tensor, geometry: Geometry) -> torch.Tensor:
        """Per-pixel (per-feature) residual before averaging: ``|r|`` or ``r^2`` of ``r = x - G(x)``,
        on the original pixels, smoothed first when ``residual_sigma > 0``."""
        r = geometry.crop(x) - geometry.crop(x_hat)
        if geometry.is_image and self.residual_sigma > 0:
            # Squared after smoothing, whatever the detector's distance: a normalised blur keeps the
            # mean of |r|, so only a non-linear pooling lets a coherent defect count more than the
            # same error scattered over single pixels.
            return gaussian_blur(r.abs().mean(dim=1, keepdim=True), self.residual_sigma).pow(2)
        return r.pow(2) if self._distance == "l2" else r.abs()

    def _residual(self, x: torch.Tensor, x_hat: torch.Tensor, geometry: Geometry) -> torch.Tensor:
        """The ``residual`` score part of each sample: the mean of :meth:`_residual_map`,
        each pixel divided by its held-out scale when ``residual_norm="pixel"``."""
        values = self._residual_map(x, x_hat, geometry)
        if self.residual_norm == "pixel":
            scale = getattr(self, "residual_scale_", None)
            if scale is None or scale.shape != tuple(values.shape[1:]):
                raise ValueError(
                    "residual_norm='pixel' needs the per-pixel residual scale of held-out normals, computed by "
                    "fit with the same residual_norm and residual_sigma: refit the detector after changing them"
                )
            values = values / torch.as_tensor(scale, dtype=values.dtype, device=values.device)
        return values.flatten(1).mean(dim=1)

    def _untrimmed(self, train_rows: np.ndarray) -> np.ndarray:
        """The training rows less those the last epoch left out as likely anomalies (``trim_fraction``)."""
        dropped = self.history_[-1].get("train_dropped") if len(self.history_) else None
        if not dropped:
            return train_rows
        return np.delete(train_rows, dropped, axis=0)

    def _fit_embedding(self, rows: np.ndarray, rng: np.random.RandomState) -> None:
        """Keep the standardised codes of (at most ``_EMBEDDING_MAX_REFERENCE``) training ``rows``."""
        if len(rows) > self._EMBEDDING_MAX_REFERENCE:
            rows = rows[np.sort(rng.choice(len(rows), self._EMBEDDING_MAX_REFERENCE, replace=False))]
        codes = gather(self._batch_outputs(rows, self._embedding, self._scoring_networks()), len(rows))
        self.embedding_center_, self.embedding_scale_, self.embedding_reference_ = reference_codes(codes)
        # Each reference code's row, by its exact bytes: a scored row that is one of them is scored
        # without it (leave-one-out), so training samples do not look normal by matching themselves.
        self.embedding_keys_ = row_keys(rows)

    def _tensor_components(
        self, generator, discriminator, x: torch.Tensor, geometry: Geometry, needed=None, index=None, rows=None
    ) -> dict:
        """Score parts of one network batch as tensors: the detector's own, then ``embedding``.

        ``needed`` (a set of part names; None: all) lets a score whose weights
        leave parts out skip their networks: with the default
        ``embedding_weight=1`` only the encoder runs (and AnoGAN's latent
        search not at all). ``index`` is the :class:`~skgan_ad._embedding.CodeIndex` of the call;
        ``rows``, the batch's validated input rows (without padding), lets it
        leave each reference row out of its own neighbours.
        """
        parts, code = {}, None
        if needed is None or set(needed) - {"embedding"}:
            parts, code = self._batch_components(generator, discriminator, x, geometry)
            parts = dict(parts)
        if (needed is None or "rotation" in needed) and hasattr(discriminator, "rotation_head"):
            parts["rotation"] = rotation_cross_entropy(discriminator, x)
        if needed is None or "embedding" in needed:
            if code is None:
                code = self._embedding(generator, discriminator, x, geometry)
            index = index or CodeIndex(self)
            parts["embedding"] = index.distance(code.flatten(1), index.self_matches(rows, code))
        return parts

    def _pixel_scale(self, rows: np.ndarray) -> np.ndarray:
        """Mean per-pixel residual of ``rows`` (held-out normals), plus a floor: ``residual_scale_``."""
        maps = self._map_batches(
            rows,
            lambda generator, discriminator, x, geometry: (
                self._residual_map(x, self._generate(generator, discriminator, x, geometry), geometry).cpu().numpy()
            ),
        )
        return np.concatenate(maps).astype(np.float64).mean(axis=0) + self._PIXEL_SCALE_FLOOR

    def _geometry(self) -> Geometry:
        return Geometry(self.n_features_in_, self.image_shape_)

    def _validate(self, X):
        """Rows and layout of ``X`` after the checks against the fitted shape."""
        check_is_fitted(self)
        rows, layout, _, _ = validate_input(
            self, X, reset=False, image_shape=self.image_shape_, image_layout=self.image_layout
        )
        return rows, layout

    # Scoring converts (validates) at most this many bytes of float64 input at a time, so that
    # memory does not grow with the number of rows beyond the outputs themselves.
    _CHUNK_BYTES = 1 << 25

    def _input_chunks(self, X):
        """``(n_rows, layout, chunks)``: ``X`` validated against the fitted shape, chunk by chunk
        (:func:`~skgan_ad._batching.input_chunks`, at most ``_CHUNK_BYTES`` of float64 at a time)."""
        check_is_fitted(self)
        return input_chunks(X, self._validate, self.batch_size, self._CHUNK_BYTES)

    def _scoring_networks(self):
        """Copies of the fitted networks for scoring: eval mode, on the device, float32 (images) or float64."""
        device = resolve_device(self.device)
        dtype = torch.float32 if self.image_shape_ is not None else torch.float64
        return tuple(
            copy.deepcopy(m).to(device=device, dtype=dtype).eval() for m in (self.generator_, self.discriminator_)
        )

    def _batch_outputs(self, rows: np.ndarray, fn, networks):
        """Yield ``fn(generator, discriminator, x, geometry)`` for each scaled, padded network batch of
        ``rows``, without grad (:func:`~skgan_ad._batching.batch_outputs`)."""
        yield from batch_outputs(
            rows, fn, networks, self._geometry(), (self.input_shift_, self.input_scale_), self.batch_size
        )

    def _map_batches(self, rows: np.ndarray, fn) -> list:
        """``fn``'s outputs for the network batches of validated ``rows``, as a list (see :meth:`_batch_outputs`).

        Copies of the fitted networks are used, which also makes scoring safe from several threads.
        """
        return list(self._batch_outputs(rows, fn, self._scoring_networks()))

    def _map_input(self, X, fn):
        """``(outputs, layout)``: ``fn`` over all of ``X`` (validated chunk by chunk), outputs filled into
        preallocated float64 arrays (a dict of them when ``fn`` returns dicts)."""
        n, layout, chunks = self._input_chunks(X)
        networks = self._scoring_networks()
        return gather((part for rows in chunks for part in self._batch_outputs(rows, fn, networks)), n), layout

    def _components_fn(self, needed=None):
        """``fn(generator, discriminator, x, geometry)`` -> the ``needed`` score parts of a batch as arrays,
        for :meth:`_batch_outputs`; the reference codes are converted once for all its batches."""
        index = CodeIndex(self)

        def components(generator, discriminator, x, geometry, rows=None) -> dict[str, np.ndarray]:
            parts = self._tensor_components(generator, discriminator, x, geometry, needed, index, rows)
            return {name: values.cpu().numpy() for name, values in parts.items()}

        components.takes_rows = True  # _batch_outputs passes each batch's rows (leave-one-out)
        return components

    def _raw_components(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """All score parts of validated ``rows`` (float64)."""
        return gather(self._batch_outputs(rows, self._components_fn(), self._scoring_networks()), len(rows))

    def _component_weights(self, names) -> dict[str, float]:
        """Weight of each standardised part: ``rotation_weight`` for ``rotation`` (where there is one), the rest
        shared as without it: ``embedding_weight`` of it for ``embedding``; the papers' parts share
        ``1 - embedding_weight``: ``lambda_score`` of it for ``residual``, ``1 - lambda_score`` for the
        detector's other learned part, ``latent_norm_weight`` for ``latent_norm``."""
        weights = {}
        names = list(names)
        # The rotation part, where the networks have it, takes rotation_weight; the others share the rest.
        rotation = self.rotation_weight if "rotation" in names else 0.0
        papers = (1.0 - rotation) * (1.0 - self.embedding_weight)
        for name in names:
            if name == "rotation":
                weights[name] = rotation
            elif name == "embedding":
                weights[name] = (1.0 - rotation) * self.embedding_weight
            elif name == "residual":
                weights[name] = papers * self.lambda_score
            elif name == "latent_norm":
                weights[name] = papers * self.latent_norm_weight
            else:
                weights[name] = papers * (1.0 - self.lambda_score)
        return weights

    def _standardise(self, raw: dict[str, np.ndarray]):
        """``(name, values, mean, std)`` of each part, with the statistics of fit time."""
        missing = sorted(set(raw) - set(self.component_stats_))
        if missing:
            raise ValueError(
                f"score part(s) {missing} were not computed at fit time (fitted parts: "
                f"{sorted(self.component_stats_)}); refit the detector after changing a parameter that changes "
                "the score parts (e.g. disc_term)"
            )
        return [(name, values, *self.component_stats_[name]) for name, values in raw.items()]

    def _combine(self, raw: dict) -> np.ndarray:
        """The weighted sum of the standardised parts: arrays in, an array out (tensors too, which
        :func:`skgan_ad.export_onnx` traces)."""
        weights = self._component_weights(raw)
        terms = [weights[name] * (values - mean) / std for name, values, mean, std in self._standardise(raw)]
        return functools.reduce(operator.add, terms)

    # -- persistence -------------------------------------------------------------------
    def __getstate__(self):
        """Pickle fitted networks as CPU tensors, so a GPU-fitted detector loads anywhere."""
        state = super().__getstate__()
        for key in ("generator_", "discriminator_"):
            module = state.get(key)
            if module is not None and any(p.device.type != "cpu" for p in module.parameters()):
                state[key] = copy.deepcopy(module).cpu()
        return state
