"""Feature probes for issue 25: kNN scores on a fitted detector's *intermediate* encoder features.

The ``embedding`` score part compares one global code (the encoder's bottleneck). Two
leads of issue 25 ask whether other features of the same networks do better, trained
and untrained alike, so these probes score a fitted detector without changing it:

* ``pooled``: every encoder convolution's output, averaged over locations, each channel
  standardised on the training images, concatenated; mean distance to the ``k`` nearest
  training vectors (the multi-layer, global kNN);
* ``local``: the encoder convolutions' outputs at resolutions from ``min_size`` up,
  each averaged over a 3x3 neighbourhood and resized to the coarsest of them, then
  concatenated per location (PatchCore's locally aware features, Roth et al. 2022),
  standardised per channel on the training locations; a sample's score is its largest
  nearest-neighbour distance to a random subsample of the training locations.

They are probes (benchmarks only): what wins here becomes a score part of the library.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn
from torch.nn import functional as F

from ._harness import _knn_distance

# Training locations kept as the local probe's neighbours, and neighbours of the pooled probe.
MAX_LOCATIONS = 20_000
N_NEIGHBORS = 5


def encoder_maps(det, X) -> list[np.ndarray]:
    """The outputs of every ``Conv2d`` that the fitted detector's ``encode`` runs, float32 ``(n, c, h, w)`` each."""
    rows, _ = det._validate(X)
    generator, discriminator = det._scoring_networks()
    captured: list[torch.Tensor] = []
    hooks = [
        m.register_forward_hook(lambda _m, _i, out: captured.append(out))
        for m in generator.modules()
        if isinstance(m, nn.Conv2d)
    ]
    per_batch = []
    try:
        for _ in det._batch_outputs(rows, det._embedding, (generator, discriminator)):
            per_batch.append([t.float().cpu().numpy() for t in captured])
            captured.clear()
    finally:
        for hook in hooks:
            hook.remove()
    n_layers = len(per_batch[0])
    return [np.concatenate([batch[i] for batch in per_batch])[: len(rows)] for i in range(n_layers)]


def _knn_scores(train: np.ndarray, test: np.ndarray, k: int) -> np.ndarray:
    """The ``kNN (pixels)`` baseline's score on features instead of pixels: mean distance of each ``test`` row
    to its ``k`` nearest ``train`` rows, every feature standardised on ``train``."""
    model = make_pipeline(StandardScaler(), NearestNeighbors(n_neighbors=k)).fit(train)
    return _knn_distance(model, test)


def pooled_scores(train_maps, test_maps, k: int = N_NEIGHBORS) -> np.ndarray:
    train = np.concatenate([m.mean(axis=(2, 3)) for m in train_maps], axis=1)
    test = np.concatenate([m.mean(axis=(2, 3)) for m in test_maps], axis=1)
    # Leave-one-out is not needed: the test samples are not training samples.
    return _knn_scores(train, test, k)


def _local_features(maps, min_size: int) -> np.ndarray:
    """``(n, h*w, c)`` locally aware features of the maps with ``h >= min_size``, at the coarsest such size."""
    chosen = [m for m in maps if m.shape[2] >= min_size] or [max(maps, key=lambda m: m.shape[2])]
    size = min(m.shape[2] for m in chosen)
    parts = []
    for m in chosen:
        t = F.avg_pool2d(torch.as_tensor(m), 3, stride=1, padding=1, count_include_pad=False)
        parts.append(F.adaptive_avg_pool2d(t, size))
    features = torch.cat(parts, dim=1)
    return features.flatten(2).transpose(1, 2).numpy()


def local_scores(train_maps, test_maps, seed: int, min_size: int = 4) -> np.ndarray:
    train = _local_features(train_maps, min_size)
    test = _local_features(test_maps, min_size)
    n, n_loc, c = test.shape
    bank = train.reshape(-1, c)
    rng = np.random.RandomState(seed)
    if len(bank) > MAX_LOCATIONS:
        bank = bank[rng.choice(len(bank), MAX_LOCATIONS, replace=False)]
    return _knn_scores(bank, test.reshape(-1, c), 1).reshape(n, n_loc).max(axis=1)


def probe_scores(det, X_train, X_test, seed: int) -> dict[str, np.ndarray]:
    """Anomaly scores (higher = more abnormal) of ``X_test`` by each probe of the fitted ``det``."""
    train_maps, test_maps = encoder_maps(det, X_train), encoder_maps(det, X_test)
    return {
        "pooled": pooled_scores(train_maps, test_maps),
        "local": local_scores(train_maps, test_maps, seed),
    }
