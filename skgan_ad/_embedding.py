"""The ``embedding`` score part: each sample's learned code against the normal training samples' codes.

:func:`reference_codes` standardises the training codes once at fit; :class:`CodeIndex` finds a
scored code's nearest reference codes (a kNN distance), leaving a training row out of its own
neighbours, which :func:`row_keys` recognises by the row's exact values.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch


def reference_codes(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(center, scale, reference)``: each code coordinate's mean and spread on the training codes, and the
    standardised codes themselves (float32), the neighbours of the ``embedding`` part."""
    center, spread = codes.mean(axis=0), codes.std(axis=0)
    # A coordinate that (almost) never varies on normal data (a dead unit) keeps its raw scale
    # rather than turning round-off into huge standardised distances.
    floor = 1e-6 * spread.max() if spread.max() > 0 else 1.0
    scale = np.where(spread > floor, spread, 1.0)
    return center, scale, ((codes - center) / scale).astype(np.float32)


def row_keys(rows: np.ndarray) -> np.ndarray:
    """A 64-bit key of each row's exact float64 bytes (uint64): how a training row is recognised when scored."""
    rows = np.ascontiguousarray(rows, dtype=np.float64)
    digests = b"".join(hashlib.blake2b(row.tobytes(), digest_size=8).digest() for row in rows)
    return np.frombuffer(digests, dtype=np.uint64).copy()


class CodeIndex:
    """The fitted reference codes of the ``embedding`` part, for one scoring call.

    They are converted to float64 tensors (with their squared norms) on the
    first batch and reused for the others, not converted batch by batch.

    A scored row identical to a reference row (a training sample) is scored
    leave-one-out, without that reference code, as ``LocalOutlierFactor``
    scores its training set: otherwise it would be its own nearest neighbour at
    distance 0, and ``fit(X).predict(X)`` would flag far fewer than
    ``contamination`` of ``X``. Its duplicates, if any, stay neighbours. Every
    sample is scored against the same number of neighbours, ``k``, at most one
    less than the reference codes.
    """

    def __init__(self, detector) -> None:
        self.arrays = (detector.embedding_reference_, detector.embedding_center_, detector.embedding_scale_)
        n_reference = len(detector.embedding_reference_)
        keys = getattr(detector, "embedding_keys_", None)
        # With a single reference code there is nothing to leave one out for.
        self.positions = None if keys is None or n_reference < 2 else {k: i for i, k in enumerate(keys.tolist())}
        self.k = min(detector.n_neighbors, n_reference - 1 if self.positions is not None else n_reference)
        self.tensors = None

    def self_matches(self, rows, codes: torch.Tensor) -> torch.Tensor | None:
        """For ``codes`` of which the first ``len(rows)`` are those of ``rows``: the index of the
        reference code each row is (-1 for none and for padding), or None when nothing matches.

        Without rows (the ONNX export traces this) it touches nothing, not even the codes' shape,
        which an exporter would otherwise fix as a constant."""
        if rows is None or self.positions is None:
            return None
        found = [self.positions.get(key, -1) for key in row_keys(rows).tolist()]
        if max(found, default=-1) < 0:
            return None
        return torch.tensor(found + [-1] * (len(codes) - len(found)), dtype=torch.long)

    def distance(self, codes: torch.Tensor, exclude: torch.Tensor | None = None) -> torch.Tensor:
        """Mean Euclidean distance of each standardised code to its ``k`` nearest reference codes.

        ``exclude`` (one reference index per code, -1 for none) leaves that
        reference code out of the code's neighbours.
        """
        # float64: |q|^2 + |r|^2 - 2 q.r cancels badly for near neighbours in float32, and the result
        # would then hang on the order of the matrix product's sums (ONNX Runtime's differs from torch's).
        if self.tensors is None or self.tensors[0].device != codes.device:
            reference, center, scale = (
                torch.as_tensor(a, dtype=torch.float64, device=codes.device) for a in self.arrays
            )
            self.tensors = (reference, (reference * reference).sum(dim=1), center, scale)
        reference, reference_norms, center, scale = self.tensors
        q = (codes.to(torch.float64) - center) / scale
        # The neighbours are found with |q - r|^2 as one matrix product (what cdist does for large
        # inputs; written out so that the ONNX export traces it), then their distances are taken
        # exactly: the expansion leaves ~1e-8 noise in sqrt of a near-zero distance.
        squared = (q * q).sum(dim=1, keepdim=True) - 2 * q @ reference.T + reference_norms
        if exclude is not None:
            hit = torch.nonzero(exclude >= 0).flatten().to(codes.device)
            squared[hit, exclude.to(codes.device)[hit]] = torch.inf
        nearest = squared.topk(self.k, dim=1, largest=False).indices
        return (q.unsqueeze(1) - reference[nearest]).pow(2).sum(dim=2).sqrt().mean(dim=1)
