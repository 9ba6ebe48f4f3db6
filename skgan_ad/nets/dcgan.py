"""DCGAN discriminator with a feature output (GANomaly / Skip-GANomaly ``NetD``)."""

from __future__ import annotations

import torch
from torch import nn

from .skip_unet import channel_widths, check_power_of_two


def dcgan_feature_stack(
    in_channels: int, image_size: int, ndf: int = 64, max_mult: int = 8
) -> tuple[nn.Sequential, int]:
    """DCGAN's strided convolutions from an image down to 4x4 maps; returns ``(stack, out_channels)``.

    Conv 4x4 stride 2 + LeakyReLU 0.2, then Conv/BatchNorm/LeakyReLU blocks, channels
    doubling per block up to ``max_mult * ndf``. Shared by the discriminators and encoders.
    """
    n_levels = check_power_of_two(image_size, minimum=8) - 2  # stride-2 blocks to reach 4x4
    widths = channel_widths(ndf, n_levels, max_mult)
    layers: list[nn.Module] = [nn.Conv2d(in_channels, widths[0], 4, 2, 1, bias=False), nn.LeakyReLU(0.2)]
    for c_in, c_out in zip(widths[:-1], widths[1:]):
        layers += [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2)]
    return nn.Sequential(*layers), widths[-1]


class DCGANDiscriminator(nn.Module):
    """Strided-conv discriminator that also returns its last feature map.

    Conv 4x4 stride 2 + LeakyReLU 0.2, then Conv/BatchNorm/LeakyReLU pyramid
    blocks down to 4x4; those 4x4 maps are ``f(x)``, the features the latent
    loss and the anomaly score compare. A final 4x4 convolution gives one
    logit per image (the papers apply a sigmoid; the losses here take logits,
    which is the same model computed more stably). Channels double per block
    and are capped at ``max_mult * ndf`` so large inputs stay affordable.

    ``forward`` returns ``(logits, features)`` with logits of shape ``(n,)``.
    """

    def __init__(self, in_channels: int, image_size: int, ndf: int = 64, max_mult: int = 8) -> None:
        super().__init__()
        self.features, self.feature_channels = dcgan_feature_stack(in_channels, image_size, ndf, max_mult)
        self.classifier = nn.Conv2d(self.feature_channels, 1, 4, 1, 0, bias=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.features(x)
        return self.classifier(features).flatten(), features
