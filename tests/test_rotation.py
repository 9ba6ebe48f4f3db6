"""The discriminator's self-supervised rotation head (``w_rotation``) and its score part (``rotation_weight``)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from skgan_ad import (
    AnoGANDetector,
    DenseSkipAttentionDetector,
    EGBADDetector,
    GANomalyDetector,
    SkipGANomalyDetector,
    load,
    save,
)
from skgan_ad.nets import N_ROTATIONS, DCGANDiscriminator, RotationHead, attach_rotation_head, rotations

TINY = dict(n_epochs=2, batch_size=16, ngf=4, ndf=4, nz=8, random_state=0)


def oriented_images(n, size=16, seed=0):
    """Images whose orientation is plain to see: a bright bar along the top edge, at a random brightness,
    plus noise. Telling their four rotations apart is easy, so a head that learns at all learns it."""
    rng = np.random.RandomState(seed)
    X = rng.uniform(0.0, 0.2, size=(n, size, size))
    X[:, :3, :] += rng.uniform(0.5, 0.8, size=(n, 1, 1))
    return X


def params_for(cls, **extra):
    params = {**TINY, **extra}
    if cls in (SkipGANomalyDetector, DenseSkipAttentionDetector):
        params.pop("nz")
    return params


def test_rotations_are_stacked_rotation_major():
    x = torch.arange(2 * 3 * 3, dtype=torch.float32).view(2, 1, 3, 3)
    r = rotations(x)
    assert r.shape == (N_ROTATIONS * 2, 1, 3, 3)
    for k in range(N_ROTATIONS):
        torch.testing.assert_close(r[2 * k : 2 * k + 2], torch.rot90(x, k, dims=(2, 3)))
    # A quarter turn four times is the identity, and the four rotations differ.
    torch.testing.assert_close(torch.rot90(r[2:4], 3, dims=(2, 3)), x)
    assert len({tuple(r[2 * k].flatten().tolist()) for k in range(N_ROTATIONS)}) == N_ROTATIONS


def test_attached_head_is_sized_without_moving_batchnorm_statistics():
    disc = DCGANDiscriminator(3, 16, ndf=4).train()
    before = {k: v.clone() for k, v in disc.state_dict().items()}
    attach_rotation_head(disc, 3, 16)
    assert disc.training
    assert isinstance(disc.rotation_head, RotationHead)
    for key, value in before.items():
        torch.testing.assert_close(disc.state_dict()[key], value)
    _, features = disc(torch.zeros(5, 3, 16, 16))
    assert disc.rotation_head(features).shape == (5, N_ROTATIONS)


@pytest.mark.parametrize("cls", [SkipGANomalyDetector, GANomalyDetector, AnoGANDetector, DenseSkipAttentionDetector])
def test_every_image_detector_but_egbad_trains_and_scores_the_head(cls):
    X = oriented_images(48)
    det = cls(**params_for(cls, w_rotation=1.0, n_epochs=1)).fit(X)
    assert hasattr(det.discriminator_, "rotation_head")
    assert "train_rot" in det.history_[-1]
    parts = det.score_components(X[:5])
    assert parts["rotation"].dtype == np.float64 and parts["rotation"].shape == (5,)
    assert np.all(parts["rotation"] > 0)

    plain = cls(**params_for(cls, n_epochs=1)).fit(X)
    assert not hasattr(plain.discriminator_, "rotation_head")
    assert "rotation" not in plain.score_components(X[:5])


def test_the_head_learns_the_rotations():
    """The rotation loss falls from chance (ln 4) to well below it: the head is trained, not just attached."""
    det = SkipGANomalyDetector(**params_for(SkipGANomalyDetector, w_rotation=1.0, n_epochs=15, lr=2e-3, ngf=8, ndf=8))
    det.fit(oriented_images(128))
    losses = [row["train_rot"] for row in det.history_]
    assert losses[0] > 0.8 * math.log(N_ROTATIONS)
    assert losses[-1] < 0.5 * math.log(N_ROTATIONS)
    # New images of the same kind: the head predicts their rotations better than chance; turned images
    # (their rotations are no longer the labels) are predicted worse.
    X_new = oriented_images(40, seed=1)
    turned = np.rot90(X_new, 1, axes=(1, 2))
    parts_new = det.score_components(X_new)["rotation"]
    parts_turned = det.score_components(turned)["rotation"]
    assert parts_new.mean() < math.log(N_ROTATIONS)
    assert parts_turned.mean() > parts_new.mean()


def test_rotation_weight_mixes_the_part_into_the_score():
    X = oriented_images(64)
    det = GANomalyDetector(**params_for(GANomalyDetector, w_rotation=1.0, rotation_weight=0.3)).fit(X)
    z = det.score_components(X[:10], standardize=True)
    rest = det.embedding_weight * z["embedding"] + (1 - det.embedding_weight) * (
        det.lambda_score * z["residual"] + (1 - det.lambda_score) * z["latent"]
    )
    np.testing.assert_allclose(det.anomaly_score(X[:10]), 0.3 * z["rotation"] + 0.7 * rest, rtol=1e-10, atol=1e-12)
    # A scoring parameter: changing it changes the score without refitting.
    det.set_params(rotation_weight=1.0)
    np.testing.assert_allclose(det.anomaly_score(X[:10]), z["rotation"], rtol=1e-10, atol=1e-12)


def test_same_random_state_same_scores():
    X = oriented_images(48)
    a = SkipGANomalyDetector(**params_for(SkipGANomalyDetector, w_rotation=1.0, rotation_weight=0.5)).fit(X)
    b = SkipGANomalyDetector(**params_for(SkipGANomalyDetector, w_rotation=1.0, rotation_weight=0.5)).fit(X)
    np.testing.assert_array_equal(a.score_samples(X), b.score_samples(X))


def test_parameter_errors_leave_no_fitted_state():
    X = oriented_images(32)
    det = SkipGANomalyDetector(**params_for(SkipGANomalyDetector, rotation_weight=0.5))
    with pytest.raises(ValueError, match="rotation_weight=0.5 .* set w_rotation > 0"):
        det.fit(X)
    assert not hasattr(det, "generator_")
    egbad = EGBADDetector(**params_for(EGBADDetector, w_rotation=1.0))
    with pytest.raises(ValueError, match="EGBADDetector's discriminator judges .* w_rotation must be 0"):
        egbad.fit(X)
    assert not hasattr(egbad, "generator_")
    # Asked for the rotation part alone, EGBAD says it has none (not "set w_rotation > 0", which it cannot take).
    egbad = EGBADDetector(**params_for(EGBADDetector, rotation_weight=0.5))
    with pytest.raises(ValueError, match="EGBADDetector has no rotation score part.*rotation_weight must be 0"):
        egbad.fit(X)
    assert not hasattr(egbad, "generator_")
    with pytest.raises(ValueError, match="w_rotation"):
        SkipGANomalyDetector(w_rotation=-1.0).fit(X)


def test_tabular_rows_have_no_rotations():
    X = np.random.RandomState(0).normal(size=(60, 4))
    det = GANomalyDetector(**params_for(GANomalyDetector, w_rotation=1.0, rotation_weight=0.5, hidden_dims=(8, 4)))
    det.fit(X)
    assert not hasattr(det.discriminator_, "rotation_head")
    assert "rotation" not in det.score_components(X[:3])


def test_saved_head_loads_with_the_same_scores(tmp_path):
    X = oriented_images(48)
    det = GANomalyDetector(**params_for(GANomalyDetector, w_rotation=1.0, rotation_weight=0.5)).fit(X)
    loaded = load(save(det, tmp_path / "det"))
    assert hasattr(loaded.discriminator_, "rotation_head")
    np.testing.assert_array_equal(loaded.score_samples(X[:7]), det.score_samples(X[:7]))


def test_files_without_a_later_parameter_get_the_value_that_rebuilds_them(monkeypatch):
    """skgan_ad.load fills a parameter a file lacks from ``_added_params`` (what the writing version built),
    not from today's default."""
    from skgan_ad import io

    X = oriented_images(32)
    det = GANomalyDetector(**params_for(GANomalyDetector, n_neighbors=3, n_epochs=1)).fit(X)
    tensors = {}
    document = io._encode_estimator(det, "", tensors)
    del document["params"]["n_neighbors"]  # as if n_neighbors had been added after the file was written
    assert io._decode_estimator(document, tensors).n_neighbors == 5  # today's default
    monkeypatch.setattr(GANomalyDetector, "_added_params", {**GANomalyDetector._added_params, "n_neighbors": 3})
    loaded = io._decode_estimator(document, tensors)
    assert loaded.n_neighbors == 3
    np.testing.assert_array_equal(loaded.score_samples(X[:4]), det.score_samples(X[:4]))
