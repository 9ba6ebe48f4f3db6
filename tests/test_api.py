"""The scikit-learn contract beyond check_estimator: signs, determinism, round trips, pipelines."""

import io

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgan_ad import SkipGANomalyDetector

from .conftest import TINY


@pytest.fixture(scope="module")
def fitted_images():
    from skgan_ad.datasets import load_digits_images

    images, _ = load_digits_images()
    return SkipGANomalyDetector(**TINY).fit(images[:100]), images[100:160], images[:100]


def test_output_conventions(fitted_images):
    det, X, _ = fitted_images
    scores = det.score_samples(X)
    assert scores.dtype == np.float64 and scores.shape == (len(X),)
    np.testing.assert_array_equal(det.anomaly_score(X), -scores)
    np.testing.assert_array_equal(det.decision_function(X), scores - det.offset_)
    pred = det.predict(X)
    assert set(np.unique(pred)) <= {-1, 1} and pred.dtype.kind == "i"
    np.testing.assert_array_equal(pred == 1, det.decision_function(X) >= 0)
    parts = det.score_components(X)
    assert set(parts) == {"residual", "feature", "embedding"}
    assert all(v.dtype == np.float64 and v.shape == (len(X),) for v in parts.values())
    std = det.score_components(X, standardize=True)
    lam, w = det.lambda_score, det.embedding_weight
    np.testing.assert_allclose(
        det.anomaly_score(X), w * std["embedding"] + (1 - w) * (lam * std["residual"] + (1 - lam) * std["feature"])
    )


def test_lambda_score_changes_scores_without_refit(fitted_images):
    det, X, _ = fitted_images
    before = det.anomaly_score(X)
    det.set_params(lambda_score=1.0, embedding_weight=0.0)
    try:
        expected = det.score_components(X, standardize=True)["residual"]
        np.testing.assert_allclose(det.anomaly_score(X), expected)
        assert not np.allclose(det.anomaly_score(X), before)
    finally:
        det.set_params(lambda_score=TINY.get("lambda_score", 0.9), embedding_weight=1.0)


def test_scores_do_not_depend_on_the_batch(fitted_images):
    det, X, _ = fitted_images
    full = det.score_samples(X)
    singles = np.array([det.score_samples(X[i : i + 1])[0] for i in range(10)])
    np.testing.assert_allclose(singles, full[:10], rtol=1e-10, atol=1e-10)
    shuffled = np.random.RandomState(0).permutation(len(X))
    np.testing.assert_allclose(det.score_samples(X[shuffled]), full[shuffled], rtol=1e-10, atol=1e-10)
    mixed = np.concatenate([X[:5], np.ones((7, 8, 8))])  # odd company must not matter
    np.testing.assert_allclose(det.score_samples(mixed)[:5], full[:5], rtol=1e-10, atol=1e-10)


def test_rgb_image_scores_do_not_depend_on_the_batch(rng):
    X = rng.uniform(size=(40, 3, 16, 16)).astype(np.float32)
    det = SkipGANomalyDetector(**{**TINY, "batch_size": 8}).fit(X)
    full = det.score_samples(X)
    order = rng.permutation(len(X))
    np.testing.assert_array_equal(det.score_samples(X[order]), full[order])
    np.testing.assert_array_equal([det.score_samples(X[i : i + 1])[0] for i in range(5)], full[:5])


def test_same_random_state_same_scores(digit_images):
    X = digit_images[0]
    a = SkipGANomalyDetector(**TINY).fit(X).score_samples(X)
    b = SkipGANomalyDetector(**TINY).fit(X).score_samples(X)
    np.testing.assert_array_equal(a, b)
    c = SkipGANomalyDetector(**{**TINY, "random_state": 1}).fit(X).score_samples(X)
    assert not np.array_equal(a, c)


def test_global_random_state_is_left_alone(digit_images):
    torch.manual_seed(123)
    np.random.seed(123)
    expected_torch, expected_np = torch.rand(3), np.random.rand(3)
    torch.manual_seed(123)
    np.random.seed(123)
    SkipGANomalyDetector(**TINY).fit(digit_images[0])
    np.testing.assert_array_equal(torch.rand(3), expected_torch)
    np.testing.assert_array_equal(np.random.rand(3), expected_np)


def test_clone_and_joblib_round_trips(fitted_images, tmp_path):
    det, X, X_train = fitted_images
    params = det.get_params()
    assert clone(det).get_params() == params
    refit = clone(det).fit(X_train)
    np.testing.assert_array_equal(refit.score_samples(X), det.score_samples(X))
    path = tmp_path / "det.joblib"
    joblib.dump(det, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.score_samples(X), det.score_samples(X))
    np.testing.assert_array_equal(loaded.reconstruct(X), det.reconstruct(X))
    assert loaded.offset_ == det.offset_
    buf = io.BytesIO()
    joblib.dump(det, buf)
    assert buf.tell() > 0


def test_pipeline_and_cross_val_score(rng):
    normal = rng.normal(size=(120, 5))
    abnormal = rng.normal(loc=4.0, size=(30, 5))
    pipe = make_pipeline(StandardScaler(), SkipGANomalyDetector(**{**TINY, "n_epochs": 5, "lr": 1e-2}))
    pipe.fit(normal)
    X = np.vstack([rng.normal(size=(30, 5)), abnormal])  # new normals: none of them a training row
    y = np.r_[np.zeros(30), np.ones(30)]
    assert pipe.predict(X).shape == (60,)
    assert roc_auc_score(y, -pipe.score_samples(X)) > 0.9

    def auc(estimator, X, y):
        return roc_auc_score(y, -estimator.score_samples(X))

    # Labelled data with all anomalies in the test folds: train on normals only.
    X_all = np.vstack([normal, abnormal])
    y_all = np.r_[np.zeros(120), np.ones(30)]
    folds = [(np.arange(i * 40, (i + 1) * 40), None) for i in range(3)]
    folds = [(np.setdiff1d(np.arange(120), test), np.r_[test, np.arange(120, 150)]) for test, _ in folds]
    scores = cross_val_score(pipe, X_all, y_all, cv=folds, scoring=auc)
    assert scores.shape == (3,) and (scores > 0.9).all()
