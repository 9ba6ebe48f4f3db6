"""Spectral normalisation (Miyato et al. 2018) for any network, image or tabular.

Built on ``torch.nn.utils.spectral_norm`` (a forward pre-hook that keeps the
trainable tensor in ``weight_orig`` and the power-iteration vectors in the
buffers ``weight_u`` / ``weight_v``), not on the newer
``torch.nn.utils.parametrizations.spectral_norm``: parametrised modules refuse
to pickle, and a fitted scikit-learn estimator must pickle. The hook version
deep-copies, changes dtype and device, and emits no warning.

Two gaps of the hook version are closed here. It draws ``u`` and ``v`` from
PyTorch's global random state and runs no power iteration until the first
forward pass in training mode, so an untrained network in eval mode divides
by a random, possibly tiny, estimate of the largest singular value.
:func:`spectral_norm_all` therefore runs a few power iterations right away,
and :func:`reset_spectral_norm_` (called by ``init_weights_``) redraws the
vectors from an explicit ``torch.Generator`` and converges them to the newly
drawn weights, so a seeded initialisation decides them too. A forward hook
also detaches the normalised ``weight`` the hook leaves on the layer after a
training-mode pass, which would otherwise make ``copy.deepcopy`` and
``pickle`` of a network fail mid-training. In eval mode no power iteration
runs: outputs are deterministic and per-sample.
"""

from __future__ import annotations

from typing import TypeVar

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm as _spectral_norm
from torch.nn.utils.spectral_norm import SpectralNorm

#: Layer types :func:`spectral_norm_all` wraps.
SPECTRAL_NORM_LAYERS = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)

ModuleT = TypeVar("ModuleT", bound=nn.Module)

# Enough for ``u``/``v`` to settle on fresh N(0, 0.02) weights; training then
# refines them with one iteration per forward pass.
_WARM_START_ITERATIONS = 15


def spectral_norm_hook(layer: nn.Module) -> SpectralNorm | None:
    """The spectral-norm hook on ``layer``'s own weight, or ``None`` if it has none."""
    for hook in layer._forward_pre_hooks.values():
        if isinstance(hook, SpectralNorm) and hook.name == "weight":
            return hook
    return None


def spectral_norm_layers(module: nn.Module) -> list[nn.Module]:
    """Every layer in ``module``'s tree whose weight is spectrally normalised."""
    return [layer for layer in module.modules() if spectral_norm_hook(layer) is not None]


def spectral_norm_all(module: ModuleT) -> ModuleT:
    """Spectrally normalise every Conv2d, ConvTranspose2d and Linear in ``module``'s tree, in place.

    Layers that already carry spectral norm are left alone, so calling it twice is harmless.
    Returns ``module`` for chaining.
    """
    wrapped = []
    for layer in list(module.modules()):
        if isinstance(layer, SPECTRAL_NORM_LAYERS) and spectral_norm_hook(layer) is None:
            _spectral_norm(layer)
            layer.register_forward_hook(_detach_weight)
            wrapped.append(layer)
    with torch.no_grad():
        for layer in wrapped:
            _power_iterate(layer, _WARM_START_ITERATIONS)
    return module


def maybe_spectral_norm(module: ModuleT, enabled: bool = True) -> ModuleT:
    """:func:`spectral_norm_all` when ``enabled``, else ``module`` unchanged: an ablation is one flag."""
    return spectral_norm_all(module) if enabled else module


def reset_spectral_norm_(
    module: ModuleT, generator: torch.Generator | None = None, n_power_iterations: int = _WARM_START_ITERATIONS
) -> ModuleT:
    """Redraw every power-iteration vector in ``module``'s tree from ``generator`` and converge it.

    Call after changing the raw weights (``init_weights_`` does), so the
    estimate of each largest singular value matches them. A no-op on
    networks without spectral norm, which then draw nothing from ``generator``.
    """
    with torch.no_grad():
        for layer in spectral_norm_layers(module):
            layer.weight_u.normal_(0.0, 1.0, generator=generator)
            layer.weight_u.copy_(F.normalize(layer.weight_u, dim=0, eps=spectral_norm_hook(layer).eps))
            _power_iterate(layer, n_power_iterations)
    return module


def _detach_weight(layer: nn.Module, args: object, output: object) -> None:
    # After a training-mode forward the hook leaves ``weight`` as a non-leaf tensor of the autograd
    # graph, which ``copy.deepcopy`` and ``pickle`` refuse. The graph already holds what backward
    # needs, so the module can keep a detached view instead.
    layer.weight = layer.weight.detach()


def _power_iterate(layer: nn.Module, n_iterations: int) -> None:
    """Run ``n_iterations`` power iterations on ``layer``'s buffers and refresh its normalised ``weight``."""
    hook = spectral_norm_hook(layer)
    u, v = layer.weight_u, layer.weight_v
    matrix = hook.reshape_weight_to_matrix(layer.weight_orig)
    for _ in range(n_iterations):
        v.copy_(F.normalize(torch.mv(matrix.t(), u), dim=0, eps=hook.eps))
        u.copy_(F.normalize(torch.mv(matrix, v), dim=0, eps=hook.eps))
    # ``weight`` is a plain attribute the hook recomputes before each forward;
    # refresh it so code reading it between calls sees the current weights.
    layer.weight = hook.compute_weight(layer, do_power_iteration=False)
