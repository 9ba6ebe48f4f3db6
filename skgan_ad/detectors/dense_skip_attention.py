"""Dense-skip generator with an attention-augmented discriminator (Zawar et al. 2022)."""

from __future__ import annotations

from numbers import Integral, Real

from .._validation import Interval
from ..base import BaseGANDetector
from ..losses import SkipGANomalyLoss, per_sample_l1
from ..nets import AttentionDiscriminator, DenseSkipGenerator, MLPDiscriminator, SkipMLPGenerator
from ..nets.spectral import maybe_spectral_norm


class DenseSkipAttentionDetector(BaseGANDetector):
    """A U-Net++ generator and an attention-augmented, spectrally normalised discriminator.

    The generator reconstructs its input through dense nested skip pathways
    (:class:`skgan_ad.nets.DenseSkipGenerator`); the discriminator's last
    block mixes a convolution with multi-head self-attention over all spatial
    positions (:class:`skgan_ad.nets.AttentionDiscriminator`), so it can judge
    the global consistency of an image, not only local texture. Spectral
    normalisation in both networks replaces BatchNorm and steadies training.
    Losses: adversarial (BCE) + contextual L1 + latent L1 on discriminator
    features, weights 1 / 40 / 1. Score:
    ``A = eta * |x - G(x)|_1 + (1 - eta) * |f(x) - f(G(x))|_1``, both parts
    standardised on held-out normals.

    For images larger than a network should take (X-ray baggage scans,
    industrial parts), wrap it in :class:`skgan_ad.PatchDetector`, the
    paper's patch-based scoring. The paper's emphasis is recall at a
    tolerable false-positive rate: see :func:`skgan_ad.metrics.recall_at_fpr`.

    Parameters
    ----------
    n_epochs, batch_size, lr, contamination, validation_fraction, trim_fraction,
    trim_warmup, image_shape, device, random_state, verbose, callbacks, memory
        As for :class:`SkipGANomalyDetector` (shared base class).
    w_adv, w_con, w_lat : float, default=1, 40, 1
        Weights of the adversarial, contextual (L1) and latent (L1 on
        discriminator features) generator losses (the paper's values).
    eta : float in [0, 1], default=0.9
        Weight of the contextual part of the score. The paper does not fix a
        value; 0.9 is Skip-GANomaly's reference choice for the same mix.
        Changing it needs no retraining.
    attention : bool, default=True
        Attention-augmented convolution in the discriminator; False puts a
        plain convolution of the same width in its place (ablation).
    spectral_norm : bool, default=True
        Spectral normalisation of every layer of both networks; False drops
        it (ablation). Tabular networks honour this switch too.
    num_heads : int, default=4
        Attention heads (the paper's Nh).
    depth : int or None, default=None
        Downsamplings of the generator; None: down to 4x4, at most 4.
    ngf, ndf : int, default=64
        Base widths of the generator and discriminator.
    hidden_dims : tuple of int, default=(64, 32, 16)
        Tabular networks' widths (a fully connected U-Net and MLP
        discriminator; attention needs spatial positions, so it applies to
        images only).

    Attributes
    ----------
    generator_ : DenseSkipGenerator or SkipMLPGenerator
    discriminator_ : AttentionDiscriminator or MLPDiscriminator
    offset_, component_stats_, calibration_scores_, history_, n_iter_,
    image_shape_, input_shift_, input_scale_, n_features_in_, device_
        As for :class:`SkipGANomalyDetector`; score parts ``contextual`` and ``latent``.

    References
    ----------
    Zawar et al. "Detecting anomalies using generative adversarial networks
    on images", 2022. Z. Zhou et al. "UNet++: A Nested U-Net Architecture",
    2018. I. Bello et al. "Attention Augmented Convolutional Networks", ICCV
    2019. T. Miyato et al. "Spectral Normalization for GANs", ICLR 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from skgan_ad import DenseSkipAttentionDetector
    >>> X = np.random.RandomState(0).uniform(size=(64, 8, 8))
    >>> det = DenseSkipAttentionDetector(n_epochs=1, ngf=4, ndf=4, random_state=0).fit(X)
    >>> det.anomaly_map(X[:2]).shape
    (2, 8, 8)
    """

    _parameter_constraints: dict = {
        **BaseGANDetector._parameter_constraints,
        "w_adv": [Interval(Real, 0, None, closed="left")],
        "w_con": [Interval(Real, 0, None, closed="left")],
        "w_lat": [Interval(Real, 0, None, closed="left")],
        "eta": [Interval(Real, 0, 1, closed="both")],
        "attention": ["boolean"],
        "spectral_norm": ["boolean"],
        "num_heads": [Interval(Integral, 1, None, closed="left")],
        "depth": [Interval(Integral, 1, None, closed="left"), None],
        **BaseGANDetector._width_constraints,
    }
    _scoring_params = BaseGANDetector._scoring_params | {"eta"}

    def __init__(
        self,
        *,
        n_epochs=15,
        batch_size=64,
        lr=2e-4,
        w_adv=1.0,
        w_con=40.0,
        w_lat=1.0,
        eta=0.9,
        attention=True,
        spectral_norm=True,
        num_heads=4,
        depth=None,
        contamination=0.1,
        validation_fraction=0.1,
        trim_fraction=0.0,
        trim_warmup=2,
        image_shape=None,
        ngf=64,
        ndf=64,
        hidden_dims=(64, 32, 16),
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
        self.w_lat = w_lat
        self.eta = eta
        self.attention = attention
        self.spectral_norm = spectral_norm
        self.num_heads = num_heads
        self.depth = depth
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
                DenseSkipGenerator(
                    geometry.channels, geometry.size, ngf=self.ngf, depth=self.depth, spectral_norm=self.spectral_norm
                ),
                AttentionDiscriminator(
                    geometry.channels,
                    geometry.size,
                    ndf=self.ndf,
                    attention=self.attention,
                    spectral_norm=self.spectral_norm,
                    num_heads=self.num_heads,
                ),
            )
        return (
            maybe_spectral_norm(SkipMLPGenerator(geometry.n_features, self.hidden_dims), self.spectral_norm),
            maybe_spectral_norm(MLPDiscriminator(geometry.n_features, self.hidden_dims), self.spectral_norm),
        )

    def _build_objective(self, geometry):
        return SkipGANomalyLoss(w_adv=self.w_adv, w_con=self.w_con, w_lat=self.w_lat, latent_distance="l1")

    def _batch_components(self, generator, discriminator, x):
        fake = generator(x)
        _, f_real = discriminator(x)
        _, f_fake = discriminator(fake)
        crop = self._geometry().crop
        return {"contextual": per_sample_l1(crop(x), crop(fake)), "latent": per_sample_l1(f_real, f_fake)}

    def _component_weights(self):
        return {"contextual": self.eta, "latent": 1.0 - self.eta}
