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

from .nets.rotation import N_ROTATIONS, rotations

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


def per_sample_l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference per sample, over every non-batch axis."""
    return (a - b).abs().flatten(1).mean(dim=1)


# The survey seed's two discriminator terms for a score (Zenati et al. 2018; Schlegl et al. 2017),
# each with the name of the score part it gives (see skgan_ad.base.SCORE_PARTS).
DISCRIMINATOR_TERMS = {"fm": "feature", "ce": "discriminator"}


def discriminator_term(kind: str, logits: torch.Tensor, f_real: torch.Tensor, f_fake: torch.Tensor) -> torch.Tensor:
    """Per-sample discriminator part of an anomaly score, higher = more abnormal.

    ``"ce"``: cross-entropy of ``logits`` against the label "real",
    ``softplus(-logits)``: how confidently the discriminator rejects the sample.
    ``"fm"``: feature matching, the mean absolute difference between the
    discriminator features of the input (``f_real``) and of its generated
    counterpart (``f_fake``). Each detector decides which logits and which pair
    of features these are.
    """
    if kind == "ce":
        return F.softplus(-logits.flatten())
    if kind == "fm":
        return per_sample_l1(f_real, f_fake)
    raise ValueError(f"discriminator term must be one of {sorted(DISCRIMINATOR_TERMS)}, got {kind!r}")


def latent_norm_distance(z: torch.Tensor) -> torch.Tensor:
    """Distance of each latent code from the typical set of the N(0, I) prior: ``| ||z|| - sqrt(d) |``.

    In d dimensions almost all of a standard normal's mass lies near the
    sphere of radius ``sqrt(d)``; a code far inside or outside it is one the
    generator rarely saw in training (the survey seed's latent-norm component).
    """
    z = z.flatten(1)
    return (z.norm(dim=1) - z.shape[1] ** 0.5).abs()


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

    def sample_losses(self, generator: nn.Module, discriminator: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """Per-sample loss of the training samples, higher = fits the model worse (eval mode, no grad).

        The engine drops the highest of these when trimming contaminated
        training data. Default: the discriminator's cross-entropy against "real".
        """
        logits, _ = discriminator(x)
        return F.softplus(-logits.flatten())

    # Set by the training engine: the only source of the prior noise some objectives draw (it also
    # shuffles the batches), and the generator of the networks' dropout masks.
    noise_generator: torch.Generator | None = None
    dropout_generator: torch.Generator | None = None

    def get_extra_state(self) -> dict:
        """The random generators' states, so that the objective's ``state_dict`` (what skorch's
        ``Checkpoint`` saves as the criterion) lets a resumed run draw exactly what an uninterrupted one would."""
        return {
            name: generator.get_state()
            for name in ("noise_generator", "dropout_generator")
            if (generator := getattr(self, name)) is not None
        }

    def set_extra_state(self, state: dict) -> None:
        for name, value in state.items():
            generator = getattr(self, name)
            if generator is not None:
                generator.set_state(value)

    def sample_prior(self, n: int, nz: int, like: torch.Tensor) -> torch.Tensor:
        """``n`` codes from N(0, I_nz), drawn on the CPU from :attr:`noise_generator` (seeded, device-independent)."""
        z = torch.randn(n, nz, generator=self.noise_generator)
        return z.to(device=like.device, dtype=like.dtype)


class SkipGANomalyLoss(GANObjective):
    """Adversarial + contextual + latent loss of Skip-GANomaly (Akcay et al. 2019, Eq. 1-5).

    ``L_G = w_adv * BCE(D(G(x)), real) + w_con * |x - G(x)|_1 + w_lat * |f(x) - f(G(x))|_2^2``;
    the discriminator minimises the base class's real/fake BCE. The validation loss is the contextual term alone: it is
    the one part whose scale does not drift as the discriminator changes, so
    it is comparable across epochs (early stopping monitors it).

    ``latent_distance="l1"`` gives Zawar et al.'s variant (DenseSkipAttention),
    whose latent term is ``|f(x) - f(G(x))|_1``; the rest is the same.
    """

    def __init__(self, w_adv: float = 1.0, w_con: float = 40.0, w_lat: float = 1.0, latent_distance: str = "l2"):
        super().__init__()
        if latent_distance not in ("l1", "l2"):
            raise ValueError(f"latent_distance must be 'l1' or 'l2', got {latent_distance!r}")
        self.w_adv, self.w_con, self.w_lat = w_adv, w_con, w_lat
        self.latent_distance = latent_distance

    def _latent(self, f_real, f_fake, per_sample: bool = False):
        if self.latent_distance == "l1":
            return per_sample_l1(f_real, f_fake) if per_sample else F.l1_loss(f_fake, f_real)
        return per_sample_mse(f_real, f_fake) if per_sample else latent_loss(f_real, f_fake)

    def generator_loss(self, generator, discriminator, x):
        fake = generator(x)
        logits_fake, f_fake = discriminator(fake)
        with torch.no_grad():
            _, f_real = discriminator(x)
        adv = adversarial_loss(logits_fake, real=True)
        con = contextual_loss(x, fake)
        lat = self._latent(f_real, f_fake)
        loss = self.w_adv * adv + self.w_con * con + self.w_lat * lat
        return loss, {"adv": adv.detach(), "con": con.detach(), "lat": lat.detach()}, fake

    def validation_loss(self, generator, discriminator, x):
        fake = generator(x)
        _, f_fake = discriminator(fake)
        _, f_real = discriminator(x)
        con = contextual_loss(x, fake)
        return con, {"con": con, "lat": self._latent(f_real, f_fake)}

    def sample_losses(self, generator, discriminator, x):
        fake = generator(x)
        _, f_fake = discriminator(fake)
        _, f_real = discriminator(x)
        return self.w_con * per_sample_l1(x, fake) + self.w_lat * self._latent(f_real, f_fake, per_sample=True)


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

    def sample_losses(self, generator, discriminator, x):
        fake, z, z_hat = generator(x)
        return self.w_con * per_sample_l1(x, fake) + self.w_enc * per_sample_mse(z, z_hat)


class DCGANLoss(GANObjective):
    """The plain DCGAN game AnoGAN trains (Schlegl et al. 2017): G maps prior codes to samples.

    ``L_G = BCE(D(G(z)), real)`` with ``z ~ N(0, I_nz)`` (the non-saturating
    loss); the discriminator minimises the base class's real/fake BCE. There is
    no reconstruction, so the validation loss is the discriminator's
    cross-entropy on held-out normals (a monitor of over-fitting, not a
    quality measure).
    """

    def __init__(self, nz: int) -> None:
        super().__init__()
        self.nz = nz

    def generator_loss(self, generator, discriminator, x):
        fake = generator(self.sample_prior(len(x), self.nz, x))
        logits_fake, _ = discriminator(fake)
        adv = adversarial_loss(logits_fake, real=True)
        return adv, {"adv": adv.detach()}, fake

    def validation_loss(self, generator, discriminator, x):
        logits, _ = discriminator(x)
        d_real = adversarial_loss(logits, real=True)
        return d_real, {"d_real": d_real}


class BiGANLoss(GANObjective):
    """The BiGAN game of EGBAD (Donahue et al. 2017; Zenati et al. 2018).

    The generator module holds the encoder ``E`` and the generator ``G``
    (:class:`skgan_ad.nets.BiGANGenerator`); the discriminator judges pairs:
    ``(x, E(x))`` are "real", ``(G(z), z)`` with ``z ~ N(0, I)`` are "fake".
    ``E`` and ``G`` minimise the same cross-entropy with the labels swapped,
    which trains ``E`` to invert ``G``. Validation: reconstruction L1
    ``|x - G(E(x))|``, what the score's main part measures.
    """

    def __init__(self, nz: int) -> None:
        super().__init__()
        self.nz = nz

    def generator_loss(self, generator, discriminator, x):
        z_enc = generator.encode(x)
        z = self.sample_prior(len(x), self.nz, x)
        x_gen = generator.decode(z)
        logits_enc, _ = discriminator((x, z_enc))
        logits_gen, _ = discriminator((x_gen, z))
        adv = adversarial_loss(logits_enc, real=False) + adversarial_loss(logits_gen, real=True)
        return adv, {"adv": adv.detach()}, (z_enc, x_gen, z)

    def discriminator_loss(self, discriminator, x, fake):
        z_enc, x_gen, z = fake
        logits_enc, _ = discriminator((x, z_enc))
        logits_gen, _ = discriminator((x_gen, z))
        loss = 0.5 * (adversarial_loss(logits_enc, real=True) + adversarial_loss(logits_gen, real=False))
        return loss, {}

    def validation_loss(self, generator, discriminator, x):
        x_hat, _ = generator(x)
        con = contextual_loss(x, x_hat)
        return con, {"con": con}

    def sample_losses(self, generator, discriminator, x):
        x_hat, _ = generator(x)
        return per_sample_l1(x, x_hat)


def rotation_cross_entropy(discriminator: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Per-sample cross-entropy of the discriminator's rotation head on the four rotations of ``x``, averaged
    over them: how badly the head tells the rotations of each sample apart (GEOM's score, Golan and El-Yaniv
    2018, with rotations as the transformations). Shape ``(n,)``; needs ``discriminator.rotation_head``."""
    _, features = discriminator(rotations(x))
    # (rotation applied, sample, rotation predicted); written without the batch size, which the ONNX export
    # would otherwise fix as a constant.
    log_p = F.log_softmax(discriminator.rotation_head(features).float(), dim=1).view(N_ROTATIONS, -1, N_ROTATIONS)
    # Entry (i, k) is log p(k | x_i turned by k): the head's log-likelihood of the right answer.
    return -torch.diagonal(log_p, dim1=0, dim2=2).mean(dim=1)


def _forwarded(name: str) -> property:
    """An attribute read from and written to the wrapped ``objective``."""
    return property(
        lambda self: getattr(self.objective, name), lambda self, value: setattr(self.objective, name, value)
    )


class RotationPrediction(GANObjective):
    """A detector's objective with the self-supervised rotation loss added to its discriminator's.

    ``L_D = L_D(objective) + w_rotation * CE(rotation head of D(rot_k(x)), k)`` over the four rotations of
    each real batch (Chen et al., "Self-Supervised GANs via Auxiliary Rotation Loss", CVPR 2019, whose
    discriminator term this is). The generator, validation and sample losses are the wrapped objective's.
    """

    def __init__(self, objective: GANObjective, w_rotation: float) -> None:
        super().__init__()
        self.objective = objective
        self.w_rotation = w_rotation

    # The engine seeds the objective it holds; the wrapped one draws the noise.
    noise_generator = _forwarded("noise_generator")
    dropout_generator = _forwarded("dropout_generator")

    def get_extra_state(self) -> dict:
        return {}  # the wrapped objective, a submodule, keeps the generators' states

    def set_extra_state(self, state: dict) -> None:
        pass

    def generator_loss(self, generator, discriminator, x):
        return self.objective.generator_loss(generator, discriminator, x)

    def discriminator_loss(self, discriminator, x, fake):
        loss, logs = self.objective.discriminator_loss(discriminator, x, fake)
        rotation = rotation_cross_entropy(discriminator, x).mean()
        return loss + self.w_rotation * rotation, {**logs, "rot": rotation.detach()}

    def validation_loss(self, generator, discriminator, x):
        return self.objective.validation_loss(generator, discriminator, x)

    def sample_losses(self, generator, discriminator, x):
        return self.objective.sample_losses(generator, discriminator, x)
