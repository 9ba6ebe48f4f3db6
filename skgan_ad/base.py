"""``BaseGANDetector``: the scikit-learn contract every detector shares.

A detector subclasses it and fills in three hooks:

* ``_build_networks(geometry)`` -> ``(generator, discriminator)``;
* ``_build_objective(geometry)`` -> a :class:`skgan_ad.losses.GANObjective`;
* ``_batch_components(generator, discriminator, x)`` -> per-sample score parts for a network batch,
  and ``_component_weights()`` -> how the standardised parts are mixed.

Everything else lives here once: input validation, scaling and padding, the
held-out split, training through :class:`skgan_ad._training.GANTrainer`,
score standardisation, ``offset_``, batching at scoring time, devices and
pickling.
"""

from __future__ import annotations

import copy
import inspect
import os
from abc import ABCMeta, abstractmethod
from functools import partial
from numbers import Integral, Real

import numpy as np
import torch
from scipy.ndimage import gaussian_filter
from sklearn.base import BaseEstimator, OutlierMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, check_memory
from skorch.callbacks import ProgressBar
from skorch.dataset import Dataset
from skorch.helper import predefined_split

from ._outlier import AnomalyScoreMixin, holdout_split
from ._preprocessing import Geometry, fit_scaling
from ._training import GANTrainer, TensorBatchIterator
from ._validation import HasMethods, Interval, check_image_shape, validate_input
from .nets import init_weights_

# Adam betas of every seed paper (DCGAN's).
ADAM_BETAS = (0.5, 0.999)


def resolve_device(device) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; anything else is checked."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or a torch.device, got {device!r}") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested, but CUDA is not available; use device='auto' or 'cpu'")
    return resolved


def _first_rows(out, n: int):
    """The first ``n`` rows of a tensor, array or dict of them (drops batch padding)."""
    if isinstance(out, dict):
        return {key: value[:n] for key, value in out.items()}
    return out[:n]


def _train_networks(spec, train_rows, valid_rows, image_shape, value_range, seed: int, verbose) -> dict:
    """Module-level so ``joblib.Memory`` can cache it, keyed on every argument but ``verbose``."""
    return spec.set_params(verbose=verbose)._train(train_rows, valid_rows, image_shape, value_range, seed)


class BaseGANDetector(AnomalyScoreMixin, OutlierMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class of the GAN detectors; not for direct use.

    Subclasses define ``__init__`` with all their parameters (those listed
    in ``_parameter_constraints`` here at least) and the hooks above.
    """

    _parameter_constraints: dict = {
        "n_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "image_shape": [tuple, list, None],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, tuple, None],
        "memory": [None, str, os.PathLike, HasMethods(["cache"])],
        "trim_fraction": [Interval(Real, 0, 1, closed="left")],
        "trim_warmup": [Interval(Integral, 0, None, closed="left")],
    }

    # Constraints of the network-width parameters every detector with U-Net/DCGAN/MLP networks shares.
    _width_constraints: dict = {
        "ngf": [Interval(Integral, 1, None, closed="left")],
        "ndf": [Interval(Integral, 1, None, closed="left")],
        "hidden_dims": [tuple, list],
    }

    # Parameters that never change the trained networks (scoring, thresholds, caching, logging):
    # left out of the training cache's key.
    _scoring_params: frozenset = frozenset({"contamination", "memory", "verbose"})

    # -- hooks ---------------------------------------------------------------------
    @abstractmethod
    def _build_networks(self, geometry: Geometry) -> tuple[torch.nn.Module, torch.nn.Module]:
        """Return fresh ``(generator, discriminator)`` for data of this geometry."""

    @abstractmethod
    def _build_objective(self, geometry: Geometry):
        """Return the :class:`~skgan_ad.losses.GANObjective` to train with on data of this geometry."""

    @abstractmethod
    def _batch_components(self, generator, discriminator, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-sample score parts (higher = more abnormal) of one network batch (eval mode, no grad)."""

    @abstractmethod
    def _component_weights(self) -> dict[str, float]:
        """Weight of each standardised part in the anomaly score."""

    def _latent_size(self, geometry: Geometry) -> int:
        """Latent size of the detectors with an ``nz`` parameter: ``nz`` for images; for rows at most
        the narrowest hidden width, so the code is a bottleneck."""
        return self.nz if geometry.is_image else min(self.nz, int(self.hidden_dims[-1]))

    def _generate(self, generator, discriminator, x: torch.Tensor) -> torch.Tensor:
        """G(x) for :meth:`reconstruct` and :meth:`anomaly_map`; override when G returns more than images."""
        return generator(x)

    # -- fitting -------------------------------------------------------------------
    def fit(self, X, y=None):
        """Train on ``X``, taken to be normal samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n, H, W), (n, C, H, W) or (n, H, W, C)
            Normal training data; see the class docstring for image layouts.
        y : ignored
            Present for API consistency.

        Returns
        -------
        self
        """
        return self._fit_cleanly(X)

    def _fit(self, X) -> None:
        image_shape = check_image_shape(self.image_shape)
        rows, _, image_shape, value_range = validate_input(self, X, reset=True, image_shape=image_shape)
        resolve_device(self.device)  # fail before any work on a device that is not there
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        train_rows, reference_rows = self._holdout_split(rows, rng)
        valid_rows = None if reference_rows is train_rows else reference_rows

        # Training is a pure function of the training parameters, the seed and the
        # data; with ``memory`` it is cached on exactly those, so a grid over scoring
        # parameters (lambda_score, contamination) trains each network once.
        memory = os.fspath(self.memory) if isinstance(self.memory, os.PathLike) else self.memory
        train = check_memory(memory).cache(_train_networks, ignore=["verbose"])
        trained = train(self._training_spec(), train_rows, valid_rows, image_shape, value_range, seed, self.verbose)

        self.image_shape_ = image_shape
        self.input_shift_, self.input_scale_ = trained["shift"], trained["scale"]
        self.device_ = trained["device"]
        self.generator_ = trained["generator"].eval()
        self.discriminator_ = trained["discriminator"].eval()
        self.history_ = trained["history"]
        self.n_iter_ = len(self.history_)

        # Standardise the score parts and place the threshold on held-out normals:
        # the training rows have been memorised and would score too well.
        raw = self._raw_components(reference_rows)
        self.component_stats_ = {
            name: (float(values.mean()), float(values.std()) if values.std() > 0 else 1.0)
            for name, values in raw.items()
        }
        # score_samples of the held-out normals: offset_ and conformal p-values come from them.
        self.calibration_scores_ = -self._combine(raw)
        self.offset_ = float(np.percentile(self.calibration_scores_, 100.0 * self.contamination))

    def _training_spec(self) -> BaseGANDetector:
        """A copy of ``self`` holding only what decides training: the cache key.

        Scoring-only parameters are reset to their defaults and the seed is
        passed separately, so neither splits the cache.
        """
        signature = inspect.signature(type(self).__init__)
        defaults = {name: signature.parameters[name].default for name in self._scoring_params}
        return clone(self).set_params(**defaults, random_state=None)

    def _train(self, train_rows, valid_rows, image_shape, value_range, seed: int) -> dict:
        """Build, initialise and train the networks; return what ``fit`` keeps of them."""
        device = resolve_device(self.device)
        torch_rng = torch.Generator().manual_seed(seed)
        geometry = Geometry(train_rows.shape[1], image_shape)
        shift, scale = fit_scaling(train_rows, image=geometry.is_image, value_range=value_range)
        x_train = geometry.to_network(train_rows, shift, scale)
        x_valid = None if valid_rows is None else geometry.to_network(valid_rows, shift, scale)

        # Module constructors draw default weights from the global RNG; fork it so
        # the user's global random state is left exactly as it was.
        with torch.random.fork_rng(devices=[]):
            generator, discriminator = self._build_networks(geometry)
        init = partial(init_weights_, generator=torch_rng)
        init(generator)
        init(discriminator)

        objective = self._build_objective(geometry)
        objective.noise_generator = torch_rng
        trainer = GANTrainer(
            module=generator,
            criterion=objective,
            discriminator=discriminator,
            optimizer=torch.optim.Adam,
            optimizer_discriminator=torch.optim.Adam,
            lr=self.lr,
            optimizer__betas=ADAM_BETAS,
            optimizer_discriminator__betas=ADAM_BETAS,
            discriminator_reinit=init,
            trim_fraction=self.trim_fraction,
            trim_warmup=self.trim_warmup,
            max_epochs=self.n_epochs,
            batch_size=self.batch_size,
            iterator_train=TensorBatchIterator,
            iterator_train__shuffle=True,
            iterator_train__generator=torch_rng,
            iterator_valid=TensorBatchIterator,
            train_split=None if x_valid is None else predefined_split(Dataset(x_valid.to(device))),
            callbacks=self._trainer_callbacks(),
            device=device,
            verbose=self.verbose,
        )
        # Dropout (and any other layer that draws at train time) uses the global RNG:
        # seed it from the detector's seed inside a fork, so training is reproducible
        # and the caller's random state is left as it was.
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(seed)
            trainer.fit(x_train.to(device), None)
        return {
            "generator": trainer.module_,
            "discriminator": trainer.discriminator_,
            "history": trainer.history,
            "shift": shift,
            "scale": scale,
            "device": str(device),
        }

    def _holdout_split(self, rows: np.ndarray, rng: np.random.RandomState):
        """Split off ``validation_fraction`` of the rows (at least one, leaving one to train on).

        With ``validation_fraction=0`` the training rows serve as the reference
        set too, which makes ``offset_`` optimistic.
        """
        return holdout_split(rows, self.validation_fraction, rng)

    def _trainer_callbacks(self) -> list:
        # Deep copies: skorch initialises and mutates callbacks, and the
        # parameter must stay as the user gave it (scikit-learn's clone contract).
        callbacks = copy.deepcopy(list(self.callbacks or []))
        if self.verbose and self.verbose > 1:
            callbacks.append(("progress_bar", ProgressBar()))
        return callbacks

    # -- scoring ---------------------------------------------------------------------
    def anomaly_score(self, X) -> np.ndarray:
        """The paper's A(x), float64: higher is more abnormal.

        ``A(x) = sum_k w_k (c_k(x) - mean_k) / std_k`` over the parts of
        :meth:`score_components`, with means and standard deviations taken at
        fit time on held-out normals, so no other sample affects a score.
        """
        return self._combine(self.score_components(X))

    def score_components(self, X, standardize: bool = False) -> dict[str, np.ndarray]:
        """The parts of the anomaly score before weighting, float64 arrays of shape (n,).

        With ``standardize=True`` each part is centred and scaled by its
        held-out normal statistics, as it enters :meth:`anomaly_score`.
        """
        raw = self._raw_components(self._validate(X)[0])
        if not standardize:
            return raw
        stats = self.component_stats_
        return {name: (values - stats[name][0]) / stats[name][1] for name, values in raw.items()}

    def reconstruct(self, X) -> np.ndarray:
        """G(x), shaped like ``X`` and in its own scale (float64)."""
        rows, layout = self._validate(X)
        geometry = self._geometry()
        parts = self._map_batches(
            rows,
            lambda generator, discriminator, x: geometry.to_rows(
                self._generate(generator, discriminator, x), self.input_shift_, self.input_scale_
            ),
        )
        return layout.restore(np.concatenate(parts), self.image_shape_)

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
        if not isinstance(sigma, Real) or not sigma >= 0:
            raise ValueError(f"sigma must be a non-negative number, got {sigma!r}")
        rows, _ = self._validate(X)
        geometry = self._geometry()
        if not geometry.is_image:
            raise ValueError("anomaly_map needs images; this detector was fitted on tabular rows")
        parts = self._map_batches(
            rows,
            lambda generator, discriminator, x: (
                geometry.crop((x - self._generate(generator, discriminator, x)).abs().mean(dim=1)).cpu().numpy()
            ),
        )
        maps = np.concatenate(parts).astype(np.float64)
        if sigma > 0:
            maps = gaussian_filter(maps, sigma=(0, sigma, sigma), mode="nearest")
        return maps

    # -- helpers ---------------------------------------------------------------------
    def _geometry(self) -> Geometry:
        return Geometry(self.n_features_in_, self.image_shape_)

    def _validate(self, X):
        """Rows and layout of ``X`` after the checks against the fitted shape."""
        check_is_fitted(self)
        rows, layout, _, _ = validate_input(self, X, reset=False, image_shape=self.image_shape_)
        return rows, layout

    def _map_batches(self, rows: np.ndarray, fn) -> list:
        """Apply ``fn(generator, discriminator, x)`` to scaled network batches, without grad.

        A sample's score must not depend on the batch it comes in, to the last
        bit where possible. BatchNorm runs in eval mode, so no statistic of the
        batch enters; what is left is round-off, and that differs by network:

        * tabular (fully connected) networks: a float32 matrix product rounds
          a row differently with the batch's size and the row's place in it,
          so scoring runs on float64 copies (cheap for MLPs);
        * image (convolutional) networks compute each image alone, so float32
          is kept (float64 convolutions are ~10x slower on a CPU); every batch
          is padded to ``batch_size`` images so the convolution routines see
          one shape only.

        Copies of the fitted networks are used, which also makes scoring safe
        from several threads.
        """
        device = resolve_device(self.device)
        geometry = self._geometry()
        dtype = torch.float32 if geometry.is_image else torch.float64
        generator, discriminator = (
            copy.deepcopy(m).to(device=device, dtype=dtype).eval() for m in (self.generator_, self.discriminator_)
        )
        outputs = []
        with torch.no_grad():
            for start in range(0, len(rows), self.batch_size):
                chunk = rows[start : start + self.batch_size]
                x = geometry.to_network(chunk, self.input_shift_, self.input_scale_).to(device=device, dtype=dtype)
                if geometry.is_image and len(x) < self.batch_size:
                    x = torch.cat([x, x.new_zeros((self.batch_size - len(x), *x.shape[1:]))])
                out = fn(generator, discriminator, x)
                outputs.append(_first_rows(out, len(chunk)))
        return outputs

    def _raw_components(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        def components(generator, discriminator, x):
            parts = self._batch_components(generator, discriminator, x)
            return {name: values.cpu().numpy() for name, values in parts.items()}

        batches = self._map_batches(rows, components)
        return {name: np.concatenate([b[name] for b in batches]).astype(np.float64) for name in batches[0]}

    def _combine(self, raw: dict[str, np.ndarray]) -> np.ndarray:
        total = np.zeros(len(next(iter(raw.values()))), dtype=np.float64)
        for name, weight in self._component_weights().items():
            mean, std = self.component_stats_[name]
            total += weight * (raw[name] - mean) / std
        return total

    # -- persistence -------------------------------------------------------------------
    def __getstate__(self):
        """Pickle fitted networks as CPU tensors, so a GPU-fitted detector loads anywhere."""
        state = super().__getstate__()
        for key in ("generator_", "discriminator_"):
            module = state.get(key)
            if module is not None and any(p.device.type != "cpu" for p in module.parameters()):
                state[key] = copy.deepcopy(module).cpu()
        return state
