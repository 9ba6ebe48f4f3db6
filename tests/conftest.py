import numpy as np
import pytest
import torch

# Small enough that a fit takes well under a second on 2 CPU cores.
TINY = dict(n_epochs=2, batch_size=16, ngf=4, ndf=4, hidden_dims=(8, 4), random_state=0)


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
