"""GANomaly's encoder -> decoder -> encoder generator (Akcay et al. 2018), for images and rows."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ._blocks import channel_widths, check_power_of_two, dcgan_feature_stack
from .mlp import mlp_decoder, mlp_encoder


class DCGANEncoder(nn.Module):
    """Strided convolutions from an image to a latent vector of ``nz`` entries (GANomaly's ``Encoder``).

    Conv 4x4/2 + LeakyReLU, Conv/BatchNorm/LeakyReLU blocks down to 4x4, then a
    4x4 convolution to ``(n, nz)``. Channels double per block, capped at ``max_mult * ndf``.
    """

    def __init__(self, in_channels: int, image_size: int, nz: int, ndf: int = 64, max_mult: int = 8) -> None:
        super().__init__()
        features, channels = dcgan_feature_stack(in_channels, image_size, ndf, max_mult)
        self.net = nn.Sequential(*features, nn.Conv2d(channels, nz, 4, 1, 0, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten(1)


class DCGANDecoder(nn.Module):
    """Transposed convolutions from ``(n, nz)`` back to an image in [-1, 1] (GANomaly's ``Decoder``)."""

    def __init__(self, out_channels: int, image_size: int, nz: int, ngf: int = 64, max_mult: int = 8) -> None:
        super().__init__()
        widths = channel_widths(ngf, check_power_of_two(image_size, minimum=8) - 2, max_mult)[::-1]
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(nz, widths[0], 4, 1, 0, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(),
        ]
        for c_in, c_out in zip(widths[:-1], widths[1:]):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
        layers += [nn.ConvTranspose2d(widths[-1], out_channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z[:, :, None, None])


class EncoderDecoderEncoder(nn.Module):
    """``z = E1(x)``, ``x_hat = D(z)``, ``z_hat = E2(x_hat)``; ``forward`` returns ``(x_hat, z, z_hat)``.

    Build it with :meth:`for_images` (DCGAN encoders/decoder) or :meth:`for_rows`
    (fully connected, linear latent and output, no BatchNorm).
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module, encoder2: nn.Module) -> None:
        super().__init__()
        self.encoder, self.decoder, self.encoder2 = encoder, decoder, encoder2

    @classmethod
    def for_images(cls, channels: int, image_size: int, nz: int = 100, ngf: int = 64, ndf: int = 64):
        return cls(
            DCGANEncoder(channels, image_size, nz, ndf),
            DCGANDecoder(channels, image_size, nz, ngf),
            DCGANEncoder(channels, image_size, nz, ndf),
        )

    @classmethod
    def for_rows(cls, n_features: int, hidden_dims: Sequence[int] = (64, 32), nz: int = 16):
        down = [n_features, *hidden_dims, nz]
        return cls(
            mlp_encoder(down),
            mlp_decoder(down[::-1]),
            mlp_encoder(down),
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The latent code ``z = E1(x)``."""
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        z = self.encoder(x)
        x_hat = self.decoder(z)
        return x_hat, z, self.encoder2(x_hat)
