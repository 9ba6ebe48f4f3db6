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
# cannot go stale. AnoGAN passes the offset checks on the checks' data (its latent search scores
# the training and held-out samples alike there), so nothing is expected to fail for it.
EXPECTED_FAILURES = {
    "SkipGANomalyDetector": OFFSET_CHECKS,
    "GANomalyDetector": OFFSET_CHECKS,
    "AnoGANDetector": {},
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
