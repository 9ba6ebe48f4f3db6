"""The 8x8 digits of scikit-learn, and the leave-one-class-out split that DESIGN.md's reference table uses."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from ._protocols import AnomalySplit


def load_digits_images() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 8x8 digits of scikit-learn as float images in [0, 1] (pixels / 16).

    Returns
    -------
    images : ndarray of shape (1797, 8, 8), float64
    labels : ndarray of shape (1797,), int
    """
    digits = load_digits()
    return digits.images / 16.0, digits.target


def digits_leave_one_out(abnormal_class: int, *, test_size: float = 0.2, random_state: int = 0) -> AnomalySplit:
    """Leave-one-class-out on the digits, as DESIGN.md's reference table uses it.

    The other nine digits are normal and split ``train_test_split(test_size,
    random_state)``; the detector trains on the normal training part and is
    tested on the normal test part plus every image of ``abnormal_class``.
    """
    images, labels = load_digits_images()
    if abnormal_class not in set(labels.tolist()):
        raise ValueError(f"abnormal_class must be a digit 0..9, got {abnormal_class!r}")
    normal, abnormal = images[labels != abnormal_class], images[labels == abnormal_class]
    X_train, X_test_normal = train_test_split(normal, test_size=test_size, random_state=random_state)
    X_test = np.concatenate([X_test_normal, abnormal])
    y_test = np.concatenate([np.zeros(len(X_test_normal), int), np.ones(len(abnormal), int)])
    return AnomalySplit(X_train, X_test, y_test)
