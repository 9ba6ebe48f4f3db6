"""One vocabulary and one parameter contract across the five detectors (issue: one score vocabulary)."""

import re

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from skgan_ad import AnoGANDetector, DenseSkipAttentionDetector, EGBADDetector, GANomalyDetector, SkipGANomalyDetector
from skgan_ad._trainer import GANTrainer, TensorBatchIterator
from skgan_ad.base import SCORE_PARTS
from skgan_ad.losses import SkipGANomalyLoss
from skgan_ad.nets import MLPDiscriminator, SkipMLPGenerator

from .conftest import TINY

DETECTORS = {
    SkipGANomalyDetector: dict(TINY),
    GANomalyDetector: dict(TINY, nz=8),
    AnoGANDetector: dict(TINY, nz=8, n_max=5),
    EGBADDetector: dict(TINY, nz=8),
    DenseSkipAttentionDetector: dict(TINY),
}
EXPECTED_PARTS = {
    SkipGANomalyDetector: {"residual", "feature", "embedding"},
    GANomalyDetector: {"residual", "latent", "embedding"},
    AnoGANDetector: {"residual", "feature", "latent_norm", "embedding"},
    EGBADDetector: {"residual", "feature", "latent_norm", "embedding"},
    DenseSkipAttentionDetector: {"residual", "feature", "embedding"},
}


@pytest.mark.parametrize("cls", DETECTORS, ids=lambda c: c.__name__)
def test_lambda_score_is_the_share_of_the_residual_everywhere(cls, rng):
    params = cls().get_params()
    assert "lambda_score" in params
    assert not {"alpha", "eta"} & set(params)
    X = rng.normal(size=(60, 4))
    det = cls(**DETECTORS[cls], lambda_score=0.3, embedding_weight=0.4).fit(X)
    raw = det.score_components(X)
    assert set(raw) == EXPECTED_PARTS[cls] and set(raw) <= set(SCORE_PARTS)
    parts = det.score_components(X, standardize=True)
    (other,) = set(parts) - {"residual", "latent_norm", "embedding"}
    papers = 0.3 * parts["residual"] + 0.7 * parts[other]
    if "latent_norm" in parts:
        papers = papers + det.latent_norm_weight * parts["latent_norm"]
    # embedding_weight is the embedding's share; the paper's score shares the rest.
    expected = 0.4 * parts["embedding"] + 0.6 * papers
    np.testing.assert_allclose(det.anomaly_score(X), expected, rtol=1e-12, atol=1e-12)
    # The standardisation statistics are those of the held-out normals, one pair per part.
    assert set(det.component_stats_) == set(raw)


def _documented_parameters(doc: str) -> list[str]:
    section = doc.split("Parameters\n    ----------\n", 1)[1].split("\n    Attributes\n", 1)[0]
    names = []
    for line in section.splitlines():
        match = re.match(r"^    ([a-z_][\w, ]*) : ", line)
        if match:
            names += [name.strip() for name in match.group(1).split(",")]
    return names


@pytest.mark.parametrize("cls", DETECTORS, ids=lambda c: c.__name__)
def test_every_parameter_is_documented_once_and_constrained(cls):
    documented = _documented_parameters(cls.__doc__)
    params = set(cls().get_params())
    assert sorted(documented) == sorted(params), set(documented) ^ params
    assert "{shared" not in cls.__doc__
    assert set(cls._parameter_constraints) == params


@pytest.mark.parametrize("hidden_dims", [(), (0,), (-4,), ("a",), (8.5,), (8, True), 16])
def test_hidden_dims_are_validated(hidden_dims, rng):
    det = SkipGANomalyDetector(**{**TINY, "hidden_dims": hidden_dims})
    with pytest.raises(ValueError, match="hidden_dims"):
        det.fit(rng.normal(size=(30, 3)))
    assert not [key for key in vars(det) if key.endswith("_")]


class _GradientRecorder(Callback):
    def initialize(self):
        self.seen = set()
        return self

    def on_grad_computed(self, net, named_parameters, **kwargs):
        self.seen |= {id(p) for _, p in named_parameters if p.grad is not None}


def test_gradient_callbacks_see_both_networks():
    """on_grad_computed is told of the discriminator's fresh gradients too (clipping, logging)."""
    recorder = _GradientRecorder()
    net = GANTrainer(
        module=SkipMLPGenerator(3, (4,)),
        discriminator=MLPDiscriminator(3, (4,)),
        criterion=SkipGANomalyLoss(),
        iterator_train=TensorBatchIterator,
        train_split=None,
        max_epochs=1,
        batch_size=10,
        callbacks=[recorder],
        verbose=0,
    )
    net.fit(torch.randn(30, 3), None)
    assert {id(p) for p in net.module_.parameters()} <= recorder.seen
    assert {id(p) for p in net.discriminator_.parameters()} <= recorder.seen


@pytest.mark.parametrize("cls", DETECTORS, ids=lambda c: c.__name__)
def test_paper_builds_the_papers_detector(cls):
    """paper() keeps the seed paper's settings one call away, whatever the defaults become."""
    det = cls.paper(random_state=3)
    params = det.get_params()
    assert params["random_state"] == 3
    assert {k: params[k] for k in cls._paper_params} == cls._paper_params
    # The paper's training: 15 epochs of batch 64 with Adam lr 2e-4 (reference code), no extra budget.
    assert (params["n_epochs"], params["batch_size"], params["lr"], params["min_steps"]) == (15, 64, 2e-4, 0)
    assert params["residual_sigma"] == 0.0 and params["residual_norm"] == "none"
    assert cls.paper(min_steps=100).min_steps == 100
