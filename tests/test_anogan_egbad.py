"""AnoGANDetector and EGBADDetector: networks, the latent search, determinism, round trips."""

import joblib
import numpy as np
import pytest
import torch

from skgan_ad import AnoGANDetector, EGBADDetector
from skgan_ad.losses import DISCRIMINATOR_TERMS
from skgan_ad.nets import BiGANGenerator, JointDiscriminator

from .conftest import TINY

ANOGAN_TINY = dict(TINY, nz=8, n_max=10)
EGBAD_TINY = dict(TINY, nz=8)


def test_bigan_shapes():
    for size, channels in [(8, 1), (16, 3), (32, 1)]:
        g = BiGANGenerator.for_images(channels, size, nz=10, ngf=4, ndf=4)
        d = JointDiscriminator.for_images(channels, size, nz=10, ndf=4)
        x = torch.randn(3, channels, size, size)
        x_hat, z = g(x)
        assert x_hat.shape == x.shape and z.shape == (3, 10)
        assert g.decode(torch.randn(2, 10)).shape == (2, channels, size, size)
        logits, features = d((x, z))
        assert logits.shape == (3,) and features.shape == (3, d.feature_channels)
    g, d = BiGANGenerator.for_rows(5, (8, 4), nz=3), JointDiscriminator.for_rows(5, (8, 4), nz=3)
    x_hat, z = g(torch.randn(2, 5))
    assert x_hat.shape == (2, 5) and z.shape == (2, 3) and d((x_hat, z))[0].shape == (2,)


@pytest.mark.parametrize("cls, params", [(AnoGANDetector, ANOGAN_TINY), (EGBADDetector, EGBAD_TINY)])
def test_deterministic_and_joblib_round_trip(cls, params, digit_images, tmp_path):
    X = digit_images[0][:60]
    det = cls(**params).fit(X)
    again = cls(**params).fit(X)
    np.testing.assert_array_equal(det.score_samples(X), again.score_samples(X))
    joblib.dump(det, tmp_path / "d.joblib")
    loaded = joblib.load(tmp_path / "d.joblib")
    np.testing.assert_array_equal(loaded.score_samples(X), det.score_samples(X))
    assert loaded.reconstruct(X[:5]).shape == X[:5].shape
    assert loaded.anomaly_map(X[:5]).shape == X[:5].shape
    # The discriminator part is named by the disc_term in use ("fm" by default: feature).
    assert set(det.score_components(X)) == {"residual", DISCRIMINATOR_TERMS[det.disc_term], "latent_norm", "embedding"}
    other = cls(**{**params, "random_state": 1}).fit(X)
    assert not np.array_equal(other.score_samples(X), det.score_samples(X))


@pytest.mark.parametrize("cls, params", [(AnoGANDetector, ANOGAN_TINY), (EGBADDetector, EGBAD_TINY)])
def test_scores_do_not_depend_on_the_batch(cls, params, digit_images):
    X = digit_images[0][:50]
    det = cls(**params).fit(X)
    whole = det.anomaly_score(X)
    np.testing.assert_allclose(det.anomaly_score(X[7:9]), whole[7:9], rtol=1e-5, atol=1e-6)


def test_anogan_search_stops_at_n_max_and_at_epsilon(rng):
    X = rng.normal(size=(80, 4))
    det = AnoGANDetector(**{**ANOGAN_TINY, "n_max": 7, "epsilon": 0.0}).fit(X)
    found = det.latent_search(X[:20])
    assert found["z"].shape == (20, 4) and found["z"].dtype == np.float64
    assert (found["n_steps"] == 7).all()  # epsilon 0 is never reached: every sample runs n_max steps
    # A target every start already meets: no step at all, and the code stays at its start.
    det.set_params(epsilon=1e6)
    found = det.latent_search(X[:20])
    assert (found["n_steps"] == 0).all()
    assert np.allclose(found["z"], found["z"][0])
    # A target in between: each sample stops as soon as its loss reaches it, so steps differ.
    det.set_params(epsilon=float(np.median(det.set_params(epsilon=0.0, n_max=30).latent_search(X)["loss"])))
    found = det.latent_search(X)
    assert found["n_steps"].min() < 30 and found["n_steps"].max() == 30
    stopped = found["n_steps"] < 30
    assert (found["loss"][stopped] <= det.epsilon + 1e-6).all()


def test_anogan_restarts_never_do_worse(rng):
    X = rng.normal(size=(80, 4))
    det = AnoGANDetector(**{**ANOGAN_TINY, "n_max": 5}).fit(X)
    one = det.latent_search(X)["loss"]
    three = det.set_params(n_restarts=3).latent_search(X)["loss"]
    assert (three <= one + 1e-6).all() and (three < one - 1e-6).any()


def test_search_parameters_need_no_retraining(rng, tmp_path):
    """The search and score options are scoring parameters: a cached fit is reused across them."""
    X = rng.normal(size=(60, 4))
    det = AnoGANDetector(**ANOGAN_TINY, memory=str(tmp_path)).fit(X)
    again = AnoGANDetector(**{**ANOGAN_TINY, "n_max": 3, "lambda_score": 0.5, "disc_term": "ce"}, memory=str(tmp_path))
    again.fit(X)
    for name, module in det.generator_.state_dict().items():
        assert torch.equal(module, again.generator_.state_dict()[name])


@pytest.mark.parametrize("cls, params", [(AnoGANDetector, ANOGAN_TINY), (EGBADDetector, EGBAD_TINY)])
def test_discriminator_term_and_latent_norm_options(cls, params, rng):
    X = rng.normal(size=(60, 4))
    fm = cls(**{**params, "disc_term": "fm"}).fit(X)
    ce = cls(**{**params, "disc_term": "ce"}).fit(X)
    assert set(ce.score_components(X)) == {"residual", "discriminator", "latent_norm", "embedding"}
    assert not np.allclose(fm.score_components(X)["feature"], ce.score_components(X)["discriminator"])
    # The part's name follows disc_term: switching it needs a refit, and a score that uses the part says so.
    embedding = fm.score_components(X, standardize=True)["embedding"]
    fm.set_params(disc_term="ce", embedding_weight=0.5)
    with pytest.raises(ValueError, match="refit the detector"):
        fm.anomaly_score(X)
    # The default score (embedding_weight=1) computes none of the papers' parts, so it is unaffected.
    np.testing.assert_array_equal(fm.set_params(embedding_weight=1.0).anomaly_score(X), embedding)
    fm.set_params(disc_term="fm")
    # latent_norm_weight adds exactly its weighted, standardised part to the score.
    # (On the paper's score: with the default embedding_weight=1 it has no share.)
    fm.set_params(embedding_weight=0.0)
    with_norm = cls(**{**params, "disc_term": "fm", "latent_norm_weight": 2.0, "embedding_weight": 0.0}).fit(X)
    parts = fm.score_components(X, standardize=True)
    np.testing.assert_allclose(with_norm.anomaly_score(X) - fm.anomaly_score(X), 2.0 * parts["latent_norm"], atol=1e-9)
