"""Dense-skip generator with an attention-augmented discriminator (Zawar et al. 2022)."""

from __future__ import annotations

from .._params import estimator_params, param
from .._validation import POSITIVE_INT
from ..nets import AttentionDiscriminator, DenseSkipGenerator, MLPDiscriminator, SkipMLPGenerator
from ..nets.spectral import maybe_spectral_norm
from ._skip_family import SkipFamilyDetector


@estimator_params
class DenseSkipAttentionDetector(SkipFamilyDetector):
    """A U-Net++ generator and an attention-augmented, spectrally normalised discriminator.

    The generator reconstructs its input through dense nested skip pathways
    (``skgan_ad.nets.DenseSkipGenerator``); the discriminator's last
    block mixes a convolution with multi-head self-attention over all spatial
    positions (``skgan_ad.nets.AttentionDiscriminator``), so it can judge
    the global consistency of an image, not only local texture. Spectral
    normalisation in both networks replaces BatchNorm and steadies training.
    Losses: adversarial (BCE) + contextual L1 + latent L1 on discriminator
    features, weights 1 / 40 / 1. Score:
    ``A = lambda_score * |x - G(x)|_1 + (1 - lambda_score) * |f(x) - f(G(x))|_1``
    (the paper's eta is ``lambda_score``; the parts are ``residual`` and
    ``feature``), both parts standardised on held-out normals.

    For images larger than a network should take (X-ray baggage scans,
    industrial parts), wrap it in :class:`skgan_ad.PatchDetector`, the
    paper's patch-based scoring. The paper's emphasis is recall at a
    tolerable false-positive rate: see :func:`skgan_ad.metrics.recall_at_fpr`.

    Parameters
    ----------
    w_adv, w_con, w_lat : float, default=1, 40, 1
        Weights of the adversarial, contextual (L1) and latent (L1 on
        discriminator features) generator losses (the paper's values).
    lambda_score : float in [0, 1], default=0.9
        The paper's eta: the share of the ``residual`` part. The paper does
        not fix a value; 0.9 is Skip-GANomaly's reference choice for the same
        mix. Changing it needs no retraining.
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
    hidden_dims : tuple of int, default=(64, 32, 16)
        Tabular networks' widths (a fully connected U-Net and MLP
        discriminator; attention needs spatial positions, so it applies to
        images only).
    {shared_parameters}

    Attributes
    ----------
    generator_ : DenseSkipGenerator or SkipMLPGenerator
    discriminator_ : AttentionDiscriminator or MLPDiscriminator
    {shared_attributes}

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

    attention: bool = param(True, "boolean")
    spectral_norm: bool = param(True, "boolean")
    num_heads: int = param(4, POSITIVE_INT)
    depth: int | None = param(None, POSITIVE_INT, None)

    _distance = "l1"

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
