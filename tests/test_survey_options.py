"""The survey seed's options in the shared machinery: discriminator terms, latent norm, trimmed training."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skgan_ad import EGBADDetector, GANomalyDetector, SkipGANomalyDetector
from skgan_ad.losses import discriminator_term, latent_norm_distance

from .conftest import TINY


def test_latent_norm_distance_is_small_on_the_prior_and_large_off_it():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(500, 64, generator=g)
    on = latent_norm_distance(z)
    assert on.shape == (500,) and on.mean() < 1.0  # ||z|| concentrates at sqrt(64) = 8 within ~0.7
    assert latent_norm_distance(3 * z).min() > 8.0
    assert latent_norm_distance(torch.zeros(2, 64)).allclose(torch.full((2,), 8.0))


def test_discriminator_terms():
    logits = torch.tensor([-2.0, 0.0, 3.0])
    ce = discriminator_term("ce", logits, None, None)
    expected = F.binary_cross_entropy_with_logits(logits, torch.ones(3), reduction="none")
    assert torch.allclose(ce, expected)
    f_real, f_fake = torch.zeros(3, 2, 2), torch.ones(3, 2, 2) * torch.tensor([1.0, 2.0, 3.0])[:, None, None]
    assert torch.allclose(discriminator_term("fm", logits, f_real, f_fake), torch.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="fm"):
        discriminator_term("l2", logits, f_real, f_fake)


def _contaminated_rows(rng, n=200, share=0.05):
    X = rng.normal(size=(n, 4))
    injected = rng.choice(n, int(share * n), replace=False)
    X[injected] += 6.0
    return X, np.sort(injected)


@pytest.mark.parametrize("cls", [SkipGANomalyDetector, GANomalyDetector, EGBADDetector])
def test_trimming_drops_the_injected_anomalies(cls, rng):
    X, injected = _contaminated_rows(rng)
    params = dict(TINY, n_epochs=5, validation_fraction=0.0, trim_fraction=0.05, trim_warmup=2)
    if cls is not SkipGANomalyDetector:
        params["nz"] = 4
    det = cls(**params).fit(X)
    history = det.history_
    assert "train_dropped" not in history[1] and "train_dropped" in history[2]
    dropped = np.array(history[-1, "train_dropped"])
    assert len(dropped) == 10
    # With validation_fraction=0 the training rows are X in order, so indices compare directly.
    assert len(np.intersect1d(dropped, injected)) >= 8
    # Trimmed epochs train on fewer samples.
    assert sum(b["train_batch_size"] for b in history[-1, "batches"]) == 190


def test_no_trimming_by_default(rng):
    X, _ = _contaminated_rows(rng)
    det = SkipGANomalyDetector(**TINY).fit(X)
    assert all("train_dropped" not in row for row in det.history_)


def test_trim_parameters_are_validated(rng):
    with pytest.raises(ValueError, match="trim_fraction"):
        SkipGANomalyDetector(**TINY, trim_fraction=1.0).fit(rng.normal(size=(20, 3)))
