"""Weight initialisation shared by every network.

Convolutions follow DCGAN (Radford et al.), as every seed paper does: weights
from N(0, 0.02), BatchNorm scales from N(1, 0.02), biases 0. Linear layers
(the tabular networks, which the papers do not define) keep PyTorch's own
default scheme, under which small MLPs train far faster than under N(0, 0.02).
All draws use an explicit ``torch.Generator``, so a detector's
``random_state`` alone decides them and PyTorch's global random state is
never touched. Under spectral normalisation the raw weights are drawn, then
the power-iteration vectors are redrawn from the same generator and
converged to them (see ``spectral.reset_spectral_norm_``).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .spectral import reset_spectral_norm_

_CONVS = (nn.Conv2d, nn.ConvTranspose2d)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)


def init_weights_(module: nn.Module, generator: torch.Generator | None = None) -> nn.Module:
    """Initialise every convolution, linear and BatchNorm layer of ``module`` in place."""
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, _CONVS):
                nn.init.normal_(_raw_weight(layer), 0.0, 0.02, generator=generator)
                if layer.bias is not None:
                    nn.init.zeros_(layer.bias)
            elif isinstance(layer, nn.Linear):
                # nn.Linear.reset_parameters, drawn from ``generator``.
                weight = _raw_weight(layer)
                nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
                if layer.bias is not None:
                    bound = 1 / math.sqrt(weight.shape[1])
                    nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
            elif isinstance(layer, _NORMS) and layer.weight is not None:
                nn.init.normal_(layer.weight, 1.0, 0.02, generator=generator)
                nn.init.zeros_(layer.bias)
    return reset_spectral_norm_(module, generator)


def _raw_weight(layer: nn.Module) -> torch.Tensor:
    # Under spectral normalisation the trainable tensor is ``weight_orig``.
    return getattr(layer, "weight_orig", layer.weight)
