"""scikit-learn's estimator checks on every detector, with a tiny configuration."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skgan_ad import AnoGANDetector, DenseSkipAttentionDetector, EGBADDetector, GANomalyDetector, SkipGANomalyDetector

from .conftest import TINY

# The checks assume ``offset_`` is the contamination quantile of the
# *training* scores, so that exactly ``contamination * n`` training samples are
# predicted as outliers. Our ``offset_`` is that quantile on held-out normals
# (DESIGN.md: the networks memorise their training data, whose scores are
# optimistic), so the count on the training set differs.
OFFSET_ON_HELD_OUT = (
    "offset_ is the contamination quantile of held-out normal scores, not of the training scores, "
    "so the number of training samples flagged is not exactly contamination * n"
)
OFFSET_CHECKS = {
    "check_outliers_train": OFFSET_ON_HELD_OUT,
    "check_outliers_fit_predict": OFFSET_ON_HELD_OUT,
}
# Per detector, and strict: a check listed here that passes (XPASS) fails the run, so the list
# cannot go stale. Every detector's ``embedding`` part measures the distance to the training
# samples' codes, so training samples score more normal than held-out ones for all five.
EXPECTED_FAILURES = {
    "SkipGANomalyDetector": OFFSET_CHECKS,
    "GANomalyDetector": OFFSET_CHECKS,
    "AnoGANDetector": OFFSET_CHECKS,
    "EGBADDetector": OFFSET_CHECKS,
    "DenseSkipAttentionDetector": OFFSET_CHECKS,
}


@parametrize_with_checks(
    [
        SkipGANomalyDetector(**TINY),
        GANomalyDetector(**TINY, nz=8),
        AnoGANDetector(**TINY, nz=8, n_max=5),
        EGBADDetector(**TINY, nz=8),
        DenseSkipAttentionDetector(**TINY),
    ],
    expected_failed_checks=lambda est: EXPECTED_FAILURES[type(est).__name__],
    xfail_strict=True,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
