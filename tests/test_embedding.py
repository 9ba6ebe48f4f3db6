"""The ``embedding`` score part: k nearest normal training codes, its weight and its fitted state."""

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from skgan_ad import AnoGANDetector, DenseSkipAttentionDetector, EGBADDetector, GANomalyDetector, SkipGANomalyDetector

from .conftest import TINY

DETECTORS = [
    (SkipGANomalyDetector, {}),
    (GANomalyDetector, {"nz": 8}),
    (AnoGANDetector, {"nz": 8, "n_max": 3}),
    (EGBADDetector, {"nz": 8}),
    (DenseSkipAttentionDetector, {}),
]


@pytest.mark.parametrize("cls, params", DETECTORS, ids=lambda v: getattr(v, "__name__", ""))
def test_embedding_part_is_the_mean_distance_to_the_nearest_training_codes(cls, params, digit_images):
    X, new = digit_images[0][:80], digit_images[0][80:100]  # new samples: training rows are scored leave-one-out
    det = cls(**TINY, **params, n_neighbors=3).fit(X)
    codes = det.embed(new)
    assert codes.dtype == np.float64 and codes.shape == (20, det.embedding_reference_.shape[1])
    # The reference holds the training rows' codes (validation_fraction=0.1 of 80 held out).
    assert det.embedding_reference_.shape[0] == 72 and det.embedding_reference_.dtype == np.float32
    reference = det.embedding_reference_.astype(np.float64)
    standardised = (codes - det.embedding_center_) / det.embedding_scale_
    expected = NearestNeighbors(n_neighbors=3).fit(reference).kneighbors(standardised)[0].mean(axis=1)
    np.testing.assert_allclose(det.score_components(new)["embedding"], expected, rtol=1e-6, atol=1e-9)
    # With the default embedding_weight=1, the anomaly score is the standardised part alone.
    mean, std = det.component_stats_["embedding"]
    np.testing.assert_allclose(det.anomaly_score(new), (expected - mean) / std, rtol=1e-6, atol=1e-6)


def test_encoder_codes_where_there_is_an_encoder(digit_images):
    X = digit_images[0][:60]
    assert GANomalyDetector(**TINY, nz=8).fit(X).embed(X[:4]).shape == (4, 8)  # z
    assert EGBADDetector(**TINY, nz=8).fit(X).embed(X[:4]).shape == (4, 8)  # E(x)
    skip = SkipGANomalyDetector(**TINY).fit(X)
    assert skip.embed(X[:4]).shape == (4, skip.generator_.down[-1][-1].out_channels)  # the 1x1 bottleneck
    anogan = AnoGANDetector(**TINY, nz=8, n_max=2).fit(X)  # no encoder: discriminator features
    np.testing.assert_array_equal(anogan.embed(X[:4]), anogan.discriminator_features(X[:4]))


def test_tabular_rows_and_fewer_reference_codes_than_neighbours(rng):
    X, new = rng.normal(size=(12, 3)), rng.normal(size=(5, 3))
    # 11 training rows: every sample is scored against 10 neighbours, one less than the reference codes,
    # so that a training row (scored without its own code) and a new sample count alike.
    det = GANomalyDetector(**TINY, n_neighbors=50).fit(X)
    scores = det.score_samples(np.vstack([X, new]))
    assert np.isfinite(scores).all() and scores.dtype == np.float64
    reference = det.embedding_reference_.astype(np.float64)
    standardised = (det.embed(new) - det.embedding_center_) / det.embedding_scale_
    distances = np.sort(np.linalg.norm(standardised[:, None, :] - reference[None], axis=2), axis=1)
    np.testing.assert_allclose(det.score_components(new)["embedding"], distances[:, :10].mean(axis=1), rtol=1e-6)


def test_reference_is_capped_with_a_seeded_draw(rng, monkeypatch):
    monkeypatch.setattr(SkipGANomalyDetector, "_EMBEDDING_MAX_REFERENCE", 25)
    X = rng.normal(size=(100, 4))
    one = SkipGANomalyDetector(**TINY).fit(X)
    two = SkipGANomalyDetector(**TINY).fit(X)
    assert one.embedding_reference_.shape[0] == 25
    np.testing.assert_array_equal(one.embedding_reference_, two.embedding_reference_)
    np.testing.assert_array_equal(one.score_samples(X), two.score_samples(X))


def test_training_samples_lie_no_nearer_the_reference_than_new_normals(rng):
    X = rng.normal(size=(200, 4))
    det = GANomalyDetector(**TINY, n_neighbors=1, validation_fraction=0.0).fit(X)
    train = det.score_components(X)["embedding"]
    new = det.score_components(rng.normal(size=(200, 4)))["embedding"]
    # Scored leave-one-out, a training row is not its own nearest neighbour (distance 0): its nearest
    # other code is as far as a new normal's nearest code.
    assert train.min() > 1e-3
    assert abs(np.median(train) - np.median(new)) < 0.25 * np.median(new)


def test_weight_and_neighbours_are_scoring_parameters(rng, tmp_path):
    X = rng.normal(size=(60, 4))
    det = SkipGANomalyDetector(**TINY).fit(X)
    parts = det.score_components(X, standardize=True)
    det.set_params(embedding_weight=0.25)
    papers = det.lambda_score * parts["residual"] + (1 - det.lambda_score) * parts["feature"]
    np.testing.assert_allclose(det.anomaly_score(X), 0.25 * parts["embedding"] + 0.75 * papers, rtol=1e-12)
    # The raw part follows n_neighbors at once (the reference is kept whole); its standardisation and
    # offset_ follow at the next fit, which trains nothing with memory= (tests/test_caching.py).
    one = det.set_params(n_neighbors=1).score_components(X)["embedding"]
    five = det.set_params(n_neighbors=5).score_components(X)["embedding"]
    assert (one <= five + 1e-12).all() and (one < five).any()


def test_paper_detectors_do_not_use_the_embedding():
    for cls, _ in DETECTORS:
        assert cls.paper().embedding_weight == 0.0
        assert cls().embedding_weight == 1.0 and cls().n_neighbors == 5


def test_samples_trimmed_as_likely_anomalies_are_not_neighbours(rng):
    X = np.r_[rng.normal(size=(90, 4)), rng.normal(size=(10, 4)) + 8.0]
    det = GANomalyDetector(**{**TINY, "n_epochs": 3}, trim_fraction=0.1, trim_warmup=1, validation_fraction=0.1).fit(X)
    dropped = det.history_[-1]["train_dropped"]
    assert len(dropped) == 9  # 10 % of the 90 training rows
    assert det.embedding_reference_.shape[0] == 90 - len(dropped)


@pytest.mark.parametrize("cls, params", DETECTORS, ids=lambda v: getattr(v, "__name__", ""))
def test_the_score_computes_only_the_parts_its_weights_use(cls, params, digit_images, monkeypatch):
    X = digit_images[0][:60]
    det = cls(**TINY, **params).fit(X)
    parts = det.score_components(X[:10], standardize=True)
    # embedding_weight=1 (the default): the papers' parts, whose networks (and AnoGAN's latent
    # search) are the costly ones, are not computed at all, and the score is unchanged.
    expected = parts["embedding"]
    with monkeypatch.context() as patched:
        patched.setattr(cls, "_batch_components", lambda *args: pytest.fail("paper parts computed"))
        np.testing.assert_array_equal(det.anomaly_score(X[:10]), expected)
    # embedding_weight=0: the papers' score, without the embedding part.
    det.set_params(embedding_weight=0.0)
    weights = det._component_weights(parts)
    papers = sum(weights[name] * values for name, values in parts.items() if name != "embedding")
    with monkeypatch.context() as patched:
        patched.setattr(cls, "_embedding", lambda *args: pytest.fail("embedding computed"))
        np.testing.assert_allclose(det.anomaly_score(X[:10]), papers, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "cls, params", [d for d in DETECTORS if d[0] is not AnoGANDetector], ids=lambda v: getattr(v, "__name__", "")
)
def test_the_code_comes_from_the_same_pass_as_the_parts(cls, params, digit_images, monkeypatch):
    """Detectors with an encoder take the code from the forward pass that the parts need: no second pass."""
    X = digit_images[0][:60]
    det = cls(**TINY, **params).fit(X)
    expected = det.score_components(X[:10])["embedding"]
    monkeypatch.setattr(cls, "_embedding", lambda *args: pytest.fail("encoder run a second time"))
    np.testing.assert_array_equal(det.score_components(X[:10])["embedding"], expected)
