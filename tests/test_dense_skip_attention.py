"""DenseSkipAttentionDetector: ablation switches, losses, determinism, round trips."""

import joblib
import numpy as np
import pytest

from skgan_ad import DenseSkipAttentionDetector
from skgan_ad.nets import MultiHeadSelfAttention2d, spectral_norm_layers

from .conftest import TINY


@pytest.mark.parametrize("attention", [True, False])
@pytest.mark.parametrize("spectral_norm", [True, False])
def test_ablation_switches_change_the_networks(attention, spectral_norm, digit_images):
    X = digit_images[0][:60]
    det = DenseSkipAttentionDetector(**TINY, attention=attention, spectral_norm=spectral_norm).fit(X)
    has_attention = any(isinstance(m, MultiHeadSelfAttention2d) for m in det.discriminator_.modules())
    assert has_attention == attention
    for net in (det.generator_, det.discriminator_):
        assert bool(spectral_norm_layers(net)) == spectral_norm
    assert det.score_samples(X).dtype == np.float64
    assert {"train_adv", "train_con", "train_lat"} <= set(det.history_[-1])


def test_tabular_networks_honour_spectral_norm(rng):
    X = rng.normal(size=(50, 5))
    with_sn = DenseSkipAttentionDetector(**TINY).fit(X)
    without = DenseSkipAttentionDetector(**TINY, spectral_norm=False).fit(X)
    assert spectral_norm_layers(with_sn.generator_) and not spectral_norm_layers(without.generator_)


def test_deterministic_joblib_and_lambda_score_needs_no_retraining(digit_images, tmp_path):
    X = digit_images[0][:60]
    det = DenseSkipAttentionDetector(**TINY).fit(X)
    again = DenseSkipAttentionDetector(**TINY).fit(X)
    np.testing.assert_array_equal(det.score_samples(X), again.score_samples(X))
    joblib.dump(det, tmp_path / "d.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "d.joblib").score_samples(X), det.score_samples(X))
    parts = det.score_components(X, standardize=True)
    det.set_params(lambda_score=0.3, embedding_weight=0.0)
    np.testing.assert_allclose(det.anomaly_score(X), 0.3 * parts["residual"] + 0.7 * parts["feature"])
