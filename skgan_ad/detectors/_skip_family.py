"""What Skip-GANomaly and its dense-skip, attention successor (Zawar et al. 2022) share.

Both train a skip-connected generator with the adversarial + contextual +
latent loss of Skip-GANomaly and score with the ``residual`` |x - G(x)| and
the ``feature`` distance |f(x) - f(G(x))| of the discriminator. They differ in
their networks and in the distance: mean squared (Skip-GANomaly's reference
code) or mean absolute (Zawar et al.).
"""

from __future__ import annotations

from .._params import estimator_params, param
from .._validation import NON_NEGATIVE
from ..base import BaseGANDetector
from ..losses import SkipGANomalyLoss, per_sample_l1, per_sample_mse

_FEATURE_DISTANCES = {"l1": per_sample_l1, "l2": per_sample_mse}


@estimator_params
class SkipFamilyDetector(BaseGANDetector):
    """Base of :class:`SkipGANomalyDetector` and :class:`DenseSkipAttentionDetector`; not for direct use."""

    w_adv: float = param(1.0, NON_NEGATIVE)
    w_con: float = param(40.0, NON_NEGATIVE)
    w_lat: float = param(1.0, NON_NEGATIVE)
    hidden_dims: tuple = (64, 32, 16)

    # "l2" (mean squared) or "l1" (mean absolute): the latent loss and both score parts.
    _distance = "l2"

    def _build_objective(self, geometry):
        return SkipGANomalyLoss(w_adv=self.w_adv, w_con=self.w_con, w_lat=self.w_lat, latent_distance=self._distance)

    def _batch_components(self, generator, discriminator, x, geometry):
        fake, code = generator.forward_with_code(x)
        _, f_real = discriminator(x)
        _, f_fake = discriminator(fake)
        parts = {
            "residual": self._residual(x, fake, geometry),
            "feature": _FEATURE_DISTANCES[self._distance](f_real, f_fake),
        }
        return parts, code
