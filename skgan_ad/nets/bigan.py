"""BiGAN networks (Donahue et al. 2017) as EGBAD uses them (Zenati et al. 2018): E, G and a joint D."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ._blocks import SeededDropout, dcgan_feature_stack
from .ganomaly import DCGANDecoder, DCGANEncoder
from .mlp import mlp_decoder, mlp_encoder


class BiGANGenerator(nn.Module):
    """The encoder ``E: x -> z`` and generator ``G: z -> x``, trained as one module.

    ``forward(x)`` returns ``(G(E(x)), E(x))``; :meth:`encode` and :meth:`decode`
    give each half alone (training draws ``G(z)`` for prior codes).
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module) -> None:
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    @classmethod
    def for_images(cls, channels: int, image_size: int, nz: int = 100, ngf: int = 64, ndf: int = 64):
        return cls(DCGANEncoder(channels, image_size, nz, ndf), DCGANDecoder(channels, image_size, nz, ngf))

    @classmethod
    def for_rows(cls, n_features: int, hidden_dims: Sequence[int] = (64, 32), nz: int = 16):
        down = [n_features, *hidden_dims, nz]
        return cls(mlp_encoder(down), mlp_decoder(down[::-1]))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encoder(x)
        return self.decoder(z), z


class JointDiscriminator(nn.Module):
    """Discriminator on ``(x, z)`` pairs: an x branch, a z branch, and a joint head.

    Following EGBAD's networks: the x branch is DCGAN's convolution stack for
    images (an MLP for rows), the z branch one LeakyReLU layer, and the joint
    head a LeakyReLU layer whose output is the feature vector ``f(x, z)`` that
    feature matching compares, then a linear logit. Zenati et al. use widths
    512 (z) and 1024 (joint); here they are ``8 * ndf`` and ``16 * ndf``, the
    same at ``ndf=64``. Dropout (their 0.2) after each hidden layer of the z
    branch and the joint head keeps the discriminator from winning outright,
    which a BiGAN's discriminator otherwise does within an epoch (it tells
    encoder codes from prior draws by their statistics alone); it is off in eval mode.

    ``forward((x, z))`` returns ``(logits, features)`` with logits of shape ``(n,)``.
    """

    def __init__(
        self, x_branch: nn.Module, x_features: int, nz: int, z_width: int, joint_width: int, dropout: float = 0.2
    ) -> None:
        super().__init__()
        self.x_branch = x_branch
        self.z_branch = nn.Sequential(nn.Linear(nz, z_width), nn.LeakyReLU(0.2), SeededDropout(dropout))
        self.joint = nn.Sequential(
            nn.Linear(x_features + z_width, joint_width), nn.LeakyReLU(0.2), SeededDropout(dropout)
        )
        self.classifier = nn.Linear(joint_width, 1)
        self.feature_channels = joint_width

    @classmethod
    def for_images(cls, channels: int, image_size: int, nz: int = 100, ndf: int = 64, dropout: float = 0.2):
        stack, out_channels = dcgan_feature_stack(channels, image_size, ndf)
        x_branch = nn.Sequential(stack, nn.Flatten(), SeededDropout(dropout))
        return cls(x_branch, out_channels * 16, nz, 8 * ndf, 16 * ndf, dropout)

    @classmethod
    def for_rows(cls, n_features: int, hidden_dims: Sequence[int] = (64, 32), nz: int = 16, dropout: float = 0.2):
        dims = [n_features, *hidden_dims]
        x_branch = nn.Sequential(mlp_encoder(dims), nn.LeakyReLU(0.2), SeededDropout(dropout))
        return cls(x_branch, dims[-1], nz, dims[-1], dims[-1], dropout)

    def forward(self, pair: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        x, z = pair
        features = self.joint(torch.cat([self.x_branch(x), self.z_branch(z)], dim=1))
        return self.classifier(features).flatten(), features
