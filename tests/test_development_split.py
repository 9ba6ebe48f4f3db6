"""development_split: tuning splits carved from training data only."""

import numpy as np
import pytest

from skgan_ad.datasets import development_split


@pytest.fixture
def labelled():
    rng = np.random.RandomState(0)
    ids = np.arange(600)
    return ids[:, None] * np.ones((1, 3), int), rng.randint(0, 5, size=600)  # row i holds id i


@pytest.mark.parametrize("protocol", ["one-class", "leave-one-class-out"])
def test_parts_are_disjoint_and_labelled_by_protocol(labelled, protocol):
    X, y = labelled
    split = development_split(X, y, 2, protocol=protocol, n_fit=40, n_val=30, n_anomalies=20, random_state=0)
    fit, test = split.X_train[:, 0], split.X_test[:, 0]
    assert len(fit) == 40 and len(test) == 50 and split.y_test.tolist() == [0] * 30 + [1] * 20
    assert len(set(fit) | set(test)) == 90  # no image twice
    normal = (y == 2) if protocol == "one-class" else (y != 2)
    assert normal[fit].all() and normal[test[:30]].all() and not normal[test[30:]].any()
    again = development_split(X, y, 2, protocol=protocol, n_fit=40, n_val=30, n_anomalies=20, random_state=0)
    np.testing.assert_array_equal(again.X_test, split.X_test)
    other = development_split(X, y, 2, protocol=protocol, n_fit=40, n_val=30, n_anomalies=20, random_state=1)
    assert not np.array_equal(other.X_train, split.X_train)


def test_clear_errors(labelled):
    X, y = labelled
    with pytest.raises(ValueError, match="protocol"):
        development_split(X, y, 2, protocol="two-class")
    with pytest.raises(ValueError, match="not in y_train"):
        development_split(X, y, 7)
    with pytest.raises(ValueError, match="needs 2000 \\+ 500 normal"):
        development_split(X, y, 2)  # ~120 images of class 2
    with pytest.raises(ValueError, match="n_val must be a positive int"):
        development_split(X, y, 2, n_fit=5, n_val=0)
    with pytest.raises(ValueError, match="differ in length"):
        development_split(X[:-1], y, 2)


def test_to_optdigits_counts_blocks_of_a_normalised_bitmap():
    from skgan_ad.datasets import to_optdigits

    images = np.zeros((3, 28, 28), np.uint8)
    images[0, 4:24, 12:17] = 255  # upright bar 20 x 5: scaled to 32 rows x 8 columns, thickened to 10 columns
    images[1, 10:15, 2:27] = 255  # wide bar 5 x 25: 32 rows tall, capped at 20 columns (narrowed)
    images[2, 5:9, 5:9] = 127  # nothing above the threshold: an empty image
    digits = to_optdigits(images)
    assert digits.shape == (3, 8, 8) and digits.dtype == np.int64
    np.testing.assert_array_equal(digits[0], np.tile([0, 0, 4, 16, 16, 4, 0, 0], (8, 1)))
    # The 32 x 20 box (columns 6..25, 5..26 once thickened) fills blocks 2..5 and 3 columns of blocks 1 and 6.
    np.testing.assert_array_equal(digits[1], np.tile([0, 12, 16, 16, 16, 16, 12, 0], (8, 1)))
    assert not digits[2].any()
    # Position does not matter (the bounding box is cut out), even at the image's edge.
    moved = np.zeros((1, 28, 28), np.uint8)
    moved[0, 0:20, 22:28] = 255
    same = np.zeros((1, 28, 28), np.uint8)
    same[0, 4:24, 10:16] = 255
    np.testing.assert_array_equal(to_optdigits(moved), to_optdigits(same))
    assert to_optdigits(images, threshold=100)[2].any()  # 127 counts once the threshold is lower
    with pytest.raises(ValueError, match="images must have shape"):
        to_optdigits(images[0])


def test_to_optdigits_deslants_a_leaning_stroke():
    from skgan_ad.datasets import to_optdigits

    leaning = np.zeros((1, 28, 28), np.uint8)
    for row in range(4, 24):  # a stroke 4 pixels wide leaning right by one column every two rows, like a "/"
        left = 14 - (row - 4) // 2
        leaning[0, row, left : left + 4] = 255

    def row_centres(digit):
        return (digit * np.arange(8)).sum(axis=1) / digit.sum(axis=1)

    upright = row_centres(to_optdigits(leaning)[0])
    assert np.ptp(upright) < 0.2, upright  # the stroke stands upright: every row centred in the same column
    slanted = row_centres(to_optdigits(leaning, deslant=False)[0])
    assert slanted[0] - slanted[-1] > 2, slanted  # without deslanting it still leans, top to the right
