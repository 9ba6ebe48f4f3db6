"""ONNX export of a fitted detector's scoring graph: ``score_samples`` without PyTorch.

Needs the ``onnx`` extra (``pip install 'skgan_ad[onnx]'``: onnx, onnxscript,
onnxruntime). :func:`export_onnx` writes one self-contained ``.onnx`` file
holding everything :meth:`~skgan_ad.base.BaseGANDetector.score_samples` does
after input validation:

* the input scaling (``input_shift_``, ``input_scale_``) and, for images, the
  reshape to (C, H, W) and the border-replicating pad to the network's side;
* the networks, in eval mode, in the precision ``score_samples`` uses
  (float32 for images, float64 for tabular rows);
* the detector's score parts, traced from its own ``_tensor_components``
  (residual smoothing and per-pixel scale included), so no score formula is
  written twice;
* their standardisation with ``component_stats_`` and their weights
  (``embedding_weight``, ``lambda_score``, ``latent_norm_weight``); the ``embedding`` part's
  reference codes become constants of the graph.

The batch axis is dynamic. With :mod:`onnxruntime`::

    import onnxruntime
    session = onnxruntime.InferenceSession("detector.onnx")
    scores = session.run(["score_samples"], {"rows": rows.astype("float64")})[0]

AnoGAN is the exception: it scores a sample at the latent code an iterative
search finds (gradient steps through the networks), and an inference graph
cannot hold that search. Its export (``external_search=True``) takes the
codes as a second input and scores the rows at them.

The graph is made with PyTorch's default ``torch.export``-based ("dynamo")
exporter, which follows the detectors' Python code (dicts of score parts,
symbolic batch size) without changes to it; the TorchScript exporter is
deprecated in torch 2.13. Three of its ONNX translations lose float64
precision or have no float64 kernel in onnxruntime and are replaced here
(see ``_exact_translations``).
"""

from __future__ import annotations

import copy
import numbers
import os
import warnings

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ._preprocessing import scaled_clipped
from .base import BaseGANDetector
from .detectors import AnoGANDetector
from .nets.spectral import _detach_weight, spectral_norm_layers

__all__ = ["export_onnx"]

#: Names of the graph's inputs (rows; AnoGAN's codes) and of its score output. With
#: ``components=True`` the score parts follow, under their ``score_components`` names.
ROWS_INPUT, CODES_INPUT, SCORE_OUTPUT = "rows", "z", "score_samples"


def _require_onnx() -> None:
    """Fail early with the install line when the exporter's optional dependencies are missing."""
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"export_onnx needs the optional ONNX dependencies ({exc.name} is not installed): "
            "pip install 'skgan_ad[onnx]'"
        ) from exc


class _ScoringGraph(nn.Module):
    """``score_samples`` of validated float64 rows, as one module ``torch.export`` can trace.

    The networks are eval-mode copies in the dtype ``score_samples`` computes
    in; everything after the input scaling calls the detector's own scoring
    methods with them. ``z`` (AnoGAN only) replaces the latent search by
    given codes.
    """

    def __init__(self, detector: BaseGANDetector, components: bool) -> None:
        super().__init__()
        self.detector = detector
        self.components = components
        self.geometry = detector._geometry()
        # The copies score_samples computes with (eval mode; float32 for images, float64 for rows), on the CPU.
        self.generator, self.discriminator = (_fold_spectral_norm(m.cpu()) for m in detector._scoring_networks())
        self.dtype = next(self.generator.parameters()).dtype
        self.register_buffer("shift", torch.as_tensor(np.asarray(detector.input_shift_, dtype=np.float64)))
        self.register_buffer("scale", torch.as_tensor(np.asarray(detector.input_scale_, dtype=np.float64)))

    def to_network(self, rows: torch.Tensor) -> torch.Tensor:
        """:meth:`Geometry.to_network` on tensors: :func:`~skgan_ad._preprocessing.scale_rows`'s float64
        arithmetic (halves, then the clip to +-``NETWORK_INPUT_BOUND``) rounded to float32 as there (tabular
        networks then compute in float64), shaped by :meth:`Geometry.shape_rows`."""
        x = scaled_clipped(rows, self.shift, self.scale).to(torch.float32).to(self.dtype)
        return self.geometry.shape_rows(x)

    def score(self, rows: torch.Tensor, z: torch.Tensor | None = None) -> tuple[torch.Tensor, dict]:
        """``score_samples`` and the raw score parts (float64, as ``score_components`` gives them)."""
        detector = self.detector if z is None else _searching_to(self.detector, z.to(self.dtype))
        parts = detector._tensor_components(self.generator, self.discriminator, self.to_network(rows), self.geometry)
        parts = {name: values.to(torch.float64) for name, values in parts.items()}  # as score_samples does
        total = detector._combine(parts)
        return -total, parts

    def forward(self, rows: torch.Tensor, z: torch.Tensor | None = None):
        score, parts = self.score(rows, z)
        return (score, *parts.values()) if self.components else score


def _fold_spectral_norm(network: nn.Module) -> nn.Module:
    """Replace each spectrally normalised weight by its eval-mode value ``weight_orig / sigma``, in place.

    In eval mode the spectral-norm hook recomputes that same constant before
    every forward pass (no power iteration); as a plain weight it exports as
    one initializer instead of a per-call computation, and without the hooks
    that assign ``weight`` during tracing (which ``torch.export`` warns about).
    """
    for layer in spectral_norm_layers(network):
        torch.nn.utils.remove_spectral_norm(layer)  # computes the weight without power iteration
        # The library's companion hook re-detaches ``weight`` after each forward; a Parameter now, it must go.
        for key, hook in list(layer._forward_hooks.items()):
            if hook is _detach_weight:
                del layer._forward_hooks[key]
    return network


def _searching_to(detector: AnoGANDetector, z: torch.Tensor) -> AnoGANDetector:
    """A shallow copy of an AnoGAN detector whose latent search "finds" the codes ``z``.

    Its ``_batch_components`` then scores the batch at ``z`` with its own
    search loss and residual, exactly as after a search that ended there.
    """
    fixed = copy.copy(detector)

    def search(generator, discriminator, x, geometry):
        f_real = discriminator(x)[1]
        loss, _, disc = detector._search_loss(generator, discriminator, x, f_real, z, geometry)
        return z, disc, loss, None

    fixed._search = search
    return fixed


def _exact_translations() -> dict:
    """ONNX translations of the ops whose standard translation loses float64 precision or support.

    * ``aten.scalar_tensor``: the exporter turns each Python float of the
      graph (means, standard deviations, weights, the LeakyReLU slope) into a
      float32 constant cast to the tensor's dtype, so a float64 graph
      computed with ``0.9`` would use ``0.8999999762``; here the constant is
      made in the target dtype.
    * ``aten.leaky_relu`` and ``aten.softplus`` (the ``"ce"`` discriminator
      term): onnxruntime's CPU ``LeakyRelu`` and ``Softplus`` have no float64
      kernels (tabular networks score in float64), so float64 graphs get the
      ``Where`` LeakyReLU is, and Softplus is written as PyTorch computes it.
    """
    import onnx.helper
    import onnx.numpy_helper
    from onnxscript import opset18 as op

    def constant(value, dtype):
        return op.Constant(value=onnx.numpy_helper.from_array(np.asarray(value, dtype=dtype)))

    def scalar_tensor(s, dtype: int = onnx.TensorProto.FLOAT, layout: str = "", device: str = "", pin_memory=False):
        if isinstance(s, (bool, int, float)):
            return constant(s, onnx.helper.tensor_dtype_to_np_dtype(int(dtype)))
        return op.Cast(s, to=int(dtype))  # a symbolic number (a size): cast as the standard translation does

    def is_float64(x) -> bool:
        return getattr(x, "dtype", None) == onnx.TensorProto.DOUBLE

    def leaky_relu(self, negative_slope: float = 0.01):
        if not is_float64(self):
            return op.LeakyRelu(self, alpha=negative_slope)
        slope = constant(negative_slope, np.float64)
        return op.Where(op.Greater(self, constant(0.0, np.float64)), self, op.Mul(self, slope))

    def softplus(self, beta: float = 1.0, threshold: float = 20.0):
        # PyTorch's formula, x where beta * x > threshold, else log1p(exp(beta * x)) / beta, with log1p
        # written as log(w) * u / (w - 1), w = 1 + u (exact to a few ulps, and u itself where w rounds to 1):
        # log(1 + u) alone loses a tiny u, which is the cross-entropy of a confidently "real" sample.
        def const(value):
            return op.CastLike(constant(value, np.float64), self)

        scaled = op.Mul(self, const(beta))
        u = op.Exp(scaled)
        w = op.Add(const(1.0), u)
        log1p = op.Where(op.Equal(w, const(1.0)), u, op.Div(op.Mul(op.Log(w), u), op.Sub(w, const(1.0))))
        return op.Where(op.Greater(scaled, const(threshold)), self, op.Div(log1p, const(beta)))

    return {
        torch.ops.aten.scalar_tensor.default: scalar_tensor,
        torch.ops.aten.leaky_relu.default: leaky_relu,
        torch.ops.aten.softplus.default: softplus,
    }


def export_onnx(detector, path, *, components: bool = False, external_search: bool = False, opset_version=None):
    """Write a fitted detector's scoring graph to one ONNX file: :mod:`onnxruntime` then gives ``score_samples``.

    The graph holds the input scaling and image padding, the networks (eval
    mode), the score parts, their standardisation with ``component_stats_``
    and their weights, with the scoring options the detector has when it is
    exported (``lambda_score``, ``residual_sigma``, ...; change one and
    export again). Needs ``pip install 'skgan_ad[onnx]'``.

    Parameters
    ----------
    detector : fitted SkipGANomaly, GANomaly, EGBAD, DenseSkipAttention or AnoGAN detector
        On tabular rows or images. AnoGAN needs ``external_search=True``.
    path : str or path-like
        The ``.onnx`` file to write (weights included).
    components : bool, default=False
        Also output each score part before standardisation (float64, shape
        (n,)), named as in :meth:`~skgan_ad.BaseGANDetector.score_components` (``residual``,
        ``feature``, ...), after ``score_samples``.
    external_search : bool, default=False
        AnoGAN only, and required for it: AnoGAN scores a sample at the code
        its iterative latent search finds, and **the search is not in the
        graph** (it takes gradient steps through the networks). The graph
        then takes the codes as a second input ``z``, float64 of shape
        (n, nz), and scores the rows at them: with
        ``z = detector.latent_search(X)["z"]`` it returns
        ``score_samples(X)``. Running the search is left to the caller.
    opset_version : int or None, default=None
        ONNX opset to target, 18 or later (the opset of the exporter's
        translations); None is the exporter's default (20 with torch 2.13).

    Returns
    -------
    path : str
        The file written.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the detector is not fitted.
    ValueError
        For AnoGAN without ``external_search=True``, for
        ``external_search=True`` with another detector, and for an
        ``opset_version`` below 18.
    ImportError
        If the ``onnx`` extra is not installed.

    Notes
    -----
    Input ``rows``: float64 of shape (n, ``n_features_in_``), any n >= 1, in the
    user's own scale, i.e. what ``score_samples`` receives after validation.
    Tabular rows go in as they are; images as rows flattened in (C, H, W)
    order: ``X.reshape(len(X), -1)`` for (n, H, W) and (n, C, H, W) arrays,
    ``X.transpose(0, 3, 1, 2).reshape(len(X), -1)`` for (n, H, W, C);
    integer images as their 0..255 values (``X.astype("float64")``). No
    validation happens in the graph (no NaN or shape checks).

    Output ``score_samples``: float64 of shape (n,), higher = more normal.
    Tabular graphs compute in float64 and agree with ``score_samples`` to
    float64 round-off; image networks compute in float32, as in
    ``score_samples``, and the scores agree to float32 round-off (measured:
    at most 6e-6 of the largest absolute score), not bit for bit. Subtract
    ``detector.offset_`` for ``decision_function``. The graph scores every
    row as a new sample: ``score_samples`` scores the detector's own training
    rows leave-one-out (never their own neighbour in the ``embedding`` part),
    which a graph given pixels alone cannot recognise.

    Examples
    --------
    Not run as a doctest (it needs the ``onnx`` extra); ``tests/test_export.py`` runs it::

        import numpy as np
        import onnxruntime
        from skgan_ad import SkipGANomalyDetector, export_onnx

        X, X_new = np.random.RandomState(0).normal(size=(64, 4)), np.random.RandomState(1).normal(size=(20, 4))
        detector = SkipGANomalyDetector(n_epochs=2, hidden_dims=(8, 4), random_state=0).fit(X)
        export_onnx(detector, "detector.onnx")
        session = onnxruntime.InferenceSession("detector.onnx")
        scores = session.run(["score_samples"], {"rows": X_new})[0]
        np.testing.assert_allclose(scores, detector.score_samples(X_new), rtol=1e-9, atol=1e-12)
    """
    if not isinstance(detector, BaseGANDetector):
        raise TypeError(
            f"detector must be a skgan_ad GAN detector (SkipGANomalyDetector, ...), got {type(detector).__name__}"
        )
    check_is_fitted(detector)
    searches = isinstance(detector, AnoGANDetector)
    if searches and not external_search:
        raise ValueError(
            "AnoGANDetector scores each sample at the latent code an iterative search finds (gradient steps "
            "through the networks), which an ONNX graph cannot hold. Pass external_search=True to export its "
            "networks and score with the codes as a second input z (e.g. detector.latent_search(X)['z']); the "
            "search itself is then not in the graph"
        )
    if external_search and not searches:
        raise ValueError(
            f"external_search=True is for AnoGANDetector only; {type(detector).__name__} scores in one pass and "
            "its graph takes the rows alone"
        )
    if opset_version is not None and not (isinstance(opset_version, numbers.Integral) and opset_version >= 18):
        raise ValueError(f"opset_version must be an int of at least 18 or None, got {opset_version!r}")
    _require_onnx()

    graph = _ScoringGraph(detector, components=components).eval()
    # Example inputs of 2 rows: torch.export specialises sizes 0 and 1, and the batch axis is declared dynamic.
    args = (torch.zeros(2, detector.n_features_in_, dtype=torch.float64),)
    batch = torch.export.Dim("batch")
    dynamic_shapes = {ROWS_INPUT: {0: batch}}
    if searches:
        args += (torch.zeros(2, detector._latent_size(detector._geometry()), dtype=torch.float64),)
        dynamic_shapes[CODES_INPUT] = {0: batch}
    with torch.no_grad():
        part_names = list(graph.score(*args)[1])
    path = os.fspath(path)
    with warnings.catch_warnings():
        # Notes of the exporter that ask nothing of the caller: AnoGAN's two inputs share the batch axis,
        # which is named once; torch.export's own use of a deprecated pytree class (torch 2.13).
        warnings.filterwarnings("ignore", message=".*shares the same shape constraints with another axis")
        warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)", category=FutureWarning)
        torch.onnx.export(
            graph,
            args,
            path,
            input_names=list(dynamic_shapes),
            output_names=[SCORE_OUTPUT, *part_names] if components else [SCORE_OUTPUT],
            dynamic_shapes=dynamic_shapes,
            opset_version=opset_version,
            custom_translation_table=_exact_translations(),
            external_data=False,
            dynamo=True,
            verbose=False,
        )
    return path
