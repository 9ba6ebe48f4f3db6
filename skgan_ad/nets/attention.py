"""Attention-augmented convolution (Bello et al. 2019) and the discriminator built on it (Zawar et al. 2022)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._blocks import channel_widths, check_power_of_two
from .spectral import maybe_spectral_norm


class MultiHeadSelfAttention2d(nn.Module):
    """Multi-head self-attention over all spatial positions of a feature map.

    A 1x1 convolution gives per-position queries and keys (``dk`` channels)
    and values (``dv``); each of ``num_heads`` heads attends with depth
    ``dk / num_heads`` over all ``h * w`` positions of its own sample, and a
    1x1 convolution mixes the concatenated heads. Every output position can
    thus depend on every input position, which a convolution's receptive
    field cannot give in one layer. There are no positional encodings: the
    convolution beside it in :class:`AttentionAugmentedConv2d` carries the
    spatial layout (Bello et al.'s relative logits are left out to keep it cheap).

    Maps ``(n, in_channels, h, w)`` to ``(n, dv, h, w)``.
    """

    def __init__(self, in_channels: int, dk: int, dv: int, num_heads: int = 4) -> None:
        super().__init__()
        if num_heads < 1 or dk < num_heads or dv < num_heads or dk % num_heads or dv % num_heads:
            raise ValueError(
                f"dk and dv must be positive multiples of num_heads, got dk={dk}, dv={dv}, num_heads={num_heads}"
            )
        self.dk, self.dv, self.num_heads = dk, dv, num_heads
        self.qkv = nn.Conv2d(in_channels, 2 * dk + dv, 1)
        self.proj = nn.Conv2d(dv, dv, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        q, k, v = self.qkv(x).flatten(2).split([self.dk, self.dk, self.dv], dim=1)

        def heads(t: torch.Tensor) -> torch.Tensor:  # (n, c, h*w) -> (n, heads, h*w, c / heads)
            return t.unflatten(1, (self.num_heads, -1)).transpose(-1, -2)

        # Softmax(q k^T / sqrt(dk / heads)) v, per sample and head.
        out = F.scaled_dot_product_attention(heads(q), heads(k), heads(v))
        return self.proj(out.transpose(-1, -2).reshape(n, self.dv, h, w))


class AttentionAugmentedConv2d(nn.Module):
    """Convolution whose output is augmented with self-attention maps (Bello et al. 2019).

    ``out_channels - dv`` maps come from a ``kernel_size`` convolution (stride 1,
    same padding) and ``dv`` from :class:`MultiHeadSelfAttention2d`; the two are
    concatenated along channels. ``dv == out_channels`` is the fully attentional
    layer (no convolution branch). Defaults follow the paper's ratio ``dk = 2 dv``
    with about a quarter of the outputs attentional, at least one channel per
    head: ``dv = num_heads * max(1, out_channels // (4 * num_heads))``.
    """

    def __init__(
        self, in_channels: int, out_channels: int, *, kernel_size: int = 3, num_heads: int = 4, dk=None, dv=None
    ) -> None:
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd for same padding, got {kernel_size}")
        dv = num_heads * max(1, out_channels // (4 * num_heads)) if dv is None else dv
        dk = 2 * dv if dk is None else dk
        if dv > out_channels:
            raise ValueError(
                f"dv={dv} attention channels exceed out_channels={out_channels}; use fewer heads or a smaller dv"
            )
        self.attention = MultiHeadSelfAttention2d(in_channels, dk, dv, num_heads)
        n_conv = out_channels - dv
        self.conv = nn.Conv2d(in_channels, n_conv, kernel_size, padding=kernel_size // 2) if n_conv else None
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        attended = self.attention(x)
        return attended if self.conv is None else torch.cat([self.conv(x), attended], dim=1)


class AttentionDiscriminator(nn.Module):
    """Spectrally normalised strided-conv discriminator with an attention-augmented last block.

    Conv 4x4 stride 2 + LeakyReLU 0.2 blocks bring the image down to 4x4
    (channels ``ndf * 2**i``, capped at ``max_mult * ndf``); a 3x3
    :class:`AttentionAugmentedConv2d` + LeakyReLU then lets every 4x4
    position see all others, so the discriminator can check the consistency
    of distant parts of the image. Its output maps are ``f(x)``, the features
    the latent loss and the anomaly score compare; a final 4x4 convolution
    gives one logit per image. Spectral norm on every layer replaces
    DCGAN's BatchNorm, so no output depends on the other samples in a batch.

    ``attention=False`` swaps the attention block for a plain 3x3 convolution
    of the same width and ``spectral_norm=False`` drops the normalisation:
    each ablation is one argument. ``forward`` returns ``(logits, features)``
    with logits of shape ``(n,)``, like :class:`DCGANDiscriminator`.
    """

    def __init__(
        self,
        in_channels: int,
        image_size: int,
        *,
        ndf: int = 64,
        max_mult: int = 8,
        attention: bool = True,
        spectral_norm: bool = True,
        num_heads: int = 4,
        dk: int | None = None,
        dv: int | None = None,
    ) -> None:
        super().__init__()
        n_levels = check_power_of_two(image_size, minimum=8) - 2  # stride-2 blocks to reach 4x4
        widths = channel_widths(ndf, n_levels, max_mult)
        layers: list[nn.Module] = []
        for c_in, c_out in zip([in_channels, *widths[:-1]], widths):
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1), nn.LeakyReLU(0.2)]
        width = widths[-1]
        if attention:
            block: nn.Module = AttentionAugmentedConv2d(width, width, kernel_size=3, num_heads=num_heads, dk=dk, dv=dv)
        else:
            block = nn.Conv2d(width, width, 3, padding=1)
        layers += [block, nn.LeakyReLU(0.2)]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Conv2d(width, 1, 4, 1, 0)
        self.feature_channels = width
        maybe_spectral_norm(self, spectral_norm)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.features(x)
        return self.classifier(features).flatten(), features
