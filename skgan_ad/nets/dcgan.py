"""DCGAN discriminator with a feature output (GANomaly / Skip-GANomaly ``NetD``)."""

from __future__ import annotations

import torch
from torch import nn

from ._blocks import dcgan_feature_stack


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
