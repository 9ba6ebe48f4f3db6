"""Training objectives: the loss terms of the seed papers and how detectors combine them.

Networks (``skgan_ad.nets``) know nothing of losses; the training engine
(``skgan_ad._training``) knows nothing of which terms a detector uses. A
detector hands the engine a :class:`GANObjective`, whose three methods return
the generator, discriminator and validation losses for one batch.

Discriminators here return ``(logits, features)``; the adversarial terms take
logits (``binary_cross_entropy_with_logits``), which is the papers'
sigmoid + BCE computed without overflow.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

Logs = dict[str, torch.Tensor]


def adversarial_loss(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """BCE of discriminator logits against the label "real" (1) or "fake" (0)."""
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return F.binary_cross_entropy_with_logits(logits, target)


def contextual_loss(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    """L1 distance between an input and its reconstruction (the papers' L_con)."""
    return F.l1_loss(x_hat, x)


def latent_loss(f_real: torch.Tensor, f_fake: torch.Tensor) -> torch.Tensor:
    """Mean squared distance between discriminator features (Skip-GANomaly's L_lat)."""
    return F.mse_loss(f_fake, f_real)


def per_sample_mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean squared difference per sample, over every non-batch axis."""
    return (a - b).pow(2).flatten(1).mean(dim=1)


class GANObjective(nn.Module):
    """What a detector trains for: one generator, one discriminator loss per batch.

    The engine calls :meth:`generator_loss` first and steps the generator,
    then :meth:`discriminator_loss` with the fakes of that step and steps the
    discriminator (the order of the seed papers' reference code).
    """

    def generator_loss(self, generator: nn.Module, discriminator: nn.Module, x: torch.Tensor):
        """Return ``(loss, logs, fake)``; ``logs`` maps term names to detached scalars."""
        raise NotImplementedError

    def discriminator_loss(self, discriminator: nn.Module, x: torch.Tensor, fake: torch.Tensor):
        """Return ``(loss, logs)`` for real ``x`` and (detached) generated ``fake``.

        The default is the seed papers' real/fake BCE, halved as in their reference code.
        """
        logits_real, _ = discriminator(x)
        logits_fake, _ = discriminator(fake)
        loss = 0.5 * (adversarial_loss(logits_real, real=True) + adversarial_loss(logits_fake, real=False))
        return loss, {}

    def validation_loss(self, generator: nn.Module, discriminator: nn.Module, x: torch.Tensor):
        """Return ``(loss, logs)`` on held-out normals, in eval mode, without gradients."""
        raise NotImplementedError


class SkipGANomalyLoss(GANObjective):
    """Adversarial + contextual + latent loss of Skip-GANomaly (Akcay et al. 2019, Eq. 1-5).

    ``L_G = w_adv * BCE(D(G(x)), real) + w_con * |x - G(x)|_1 + w_lat * |f(x) - f(G(x))|_2^2``;
    the discriminator minimises the base class's real/fake BCE. The validation loss is the contextual term alone: it is
    the one part whose scale does not drift as the discriminator changes, so
    it is comparable across epochs (early stopping monitors it).
    """

    def __init__(self, w_adv: float = 1.0, w_con: float = 40.0, w_lat: float = 1.0) -> None:
        super().__init__()
        self.w_adv, self.w_con, self.w_lat = w_adv, w_con, w_lat

    def generator_loss(self, generator, discriminator, x):
        fake = generator(x)
        logits_fake, f_fake = discriminator(fake)
        with torch.no_grad():
            _, f_real = discriminator(x)
        adv = adversarial_loss(logits_fake, real=True)
        con = contextual_loss(x, fake)
        lat = latent_loss(f_real, f_fake)
        loss = self.w_adv * adv + self.w_con * con + self.w_lat * lat
        return loss, {"adv": adv.detach(), "con": con.detach(), "lat": lat.detach()}, fake

    def validation_loss(self, generator, discriminator, x):
        fake = generator(x)
        _, f_fake = discriminator(fake)
        _, f_real = discriminator(x)
        con = contextual_loss(x, fake)
        return con, {"con": con, "lat": latent_loss(f_real, f_fake)}


class GANomalyLoss(GANObjective):
    """Adversarial (feature matching) + contextual + encoder loss of GANomaly (Akcay et al. 2018, Eq. 1-4).

    The generator returns ``(x_hat, z, z_hat)``;
    ``L_G = w_adv * |f(x) - f(x_hat)|_2^2 + w_con * |x - x_hat|_1 + w_enc * |z - z_hat|_2^2``.
    The discriminator minimises the real/fake BCE. Validation: the contextual term.
    """

    def __init__(self, w_adv: float = 1.0, w_con: float = 50.0, w_enc: float = 1.0) -> None:
        super().__init__()
        self.w_adv, self.w_con, self.w_enc = w_adv, w_con, w_enc

    def generator_loss(self, generator, discriminator, x):
        fake, z, z_hat = generator(x)
        _, f_fake = discriminator(fake)
        with torch.no_grad():
            _, f_real = discriminator(x)
        adv = latent_loss(f_real, f_fake)  # feature matching
        con = contextual_loss(x, fake)
        enc = F.mse_loss(z_hat, z)
        loss = self.w_adv * adv + self.w_con * con + self.w_enc * enc
        return loss, {"adv": adv.detach(), "con": con.detach(), "enc": enc.detach()}, fake

    def validation_loss(self, generator, discriminator, x):
        fake, z, z_hat = generator(x)
        con = contextual_loss(x, fake)
        return con, {"con": con, "enc": F.mse_loss(z_hat, z)}
