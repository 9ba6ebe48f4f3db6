import numpy as np
import pytest
import torch

# Small enough that a fit takes well under a second on 2 CPU cores.
TINY = dict(n_epochs=2, batch_size=16, ngf=4, ndf=4, hidden_dims=(8, 4), random_state=0)

# The guarantee for scores of one sample computed in different batches, chunks or positions
# (README, "Determinism"): the matrix routines of some CPUs round a row by where it sits in the
# batch, so equality holds to round-off, not to the bit: float64 (tabular) networks to 1e-12,
# float32 (image) networks to 1e-5, relative to max(1, |score|).
BATCH_TOLERANCE = {"rows": 1e-12, "images": 1e-5}


def assert_batch_invariant(actual, desired, kind: str = "rows") -> None:
    """``actual`` equals ``desired`` to the stated batch tolerance of ``kind`` ("rows" or "images")."""
    tol = BATCH_TOLERANCE[kind]
    np.testing.assert_allclose(actual, desired, rtol=tol, atol=tol)


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def rng():
    return np.random.RandomState(0)


@pytest.fixture(scope="session")
def digit_images():
    from skgan_ad.datasets import load_digits_images

    images, labels = load_digits_images()
    return images[:120], labels[:120]
