"""Encoder-decoder generator with dense nested skip pathways (U-Net++), as in Zawar et al. 2022."""

from __future__ import annotations

import torch
from torch import nn

from ._blocks import BottleneckGenerator, channel_widths, check_power_of_two
from .spectral import maybe_spectral_norm

#: Default cap on the number of downsamplings: the nested decoder has ``depth * (depth + 1) / 2``
#: nodes, so each extra level costs a whole extra column of full-resolution convolutions.
MAX_DEFAULT_DEPTH = 4


def default_depth(image_size: int, max_depth: int = MAX_DEFAULT_DEPTH) -> int:
    """Downsamplings from ``image_size`` to 4x4, capped at ``max_depth`` (8 -> 1, 16 -> 2, ..., >= 64 -> 4)."""
    return max(1, min(check_power_of_two(image_size, minimum=8) - 2, max_depth))


class DenseSkipGenerator(BottleneckGenerator):
    """U-Net++ generator: nested, densely connected skip pathways between encoder and decoder.

    Node ``x[i][j]`` sits at resolution level ``i`` (``image_size / 2**i``, width
    ``ngf * 2**i`` capped at ``max_mult * ngf``) in column ``j``. The encoder is
    column 0: ``x[0][0]`` is a 3x3 convolution of the input and ``x[i][0]`` a
    4x4 stride-2 convolution of ``x[i-1][0]`` (LeakyReLU 0.2). Every other node
    is a 3x3 convolution + ReLU of the channel concatenation of all earlier
    nodes on its level and the nearest-upsampled node below-left,
    ``[x[i][0], ..., x[i][j-1], U(x[i+1][j-1])]``. Where a plain U-Net hands
    the decoder raw encoder maps, these intermediate nodes bridge the
    semantic gap between them, which sharpens reconstructions. The output is
    ``x[0][depth]`` through a 1x1 convolution and Tanh, with the input's size.
    ``encode`` returns the deepest encoder node ``x[depth][0]``, flattened:
    ``(n, width * (size / 2**depth)**2)``.

    ``depth`` (number of downsamplings) defaults to :func:`default_depth`. There
    is no BatchNorm: with ``spectral_norm=True`` (the default) every convolution
    is spectrally normalised instead, and each sample's output is independent
    of the rest of its batch.
    """

    def __init__(
        self,
        in_channels: int,
        image_size: int,
        *,
        depth: int | None = None,
        ngf: int = 64,
        max_mult: int = 8,
        out_channels: int | None = None,
        spectral_norm: bool = True,
    ) -> None:
        super().__init__()
        max_depth = check_power_of_two(image_size, minimum=8)
        depth = default_depth(image_size) if depth is None else depth
        if not 1 <= depth <= max_depth:
            raise ValueError(f"depth must be between 1 and log2(image_size)={max_depth}, got {depth}")
        self.depth = depth
        widths = channel_widths(ngf, depth + 1, max_mult)
        out_channels = in_channels if out_channels is None else out_channels

        self.down = nn.ModuleList([nn.Sequential(nn.Conv2d(in_channels, widths[0], 3, 1, 1), nn.LeakyReLU(0.2))])
        for c_in, c_out in zip(widths[:-1], widths[1:]):
            self.down.append(nn.Sequential(nn.Conv2d(c_in, c_out, 4, 2, 1), nn.LeakyReLU(0.2)))
        # nested[j - 1][i] computes x[i][j]; column j has one node fewer than the one before.
        self.nested = nn.ModuleList(
            nn.ModuleList(
                nn.Sequential(nn.Conv2d(j * widths[i] + widths[i + 1], widths[i], 3, 1, 1), nn.ReLU())
                for i in range(depth + 1 - j)
            )
            for j in range(1, depth + 1)
        )
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")
        self.out = nn.Sequential(nn.Conv2d(widths[0], out_channels, 1), nn.Tanh())
        maybe_spectral_norm(self, spectral_norm)

    def forward_with_code(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        levels: list[list[torch.Tensor]] = []  # levels[i] = [x[i][0], x[i][1], ...]
        h = x
        for block in self.down:
            h = block(h)
            levels.append([h])
        for j, column in enumerate(self.nested, start=1):
            for i, block in enumerate(column):
                levels[i].append(block(torch.cat([*levels[i], self.upsample(levels[i + 1][j - 1])], dim=1)))
        return self.out(levels[0][self.depth]), levels[-1][0].flatten(1)
