"""Thresholds that keep their promise: the conformal ``offset_``, its warning, training rows scored leave-one-out."""

import warnings

import numpy as np
import pytest
from scipy.stats import norm

from skgan_ad import (
    AnoGANDetector,
    CalibrationWarning,
    DenseSkipAttentionDetector,
    EGBADDetector,
    GANomalyDetector,
    SkipGANomalyDetector,
)
from skgan_ad._outlier import conformal_rank, false_positive_spread, threshold_at
from skgan_ad.datasets import load_digits_images

from .conftest import TINY


# -- the conformal quantile ------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [9, 10, 30, 99, 100, 301])
@pytest.mark.parametrize("contamination", [0.01, 0.05, 0.1, 0.25, 0.5])
def test_offset_flags_exactly_k_held_out_scores_and_k_over_n_plus_1_of_new_ones(n, contamination):
    scores = np.random.default_rng(n).normal(size=n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalibrationWarning)
        offset = threshold_at(scores, contamination)
    k = conformal_rank(n, contamination)
    # Brute force: the largest rank whose share of n + 1 exchangeable scores stays within contamination.
    assert k == max(j for j in range(n + 1) if j / (n + 1) <= contamination + 1e-12)
    assert int((scores < offset).sum()) == max(k, 1)
    # A new score is flagged iff it is at most the k-th held-out score: probability k / (n + 1).
    ordered = np.sort(scores)
    assert ordered[max(k, 1) - 1] < offset <= ordered[max(k, 1)]


def test_realised_false_positive_rate_is_k_over_n_plus_1_on_average():
    # 4,000 fits of 30 held-out standard-normal scores each; each fit's rate on new normals is exact.
    rng = np.random.default_rng(0)
    n, contamination = 30, 0.1
    held_out = rng.normal(size=(4000, n))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalibrationWarning)
        offsets = np.array([threshold_at(row, contamination) for row in held_out])
    rates = norm.cdf(offsets)  # exact rate of each fit on the whole normal law
    mean, spread = false_positive_spread(n, contamination)
    assert mean == pytest.approx(3 / 31)
    assert rates.mean() == pytest.approx(mean, abs=0.004)  # 4,000 fits: standard error 0.0008
    assert rates.std() == pytest.approx(spread, rel=0.05)
    assert rates.mean() <= contamination
    # The old plain percentile flagged more than asked on small data.
    percentile = norm.cdf(np.percentile(held_out, 100 * contamination, axis=1)).mean()
    assert percentile > rates.mean()


def test_too_few_held_out_scores_warn_with_the_numbers():
    expected = r"only 30 held-out normal scores.*0\.097 on average.*0\.052.*at least 34"
    with pytest.warns(CalibrationWarning, match=expected):
        threshold_at(np.arange(30.0), 0.1)
    with pytest.warns(CalibrationWarning, match=r"no threshold can keep contamination=0\.1 on 5 .*at least 9"):
        assert threshold_at(np.arange(5.0), 0.1) > 0.0  # the smallest score is flagged
    with warnings.catch_warnings():
        warnings.simplefilter("error", CalibrationWarning)
        threshold_at(np.arange(34.0), 0.1)
        threshold_at(np.arange(400.0), 0.01)


def test_a_detector_on_small_data_warns_at_fit(rng):
    with pytest.warns(CalibrationWarning, match="only 10 held-out normal scores"):
        SkipGANomalyDetector(**TINY).fit(rng.normal(size=(100, 4)))


# -- training rows scored leave-one-out ------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits():
    images, _ = load_digits_images()
    return images


DETECTORS = [
    (SkipGANomalyDetector, dict(ngf=8, ndf=8)),
    (GANomalyDetector, dict(ngf=8, ndf=8, nz=16)),
    (AnoGANDetector, dict(ngf=8, ndf=8, nz=16, n_max=5)),
    (EGBADDetector, dict(ngf=8, ndf=8, nz=16)),
    (DenseSkipAttentionDetector, dict(ngf=8, ndf=8)),
]


def test_fit_predict_flags_about_contamination_of_the_training_data(digits):
    # Before leave-one-out scoring, a training sample was its own nearest code (distance 0) and
    # fit_predict flagged about 1 % of 400 digits at contamination=0.1. Now the share is the
    # held-out threshold's: with 40 held-out scores, 4 / 41 = 0.098 on average with a spread of
    # 0.046 from fit to fit (false_positive_spread), so each detector's share is checked loosely
    # and the mean of the five closely. Measured (random_state=0): 0.135, 0.123, 0.128, 0.093, 0.095.
    order = np.random.default_rng(0).permutation(len(digits))
    X, unseen = digits[order[:400]], digits[order[400:1200]]
    shares = []
    for make, params in DETECTORS:
        detector = make(**params, n_epochs=3, batch_size=32, contamination=0.1, random_state=0)
        share = np.mean(detector.fit_predict(X) == -1)
        assert 0.04 <= share <= 0.2, (make.__name__, share)
        # Training rows score like unseen normals, not better (they did, matching themselves).
        scores, new = detector.score_samples(X), detector.score_samples(unseen)
        assert np.median(scores) < np.median(new) + 0.25 * new.std(), make.__name__
        shares.append(share)
    assert 0.06 <= np.mean(shares) <= 0.14, shares


def test_a_training_row_is_not_its_own_neighbour(digits):
    X = digits[:200]
    detector = GANomalyDetector(ngf=8, ndf=8, nz=16, n_epochs=1, n_neighbors=3, validation_fraction=0.0)
    detector.fit(X)
    codes = (detector.embed(X) - detector.embedding_center_) / detector.embedding_scale_
    reference = detector.embedding_reference_.astype(np.float64)
    distances = np.sqrt(((codes[:, None] - reference[None]) ** 2).sum(axis=2))
    np.fill_diagonal(distances, np.inf)  # every row is in the reference here (200 < 8,192), in order
    expected = np.sort(distances, axis=1)[:, :3].mean(axis=1)
    got = detector.score_components(X)["embedding"]
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    assert got.min() > 0
    # A new sample is compared with every reference code.
    new = digits[1000:1010]
    new_codes = (detector.embed(new) - detector.embedding_center_) / detector.embedding_scale_
    new_distances = np.sqrt(((new_codes[:, None] - reference[None]) ** 2).sum(axis=2))
    np.testing.assert_allclose(
        detector.score_components(new)["embedding"], np.sort(new_distances, axis=1)[:, :3].mean(axis=1), rtol=1e-5
    )


def test_a_duplicated_training_row_keeps_its_twin_as_a_neighbour(rng):
    X = rng.normal(size=(60, 4))
    X[1] = X[0]
    detector = SkipGANomalyDetector(**TINY, n_neighbors=1, validation_fraction=0.0).fit(X)
    distance = detector.score_components(X)["embedding"]
    # Each twin is the other's neighbour: distance 0 up to round-off (the twins sit at two positions of
    # their batch, which some CPUs round differently).
    assert distance[0] < 1e-6 and distance[1] < 1e-6
    assert distance[2:].min() > 1e-3
