"""GANomalyDetector on the shared machinery: round trips, determinism, its networks and score."""

import joblib
import numpy as np
import torch

from skgan_ad import GANomalyDetector
from skgan_ad.nets.ganomaly import EncoderDecoderEncoder

from .conftest import TINY


def test_shapes_through_the_generator():
    for size, channels in [(8, 1), (16, 3), (32, 1)]:
        x_hat, z, z_hat = EncoderDecoderEncoder.for_images(channels, size, nz=10, ngf=4, ndf=4)(
            torch.randn(2, channels, size, size)
        )
        assert x_hat.shape == (2, channels, size, size) and z.shape == z_hat.shape == (2, 10)
    x_hat, z, z_hat = EncoderDecoderEncoder.for_rows(5, (8, 4), nz=3)(torch.randn(1, 5))
    assert x_hat.shape == (1, 5) and z.shape == (1, 3)


def test_deterministic_and_joblib_round_trip(digit_images, tmp_path):
    X = digit_images[0]
    det = GANomalyDetector(**TINY, nz=16).fit(X)
    again = GANomalyDetector(**TINY, nz=16).fit(X)
    np.testing.assert_array_equal(det.score_samples(X), again.score_samples(X))
    joblib.dump(det, tmp_path / "g.joblib")
    loaded = joblib.load(tmp_path / "g.joblib")
    np.testing.assert_array_equal(loaded.score_samples(X), det.score_samples(X))
    assert loaded.reconstruct(X).shape == X.shape
    parts = det.score_components(X, standardize=True)
    assert set(parts) == {"residual", "latent", "embedding"}
    # embedding_weight=1 by default: the embedding part alone; the paper's score (lambda_score=0)
    # is the latent mismatch alone.
    np.testing.assert_allclose(det.anomaly_score(X), parts["embedding"])
    det.set_params(embedding_weight=0.0)
    np.testing.assert_allclose(det.anomaly_score(X), parts["latent"])
    assert {"train_adv", "train_con", "train_enc", "valid_loss"} <= set(det.history_[-1])
