"""The self-supervised rotation head a discriminator can carry (Chen et al. 2019; Golan and El-Yaniv 2018)."""

from __future__ import annotations

import torch
from torch import nn

#: The transformations the head tells apart: rotations by k * 90 degrees, k = 0 .. N_ROTATIONS - 1.
N_ROTATIONS = 4


def rotations(x: torch.Tensor) -> torch.Tensor:
    """The four rotations of a batch of square images ``(n, C, S, S)``, stacked rotation-major: ``(4 n, C, S, S)``.

    Rows ``k n .. (k + 1) n - 1`` are the batch turned by ``k * 90`` degrees.
    """
    return torch.cat([torch.rot90(x, k, dims=(2, 3)) for k in range(N_ROTATIONS)])


class RotationHead(nn.Module):
    """A linear classifier of the rotation applied to an image, from a discriminator's last feature maps.

    The maps are averaged over their spatial positions (so the head does not
    depend on the image size), then mapped to ``N_ROTATIONS`` logits. Trained
    beside the adversarial loss, predicting the rotation makes the
    discriminator learn the shapes of normal images (SSGAN's auxiliary loss);
    how badly it predicts the rotations of a new image is GEOM's anomaly
    score.
    """

    def __init__(self, n_features: int) -> None:
        super().__init__()
        self.linear = nn.Linear(n_features, N_ROTATIONS)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        pooled = features.flatten(2).mean(dim=2) if features.dim() > 2 else features
        return self.linear(pooled)


def attach_rotation_head(discriminator: nn.Module, channels: int, size: int) -> nn.Module:
    """Give ``discriminator`` (images in, ``(logits, features)`` out) a :class:`RotationHead` as
    ``discriminator.rotation_head``, sized by one forward pass of a blank batch; returns it."""
    was_training = discriminator.training
    with torch.no_grad():
        # Eval mode: the sizing pass must not move BatchNorm's running statistics.
        _, features = discriminator.eval()(torch.zeros(2, channels, size, size))
    discriminator.train(was_training)
    discriminator.rotation_head = RotationHead(features.shape[1])
    return discriminator
