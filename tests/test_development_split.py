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
