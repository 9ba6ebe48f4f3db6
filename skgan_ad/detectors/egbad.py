"""EGBAD: efficient GAN-based anomaly detection with a BiGAN (Zenati, Foo, Lecouat, Manek and Chandrasekhar, 2018)."""

from __future__ import annotations

from numbers import Integral, Real

from .._validation import Interval, StrOptions
from ..base import BaseGANDetector
from ..losses import DISCRIMINATOR_TERMS, BiGANLoss, discriminator_term, latent_norm_distance, per_sample_l1
from ..nets import BiGANGenerator, JointDiscriminator


class EGBADDetector(BaseGANDetector):
    """EGBAD: a BiGAN (encoder, generator, joint discriminator) trained on normal data.

    The encoder ``E`` learns to invert the generator ``G`` because the
    discriminator judges pairs, ``(x, E(x))`` against ``(G(z), z)``. Scoring
    needs one pass, no latent search (the improvement over AnoGAN):
    ``A(x) = alpha * |x - G(E(x))|_1 + (1 - alpha) * L_D(x)``, with ``L_D``
    the discriminator's cross-entropy on ``(x, E(x))`` or the feature-matching
    distance ``|f(x, E(x)) - f(G(E(x)), E(x))|_1`` (both parts standardised on
    held-out normals first).

    Parameters
    ----------
    n_epochs, batch_size, lr, contamination, validation_fraction, trim_fraction,
    trim_warmup, image_shape, device, random_state, verbose, callbacks, memory
        As for :class:`SkipGANomalyDetector` (shared base class).
    nz : int, default=100
        Latent size (the tabular one is ``min(nz, hidden_dims[-1])``).
    alpha : float in [0, 1], default=0.9
        Weight of the reconstruction part of the score (the paper's alpha).
    disc_term : {"fm", "ce"}, default="fm"
        Discriminator part of the score: feature matching or cross-entropy.
    latent_norm_weight : float, default=0.0
        Weight of the latent-norm part (distance of ``E(x)`` from the prior's
        typical set) in the score; 0 leaves it out.
    ngf, ndf : int, default=64
        Base widths of the image generator and encoder/discriminator.
    hidden_dims : tuple of int, default=(64, 32)
        Tabular encoder and discriminator widths (the generator mirrors them).

    ``alpha``, ``disc_term`` and ``latent_norm_weight`` change no training:
    with ``memory`` set, a grid over them trains once.

    Attributes
    ----------
    generator_ : BiGANGenerator
        Holds the encoder and the generator.
    discriminator_ : JointDiscriminator
    offset_, component_stats_, calibration_scores_, history_, n_iter_,
    image_shape_, input_shift_, input_scale_, n_features_in_, device_
        As for :class:`SkipGANomalyDetector`; score parts ``reconstruction``,
        ``discriminator`` and ``latent_norm``.

    References
    ----------
    H. Zenati, C. S. Foo, B. Lecouat, G. Manek, V. R. Chandrasekhar.
    "Efficient GAN-Based Anomaly Detection", ICLR 2018 workshop. arXiv:1802.06222.
    J. Donahue, P. Krähenbühl, T. Darrell. "Adversarial Feature Learning", ICLR 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from skgan_ad import EGBADDetector
    >>> X = np.random.RandomState(0).normal(size=(64, 4))
    >>> EGBADDetector(n_epochs=2, hidden_dims=(8, 4), random_state=0).fit(X).predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        **BaseGANDetector._parameter_constraints,
        "nz": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, 1, closed="both")],
        "disc_term": [StrOptions(set(DISCRIMINATOR_TERMS))],
        "latent_norm_weight": [Interval(Real, 0, None, closed="left")],
        **BaseGANDetector._width_constraints,
    }
    _scoring_params = BaseGANDetector._scoring_params | {"alpha", "disc_term", "latent_norm_weight"}

    def __init__(
        self,
        *,
        n_epochs=15,
        batch_size=64,
        lr=2e-4,
        nz=100,
        alpha=0.9,
        disc_term="fm",
        latent_norm_weight=0.0,
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
        self.nz = nz
        self.alpha = alpha
        self.disc_term = disc_term
        self.latent_norm_weight = latent_norm_weight
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
        nz = self._latent_size(geometry)
        if geometry.is_image:
            return (
                BiGANGenerator.for_images(geometry.channels, geometry.size, nz, self.ngf, self.ndf),
                JointDiscriminator.for_images(geometry.channels, geometry.size, nz, self.ndf),
            )
        return (
            BiGANGenerator.for_rows(geometry.n_features, self.hidden_dims, nz),
            JointDiscriminator.for_rows(geometry.n_features, self.hidden_dims, nz),
        )

    def _build_objective(self, geometry):
        return BiGANLoss(nz=self._latent_size(geometry))

    def _generate(self, generator, discriminator, x):
        return generator(x)[0]

    def _batch_components(self, generator, discriminator, x):
        x_hat, z = generator(x)
        logits, f_real = discriminator((x, z))
        _, f_fake = discriminator((x_hat, z))
        crop = self._geometry().crop
        return {
            "reconstruction": per_sample_l1(crop(x), crop(x_hat)),
            "discriminator": discriminator_term(self.disc_term, logits, f_real, f_fake),
            "latent_norm": latent_norm_distance(z),
        }

    def _component_weights(self):
        return {"reconstruction": self.alpha, "discriminator": 1.0 - self.alpha, "latent_norm": self.latent_norm_weight}
