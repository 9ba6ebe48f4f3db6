"""scikit-learn's estimator checks on every detector, with a tiny configuration."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skgan_ad import AnoGANDetector, DenseSkipAttentionDetector, EGBADDetector, GANomalyDetector, SkipGANomalyDetector

from .conftest import TINY

# ``check_outliers_train`` and ``check_outliers_fit_predict`` count the training samples that
# ``predict`` flags and demand exactly ``contamination * n``. By default ``offset_`` is a
# quantile of *held-out* normals' scores (``validation_fraction=0.1``: the false-positive rate
# on new data is what a user sets), so the count on the training set is only about
# ``contamination * n``. With ``validation_fraction=0`` the threshold is taken on the training
# samples themselves, scored leave-one-out (never their own neighbour in the ``embedding``
# part), and exactly ``contamination * n`` of them are flagged: the checks run that way, with
# no expected failure. ``tests/test_thresholds.py`` checks the default's rate on training data.
CHECKED = dict(TINY, validation_fraction=0.0)


def _every_detector(params: dict) -> list:
    """The five detectors with ``params``, tiny enough for the checks."""
    return [
        SkipGANomalyDetector(**params),
        GANomalyDetector(**params, nz=8),
        AnoGANDetector(**params, nz=8, n_max=5),
        EGBADDetector(**params, nz=8),
        DenseSkipAttentionDetector(**params),
    ]


@parametrize_with_checks(_every_detector(CHECKED))
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# The same checks at the default ``validation_fraction``: every other check must hold there too.
# The two counting checks can pass or fail by the luck of the held-out draw (their count is
# about, not exactly, contamination * n), so they are expected failures that are not strict.
HELD_OUT_COUNT = (
    "offset_ is a quantile of held-out normals' scores, so about, not exactly, contamination * n training "
    "samples are flagged"
)


@parametrize_with_checks(
    _every_detector(TINY),
    expected_failed_checks=lambda est: {
        "check_outliers_train": HELD_OUT_COUNT,
        "check_outliers_fit_predict": HELD_OUT_COUNT,
    },
    xfail_strict=False,
)
def test_sklearn_compatible_at_default_validation_fraction(estimator, check):
    check(estimator)
