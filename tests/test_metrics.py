"""Anomaly-label scorers, conformal p-values and the min-max evaluation helper."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import NotFittedError
from sklearn.metrics import average_precision_score, get_scorer, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgan_ad import SkipGANomalyDetector
from skgan_ad.metrics import (
    anomaly_auc_scorer,
    anomaly_average_precision_scorer,
    conformal_p_values,
    make_anomaly_scorer,
    make_recall_at_fpr_scorer,
    min_max_normalise,
    recall_at_fpr,
)

from .conftest import TINY

TABULAR = {k: v for k, v in TINY.items() if k not in ("ngf", "ndf")}


def _blobs(n_normal, n_anomaly, shift, seed=0, d=4):
    """Standard normal 'normals' and anomalies shifted by ``shift`` on every feature; y = 1 anomaly."""
    rng = np.random.RandomState(seed)
    X = np.r_[rng.normal(size=(n_normal, d)), rng.normal(size=(n_anomaly, d)) + shift]
    y = np.r_[np.zeros(n_normal, int), np.ones(n_anomaly, int)]
    return X, y


@pytest.fixture(scope="module")
def easy():
    X_train, _ = _blobs(300, 0, 0.0, seed=1)
    X, y = _blobs(100, 50, 3.0, seed=2)
    return SkipGANomalyDetector(**TABULAR).fit(X_train), X, y


# -- scorers ---------------------------------------------------------------------------


def test_auc_scorer_equals_roc_auc_of_anomaly_score(easy):
    det, X, y = easy
    auc = anomaly_auc_scorer(det, X, y)
    assert isinstance(auc, float)
    assert auc == roc_auc_score(y, det.anomaly_score(X))
    assert auc > 0.5
    ap = anomaly_average_precision_scorer(det, X, y)
    assert ap == average_precision_score(y, det.anomaly_score(X))
    assert ap > y.mean()  # better than the chance level of average precision


def test_builtin_roc_auc_scorer_is_inverted_for_anomaly_labels(easy):
    # The trap the scorer exists for: "roc_auc" ranks by decision_function (higher = normal).
    det, X, y = easy
    auc = anomaly_auc_scorer(det, X, y)
    assert get_scorer("roc_auc")(det, X, y) == pytest.approx(1.0 - auc, abs=1e-12)


def test_scorer_reads_pipelines_and_other_detectors(easy):
    det, X, y = easy
    X_train, _ = _blobs(300, 0, 0.0, seed=1)
    pipe = make_pipeline(StandardScaler(), clone(det)).fit(X_train)
    expected = roc_auc_score(y, pipe[-1].anomaly_score(pipe[0].transform(X)))
    assert anomaly_auc_scorer(pipe, X, y) == expected
    # A plain scikit-learn outlier detector: ranked by -score_samples.
    forest = IsolationForest(n_estimators=20, random_state=0).fit(X_train)
    assert anomaly_auc_scorer(forest, X, y) == roc_auc_score(y, -forest.score_samples(X))


def test_make_anomaly_scorer(easy):
    det, X, y = easy
    assert make_anomaly_scorer("roc_auc")(det, X, y) == anomaly_auc_scorer(det, X, y)
    custom = make_anomaly_scorer(lambda y_true, s: float(np.mean(s[y_true == 1]) - np.mean(s[y_true == 0])))
    assert custom(det, X, y) > 0
    with pytest.raises(ValueError, match="metric must be one of"):
        make_anomaly_scorer("accuracy")
    with pytest.raises(TypeError):
        make_anomaly_scorer(3)


def test_scorer_refuses_predict_convention_labels(easy):
    # -1/+1 read as "larger = anomaly" would invert every score: refused, not guessed.
    det, X, y = easy
    with pytest.raises(ValueError, match="1 for an anomaly"):
        anomaly_auc_scorer(det, X, np.where(y == 1, -1, 1))


# -- conformal p-values ------------------------------------------------------------------


def test_conformal_p_values_formula_and_range(easy):
    det, X, _ = easy
    p = conformal_p_values(det, X)
    assert p.dtype == np.float64 and p.shape == (len(X),)
    assert np.all((p > 0) & (p <= 1))
    cal, scores = det.calibration_scores_, det.score_samples(X)
    brute = np.array([(1 + np.sum(cal <= s)) / (1 + len(cal)) for s in scores])
    np.testing.assert_array_equal(p, brute)
    # More anomalous -> smaller p-value.
    order = np.argsort(det.anomaly_score(X))
    assert np.all(np.diff(p[order]) <= 0)
    # Scores computed already give the same p-values without scoring again.
    np.testing.assert_array_equal(conformal_p_values(det, scores=scores), p)
    for bad in (dict(), dict(X=X, scores=scores)):
        with pytest.raises(ValueError, match="either X"):
            conformal_p_values(det, **bad)
    with pytest.raises(ValueError, match="1-D array of finite"):
        conformal_p_values(det, scores=np.array([np.nan]))


def test_conformal_p_values_need_calibration_scores(easy):
    det, X, _ = easy
    with pytest.raises(NotFittedError):
        conformal_p_values(clone(det), X)
    forest = IsolationForest(n_estimators=5, random_state=0).fit(X)
    with pytest.raises(NotFittedError, match="calibration_scores_"):
        conformal_p_values(forest, X)


def test_conformal_p_values_warn_without_held_out_normals():
    X, _ = _blobs(60, 0, 0.0)
    det = SkipGANomalyDetector(**TABULAR, validation_fraction=0.0).fit(X)
    with pytest.warns(UserWarning, match="validation_fraction=0"):
        conformal_p_values(det, X[:5])


ALPHAS = (0.05, 0.1, 0.2)


@pytest.fixture(scope="module")
def calibration_setup():
    # 1000 normals to fit, half of them held out (validation_fraction=0.5): 500 calibration
    # scores; 2000 further normals the detector never saw to measure false positives on.
    X, _ = _blobs(3000, 0, 0.0, seed=3)
    X_fit, X_unseen = X[:1000], X[1000:]
    dets = {a: SkipGANomalyDetector(**TABULAR, validation_fraction=0.5, contamination=a).fit(X_fit) for a in ALPHAS}
    return dets, X_unseen


def _tolerance(alpha, n_calibration, n_test):
    # Three standard deviations of the realised rate: the calibration quantile and the
    # test sample both vary, each binomially. For 500 calibration and 2000 test normals
    # this is 0.033, 0.045 and 0.060 for alpha = 0.05, 0.1, 0.2.
    return 3.0 * np.sqrt(alpha * (1 - alpha) * (1.0 / n_calibration + 1.0 / n_test))


def test_conformal_p_values_are_calibrated_on_unseen_normals(calibration_setup):
    dets, X_unseen = calibration_setup
    det = dets[0.1]  # the networks and held-out split do not depend on contamination
    p = conformal_p_values(det, X_unseen)
    n_cal = len(det.calibration_scores_)
    assert n_cal == 500
    # Measured (seeds as here): realised rates 0.0415, 0.089, 0.172 for alpha 0.05, 0.1, 0.2. Over
    # 20 other data/model seeds the deviation at alpha=0.05, in units of the standard deviation
    # behind _tolerance, had mean 0.4 and spread 1.06, and an oracle score (-|x|^2) on the same
    # splits deviated alike: the tolerance is 3 sigma of sampling noise, not slack for a bias.
    for alpha in ALPHAS:
        assert abs(np.mean(p <= alpha) - alpha) <= _tolerance(alpha, n_cal, len(X_unseen)), alpha


def test_predict_false_positive_rate_matches_contamination(calibration_setup):
    dets, X_unseen = calibration_setup
    # Measured (seeds as here): realised rates 0.042, 0.091, 0.1745 for contamination 0.05, 0.1, 0.2.
    for alpha, det in dets.items():
        realised = np.mean(det.predict(X_unseen) == -1)
        assert abs(realised - alpha) <= _tolerance(alpha, len(det.calibration_scores_), len(X_unseen)), alpha


# -- min-max -----------------------------------------------------------------------------


def test_min_max_normalise():
    np.testing.assert_array_equal(min_max_normalise([2.0, 4.0, 3.0]), [0.0, 1.0, 0.5])
    np.testing.assert_array_equal(min_max_normalise(np.full(3, 7.0)), np.zeros(3))
    out = min_max_normalise(np.array([5, 1, 3]))
    assert out.dtype == np.float64
    # Batch dependence, the reason it is an evaluation helper only: the same sample moves.
    assert min_max_normalise([1.0, 2.0, 3.0])[1] != min_max_normalise([1.0, 2.0, 5.0])[1]
    with pytest.raises(ValueError):
        min_max_normalise([0.0, np.nan])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert min_max_normalise([]).shape == (0,)


@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.2])
def test_realised_false_positive_rate_on_unseen_digits(alpha):
    """contamination=alpha and p <= alpha flag about alpha of normal digits never seen in training.

    Normals: the nine digits other than 5, split 80/20 (DESIGN.md's split); the
    detector trains on 80% with 30% of it held out for calibration (~390
    scores) and is checked on the unseen 20% (~320 normals). The tolerance is
    three standard deviations of the sampling noise of both sets.
    """
    from skgan_ad.datasets import digits_leave_one_out

    split = digits_leave_one_out(5)
    unseen = split.X_test[split.y_test == 0]
    det = SkipGANomalyDetector(**{**TINY, "contamination": alpha, "validation_fraction": 0.3}).fit(split.X_train)
    n_cal = len(det.calibration_scores_)
    tolerance = 3 * np.sqrt(alpha * (1 - alpha) * (1 / n_cal + 1 / len(unseen)))
    realised = np.mean(det.predict(unseen) == -1)
    assert abs(realised - alpha) <= tolerance, (realised, alpha, tolerance)
    realised_p = np.mean(conformal_p_values(det, unseen) <= alpha)
    assert abs(realised_p - alpha) <= tolerance, (realised_p, alpha, tolerance)


# -- recall at a fixed false-positive rate -------------------------------------------------


def _brute_recall_at_fpr(y, scores, fpr):
    """Best recall over every threshold (each score, and below all) whose false-positive rate is <= fpr."""
    normal, anomalous = scores[y == 0], scores[y == 1]
    best = 0.0
    for t in np.r_[scores, -np.inf]:
        if np.mean(normal > t) <= fpr + 1e-12:
            best = max(best, np.mean(anomalous > t))
    return best


def test_recall_at_fpr_known_answers():
    # Ten normals at 0.0 .. 0.9; anomalies at 0.95, 0.85, 0.75, 0.5, 0.05.
    y = np.r_[np.zeros(10, int), np.ones(5, int)]
    scores = np.r_[np.arange(10) / 10, [0.95, 0.85, 0.75, 0.5, 0.05]]
    # fpr -> normals allowed above the threshold -> threshold -> anomalies above it.
    expected = {0.05: 0.2, 0.1: 0.4, 0.15: 0.4, 0.2: 0.6, 0.3: 0.6, 0.5: 0.8, 0.85: 0.8, 0.9: 1.0, 0.95: 1.0}
    for fpr, recall in expected.items():
        result = recall_at_fpr(y, scores, fpr=fpr)
        assert isinstance(result, float)
        assert result == recall, (fpr, result, recall)
    assert recall_at_fpr(y, scores) == 0.2  # default fpr=0.05
    # Order of the samples does not matter; labels as booleans or lists work.
    order = np.random.RandomState(0).permutation(len(y))
    assert recall_at_fpr(list(y[order].astype(bool)), list(scores[order]), fpr=0.2) == 0.6


def test_recall_at_fpr_ties_never_exceed_the_target():
    # Four normals tied at 1: a threshold just below 1 would flag all four (FPR 0.4).
    y = np.r_[np.zeros(10, int), np.ones(3, int)]
    scores = np.r_[np.zeros(6), np.ones(4), [1.0, 1.0, 2.0]]
    assert recall_at_fpr(y, scores, fpr=0.3) == pytest.approx(1 / 3)  # threshold 1: anomalies tied at 1 not flagged
    assert recall_at_fpr(y, scores, fpr=0.39) == pytest.approx(1 / 3)
    assert recall_at_fpr(y, scores, fpr=0.4) == 1.0  # four false positives are now allowed
    # Every score tied: nothing can be flagged without flagging every normal.
    assert recall_at_fpr([0, 0, 1, 1], [5.0, 5.0, 5.0, 5.0], fpr=0.5) == 0.0
    assert recall_at_fpr([0, 0, 1, 1], [5.0, 5.0, 5.0, 5.0], fpr=1.0) == 1.0


def test_recall_at_fpr_matches_brute_force_with_ties():
    rng = np.random.RandomState(0)
    for _ in range(30):
        n = rng.randint(4, 40)
        y = (rng.uniform(size=n) < 0.4).astype(int)
        y[:2] = [0, 1]
        scores = rng.randint(0, 6, size=n).astype(float) + 0.5 * y  # many ties
        for fpr in (0.0, 0.05, 0.1, 0.25, 1 / 3, 0.5, 0.99, 1.0):
            assert recall_at_fpr(y, scores, fpr=fpr) == _brute_recall_at_fpr(y, scores, fpr), (y, scores, fpr)


def test_recall_at_fpr_edge_rates():
    # 100 normals at 0/99 .. 99/99; anomalies at 1.5, 1.0 (tied with the top normal), 0.712, 0.5, -1.
    y = np.r_[np.zeros(100, int), np.ones(5, int)]
    scores = np.r_[np.arange(100) / 99, [1.5, 1.0, 0.712, 0.5, -1.0]]
    # fpr=0: only anomalies above every normal; the one tied with the top normal is not flagged.
    assert recall_at_fpr(y, scores, fpr=0.0) == 0.2
    # fpr=1: flag everything, even the anomaly scored below every normal.
    assert recall_at_fpr(y, scores, fpr=1.0) == 1.0
    assert recall_at_fpr(y, scores, fpr=0.999) == 0.8  # 99 normals allowed, so not the one at -1
    # 0.29 * 100 is 28.999... in floating point: still 29 false positives allowed, so the
    # threshold is the 30th highest normal (70/99 = 0.707) and the anomaly at 0.712 is caught.
    assert recall_at_fpr(y, scores, fpr=0.29) == 0.6
    assert recall_at_fpr(y, scores, fpr=0.28) == 0.4


def test_recall_at_fpr_refuses_bad_input():
    y, scores = np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match="1 for an anomaly"):
        recall_at_fpr(np.array([1, 1, -1, -1]), scores)  # predict convention
    with pytest.raises(ValueError, match="1 for an anomaly"):
        recall_at_fpr(np.array([0, 0, 2, 2]), scores)
    with pytest.raises(ValueError, match="both normal"):
        recall_at_fpr(np.zeros(4, int), scores)
    with pytest.raises(ValueError, match="both normal"):
        recall_at_fpr(np.ones(4, int), scores)
    with pytest.raises(ValueError, match="inconsistent"):
        recall_at_fpr(y, scores[:3])
    with pytest.raises(ValueError, match="finite"):
        recall_at_fpr(y, [0.1, np.nan, 0.3, 0.4])
    for fpr in (-0.1, 1.5, "0.1", None, True):
        with pytest.raises(ValueError, match="fpr"):
            recall_at_fpr(y, scores, fpr=fpr)
        with pytest.raises(ValueError, match="fpr"):
            make_recall_at_fpr_scorer(fpr)


def test_recall_at_fpr_scorer_matches_the_function(easy):
    det, X, y = easy
    for fpr in (0.0, 0.05, 0.2):
        scorer = make_recall_at_fpr_scorer(fpr)
        result = scorer(det, X, y)
        assert isinstance(result, float)
        assert result == recall_at_fpr(y, det.anomaly_score(X), fpr=fpr)
    assert make_recall_at_fpr_scorer(0.2)(det, X, y) > 0.2  # better than flagging at random
    assert repr(make_recall_at_fpr_scorer(0.1)) == "make_recall_at_fpr_scorer(fpr=0.1)"
    # Ranked by anomaly score, not by decision_function: not the built-in recall's direction.
    assert make_recall_at_fpr_scorer(0.05)(det, X, y) != recall_at_fpr(y, det.decision_function(X), fpr=0.05)
    # Any outlier detector: ranked by -score_samples; labels checked as for the other scorers.
    X_train, _ = _blobs(300, 0, 0.0, seed=1)
    forest = IsolationForest(n_estimators=20, random_state=0).fit(X_train)
    assert make_recall_at_fpr_scorer(0.1)(forest, X, y) == recall_at_fpr(y, -forest.score_samples(X), fpr=0.1)
    with pytest.raises(ValueError, match="1 for an anomaly"):
        make_recall_at_fpr_scorer()(det, X, np.where(y == 1, -1, 1))
    with pytest.raises(ValueError, match="sample_weight"):
        make_recall_at_fpr_scorer()(det, X, y, sample_weight=np.ones(len(y)))


def test_recall_at_fpr_scorer_in_cross_validation():
    from sklearn.model_selection import cross_val_score

    from skgan_ad.model_selection import NormalOnlySplit

    X, y = _blobs(150, 30, 3.0, seed=4)
    forest = IsolationForest(n_estimators=20, random_state=0)
    scores = cross_val_score(forest, X, y, scoring=make_recall_at_fpr_scorer(0.1), cv=NormalOnlySplit(3))
    assert scores.shape == (3,) and np.all((scores > 0.5) & (scores <= 1))
