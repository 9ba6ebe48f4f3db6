"""The CUDA path: fit on a GPU, pickle, load and score on the CPU. Skipped without CUDA."""

import pickle

import numpy as np
import pytest

from skgan_ad import SkipGANomalyDetector

from .conftest import TINY

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("shape", [(64, 6), (64, 3, 16, 16)])
def test_fit_on_cuda_score_on_cpu(shape, rng):
    X = rng.uniform(size=shape)
    det = SkipGANomalyDetector(**{**TINY, "device": "cuda"}).fit(X)
    assert det.device_.startswith("cuda")
    on_gpu = det.score_samples(X)
    loaded = pickle.loads(pickle.dumps(det))
    assert all(p.device.type == "cpu" for p in loaded.generator_.parameters())
    loaded.set_params(device="cpu")
    np.testing.assert_allclose(loaded.score_samples(X), on_gpu, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(loaded.reconstruct(X), det.reconstruct(X), rtol=1e-5, atol=1e-6)


def test_auto_device_picks_cuda(rng):
    det = SkipGANomalyDetector(**TINY).fit(rng.normal(size=(32, 4)))
    assert det.device_.startswith("cuda")
