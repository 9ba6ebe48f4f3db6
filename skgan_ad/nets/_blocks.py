"""Building blocks shared by several networks: size checks, channel widths, the U-Net pass, DCGAN's conv stack."""

from __future__ import annotations

import math

import torch
from torch import nn


def check_power_of_two(size: int, minimum: int = 4) -> int:
    """Return ``log2(size)``; raise ``ValueError`` unless ``size`` is a power of two >= ``minimum``."""
    if size < minimum or size & (size - 1):
        raise ValueError(f"network input size must be a power of two >= {minimum}, got {size}")
    return int(math.log2(size))


def channel_widths(base: int, n_levels: int, max_mult: int = 8) -> list[int]:
    """Channels per resolution level: ``base * 2**i``, capped at ``max_mult * base``."""
    return [base * min(2**i, max_mult) for i in range(n_levels)]


def n_skips_kept(n_skips: int | None, n_levels: int) -> int:
    """Skip connections a U-Net of ``n_levels`` down blocks keeps: ``n_skips`` (None: all ``n_levels - 1``)."""
    n_max = n_levels - 1
    return n_max if n_skips is None else min(int(n_skips), n_max)


def has_skip(level: int, n_levels: int, n_skips: int | None) -> bool:
    """Whether the up block at resolution ``level`` (0 = outermost) receives its down block's output.

    The innermost level has no skip (it is the code); the kept skips are the
    innermost ``n_skips``, since the outer, high-resolution ones are what let
    a generator copy its input, anomalies included.
    """
    return level < n_levels - 1 and level >= n_levels - 1 - n_skips_kept(n_skips, n_levels)


class BottleneckGenerator(nn.Module):
    """A generator whose ``down`` blocks end in a bottleneck code.

    ``encode(x)`` is that code, flattened to ``(n, features)``; subclasses
    define ``forward_with_code(x)`` -> ``(G(x), encode(x))`` from one pass
    through the encoder, and ``forward`` is its first half.
    """

    down: nn.ModuleList

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.down:
            x = block(x)
        return x.flatten(1)

    def forward_with_code(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_code(x)[0]


class SkipConnectedUNet(BottleneckGenerator):
    """A U-Net of ``down`` and ``up`` blocks: ``down`` in order, then ``up``; the up blocks that have
    a skip (the innermost ``n_skips``, all with None) are fed the concatenation of the matching down
    block's output and the previous up block's."""

    up: nn.ModuleList
    n_skips: int | None

    def forward_with_code(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        skips = []
        h = x
        for block in self.down:
            h = block(h)
            skips.append(h)
        h = skips.pop()
        code = h.flatten(1)
        n_levels = len(self.down)
        for j, block in enumerate(self.up):
            level = n_levels - 1 - j
            if has_skip(level, n_levels, self.n_skips):
                h = torch.cat([skips[level], h], dim=1)
            h = block(h)
        return h, code


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


class SeededDropout(nn.Module):
    """``nn.Dropout`` whose masks come from an explicit ``torch.Generator`` (attribute ``generator``).

    ``nn.Dropout`` draws from PyTorch's global random state, which every
    thread of a process shares: two fits with the same seed in two threads
    (a ``joblib`` threading backend, a web server) would disturb each other's
    masks. The training engine sets ``generator`` (on the network's device)
    from the detector's seed before training; without one it falls back to
    the global state like ``nn.Dropout``. The generator is not part of the
    module's ``state_dict``.
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = float(p)
        self.generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        if self.generator is None:
            return nn.functional.dropout(x, self.p, training=True)
        keep = torch.empty_like(x).bernoulli_(1 - self.p, generator=self.generator)
        return x * keep / (1 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


def set_dropout_generator(module: nn.Module, generator: torch.Generator | None) -> None:
    """Make every :class:`SeededDropout` of ``module`` draw its masks from ``generator``."""
    for layer in module.modules():
        if isinstance(layer, SeededDropout):
            layer.generator = generator
