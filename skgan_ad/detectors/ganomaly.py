"""GANomaly (Akcay, Atapour-Abarghouei and Breckon, ACCV 2018)."""

from __future__ import annotations

from .._params import estimator_params, param
from .._validation import NON_NEGATIVE, POSITIVE_INT
from ..base import BaseGANDetector
from ..losses import GANomalyLoss, per_sample_mse
from ..nets import DCGANDiscriminator, MLPDiscriminator
from ..nets.ganomaly import EncoderDecoderEncoder


@estimator_params
class GANomalyDetector(BaseGANDetector):
    """GANomaly: an encoder -> decoder -> encoder generator; the anomaly score is the latent mismatch.

    The generator encodes ``x`` to ``z``, decodes ``x_hat`` and re-encodes it
    to ``z_hat``; trained on normals, it keeps ``z_hat`` close to ``z`` for
    normal inputs only. Trained on normal samples only (``y`` is ignored).

    Parameters
    ----------
    w_adv, w_con, w_enc : float, default=1, 50, 1
        Weights of the feature-matching adversarial loss, the L1 contextual
        loss and the L2 latent (encoder) loss (the paper's values).
    lambda_score : float in [0, 1], default=0.0
        Share of the ``residual`` part in the score; ``1 - lambda_score`` is
        the share of ``latent``. 0 is the paper's score, the latent mismatch
        alone.
    nz : int, default=100
        Latent size (paper: 100 for images).
    hidden_dims : tuple of int, default=(64, 32)
        Tabular encoder widths (mirrored by the decoder); the tabular latent
        size is ``min(nz, hidden_dims[-1])``.
    {shared_parameters}

    Attributes
    ----------
    generator_ : EncoderDecoderEncoder
    discriminator_ : DCGANDiscriminator or MLPDiscriminator
    {shared_attributes}

    Notes
    -----
    Score parts and the paper's symbols: ``latent`` is A(x) of the paper,
    ``mean((z - z_hat)^2) = mean((G_E(x) - E(G(x)))^2)``; ``residual`` is
    the mean absolute pixel error ``|x - x_hat|_1`` (the paper's L_con, used
    in training only). Both are standardised on held-out normals.

    References
    ----------
    S. Akcay, A. Atapour-Abarghouei, T. P. Breckon. "GANomaly: Semi-Supervised
    Anomaly Detection via Adversarial Training", ACCV 2018. arXiv:1805.06725.

    Examples
    --------
    On 8x8 grey images (any float range; integers are read as 0..255):

    >>> from numpy.random import RandomState
    >>> from skgan_ad import GANomalyDetector
    >>> images = RandomState(0).uniform(size=(48, 8, 8))
    >>> ganomaly = GANomalyDetector(n_epochs=1, ngf=4, ndf=4, nz=8, random_state=0).fit(images)
    >>> ganomaly.reconstruct(images[:2]).shape, sorted(ganomaly.score_components(images[:2]))
    ((2, 8, 8), ['embedding', 'latent', 'residual'])
    """

    w_adv: float = param(1.0, NON_NEGATIVE)
    w_con: float = param(50.0, NON_NEGATIVE)
    w_enc: float = param(1.0, NON_NEGATIVE)
    lambda_score: float = 0.0
    nz: int = param(100, POSITIVE_INT)

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

    def _generate(self, generator, discriminator, x, geometry):
        return generator(x)[0]

    def _batch_components(self, generator, discriminator, x, geometry):
        x_hat, z, z_hat = generator(x)
        parts = {
            "residual": self._residual(x, x_hat, geometry),
            "latent": per_sample_mse(z, z_hat),
        }
        return parts, z
