"""Detection quality on real data: the digits, leave-one-class-out (DESIGN.md's split)."""

from sklearn.metrics import roc_auc_score

from skgan_ad import GANomalyDetector, SkipGANomalyDetector
from skgan_ad.datasets import digits_leave_one_out


def test_digit_4_is_detected_well_above_chance():
    # Measured with this configuration (ngf=ndf=16, 5 epochs) on 2 CPU cores:
    # AUC 0.951 for random_state=0, and 0.913-0.970 over random_state 0..4.
    # The floor of 0.85 sits below the worst seed by a margin for platform
    # float differences, and far above chance (0.5) and IsolationForest (0.75 mean).
    split = digits_leave_one_out(4)
    detector = SkipGANomalyDetector(ngf=16, ndf=16, n_epochs=5, random_state=0).fit(split.X_train)
    auc = roc_auc_score(split.y_test, detector.anomaly_score(split.X_test))
    assert auc > 0.85, auc


def test_ganomaly_detects_digit_4_well_above_chance():
    # Measured with this configuration on 2 CPU cores: AUC 0.940 (random_state=0),
    # 0.888-0.940 over random_state 0..2 (about 6 s a fit). Shorter or narrower runs
    # are undertrained and can fall below chance (ngf=16, 5 epochs, batch 64: 0.29),
    # so the floor is tied to this configuration; 0.8 leaves a margin below the worst seed.
    split = digits_leave_one_out(4)
    detector = GANomalyDetector(ngf=16, ndf=16, nz=32, n_epochs=8, batch_size=16, random_state=0)
    auc = roc_auc_score(split.y_test, detector.fit(split.X_train).anomaly_score(split.X_test))
    assert auc > 0.8, auc
