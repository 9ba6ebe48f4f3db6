"""Patch grids, cutting and stitching, and PatchDetector as a meta-estimator over any detector."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from skgan_ad import PatchDetector, SkipGANomalyDetector
from skgan_ad.patches import extract_patches, patch_grid, stitch

from .conftest import assert_batch_invariant

TINY_IMAGE = dict(n_epochs=2, batch_size=16, ngf=4, ndf=4, random_state=0)


# -- data ----------------------------------------------------------------------------------


def smooth_images(n, seed, size=16):
    """Smooth sine-wave images with values in [0.25, 0.75]: the normal class."""
    rng = np.random.RandomState(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    fx, fy, phase = rng.uniform(0.3, 1.0, (3, n, 1, 1))
    return 0.5 + 0.25 * np.sin(2 * np.pi * (fx * xx + fy * yy + phase))


# Square corners that keep a 4x4 square inside one 8x8 patch of a 16x16 image.
_CORNERS = np.array([0, 1, 2, 3, 4, 8, 9, 10, 11, 12])


def with_squares(images, seed, value=1.0):
    """Paste a bright 4x4 square into each image; return them and the (top, left) of the patch holding it."""
    rng = np.random.RandomState(seed)
    out = images.copy()
    tops, lefts = rng.choice(_CORNERS, len(out)), rng.choice(_CORNERS, len(out))
    for image, top, left in zip(out, tops, lefts):
        image[top : top + 4, left : left + 4] = value
    return out, np.c_[tops // 8 * 8, lefts // 8 * 8]


@pytest.fixture(scope="module")
def data():
    X_train = smooth_images(100, seed=0)
    X_normal = smooth_images(40, seed=1)
    X_anomalous, patch_corners = with_squares(smooth_images(40, seed=2), seed=3)
    return X_train, X_normal, X_anomalous, patch_corners


@pytest.fixture(scope="module")
def fitted(data):
    return PatchDetector(SkipGANomalyDetector(**TINY_IMAGE), patch_size=8, random_state=0).fit(data[0])


# -- patch_grid / extract_patches / stitch ----------------------------------------------------


def _coverage(grid, patch, shape):
    counts = np.zeros(shape, int)
    for top, left in grid:
        counts[top : top + patch[0], left : left + patch[1]] += 1
    return counts


@pytest.mark.parametrize(
    "shape, patch, stride",
    [
        ((16, 16), 8, None),  # divisible, no overlap
        ((10, 13), 4, None),  # not divisible: a last row/column flush with the border
        ((16, 16), 8, 4),  # overlapping
        ((17, 11), (5, 4), (3, 2)),  # rectangular, overlapping, not divisible
        ((7, 9), (7, 9), None),  # one patch, the whole image
        ((9, 9), 3, 1),  # every position
    ],
)
def test_patch_grid_covers_the_image_exactly(shape, patch, stride):
    grid = patch_grid(*shape, patch, stride)
    ph, pw = (patch, patch) if isinstance(patch, int) else patch
    assert grid.dtype == np.int64 and grid.ndim == 2 and grid.shape[1] == 2
    assert len(np.unique(grid, axis=0)) == len(grid)
    # Inside the image, touching all four borders, and every pixel covered.
    assert grid.min() == 0
    assert grid[:, 0].max() + ph == shape[0] and grid[:, 1].max() + pw == shape[1]
    counts = _coverage(grid, (ph, pw), shape)
    assert counts.min() >= 1
    if stride is None and shape[0] % ph == 0 and shape[1] % pw == 0:
        assert counts.max() == 1  # a divisible grid without overlap tiles the image


def test_patch_grid_positions():
    assert patch_grid(10, 8, 4).tolist() == [[0, 0], [0, 4], [4, 0], [4, 4], [6, 0], [6, 4]]
    # Overlap: starts every 4 pixels, then 12 (flush with the border at 16 - 4 = 12 reached exactly).
    assert sorted({t for t, _ in patch_grid(16, 16, 8, 4)}) == [0, 4, 8]
    assert sorted({left for _, left in patch_grid(11, 11, 4, 3)}) == [0, 3, 6, 7]


@pytest.mark.parametrize(
    "args, match",
    [
        ((8, 8, 9), "larger than the image"),
        ((8, 8, (4, 9)), "larger than the image"),
        ((8, 8, 0), "patch_size"),
        ((8, 8, -2), "patch_size"),
        ((8, 8, (4, 4, 4)), "patch_size"),
        ((8, 8, 2.5), "patch_size"),
        ((0, 8, 2), "image size"),
        ((8, 8, 4, 0), "stride"),
        ((8, 8, 4, 5), "exceeds patch_size"),
    ],
)
def test_patch_grid_errors(args, match):
    with pytest.raises(ValueError, match=match):
        patch_grid(*args)


@pytest.mark.parametrize("shape, patch, stride", [((16, 16), 8, None), ((17, 11), (5, 4), (3, 2)), ((12, 12), 8, 4)])
def test_extract_patches_cuts_the_grid_and_stitch_puts_it_back_exactly(shape, patch, stride):
    rng = np.random.RandomState(0)
    images = rng.normal(size=(3, 2, *shape))
    grid = patch_grid(*shape, patch, stride)
    ph, pw = (patch, patch) if isinstance(patch, int) else patch
    patches = extract_patches(images, grid, patch)
    assert patches.shape == (3 * len(grid), 2, ph, pw) and patches.dtype == images.dtype
    # Image-major, grid order within an image.
    for i in range(3):
        for p, (top, left) in enumerate(grid):
            np.testing.assert_array_equal(patches[i * len(grid) + p], images[i, :, top : top + ph, left : left + pw])
    # Stitching an image's own patches gives it back bit for bit, overlaps included.
    for c in range(2):
        per_image = patches[:, c].reshape(3, len(grid), ph, pw)
        restored = stitch(per_image, grid, shape)
        assert restored.dtype == np.float64 and restored.shape == (3, *shape)
        np.testing.assert_array_equal(restored, images[:, c])


def test_stitch_averages_overlaps():
    grid = patch_grid(6, 6, 4, 2)  # corners 0 and 2 on each axis: 4 patches
    maps = np.arange(1.0, 5.0)[None, :, None, None] * np.ones((1, 4, 4, 4))  # patch p holds p + 1
    out = stitch(maps, grid, (6, 6))[0]
    counts = _coverage(grid, (4, 4), (6, 6))
    total = np.zeros((6, 6))
    for value, (top, left) in zip(range(1, 5), grid):
        total[top : top + 4, left : left + 4] += value
    np.testing.assert_allclose(out, total / counts, rtol=0, atol=1e-12)
    assert out[0, 0] == 1.0 and out[5, 5] == 4.0 and out[2, 2] == 2.5


def test_stitch_errors():
    grid = np.array([[0, 0]])
    with pytest.raises(ValueError, match="uncovered"):
        stitch(np.zeros((1, 1, 4, 4)), grid, (8, 8))
    with pytest.raises(ValueError, match="outside"):
        stitch(np.zeros((1, 1, 4, 4)), np.array([[6, 0]]), (8, 8))
    with pytest.raises(ValueError, match="patches per image"):
        stitch(np.zeros((1, 2, 4, 4)), grid, (4, 4))
    with pytest.raises(ValueError, match="outside"):
        extract_patches(np.zeros((1, 1, 8, 8)), np.array([[0, 6]]), 4)


# -- PatchDetector ------------------------------------------------------------------------------


def test_fitted_attributes(fitted, data):
    det = fitted
    np.testing.assert_array_equal(det.grid_, [[0, 0], [0, 8], [8, 0], [8, 8]])
    assert det.image_shape_ == (1, 16, 16) and det.patch_shape_ == (8, 8)
    assert det.n_features_in_ == 256
    # The inner detector was fitted on flat 8x8 patches of the 90 training images (10 held out).
    assert det.estimator_.image_shape == (1, 8, 8) and det.estimator_.n_features_in_ == 64
    assert len(det.estimator_.calibration_scores_) == 36  # its own 10% of 90 * 4 patches
    assert det.calibration_scores_.shape == (10,) and det.calibration_scores_.dtype == np.float64
    # The conformal quantile: k = floor(0.1 * 11) = 1, just above the smallest of the 10 held-out scores.
    assert det.offset_ == np.nextafter(det.calibration_scores_.min(), np.inf)
    assert det.estimator.__dict__.get("n_features_in_") is None  # the given estimator is left unfitted


def test_output_shapes_and_dtypes(fitted, data):
    det, X = fitted, data[2][:7]
    patch_scores = det.patch_scores(X)
    assert patch_scores.shape == (7, 4) and patch_scores.dtype == np.float64
    scores = det.anomaly_score(X)
    assert scores.shape == (7,) and scores.dtype == np.float64
    np.testing.assert_array_equal(det.score_samples(X), -scores)
    np.testing.assert_array_equal(det.decision_function(X), det.score_samples(X) - det.offset_)
    labels = det.predict(X)
    assert labels.shape == (7,) and set(np.unique(labels)) <= {-1, 1}
    np.testing.assert_array_equal(labels, np.where(det.decision_function(X) >= 0, 1, -1))
    where = det.highest_patch(X)
    assert where.shape == (7, 4) and where.dtype == np.int64
    np.testing.assert_array_equal(where[:, 2:], 8)
    np.testing.assert_array_equal(where[:, :2], det.grid_[np.argmax(patch_scores, axis=1)])
    maps = det.anomaly_map(X)
    assert maps.shape == (7, 16, 16) and maps.dtype == np.float64
    assert det.anomaly_map(X, sigma=0).shape == (7, 16, 16)
    with pytest.raises(ValueError, match="sigma"):
        det.anomaly_map(X, sigma=-1)


def test_anomaly_map_is_the_stitched_inner_maps(fitted, data):
    det, X = fitted, data[2][:3]
    patches = extract_patches(X[:, None], det.grid_, 8).reshape(-1, 64)
    inner = det.estimator_.anomaly_map(patches, sigma=0).reshape(3, 4, 8, 8)
    np.testing.assert_array_equal(det.anomaly_map(X, sigma=0), stitch(inner, det.grid_, (16, 16)))
    assert not np.array_equal(det.anomaly_map(X, sigma=1.0), det.anomaly_map(X, sigma=0))


def test_finds_and_locates_the_squares(fitted, data):
    det, _, X_normal, X_anomalous, corners = fitted, *data
    y = np.r_[np.zeros(len(X_normal)), np.ones(len(X_anomalous))]
    scores = det.anomaly_score(np.r_[X_normal, X_anomalous])
    assert roc_auc_score(y, scores) > 0.9
    assert np.mean(det.predict(X_anomalous) == -1) > 0.9
    # The highest patch is the one holding the square far more often than chance (1 in 4).
    # Measured with these seeds: 40 of 40 (also with random_state 1 and 2).
    hit = np.all(det.highest_patch(X_anomalous)[:, :2] == corners, axis=1)
    assert hit.mean() >= 0.75
    # The anomaly map is highest inside the square's patch too.
    maps = det.anomaly_map(X_anomalous)
    peak_rows, peak_cols = np.unravel_index(maps.reshape(len(maps), -1).argmax(axis=1), (16, 16))
    assert np.mean((peak_rows // 8 * 8 == corners[:, 0]) & (peak_cols // 8 * 8 == corners[:, 1])) >= 0.75


def test_aggregates(fitted, data):
    det, X = clone(fitted), data[2][:10]
    det.__dict__.update({k: v for k, v in vars(fitted).items() if k.endswith("_")})  # same fit, other params
    patch_scores = det.patch_scores(X)
    results = {}
    for aggregate, top_k in [("max", 3), ("mean", 3), ("topk", 2), ("topk", 1), ("topk", 10)]:
        results[aggregate, top_k] = det.set_params(aggregate=aggregate, top_k=top_k).anomaly_score(X)
    np.testing.assert_array_equal(results["max", 3], patch_scores.max(axis=1))
    np.testing.assert_array_equal(results["mean", 3], patch_scores.mean(axis=1))
    top2 = np.sort(patch_scores, axis=1)[:, -2:].mean(axis=1)
    np.testing.assert_array_equal(results["topk", 2], top2)
    np.testing.assert_array_equal(results["topk", 1], results["max", 3])  # top 1 is the max
    # More than there are: all of them (summed in another order, hence allclose).
    np.testing.assert_allclose(results["topk", 10], results["mean", 3], rtol=1e-14)
    assert not np.allclose(results["max", 3], results["mean", 3])
    assert not np.allclose(results["topk", 2], results["max", 3])
    assert not np.allclose(results["topk", 2], results["mean", 3])


def test_offset_follows_the_aggregate(data):
    X_train = data[0]
    inner = SkipGANomalyDetector(**TINY_IMAGE)
    dets = {a: PatchDetector(inner, patch_size=8, aggregate=a, random_state=0).fit(X_train) for a in ("max", "mean")}
    for det in dets.values():
        # Calibration scores are score_samples of 10 of the training images (the held-out ones).
        assert np.isin(det.calibration_scores_, det.score_samples(X_train)).all()
        # The conformal quantile: k = floor(0.1 * 11) = 1, just above the smallest of the 10 held-out scores.
    assert det.offset_ == np.nextafter(det.calibration_scores_.min(), np.inf)
    assert dets["max"].offset_ != dets["mean"].offset_


def test_clone_and_params_round_trip(fitted):
    params = fitted.get_params(deep=False)
    assert set(params) == {
        "estimator",
        "patch_size",
        "stride",
        "aggregate",
        "top_k",
        "contamination",
        "validation_fraction",
        "image_shape",
        "image_layout",
        "random_state",
    }
    twin = clone(fitted)
    assert twin.get_params(deep=False).keys() == params.keys()
    assert twin.estimator is not fitted.estimator
    assert twin.estimator.get_params() == fitted.estimator.get_params()
    assert not hasattr(twin, "estimator_") and not hasattr(twin, "offset_")
    with pytest.raises(NotFittedError):
        twin.predict(np.zeros((2, 16, 16)))
    deep = twin.set_params(estimator__n_epochs=3, stride=4).get_params(deep=True)
    assert deep["estimator__n_epochs"] == 3 and deep["stride"] == 4
    assert fitted.estimator.n_epochs == 2


def test_deterministic_with_random_state(fitted, data):
    X_train, X_normal = data[0], data[1][:10]
    # The inner detector's random_state is None here: PatchDetector's seed decides it.
    inner = SkipGANomalyDetector(**{**TINY_IMAGE, "random_state": None})
    a = PatchDetector(inner, patch_size=8, random_state=0).fit(X_train)
    b = PatchDetector(inner, patch_size=8, random_state=0).fit(X_train)
    np.testing.assert_array_equal(a.patch_scores(X_normal), b.patch_scores(X_normal))
    np.testing.assert_array_equal(a.calibration_scores_, b.calibration_scores_)
    assert isinstance(a.estimator_.random_state, int) and a.estimator.random_state is None
    c = PatchDetector(inner, patch_size=8, random_state=1).fit(X_train)
    assert not np.array_equal(a.patch_scores(X_normal), c.patch_scores(X_normal))
    # An explicit inner seed is kept.
    assert fitted.estimator_.random_state == 0


def test_layouts_give_the_same_scores(fitted, data):
    X = data[2][:6]
    expected = fitted.anomaly_score(X)
    np.testing.assert_array_equal(fitted.anomaly_score(X[:, None]), expected)  # (n, C, H, W)
    np.testing.assert_array_equal(fitted.anomaly_score(X[..., None]), expected)  # (n, H, W, C)
    np.testing.assert_array_equal(fitted.anomaly_score(X.reshape(6, -1)), expected)  # flat rows
    # A sample's score does not depend on the batch it comes in (to the stated round-off).
    assert_batch_invariant(fitted.patch_scores(X[2:3]), fitted.patch_scores(X)[2:3], "images")
    # Fitting on flat rows with image_shape gives the same model.
    flat = PatchDetector(SkipGANomalyDetector(**TINY_IMAGE), patch_size=8, image_shape=(1, 16, 16), random_state=0)
    flat.fit(data[0].reshape(100, -1))
    np.testing.assert_array_equal(flat.anomaly_score(X), expected)


def test_wrong_image_size_is_refused(fitted, data):
    with pytest.raises(ValueError, match=r"\(1, 16, 16\)"):
        fitted.predict(np.zeros((3, 16, 20)))
    with pytest.raises(ValueError, match=r"\(1, 16, 16\)"):
        fitted.anomaly_score(np.zeros((3, 3, 16, 16)))
    with pytest.raises(ValueError, match=r"\(1, 16, 16\)"):
        fitted.patch_scores(np.zeros((3, 200)))


def test_tabular_input_is_refused_and_failed_fit_leaves_nothing(data):
    det = PatchDetector(IsolationForest(n_estimators=5), patch_size=8)
    with pytest.raises(ValueError, match="needs images"):
        det.fit(np.zeros((20, 64)))
    assert not [k for k in vars(det) if k.endswith("_")]
    with pytest.raises(ValueError, match="larger than the image"):
        det.set_params(patch_size=32).fit(data[0])
    assert not [k for k in vars(det) if k.endswith("_")]
    with pytest.raises(ValueError, match="aggregate"):
        det.set_params(patch_size=8, aggregate="median").fit(data[0])
    with pytest.raises(ValueError, match="estimator"):
        PatchDetector("not an estimator").fit(data[0])


def test_integer_images_are_passed_as_integers(data):
    X = np.round(data[0][:30] * 255).astype(np.uint8)
    det = PatchDetector(SkipGANomalyDetector(**TINY_IMAGE), patch_size=8, random_state=0).fit(X)
    # The inner detector read the patches as 0..255, not between their min and max.
    assert det.estimator_.input_shift_ == 127.5 and det.estimator_.input_scale_ == 127.5
    assert det.anomaly_score(X[:3]).dtype == np.float64


def test_isolation_forest_inside(data):
    X_train, X_normal, X_anomalous, corners = data
    det = PatchDetector(IsolationForest(n_estimators=50), patch_size=8, aggregate="max", random_state=0).fit(X_train)
    assert det.estimator_.n_features_in_ == 64
    assert isinstance(det.estimator_.random_state, int)
    patches = extract_patches(X_anomalous[:, None], det.grid_, 8).reshape(-1, 64)
    expected = (-det.estimator_.score_samples(patches)).reshape(-1, 4).max(axis=1)
    np.testing.assert_array_equal(det.anomaly_score(X_anomalous), expected)
    y = np.r_[np.zeros(len(X_normal)), np.ones(len(X_anomalous))]
    # A forest on raw pixels is a weak baseline here (AUC 0.84 with these seeds); well above chance.
    assert roc_auc_score(y, det.anomaly_score(np.r_[X_normal, X_anomalous])) > 0.75
    assert set(np.unique(det.fit_predict(X_train))) <= {-1, 1}
    # No anomaly_map inside, so none outside: hidden, with an error that says why.
    assert not hasattr(det, "anomaly_map")
    with pytest.raises(AttributeError, match="has no attribute 'anomaly_map'") as error:
        det.anomaly_map(X_normal)
    assert "IsolationForest has none" in str(error.value.__cause__)
    # Before fit too, judged on the given estimator.
    assert not hasattr(clone(det), "anomaly_map") and hasattr(PatchDetector(SkipGANomalyDetector()), "anomaly_map")


def test_multichannel_overlapping_patches():
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(30, 12, 12, 3))  # channels-last, 12x12: 8x8 patches every 4 pixels
    det = PatchDetector(IsolationForest(n_estimators=10), patch_size=8, stride=4, random_state=0).fit(X)
    assert det.image_shape_ == (3, 12, 12) and det.estimator_.n_features_in_ == 192
    np.testing.assert_array_equal(det.grid_, [[0, 0], [0, 4], [4, 0], [4, 4]])
    assert det.patch_scores(X[:5]).shape == (5, 4)
    np.testing.assert_array_equal(det.anomaly_score(X[:5]), det.anomaly_score(X[:5].transpose(0, 3, 1, 2)))


def test_pickle_round_trip(fitted, data):
    X = data[2][:5]
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.anomaly_score(X), fitted.anomaly_score(X))
    np.testing.assert_array_equal(restored.anomaly_map(X), fitted.anomaly_map(X))


def test_grid_search_over_patch_parameters(data):
    from sklearn.model_selection import GridSearchCV

    from skgan_ad.metrics import anomaly_auc_scorer
    from skgan_ad.model_selection import NormalOnlySplit

    X_train, X_normal, X_anomalous, _ = data
    X = np.r_[X_train[:60], X_anomalous[:30]]
    y = np.r_[np.zeros(60, int), np.ones(30, int)]
    det = PatchDetector(IsolationForest(n_estimators=20), random_state=0)
    grid = {"patch_size": [8, 16], "aggregate": ["max", "mean"]}
    search = GridSearchCV(det, grid, scoring=anomaly_auc_scorer, cv=NormalOnlySplit(3), refit=False).fit(X, y)
    assert len(search.cv_results_["mean_test_score"]) == 4
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_scoring_goes_image_chunk_by_image_chunk(fitted, data, tmp_path, monkeypatch):
    # Memory must not grow with the number of large images: with a chunk budget of one byte, every
    # image is validated, cut and scored alone, and the results equal scoring all at once, from a
    # memory-mapped file too.
    X = data[2][:6]
    expected = {
        "patch_scores": fitted.patch_scores(X),
        "anomaly_score": fitted.anomaly_score(X),
        "anomaly_map": fitted.anomaly_map(X),
        "predict": fitted.predict(X),
    }
    path = tmp_path / "images.npy"
    np.save(path, X)
    mapped = np.load(path, mmap_mode="r")
    seen = []
    original = PatchDetector._validate

    def spy(self, part):
        seen.append(len(part))
        return original(self, part)

    monkeypatch.setattr(PatchDetector, "_CHUNK_BYTES", 1)
    monkeypatch.setattr(PatchDetector, "_validate", spy)
    for call, want in expected.items():
        seen.clear()
        got = getattr(fitted, call)(mapped)
        assert max(seen) == 1, (call, seen)
        assert_batch_invariant(got, want, "images")
