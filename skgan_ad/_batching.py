"""Scoring in bounded memory: input chunk by chunk, networks batch by batch, outputs gathered once.

:func:`input_chunks` validates and converts an input a slice at a time; :func:`batch_outputs`
runs a function over padded, scaled network batches without gradients; :func:`gather` writes
their outputs into preallocated float64 arrays. :class:`~skgan_ad.base.BaseGANDetector` scores
through these, whatever it computes per batch (score parts, maps, codes, reconstructions).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch


def input_chunks(X, validate: Callable, batch_size: int, chunk_bytes: int) -> tuple[int, object, Iterator]:
    """``(n_rows, layout, chunks)``: ``X`` validated (``validate(X) -> (rows, layout)``) chunk by chunk.

    A NumPy array (a memmap included) is sliced, ``chunk_bytes`` of float64 rows at most (a
    multiple of ``batch_size`` rows), and each slice converted on its own, so a uint8 or
    memory-mapped input is never converted as a whole; other inputs (lists, DataFrames) are
    already in memory and are converted at once.
    """
    if isinstance(X, np.ndarray) and X.ndim >= 2 and len(X) > 0:
        row_bytes = 8 * max(1, int(np.prod(X.shape[1:])))
        step = max(batch_size, chunk_bytes // row_bytes // batch_size * batch_size)
        if len(X) > step:
            _, layout = validate(X[:1])
            return len(X), layout, (validate(X[i : i + step])[0] for i in range(0, len(X), step))
    rows, layout = validate(X)
    return len(rows), layout, iter([rows])


def batch_outputs(rows: np.ndarray, fn: Callable, networks, geometry, scaling, batch_size: int) -> Iterator:
    """Yield ``fn(generator, discriminator, x, geometry)`` for each network batch of validated ``rows``, without grad.

    ``x`` is a batch of ``rows`` scaled by ``scaling = (shift, scale)`` and shaped by ``geometry``
    (:meth:`~skgan_ad._preprocessing.Geometry.to_network`), on the networks' device and dtype.
    A function with ``takes_rows = True`` also gets the batch's rows (``rows=``), unpadded.

    A sample's score must not depend on the batch it comes in. BatchNorm runs in eval mode, so
    no statistic of the batch enters; what is left is round-off, kept small (README, "Batches":
    1e-12 relative for tabular networks, 1e-5 for image networks) but not zero, since the matrix
    routines of some CPUs round a row differently by its position in the batch:

    * every batch is padded to ``batch_size`` samples, so the matrix and convolution routines
      always see one shape (a float32 or float64 matrix product rounds a row differently with
      the batch's size);
    * tabular (fully connected) networks score in float64 (cheap for MLPs); image networks keep
      float32 (float64 convolutions are ~10x slower on a CPU).
    """
    generator, discriminator = networks
    parameter = next(generator.parameters())
    shift, scale = scaling
    with torch.no_grad():
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            x = geometry.to_network(chunk, shift, scale).to(device=parameter.device, dtype=parameter.dtype)
            if len(x) < batch_size:
                x = torch.cat([x, x.new_zeros((batch_size - len(x), *x.shape[1:]))])
            extra = {"rows": chunk} if getattr(fn, "takes_rows", False) else {}
            yield first_rows(fn(generator, discriminator, x, geometry, **extra), len(chunk))


def gather(parts, n: int):
    """Batch outputs (arrays, or dicts of them) written one after another into preallocated outputs of ``n`` rows."""
    out, start = None, 0
    for part in parts:
        out = _fill(out, part, start, n)
        start += len(next(iter(part.values())) if isinstance(part, dict) else part)
    return out


def _fill(out, part, start: int, n: int):
    """Write one batch's output (an array or a dict of arrays) into ``out`` at ``start``; allocate on first use."""
    if isinstance(part, dict):
        out = out if out is not None else {}
        for key, value in part.items():
            out[key] = _fill(out.get(key), value, start, n)
        return out
    part = np.asarray(part)
    if out is None:
        out = np.empty((n, *part.shape[1:]), dtype=np.float64 if part.dtype.kind == "f" else part.dtype)
    out[start : start + len(part)] = part
    return out


def first_rows(out, n: int):
    """The first ``n`` rows of a tensor, array or dict of them (drops batch padding)."""
    if isinstance(out, dict):
        return {key: value[:n] for key, value in out.items()}
    return out[:n]
