"""The evaluation protocols' splits (leave-one-class-out, one-class, development) and their subsampling."""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np
from sklearn.utils import check_random_state


class AnomalySplit(NamedTuple):
    """A train/test split for anomaly detection; labels are 1 for anomalies, 0 for normals.

    ``masks``, where the data have them, are the test images' ground-truth defect masks,
    shape ``(n_test, H, W)``, 1 on defective pixels (all 0 for normal images); None otherwise.
    ``defect_types``, where the data have them, name each test image's kind, shape ``(n_test,)``,
    str: ``"good"`` for a normal image, else its defect type, the convention of the ``defect_types``
    that :func:`skgan_ad.datasets.load_industrial_folder` returns, which :func:`skgan_ad.metrics.per_defect_auc`
    takes; None otherwise.
    """

    X_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    masks: np.ndarray | None = None
    defect_types: np.ndarray | None = None


def _check_labelled(X_train, y_train, X_test, y_test) -> tuple[np.ndarray, ...]:
    arrays = [np.asarray(a) for a in (X_train, y_train, X_test, y_test)]
    for part, X, y in (("train", arrays[0], arrays[1]), ("test", arrays[2], arrays[3])):
        if y.ndim != 1:
            raise ValueError(f"y_{part} must be 1-D, got shape {y.shape}")
        if X.ndim == 0 or len(X) != len(y):
            raise ValueError(f"X_{part} and y_{part} differ in length: {X.shape} vs {y.shape}")
    # Test images from both splits are concatenated, so their sample shapes must agree.
    if arrays[0].shape[1:] != arrays[2].shape[1:]:
        raise ValueError(f"X_train and X_test samples differ in shape: {arrays[0].shape[1:]} vs {arrays[2].shape[1:]}")
    return tuple(arrays)


def _check_max(name: str, value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int or None, got {value!r}")
    return int(value)


def subsample_indices(y, max_n: int | None, *, stratify: bool = True, random_state=None) -> np.ndarray:
    """Indices of at most ``max_n`` samples drawn at random, in their original order.

    The protocols (:func:`leave_one_class_out`, :func:`one_class`) subsample
    with it, and so do the benchmarks, so that every subsample is drawn one way.

    Parameters
    ----------
    y : array-like of shape (n,)
        The samples' labels; only their number counts without ``stratify``.
    max_n : int or None
        Keep at most this many samples; None (or ``max_n >= n``) keeps all of them.
    stratify : bool, default=True
        Every value of ``y`` keeps its share (largest remainder rounding) and
        at least one sample, so that a subsampled test set still holds both
        normals and anomalies. Without it the draw is uniform.
    random_state : int, RandomState instance or None
        Seed of the draw; a RandomState instance is drawn from (and advanced).

    Returns
    -------
    ndarray of shape (min(n, max_n),), int
        Sorted indices into ``y``.

    Raises
    ------
    ValueError
        If ``max_n`` is not a positive int or None, or (with ``stratify``) it
        is smaller than the number of values of ``y``.

    Examples
    --------
    >>> y = np.r_[np.zeros(90, int), np.ones(10, int)]
    >>> keep = subsample_indices(y, 20, random_state=0)
    >>> len(keep), int(y[keep].sum())
    (20, 2)
    """
    y = np.asarray(y)
    max_n = _check_max("max_n", max_n)
    rng = check_random_state(random_state)
    n = len(y)
    if max_n is None or n <= max_n:
        return np.arange(n)
    if not stratify:
        return np.sort(rng.choice(n, size=max_n, replace=False))
    values, counts = np.unique(y, return_counts=True)
    if max_n < len(values):
        raise ValueError(f"cannot keep all {len(values)} label values in a subsample of {max_n}")
    quota = counts * max_n / n
    take = np.maximum(np.floor(quota).astype(int), 1)
    # Hand the places left to the largest remainders; take from the largest groups if the floor of 1 overshot.
    while take.sum() < max_n:
        take[np.argmax(np.where(take < counts, quota - take, -np.inf))] += 1
    while take.sum() > max_n:
        take[np.argmax(np.where(take > 1, take - quota, -np.inf))] -= 1
    chosen = [rng.choice(np.flatnonzero(y == v), size=k, replace=False) for v, k in zip(values, take)]
    return np.sort(np.concatenate(chosen))


def _present(label, *ys: np.ndarray) -> bool:
    return any(np.any(y == label) for y in ys if y.size)


_ANOMALY_SOURCES = ("test", "all")


def leave_one_class_out(
    X_train,
    y_train,
    X_test,
    y_test,
    abnormal_class,
    *,
    anomalies="test",
    max_train=None,
    max_test=None,
    random_state=None,
) -> AnomalySplit:
    """Leave-one-class-out: one class is the anomaly and all others are normal.

    The detector trains on the normal classes' training images only, and is
    tested on the normal classes' test images plus the abnormal class's
    images: by default its *test* images only (``anomalies="test"``).

    This departs from the seed papers (GANomaly, Skip-GANomaly), whose test
    set also holds every *training* image of the abnormal class
    (``anomalies="all"``; on CIFAR-10, 45,000 training images and
    9,000 normal : 6,000 abnormal test images). Development splits
    (:func:`development_split`) draw their images, anomalies included, from
    the training split, so under the papers' protocol the test set shares
    images with the data that settings were chosen on (on MNIST, about 85 %
    of its anomalies are training images). With ``anomalies="test"`` the test
    set is the test split alone, disjoint from every development split; it
    holds fewer anomalies (on CIFAR-10, 9,000 normal : 1,000 abnormal), so
    AUCs are not comparable with the papers' figures one to one.

    Parameters
    ----------
    X_train, y_train : array-like of shape (n_train, ...), (n_train,)
        The data set's training split and its class labels.
    X_test, y_test : array-like of shape (n_test, ...), (n_test,)
        Its test split and class labels.
    abnormal_class : label
        The class taken as the anomaly.
    anomalies : {"test", "all"}, default="test"
        Where the test set's anomalies come from: ``"test"``, the abnormal
        class's test-split images only; ``"all"``, its training and test
        images (the papers' protocol).
    max_train : int, optional
        Keep at most this many training images, drawn at random.
    max_test : int, optional
        Keep at most this many test images, drawn at random stratified on
        ``y_test`` so that normals and anomalies keep their proportion.
    random_state : int, RandomState instance or None
        Seed of the subsampling.

    Returns
    -------
    AnomalySplit
        ``X_test`` holds the normal test images first, then (``"all"`` only)
        the abnormal class's training images, then its test images (each part
        in its original order); ``y_test`` is 1 for the abnormal class, 0
        otherwise.

    Raises
    ------
    ValueError
        If ``anomalies`` is neither ``"test"`` nor ``"all"``, ``abnormal_class``
        has no image where the anomalies are taken from (the test split, or
        either split with ``"all"``), no normal training image remains, or an
        X and its y differ in length.
    """
    if not isinstance(anomalies, str) or anomalies not in _ANOMALY_SOURCES:
        raise ValueError(f"anomalies must be one of {_ANOMALY_SOURCES}, got {anomalies!r}")
    X_train, y_train, X_test, y_test = _check_labelled(X_train, y_train, X_test, y_test)
    max_train, max_test = _check_max("max_train", max_train), _check_max("max_test", max_test)
    classes = np.unique(np.concatenate([y_train, y_test])).tolist()
    if anomalies == "all" and not _present(abnormal_class, y_train, y_test):
        raise ValueError(f"abnormal_class {abnormal_class!r} is in neither split; the classes are {classes}")
    if anomalies == "test" and not _present(abnormal_class, y_test):
        raise ValueError(
            f"abnormal_class {abnormal_class!r} is not in the test split, where anomalies='test' takes the "
            f"anomalies from; the classes are {classes}"
        )
    abnormal_train, abnormal_test = y_train == abnormal_class, y_test == abnormal_class
    if abnormal_train.all():
        raise ValueError(f"no normal training images: every training label is {abnormal_class!r}")
    rng = check_random_state(random_state)
    X_normal = X_train[~abnormal_train]
    X_anomalies = X_test[abnormal_test]
    if anomalies == "all":
        X_anomalies = np.concatenate([X_train[abnormal_train], X_anomalies])
    X_out = np.concatenate([X_test[~abnormal_test], X_anomalies])
    y_out = np.r_[np.zeros((~abnormal_test).sum(), int), np.ones(len(X_anomalies), int)]
    keep_train = subsample_indices(np.zeros(len(X_normal)), max_train, stratify=False, random_state=rng)
    keep_test = subsample_indices(y_out, max_test, random_state=rng)
    return AnomalySplit(X_normal[keep_train], X_out[keep_test], y_out[keep_test])


def one_class(
    X_train, y_train, X_test, y_test, normal_class, *, max_train=None, max_test=None, random_state=None
) -> AnomalySplit:
    """One-class protocol: one class is normal, every other class is an anomaly.

    The detector trains on ``normal_class``'s training images and is tested on
    the whole test split.

    Parameters
    ----------
    normal_class : label
        The class taken as normal.
    X_train, y_train, X_test, y_test, max_train, max_test, random_state
        As for :func:`leave_one_class_out` (``max_test`` stratifies on the
        anomaly label, so normals and anomalies keep their proportion).

    Returns
    -------
    AnomalySplit
        ``X_test`` in its original order; ``y_test`` is 0 for
        ``normal_class`` and 1 for every other class.

    Raises
    ------
    ValueError
        If ``normal_class`` has no training image, or an X and its y differ
        in length.
    """
    X_train, y_train, X_test, y_test = _check_labelled(X_train, y_train, X_test, y_test)
    max_train, max_test = _check_max("max_train", max_train), _check_max("max_test", max_test)
    if not _present(normal_class, y_train):
        raise ValueError(
            f"normal_class {normal_class!r} has no training images; the classes are {np.unique(y_train).tolist()}"
        )
    rng = check_random_state(random_state)
    X_normal = X_train[y_train == normal_class]
    y_out = (y_test != normal_class).astype(int)
    keep_train = subsample_indices(np.zeros(len(X_normal)), max_train, stratify=False, random_state=rng)
    keep_test = subsample_indices(y_out, max_test, random_state=rng)
    return AnomalySplit(X_normal[keep_train], X_test[keep_test], y_out[keep_test])


def development_split(
    X_train, y_train, label, *, protocol="one-class", n_fit=2000, n_val=500, n_anomalies=500, random_state=None
) -> AnomalySplit:
    """A development split carved from a data set's *training* images, for choosing settings honestly.

    Defaults, epochs and configurations must never be chosen on a test split
    (the reference code picks epochs by test AUC). This helper builds the
    protocol's split from the training split alone: normal images are drawn
    at random into a fitting part (``n_fit``) and a disjoint validation part
    (``n_val``), and ``n_anomalies`` images of the anomalous classes are
    drawn as validation anomalies. Tune on it; then run the test protocol
    (:func:`one_class`, :func:`leave_one_class_out`) once.

    Parameters
    ----------
    X_train, y_train : array-like of shape (n_train, ...), (n_train,)
        A data set's training split and its class labels (never its test split).
    label : label
        The normal class (``protocol="one-class"``) or the abnormal class
        (``protocol="leave-one-class-out"``).
    protocol : {"one-class", "leave-one-class-out"}, default="one-class"
    n_fit, n_val, n_anomalies : int, default=2000, 500, 500
        Sizes of the three parts (each at most what the classes hold).
    random_state : int, RandomState instance or None
        Seed of the draws: normals are permuted first, then anomalies.

    Returns
    -------
    AnomalySplit
        ``X_train`` the fitting normals; ``X_test`` the validation normals,
        then the anomalies; ``y_test`` 0 for normals and 1 for anomalies.

    Examples
    --------
    >>> import numpy as np
    >>> X, y = np.arange(100).reshape(50, 2), np.repeat([0, 1, 2, 3, 4], 10)
    >>> split = development_split(X, y, 0, n_fit=6, n_val=4, n_anomalies=5, random_state=0)
    >>> len(split.X_train), split.y_test.tolist()
    (6, [0, 0, 0, 0, 1, 1, 1, 1, 1])
    """
    if protocol not in ("one-class", "leave-one-class-out"):
        raise ValueError(f"protocol must be 'one-class' or 'leave-one-class-out', got {protocol!r}")
    X_train, y_train = np.asarray(X_train), np.asarray(y_train)
    if len(X_train) != len(y_train):
        raise ValueError(f"X_train and y_train differ in length: {len(X_train)} vs {len(y_train)}")
    if not _present(label, y_train):
        raise ValueError(f"class {label!r} is not in y_train; the classes are {np.unique(y_train).tolist()}")
    for name, value in (("n_fit", n_fit), ("n_val", n_val), ("n_anomalies", n_anomalies)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    rng = check_random_state(random_state)
    is_normal = (y_train == label) if protocol == "one-class" else (y_train != label)
    normals = rng.permutation(np.flatnonzero(is_normal))
    anomalies = rng.permutation(np.flatnonzero(~is_normal))
    if len(normals) < n_fit + n_val or len(anomalies) < n_anomalies:
        raise ValueError(
            f"the {protocol} split for class {label!r} needs {n_fit} + {n_val} normal and {n_anomalies} anomalous "
            f"training images; there are {len(normals)} and {len(anomalies)}"
        )
    fit, val = normals[:n_fit], normals[n_fit : n_fit + n_val]
    X_test = np.concatenate([X_train[val], X_train[anomalies[:n_anomalies]]])
    y_test = np.r_[np.zeros(len(val), int), np.ones(n_anomalies, int)]
    return AnomalySplit(X_train[fit], X_test, y_test)
