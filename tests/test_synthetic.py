"""Synthetic defects (skgan_ad.datasets.synthetic_defects) and the development split they make.

The guarantees: masks are 0/1, non-empty and exactly the pixels a defect changed; the change under a mask is at
least MIN_CHANGE (0.15 of the [0, 1] range) on average; same int seed, same defects; shape, dtype and layout
kept (uint8 in, uint8 out); 8x8 up to 256x256 images; smaller ones refused.
"""

import numpy as np
import pytest
from scipy import ndimage

from skgan_ad.datasets import (
    AnomalySplit,
    load_digits_images,
    perlin_noise,
    synthetic_defect_split,
    synthetic_defects,
)
from skgan_ad.datasets._synthetic import DEFECT_KINDS, MIN_CHANGE


@pytest.fixture(scope="module")
def digits28():
    """40 of the 8x8 digits upscaled to 28x28 (MNIST-like: dark background, bright strokes), float in [0, 1]."""
    images, _ = load_digits_images()
    return np.clip(ndimage.zoom(images[:40], (1, 3.5, 3.5), order=1), 0, 1)


def smooth_colour(n, side, seed):
    """``n`` smooth random colour textures, (n, side, side, 3) uint8."""
    rng = np.random.RandomState(seed)
    noise = np.stack([[perlin_noise((side, side), (4, 4), rng) for _ in range(3)] for _ in range(n)], axis=-1)
    return np.rint((noise / 2**0.5 + 0.5) * 255).astype(np.uint8)


def changed(defective, images):
    """The pixels (in any channel) that differ."""
    diff = defective != images
    return diff.any(axis=-1) if diff.ndim == 4 else diff


def mean_change(defective, images, masks):
    """Per image: the mean over its mask of the channel-mean absolute change, on the [0, 1] scale."""
    scale = 255.0 if images.dtype == np.uint8 else 1.0
    diff = np.abs(defective.astype(float) - images.astype(float)) / scale
    diff = diff.mean(axis=-1) if diff.ndim == 4 else diff
    return np.array([d[m.astype(bool)].mean() for d, m in zip(diff, masks)])


def check_guarantees(images, defective, masks, kinds_used, kinds=DEFECT_KINDS):
    n, height, width = images.shape[:3]
    assert defective.shape == images.shape and defective.dtype == images.dtype
    assert masks.shape == (n, height, width) and masks.dtype == np.uint8
    assert set(np.unique(masks)) <= {0, 1}
    assert kinds_used.shape == (n,) and set(kinds_used) <= set(kinds) | {"blotch"}
    # The mask is exactly the changed pixels, and no image is left without a defect.
    np.testing.assert_array_equal(masks.astype(bool), changed(defective, images))
    assert masks.reshape(n, -1).any(axis=1).all()
    assert np.all(mean_change(defective, images, masks) >= MIN_CHANGE)


@pytest.mark.parametrize("kind", DEFECT_KINDS)
@pytest.mark.parametrize("domain", ["grey float", "grey uint8", "colour uint8", "colour float32"])
def test_every_kind_changes_the_pixels_of_its_mask_visibly(kind, domain, digits28):
    if domain.startswith("grey"):
        images = digits28 if domain.endswith("float") else np.rint(digits28 * 255).astype(np.uint8)
    else:
        images = smooth_colour(20, 32, 0)
        images = images if domain.endswith("uint8") else (images / 255.0).astype(np.float32)
    defective, masks, kinds_used = synthetic_defects(images, (kind,), random_state=0)
    check_guarantees(images, defective, masks, kinds_used, (kind,))
    # Digits and textures have content enough for every kind: none falls back to an intensity blotch.
    assert set(kinds_used) == {kind}


@pytest.mark.parametrize(
    "shape, dtype",
    [((6, 8, 8), np.float64), ((6, 8, 8, 3), np.uint8), ((3, 256, 256), np.uint8), ((2, 256, 256, 3), np.float32)],
)
def test_shapes_and_dtypes_from_8_to_256_pixels(shape, dtype):
    rng = np.random.RandomState(1)
    images = rng.randint(0, 256, size=shape).astype(np.uint8) if dtype == np.uint8 else rng.uniform(size=shape)
    images = images.astype(dtype)
    defective, masks, kinds_used = synthetic_defects(images, random_state=0)
    check_guarantees(images, defective, masks, kinds_used)


def test_kinds_are_drawn_at_random_from_the_given_ones(digits28):
    _, _, kinds_used = synthetic_defects(digits28, random_state=0)
    assert set(kinds_used) == set(DEFECT_KINDS)
    _, _, kinds_used = synthetic_defects(digits28, ["scratch", "cutpaste"], random_state=0)
    assert set(kinds_used) == {"scratch", "cutpaste"}


def test_an_int_seed_gives_the_same_defects(digits28):
    first = synthetic_defects(digits28, random_state=3)
    again = synthetic_defects(digits28, random_state=3)
    other = synthetic_defects(digits28, random_state=4)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[1], other[1])
    # A RandomState instance is drawn from: two calls on one instance differ.
    rng = np.random.RandomState(3)
    np.testing.assert_array_equal(synthetic_defects(digits28, random_state=rng)[1], first[1])
    assert not np.array_equal(synthetic_defects(digits28, random_state=rng)[1], first[1])


def test_the_input_is_not_modified(digits28):
    images = digits28.copy()
    synthetic_defects(images, random_state=0)
    np.testing.assert_array_equal(images, digits28)


def test_cutpaste_stays_within_a_patch_of_at_most_half_each_side():
    images = smooth_colour(20, 32, 1)
    _, masks, _ = synthetic_defects(images, "cutpaste", random_state=0)
    for mask in masks:
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        assert rows[-1] - rows[0] + 1 <= 16 and cols[-1] - cols[0] + 1 <= 16


def test_blotches_cover_at_most_15_percent_and_scratches_are_one_connected_curve():
    images = np.full((20, 28, 28), 0.5)
    _, masks, _ = synthetic_defects(images, "blotch", random_state=0)
    assert np.all(masks.reshape(20, -1).sum(axis=1) <= round(0.15 * 28 * 28))
    _, masks, _ = synthetic_defects(images, "scratch", random_state=0)
    for mask in masks:
        _, n_parts = ndimage.label(mask, structure=np.ones((3, 3)))
        assert n_parts == 1
        # Thin: 1 or 2 pixels wide, so far fewer pixels than its bounding box (at least 0.3 x 28 px long).
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 >= 0.3 * 28 / 2**0.5
        assert mask.sum() <= 2 * (rows[-1] - rows[0] + cols[-1] - cols[0] + 2)


def test_a_flat_image_gets_an_intensity_blotch_where_cutpaste_cannot_show():
    # Pasting a flat image onto itself changes nothing beyond jitter: the documented fallback.
    images = np.zeros((4, 16, 16), np.uint8)
    defective, masks, kinds_used = synthetic_defects(images, "cutpaste", random_state=0)
    assert kinds_used.tolist() == ["blotch"] * 4
    check_guarantees(images, defective, masks, kinds_used, ("cutpaste",))


@pytest.mark.parametrize(
    "images, match",
    [
        (np.zeros((2, 7, 7)), "at least 8x8"),
        (np.zeros((2, 8, 5, 3)), "at least 8x8"),
        (np.zeros((2, 3, 32, 32)), "channels-first"),
        (np.zeros((2, 16, 16), np.int64), "uint8"),
        (np.full((2, 16, 16), 2.0), r"\[0, 1\]"),
        (np.full((2, 16, 16), np.nan), r"\[0, 1\]"),
        (np.zeros((16, 16)), r"\(n, H, W\)"),
    ],
)
def test_refuses_images_it_cannot_draw_on(images, match):
    with pytest.raises(ValueError, match=match):
        synthetic_defects(images)


@pytest.mark.parametrize("kinds", [(), ("cutpaste", "crack"), "stain"])
def test_refuses_unknown_kinds(kinds):
    with pytest.raises(ValueError, match="kinds must be"):
        synthetic_defects(np.zeros((2, 8, 8)), kinds)


def test_perlin_noise_is_smooth_bounded_and_seeded():
    noise = perlin_noise((64, 64), (4, 4), random_state=0)
    assert noise.shape == (64, 64) and np.abs(noise).max() <= 2**-0.5
    np.testing.assert_array_equal(noise, perlin_noise((64, 64), (4, 4), random_state=0))
    # Smooth: a pixel step changes the noise by a small part of its range.
    steps = np.abs(np.diff(noise, axis=0)).max(), np.abs(np.diff(noise, axis=1)).max()
    assert max(steps) < 0.1 * np.ptp(noise)
    assert perlin_noise((9, 30), (1, 8), random_state=0).shape == (9, 30)


def test_defect_split_parts_are_disjoint_and_anomalies_come_from_further_normals():
    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, size=(40, 12, 12, 3)).astype(np.uint8)
    split = synthetic_defect_split(X, n_fit=20, n_val=6, n_anomalies=8, random_state=0)
    assert isinstance(split, AnomalySplit)
    assert split.X_train.shape == (20, 12, 12, 3) and split.X_test.shape == (14, 12, 12, 3)
    assert split.y_test.tolist() == [0] * 6 + [1] * 8
    assert split.masks.shape == (14, 12, 12) and split.masks.dtype == np.uint8
    assert not split.masks[:6].any() and split.masks[6:].reshape(8, -1).any(axis=1).all()

    def source(image, mask):
        """The index of the training image equal to ``image`` outside ``mask`` (each is unique)."""
        keep = ~mask.astype(bool)
        (index,) = [i for i in range(len(X)) if np.array_equal(X[i][keep], image[keep])]
        return index

    zero = np.zeros((12, 12))
    fit = {source(image, zero) for image in split.X_train}
    val = {source(image, zero) for image in split.X_test[:6]}
    anomalies = {source(image, mask) for image, mask in zip(split.X_test[6:], split.masks[6:])}
    assert len(fit) == 20 and len(val) == 6 and len(anomalies) == 8
    assert not fit & val and not fit & anomalies and not val & anomalies
    # Each anomaly differs from its source exactly on its mask.
    for image, mask in zip(split.X_test[6:], split.masks[6:]):
        np.testing.assert_array_equal(changed(image[None], X[source(image, mask)][None])[0], mask.astype(bool))
    again = synthetic_defect_split(X, n_fit=20, n_val=6, n_anomalies=8, random_state=0)
    for a, b in zip(split, again):
        np.testing.assert_array_equal(a, b)


def test_defect_split_refuses_sizes_it_cannot_meet():
    X = np.zeros((10, 8, 8))
    with pytest.raises(ValueError, match=r"needs 5 \+ 3 \+ 3 normal images"):
        synthetic_defect_split(X, n_fit=5, n_val=3, n_anomalies=3)
    with pytest.raises(ValueError, match="n_val must be a positive int"):
        synthetic_defect_split(X, n_fit=5, n_val=0, n_anomalies=3)
    with pytest.raises(ValueError, match="at least 8x8"):
        synthetic_defect_split(np.zeros((10, 4, 4)), n_fit=5, n_val=2, n_anomalies=2)


def test_defect_split_names_each_test_image_kind_as_the_industrial_loader_does():
    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, size=(60, 12, 12)).astype(np.uint8)
    split = synthetic_defect_split(X, n_fit=20, n_val=10, n_anomalies=30, random_state=0)
    kinds = split.defect_types
    assert kinds.shape == (40,) and kinds.dtype.kind == "U"
    # "good" for the normals, as load_industrial_folder names test/good; a defect's kind for each anomaly.
    assert kinds[:10].tolist() == ["good"] * 10 and set(kinds[10:]) == set(DEFECT_KINDS)
    np.testing.assert_array_equal(split.y_test, (kinds != "good").astype(int))
    np.testing.assert_array_equal(split.masks.reshape(40, -1).any(axis=1), kinds != "good")
    # The kinds are those synthetic_defects drew: the documented order of draws (permutation, then defects).
    draws = np.random.RandomState(0)
    source = draws.permutation(60)[30:]
    _, masks, kinds_used = synthetic_defects(X[source], random_state=draws)
    np.testing.assert_array_equal(kinds[10:], kinds_used)
    np.testing.assert_array_equal(split.masks[10:], masks)
    # One kind asked for: every anomaly is of it.
    scratches = synthetic_defect_split(X, n_fit=20, n_val=10, n_anomalies=30, kinds="scratch", random_state=0)
    assert scratches.defect_types[10:].tolist() == ["scratch"] * 30
    # What per_defect_auc takes: an AUC per kind, then their mean.
    from skgan_ad.metrics import per_defect_auc

    scores = split.masks.reshape(40, -1).sum(axis=1) + np.linspace(0, 0.5, 40)
    aucs = per_defect_auc(split.defect_types, scores)
    assert list(aucs) == [*sorted(DEFECT_KINDS), "mean"] and aucs["mean"] == 1.0
