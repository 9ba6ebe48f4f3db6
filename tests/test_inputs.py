"""Input layouts, dtypes and sizes, and clear errors for bad input."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from skgan_ad import PatchDetector, SkipGANomalyDetector
from skgan_ad._validation import AmbiguousLayoutWarning

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


@pytest.mark.parametrize("X", [np.full((20, 8, 8), 0.5), np.full((20, 8, 8), 7, np.uint8), np.ones((20, 3))])
def test_identical_samples_are_refused(X):
    # Nothing to learn normal variation from, and no spread of held-out scores to place offset_ in.
    det = SkipGANomalyDetector(**TINY)
    with pytest.raises(ValueError, match="X holds 20 identical samples"):
        det.fit(X)
    assert not [k for k in vars(det) if k.endswith("_")]


def test_constant_columns_and_images_are_fine(rng):
    X = np.c_[rng.normal(size=(20, 2)), np.full(20, 1e300)]
    det = _fit(X)
    assert det.input_scale_[2] == 1.0 and np.isfinite(det.score_samples(X)).all()
    images = np.repeat(rng.uniform(size=(20, 1, 1)), 64, axis=1).reshape(20, 8, 8)  # each image one grey level
    assert np.isfinite(_fit(images).score_samples(images)).all()


# Each reported case of issue #14: finite inputs that gave -inf / NaN scores or constant scores.
EXTREME_FITS = {
    "rows x 1e200": lambda rng: rng.uniform(size=(30, 4)) * 1e200,
    "rows x 1e-300": lambda rng: rng.uniform(size=(30, 4)) * 1e-300,
    "1e300 and 1e-300 columns": lambda rng: rng.uniform(size=(30, 4)) * [1e300, -1e300, 1e-300, 1.0],
    "range 1e-12": lambda rng: 1.0 + 1e-12 * rng.uniform(size=(30, 4)),
    "float16": lambda rng: (6e4 * rng.uniform(size=(30, 4))).astype(np.float16),
    "huge int64": lambda rng: rng.randint(-(2**62), 2**62, size=(30, 4), dtype=np.int64),
    "images x 1e200": lambda rng: rng.uniform(size=(30, 8, 8)) * 1e200,
    "images near float64's maximum": lambda rng: np.finfo(np.float64).max * rng.uniform(0.5, 1, size=(30, 8, 8)),
}


@pytest.mark.parametrize("make", EXTREME_FITS.values(), ids=EXTREME_FITS)
@pytest.mark.parametrize("cls", DETECTORS, ids=lambda c: c.__name__)
def test_any_finite_scale_trains_and_scores(cls, make, rng):
    X = make(rng)
    det = _fit(X, cls)
    scores = det.score_samples(X)
    assert scores.dtype == np.float64 and np.isfinite(scores).all()
    assert np.ptp(scores) > 0, "trained to constant scores"
    assert np.isfinite(det.input_shift_).all() and np.isfinite(det.input_scale_).all()


@pytest.mark.parametrize("cls", DETECTORS, ids=lambda c: c.__name__)
def test_scores_do_not_depend_on_the_unit_of_the_data(cls, rng):
    # Standardisation divides the unit out exactly, whatever its size (a plain std overflowed at 1e200).
    X = rng.uniform(size=(30, 4))
    expected = _fit(X, cls).score_samples(X)
    for unit in (1e200, 1e-200):
        np.testing.assert_allclose(_fit(X * unit, cls).score_samples(X * unit), expected, rtol=1e-6)


@pytest.mark.parametrize("cls", DETECTORS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("images", [False, True], ids=["rows", "images"])
def test_samples_far_outside_the_training_range_score_finite_and_most_abnormal(cls, images, rng):
    X = rng.uniform(size=(30, 8, 8) if images else (30, 4))
    det = _fit(X, cls)
    normal = det.anomaly_score(X).max()
    previous = np.full(3, normal)
    # Further and further out, up to float64's maximum: finite, beyond every training sample, and
    # never less abnormal than nearer (equal once past the clip at NETWORK_INPUT_BOUND).
    for distance in (10.0, 1e3, 1e200, np.finfo(np.float64).max):
        scores = det.anomaly_score(X[:3] * 0.5 + distance / 2)
        assert np.isfinite(scores).all() and scores.min() > normal
        assert (scores >= previous * (1 - 1e-6)).all()
        previous = scores
    assert np.isfinite(det.anomaly_score(-X[:3] * 1e300)).all()


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


def test_bad_parameters_raise_at_fit(rng):
    X = rng.normal(size=(10, 3))
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


# -- image layouts ------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(8, 8, 5), (4, 4, 3)])
def test_layouts_issue_14_reported_are_read_channels_last(shape, rng):
    # Both were read as channels-first without a word: (C, H, W) = (8, 8, 5) and (4, 4, 3).
    X = rng.uniform(size=(20, *shape))
    with warnings.catch_warnings():
        warnings.simplefilter("error", AmbiguousLayoutWarning)
        det = _fit(X)
    assert det.image_shape_ == (shape[2], shape[0], shape[1])
    assert det.reconstruct(X).shape == X.shape


def test_image_layout_reads_what_it_says(rng):
    images = rng.uniform(size=(20, 3, 8, 3))  # (C, H, W) = (3, 8, 3): as channels-last it reads (3, 3, 8)
    with pytest.warns(AmbiguousLayoutWarning, match="image_layout='channels_first' or 'channels_last'"):
        auto = _fit(images)
    first = _fit(images, image_layout="channels_first")
    last = _fit(images.transpose(0, 2, 3, 1), image_layout="channels_last")
    assert auto.image_shape_ == first.image_shape_ == last.image_shape_ == (3, 8, 3)
    np.testing.assert_allclose(last.score_samples(images.transpose(0, 2, 3, 1)), first.score_samples(images))
    # The declared layout is enforced at scoring time, with an error naming X and the layout.
    with pytest.raises(ValueError, match=r"X has images of shape \(3, 8, 3\), read as channels-last"):
        last.score_samples(images)
    # Flat rows are (C, H, W) whatever the layout; 3-D arrays are single-channel images.
    np.testing.assert_allclose(last.score_samples(images.reshape(20, -1)), first.score_samples(images))
    grey = _fit(images[:, 0], image_layout="channels_last")
    assert grey.image_shape_ == (1, 8, 3)


def test_image_layout_is_validated():
    with pytest.raises(ValueError, match="image_layout"):
        SkipGANomalyDetector(image_layout="nhwc", **TINY).fit(np.random.RandomState(0).uniform(size=(10, 8, 8)))


@pytest.mark.parametrize(
    "X, params",
    [(np.zeros((0, 8, 8)), {}), (np.zeros((0, 3, 8, 8)), {}), (np.zeros((0, 64)), {"image_shape": (1, 8, 8)})],
)
def test_zero_samples_are_a_clear_error(X, params, rng):
    # (0, H, W) arrays failed inside a reshape.
    with pytest.raises(ValueError, match="X.*0 sample"):
        SkipGANomalyDetector(**TINY, **params).fit(X)
    det = _fit(rng.uniform(size=(20, *X.shape[1:])), **params)
    with pytest.raises(ValueError, match="X.*0 sample"):
        det.score_samples(X)


def test_input_errors_name_x(rng):
    det = SkipGANomalyDetector(**TINY)
    for X in (np.zeros(5), np.zeros((4, 0)), np.array([["a", "b"], ["c", "d"]]), np.ones((3, 2)) * 1j):
        with pytest.raises(ValueError, match=r"^X: "):
            det.fit(X)


def test_patch_detector_errors_name_its_own_input(rng):
    X = rng.uniform(size=(6, 16, 16))
    with pytest.raises(ValueError, match="X holds 6 identical samples"):
        PatchDetector(SkipGANomalyDetector(**TINY), patch_size=8).fit(np.ones((6, 16, 16)))
    with pytest.raises(ValueError, match="X holds 0 samples"):
        PatchDetector(SkipGANomalyDetector(**TINY), patch_size=8).fit(X[:0])
    # A failure of the inner detector says it happened on the patches cut from X, and of which shape.
    det = PatchDetector(SkipGANomalyDetector(**{**TINY, "ngf": 0}), patch_size=8)
    with pytest.raises(ValueError, match=r"24 patches of shape \(1, 8, 8\) cut from the 6 training images of X.*ngf"):
        det.set_params(validation_fraction=0).fit(X)
    assert not [k for k in vars(det) if k.endswith("_")]
    last = PatchDetector(SkipGANomalyDetector(**TINY), patch_size=4, image_layout="channels_last", random_state=0)
    last.fit(rng.uniform(size=(6, 8, 8, 3)))
    assert last.image_shape_ == (3, 8, 8)
    with pytest.raises(ValueError, match="image_layout='channels_last'"):
        last.score_samples(rng.uniform(size=(2, 3, 8, 8)))
