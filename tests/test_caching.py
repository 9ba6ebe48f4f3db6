"""``memory``: a grid over scoring-only parameters trains each network once."""

import joblib
import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import EpochScoring

from skgan_ad import AnoGANDetector, DenseSkipAttentionDetector, EGBADDetector, GANomalyDetector, SkipGANomalyDetector
from skgan_ad.metrics import anomaly_auc_scorer
from skgan_ad.model_selection import NormalOnlySplit

from .conftest import TINY

EPOCHS_RUN = []


def _count_epoch(net, X=None, y=None):
    # Module-level, so the callback pickles (and hashes) the same way every time.
    EPOCHS_RUN.append(1)
    return 0.0


def _labelled_blobs(rng):
    normal = rng.normal(size=(90, 3))
    abnormal = rng.normal(loc=3.0, size=(15, 3))
    return np.vstack([normal, abnormal]), np.r_[np.zeros(90, int), np.ones(15, int)]


def _counted(cls, params, memory):
    """A detector whose training epochs are counted in ``EPOCHS_RUN``."""
    counter = EpochScoring(_count_epoch, on_train=True, use_caching=False, name="counted")
    return cls(**{**params, "callbacks": [counter]}, memory=memory)


def _search(memory):
    detector = _counted(SkipGANomalyDetector, TINY, memory)
    grid = {"lambda_score": [0.0, 0.25, 0.5, 0.75, 1.0]}
    return GridSearchCV(detector, grid, scoring=anomaly_auc_scorer, cv=NormalOnlySplit(3), refit=False)


def test_grid_over_lambda_trains_once_per_fold(rng, tmp_path):
    X, y = _labelled_blobs(rng)
    EPOCHS_RUN.clear()
    _search(None).fit(X, y)
    assert len(EPOCHS_RUN) == 5 * 3 * TINY["n_epochs"]  # without the cache: 15 trainings

    EPOCHS_RUN.clear()
    cached = _search(str(tmp_path)).fit(X, y)
    assert len(EPOCHS_RUN) == 3 * TINY["n_epochs"]  # one training per fold

    EPOCHS_RUN.clear()
    again = _search(str(tmp_path)).fit(X, y)
    assert EPOCHS_RUN == []  # a second identical search trains nothing
    np.testing.assert_array_equal(cached.cv_results_["mean_test_score"], again.cv_results_["mean_test_score"])


def test_cached_and_uncached_fits_agree(rng, tmp_path):
    X = rng.normal(size=(60, 4))
    plain = SkipGANomalyDetector(**TINY, lambda_score=0.3).fit(X)
    SkipGANomalyDetector(**TINY, lambda_score=0.8, memory=tmp_path).fit(X)  # fills the cache
    cached = SkipGANomalyDetector(**TINY, lambda_score=0.3, memory=tmp_path).fit(X)
    np.testing.assert_array_equal(cached.score_samples(X), plain.score_samples(X))
    assert cached.offset_ == plain.offset_


def test_training_parameters_and_data_are_in_the_key(rng, tmp_path):
    X = rng.normal(size=(60, 4))
    a = SkipGANomalyDetector(**TINY, memory=tmp_path).fit(X).score_samples(X)
    b = SkipGANomalyDetector(**{**TINY, "w_con": 10.0}, memory=tmp_path).fit(X).score_samples(X)
    c = SkipGANomalyDetector(**{**TINY, "random_state": 1}, memory=tmp_path).fit(X).score_samples(X)
    # (Shifted copies of X would give the same networks: tabular inputs are standardised.)
    d = SkipGANomalyDetector(**TINY, memory=tmp_path).fit(rng.normal(size=(60, 4))).score_samples(X)
    for other in (b, c, d):
        assert not np.array_equal(a, other)


def test_a_joblib_memory_caches_like_a_path(rng, tmp_path):
    X = rng.normal(size=(60, 4))
    memory = joblib.Memory(tmp_path, verbose=0)
    EPOCHS_RUN.clear()
    first = _counted(SkipGANomalyDetector, TINY, memory).fit(X)
    # Stored through skgan_ad.io in the Memory's folder (safetensors + JSON), never as a joblib pickle.
    assert len(EPOCHS_RUN) == TINY["n_epochs"] and any(tmp_path.rglob("*.safetensors"))
    assert not any(tmp_path.rglob("*.pkl"))
    again = _counted(SkipGANomalyDetector, {**TINY, "lambda_score": 0.3}, memory).fit(X)
    assert len(EPOCHS_RUN) == TINY["n_epochs"]  # the second fit trained nothing
    assert again.memory is memory  # the parameter is left as given
    np.testing.assert_array_equal(again.score_components(X)["residual"], first.score_components(X)["residual"])


SCORE_ONLY = [
    (SkipGANomalyDetector, {}, {"contamination": 0.3}),
    (GANomalyDetector, {"nz": 4}, {"contamination": 0.3}),
    (DenseSkipAttentionDetector, {}, {"contamination": 0.3}),
    (SkipGANomalyDetector, {}, {"embedding_weight": 0.5}),
    (SkipGANomalyDetector, {}, {"n_neighbors": 2}),
    # Options of the paper's score take effect when it has a share (embedding_weight < 1).
    (EGBADDetector, {"nz": 4, "embedding_weight": 0.0}, {"latent_norm_weight": 1.0}),
    (AnoGANDetector, {"nz": 4, "n_max": 5, "embedding_weight": 0.0}, {"latent_norm_weight": 1.0}),
    (AnoGANDetector, {"nz": 4, "n_max": 5, "embedding_weight": 0.0}, {"epsilon": 1e6}),
    (AnoGANDetector, {"nz": 4, "n_max": 5, "embedding_weight": 0.0}, {"n_restarts": 2}),
    (AnoGANDetector, {"nz": 4, "n_max": 5, "embedding_weight": 0.0}, {"search_lr": 0.5}),
]


@pytest.mark.parametrize(
    "cls, params, change", SCORE_ONLY, ids=[f"{cls.__name__}-{next(iter(c))}" for cls, _, c in SCORE_ONLY]
)
def test_score_only_parameters_train_nothing(cls, params, change, rng, tmp_path):
    # lambda_score, n_max and disc_term: above and in tests/test_anogan_egbad.py.
    X = rng.normal(size=(60, 4))
    EPOCHS_RUN.clear()
    base = _counted(cls, {**TINY, **params}, tmp_path).fit(X)
    changed = _counted(cls, {**TINY, **params, **change}, tmp_path).fit(X)
    assert len(EPOCHS_RUN) == TINY["n_epochs"]  # the second fit trained nothing
    for name, weights in base.generator_.state_dict().items():
        assert torch.equal(weights, changed.generator_.state_dict()[name]), name
    # ... and the parameter did take effect, on the threshold or the scores.
    assert changed.offset_ != base.offset_ or not np.array_equal(changed.score_samples(X), base.score_samples(X))
