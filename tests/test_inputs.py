"""Input layouts, dtypes and sizes, and clear errors for bad input."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from skgan_ad import SkipGANomalyDetector

from .conftest import TINY
from .test_vocabulary import DETECTORS


def _fit(X, cls=SkipGANomalyDetector, **params):
    return cls(**{**DETECTORS[cls], **params}).fit(X)


@pytest.fixture(scope="module")
def channels_first():
    """RGB images channels-first, and each detector fitted on them (``grey=True``: on channel 0), fitted once."""
    images = np.random.RandomState(0).uniform(size=(24, 3, 8, 8))
    fitted = {}

    def fitted_on(cls, grey):
        if (cls, grey) not in fitted:
            fitted[cls, grey] = _fit(images[:, :1] if grey else images, cls)
        return fitted[cls, grey]

    return images, fitted_on


@pytest.mark.parametrize("layout", ["hw", "hwc", "chw", "flat"])
@pytest.mark.parametrize("cls", DETECTORS, ids=lambda c: c.__name__)
def test_image_layouts_give_the_same_scores(cls, layout, channels_first):
    images, fitted_on = channels_first
    if layout == "hw":
        grey = images[:, 0]
        det = _fit(grey, cls)
        assert det.image_shape_ == (1, 8, 8)
        np.testing.assert_allclose(det.score_samples(grey), fitted_on(cls, grey=True).score_samples(grey[:, None]))
        assert det.reconstruct(grey).shape == grey.shape
        return
    X = {"hwc": images.transpose(0, 2, 3, 1), "chw": images, "flat": images.reshape(len(images), -1)}[layout]
    if layout == "chw":
        det = fitted_on(cls, grey=False)
    else:
        det = _fit(X, cls, image_shape=(3, 8, 8) if layout == "flat" else None)
    assert det.image_shape_ == (3, 8, 8)
    assert det.n_features_in_ == 3 * 8 * 8
    scores = det.score_samples(X)
    np.testing.assert_allclose(scores, fitted_on(cls, grey=False).score_samples(images))
    # Any layout of the fitted shape is accepted at scoring time.
    np.testing.assert_allclose(det.score_samples(images.reshape(len(images), -1)), scores)
    np.testing.assert_allclose(det.score_samples(images.transpose(0, 2, 3, 1)), scores)
    assert det.reconstruct(X).shape == X.shape


@pytest.mark.parametrize("size", [5, 8, 13, 28])
def test_sizes_that_are_not_powers_of_two_are_padded(size, rng):
    X = rng.uniform(size=(20, size, size))
    det = _fit(X)
    scores = det.score_samples(X)
    assert scores.shape == (20,) and scores.dtype == np.float64 and np.isfinite(scores).all()
    assert det.reconstruct(X).shape == X.shape
    assert det.generator_(torch_zeros(det)).shape[-1] == max(8, 1 << (size - 1).bit_length())


def torch_zeros(det):
    import torch

    return torch.zeros(2, 1, det._geometry().size, det._geometry().size)


def test_non_square_images(rng):
    X = rng.uniform(size=(20, 6, 10))
    det = _fit(X)
    assert det.reconstruct(X).shape == X.shape


def test_uint8_images_are_read_as_0_to_255(rng):
    X8 = rng.randint(0, 256, size=(30, 8, 8)).astype(np.uint8)
    det8 = _fit(X8)
    assert det8.input_shift_ == 127.5 and det8.input_scale_ == 127.5
    # The same pixels as floats in [0, 1] (min 0, max 1 present) give the same network input.
    Xf = X8 / 255.0
    Xf[0, 0, 0], Xf[0, 0, 1] = 0.0, 1.0
    X8f = X8.copy()
    X8f[0, 0, 0], X8f[0, 0, 1] = 0, 255
    np.testing.assert_allclose(_fit(Xf).score_samples(Xf), _fit(X8f).score_samples(X8f), rtol=1e-5, atol=1e-6)
    rec = det8.reconstruct(X8)
    assert rec.dtype == np.float64 and rec.min() >= -1e-6 and rec.max() <= 255 + 1e-6


def test_constant_images_do_not_break_scaling():
    X = np.full((20, 8, 8), 0.5)
    det = _fit(X)
    assert np.isfinite(det.score_samples(X)).all()


def test_tabular_reconstruction_is_in_input_scale(rng):
    X = rng.normal(loc=100.0, scale=10.0, size=(60, 3))
    rec = _fit(X, n_epochs=30, lr=1e-2).reconstruct(X)
    assert rec.shape == X.shape
    # Location, spread and shape of each column, in the input's units (measured over random_state 0..2:
    # means within 0.7 of the inputs', spread ratios 0.978-1.018, correlations 0.990-0.999).
    np.testing.assert_allclose(rec.mean(axis=0), X.mean(axis=0), atol=2.0)
    np.testing.assert_allclose(rec.std(axis=0) / X.std(axis=0), 1.0, atol=0.2)
    assert all(np.corrcoef(X[:, j], rec[:, j])[0, 1] > 0.95 for j in range(X.shape[1]))


# -- bad input --------------------------------------------------------------------
@pytest.mark.parametrize(
    "X, message",
    [
        (np.array([[0.0, np.nan], [1.0, 2.0], [3.0, 4.0]]), "NaN"),
        (np.array([[0.0, np.inf], [1.0, 2.0], [3.0, 4.0]]), "infinity"),
        (np.zeros((1, 4)), "minimum of 2 is required"),
        (np.zeros((0, 4)), "0 sample"),
        (np.array([["a", "b"], ["c", "d"]]), "string"),
        (np.zeros((3, 2, 4, 4, 4)), "5 dimensions"),
        (np.zeros(5), "Expected 2D array"),
    ],
)
def test_bad_fit_input_raises_a_clear_error(X, message):
    with pytest.raises(ValueError, match=message):
        SkipGANomalyDetector(**TINY).fit(X)


def test_image_shape_not_matching_the_data():
    with pytest.raises(ValueError, match=r"needs 192 \(= C \* H \* W\)"):
        SkipGANomalyDetector(image_shape=(3, 8, 8), **TINY).fit(np.zeros((4, 100)))
    with pytest.raises(ValueError, match="matches image_shape"):
        SkipGANomalyDetector(image_shape=(3, 8, 8), **TINY).fit(np.zeros((4, 5, 9, 9)))
    with pytest.raises(ValueError, match="image_shape must be"):
        SkipGANomalyDetector(image_shape=(8, 8), **TINY).fit(np.zeros((4, 64)))


def test_wrong_shape_or_channels_at_predict(rng):
    det = _fit(rng.uniform(size=(20, 3, 8, 8)))
    with pytest.raises(ValueError, match="1 channel"):
        det.predict(rng.uniform(size=(5, 8, 8, 1)))
    with pytest.raises(ValueError, match="one channel"):
        det.predict(rng.uniform(size=(5, 8, 8)))
    with pytest.raises(ValueError, match="expecting 192 features"):
        det.predict(rng.uniform(size=(5, 64)))
    with pytest.raises(ValueError, match="neither"):
        det.predict(rng.uniform(size=(5, 3, 16, 16)))
    tab = _fit(rng.normal(size=(20, 4)))
    with pytest.raises(ValueError, match="expecting 4 features"):
        tab.predict(rng.normal(size=(5, 3)))
    with pytest.raises(ValueError, match="tabular rows with 4 features"):
        tab.predict(rng.normal(size=(5, 2, 2)))


def test_bad_parameters_raise_at_fit():
    X = np.zeros((10, 3))
    for params in [{"contamination": 0.7}, {"n_epochs": 0}, {"validation_fraction": 1.0}, {"lr": -1.0}]:
        with pytest.raises(ValueError, match=next(iter(params))):
            SkipGANomalyDetector(**params).fit(X)
    with pytest.raises(ValueError, match="device"):
        SkipGANomalyDetector(device="tpu", **TINY).fit(X)


def test_failed_fit_leaves_no_fitted_state(rng):
    det = _fit(rng.normal(size=(20, 4)))
    with pytest.raises(ValueError):
        det.fit(np.array([[np.nan, 1.0], [1.0, 2.0]]))
    assert not [k for k in vars(det) if k.endswith("_")]
    with pytest.raises(NotFittedError):
        det.predict(rng.normal(size=(3, 4)))
    # A failure after validation (here: the image does not fit) leaves nothing either.
    det = SkipGANomalyDetector(image_shape=(2, 8, 8), **TINY)
    with pytest.raises(ValueError):
        det.fit(rng.uniform(size=(10, 3, 8, 8)))
    assert not [k for k in vars(det) if k.endswith("_")]
