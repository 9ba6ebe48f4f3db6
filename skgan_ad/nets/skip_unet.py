"""U-Net generator with skip connections (Skip-GANomaly, Akcay et al. 2019)."""

from __future__ import annotations

from torch import nn

from ._blocks import SkipConnectedUNet, channel_widths, check_power_of_two, has_skip


class SkipUNetGenerator(SkipConnectedUNet):
    """Encoder-decoder whose every down block feeds the matching up block.

    ``log2(image_size)`` stride-2 blocks bring the image down to 1x1 (Conv 4x4,
    BatchNorm except on the first and innermost blocks, LeakyReLU 0.2 before
    each inner conv); the decoder mirrors them (ReLU, ConvTranspose 4x4,
    BatchNorm, Tanh on the output) and concatenates each down block's output
    to the input of the up block at the same resolution.

    Unlike pix2pix's in-place activations, the skip carries the block's
    output before the next activation, so what the decoder sees is exactly
    what the encoder produced.

    ``n_skips`` keeps only the innermost skip connections (None: all of them,
    the paper's network; 0: a plain encoder-decoder through the 1x1 code).
    ``encode`` returns that 1x1 bottleneck code, shape ``(n, 8 * ngf)`` (capped width).
    """

    def __init__(
        self,
        in_channels: int,
        image_size: int,
        *,
        ngf: int = 64,
        n_skips: int | None = None,
        max_mult: int = 8,
        out_channels: int | None = None,
    ) -> None:
        super().__init__()
        n_levels = check_power_of_two(image_size)
        self.n_skips = n_skips
        widths = channel_widths(ngf, n_levels, max_mult)
        out_channels = in_channels if out_channels is None else out_channels

        self.down = nn.ModuleList()
        for i, width in enumerate(widths):
            inner, outer = i == n_levels - 1, i == 0
            layers: list[nn.Module] = [] if outer else [nn.LeakyReLU(0.2)]
            c_in = in_channels if outer else widths[i - 1]
            layers.append(nn.Conv2d(c_in, width, 4, 2, 1, bias=outer or inner))
            if not (outer or inner):
                layers.append(nn.BatchNorm2d(width))
            self.down.append(nn.Sequential(*layers))

        self.up = nn.ModuleList()
        for i in reversed(range(n_levels)):
            c_in = 2 * widths[i] if has_skip(i, n_levels, n_skips) else widths[i]
            if i == 0:
                layers = [nn.ReLU(), nn.ConvTranspose2d(c_in, out_channels, 4, 2, 1), nn.Tanh()]
            else:
                layers = [
                    nn.ReLU(),
                    nn.ConvTranspose2d(c_in, widths[i - 1], 4, 2, 1, bias=False),
                    nn.BatchNorm2d(widths[i - 1]),
                ]
            self.up.append(nn.Sequential(*layers))
