"""Fully connected networks for tabular data (same family as the image nets)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ._blocks import SkipConnectedUNet, has_skip


def _check_dims(hidden_dims: Sequence[int]) -> list[int]:
    dims = [int(h) for h in hidden_dims]
    if not dims or min(dims) < 1:
        raise ValueError(f"hidden_dims must be a non-empty sequence of positive ints, got {hidden_dims!r}")
    return dims


def _mlp(sizes: Sequence[int], activation) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:  # linear output: latent codes and standardised features are unbounded
            layers.append(activation())
    return nn.Sequential(*layers)


def mlp_encoder(sizes: Sequence[int]) -> nn.Sequential:
    """Linear + LeakyReLU 0.2 layers through ``sizes``, the last one linear (rows -> latent code)."""
    return _mlp([int(s) for s in sizes], lambda: nn.LeakyReLU(0.2))


def mlp_decoder(sizes: Sequence[int]) -> nn.Sequential:
    """Linear + ReLU layers through ``sizes``, the last one linear (latent code -> rows)."""
    return _mlp([int(s) for s in sizes], nn.ReLU)


class SkipMLPGenerator(SkipConnectedUNet):
    """Fully connected U-Net: encoder layers feed the mirrored decoder layers.

    Encoder ``n_features -> hidden_dims[0] -> ... -> hidden_dims[-1]`` (Linear +
    LeakyReLU 0.2); the decoder mirrors it (Linear + ReLU) and concatenates
    each encoder layer's output to the decoder input of the same width; a
    linear output layer returns to ``n_features`` (tabular inputs are
    standardised, so no squashing nonlinearity). There is no BatchNorm, so
    training works with any batch size, a batch of one included. ``n_skips``
    keeps only the innermost skip connections, as for :class:`SkipUNetGenerator`.
    ``encode`` returns the innermost encoder layer's output, shape ``(n, hidden_dims[-1])``.
    """

    def __init__(
        self, n_features: int, hidden_dims: Sequence[int] = (64, 32, 16), *, n_skips: int | None = None
    ) -> None:
        super().__init__()
        dims = _check_dims(hidden_dims)
        sizes = [n_features, *dims]
        self.n_skips = n_skips
        self.down = nn.ModuleList(
            nn.Sequential(nn.Linear(a, b), nn.LeakyReLU(0.2)) for a, b in zip(sizes[:-1], sizes[1:])
        )
        self.up = nn.ModuleList()
        for i in reversed(range(1, len(sizes))):
            c_in = 2 * sizes[i] if has_skip(i - 1, len(dims), n_skips) else sizes[i]
            if i == 1:
                self.up.append(nn.Linear(c_in, n_features))
            else:
                self.up.append(nn.Sequential(nn.Linear(c_in, sizes[i - 1]), nn.ReLU()))


class MLPDiscriminator(nn.Module):
    """MLP discriminator; its last hidden layer is ``f(x)``.

    ``forward`` returns ``(logits, features)`` like :class:`DCGANDiscriminator`.
    """

    def __init__(self, n_features: int, hidden_dims: Sequence[int] = (64, 32, 16)) -> None:
        super().__init__()
        sizes = [n_features, *_check_dims(hidden_dims)]
        self.features = nn.Sequential(
            *(m for a, b in zip(sizes[:-1], sizes[1:]) for m in (nn.Linear(a, b), nn.LeakyReLU(0.2)))
        )
        self.classifier = nn.Linear(sizes[-1], 1)
        self.feature_channels = sizes[-1]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.features(x)
        return self.classifier(features).flatten(), features
