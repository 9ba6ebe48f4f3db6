"""GANomaly (Akcay, Atapour-Abarghouei and Breckon, ACCV 2018)."""

from __future__ import annotations

from numbers import Integral, Real

import torch

from .._validation import Interval
from ..base import BaseGANDetector
from ..losses import GANomalyLoss
from ..nets import DCGANDiscriminator, MLPDiscriminator
from ..nets.ganomaly import EncoderDecoderEncoder


class GANomalyDetector(BaseGANDetector):
    """GANomaly: an encoder -> decoder -> encoder generator; the anomaly score is the latent mismatch.

    The generator encodes ``x`` to ``z``, decodes ``x_hat`` and re-encodes it
    to ``z_hat``; trained on normals, it keeps ``z_hat`` close to ``z`` for
    normal inputs only. Score: ``mean((z - z_hat)^2)`` (standardised on
    held-out normals). Trained on normal samples only (``y`` is ignored).

    Parameters
    ----------
    n_epochs, batch_size, lr, contamination, validation_fraction, trim_fraction,
    trim_warmup, image_shape, device, random_state, verbose, callbacks, memory
        As for :class:`SkipGANomalyDetector` (shared base class).
    w_adv, w_con, w_enc : float, default=1, 50, 1
        Weights of the feature-matching adversarial loss, the L1 contextual
        loss and the L2 latent (encoder) loss (the paper's values).
    nz : int, default=100
        Latent size (paper: 100 for images).
    ngf, ndf : int, default=64
        Base widths of the image decoder and encoders/discriminator.
    hidden_dims : tuple of int, default=(64, 32)
        Tabular encoder widths (mirrored by the decoder); the tabular latent
        size is ``min(nz, hidden_dims[-1])``.

    Attributes
    ----------
    generator_ : EncoderDecoderEncoder
    discriminator_ : DCGANDiscriminator or MLPDiscriminator
    offset_, component_stats_, calibration_scores_, history_, n_iter_,
    image_shape_, input_shift_, input_scale_, n_features_in_, device_
        As for :class:`SkipGANomalyDetector`; the one score part is ``latent``.

    References
    ----------
    S. Akcay, A. Atapour-Abarghouei, T. P. Breckon. "GANomaly: Semi-Supervised
    Anomaly Detection via Adversarial Training", ACCV 2018. arXiv:1805.06725.

    Examples
    --------
    >>> import numpy as np
    >>> from skgan_ad import GANomalyDetector
    >>> X = np.random.RandomState(0).normal(size=(64, 4))
    >>> GANomalyDetector(n_epochs=2, hidden_dims=(8, 4), random_state=0).fit(X).predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        **BaseGANDetector._parameter_constraints,
        "w_adv": [Interval(Real, 0, None, closed="left")],
        "w_con": [Interval(Real, 0, None, closed="left")],
        "w_enc": [Interval(Real, 0, None, closed="left")],
        "nz": [Interval(Integral, 1, None, closed="left")],
        **BaseGANDetector._width_constraints,
    }

    def __init__(
        self,
        *,
        n_epochs=15,
        batch_size=64,
        lr=2e-4,
        w_adv=1.0,
        w_con=50.0,
        w_enc=1.0,
        nz=100,
        contamination=0.1,
        validation_fraction=0.1,
        trim_fraction=0.0,
        trim_warmup=2,
        image_shape=None,
        ngf=64,
        ndf=64,
        hidden_dims=(64, 32),
        device="auto",
        random_state=None,
        verbose=0,
        callbacks=None,
        memory=None,
    ):
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.w_adv = w_adv
        self.w_con = w_con
        self.w_enc = w_enc
        self.nz = nz
        self.contamination = contamination
        self.validation_fraction = validation_fraction
        self.trim_fraction = trim_fraction
        self.trim_warmup = trim_warmup
        self.image_shape = image_shape
        self.ngf = ngf
        self.ndf = ndf
        self.hidden_dims = hidden_dims
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.memory = memory

    def _build_networks(self, geometry):
        if geometry.is_image:
            return (
                EncoderDecoderEncoder.for_images(geometry.channels, geometry.size, self.nz, self.ngf, self.ndf),
                DCGANDiscriminator(geometry.channels, geometry.size, ndf=self.ndf),
            )
        return (
            EncoderDecoderEncoder.for_rows(geometry.n_features, self.hidden_dims, self._latent_size(geometry)),
            MLPDiscriminator(geometry.n_features, self.hidden_dims),
        )

    def _build_objective(self, geometry):
        return GANomalyLoss(w_adv=self.w_adv, w_con=self.w_con, w_enc=self.w_enc)

    def _generate(self, generator, discriminator, x: torch.Tensor) -> torch.Tensor:
        return generator(x)[0]

    def _batch_components(self, generator, discriminator, x: torch.Tensor) -> dict[str, torch.Tensor]:
        _, z, z_hat = generator(x)
        return {"latent": (z - z_hat).pow(2).mean(dim=1)}

    def _component_weights(self) -> dict[str, float]:
        return {"latent": 1.0}
