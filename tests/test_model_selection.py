"""NormalOnlySplit with GridSearchCV, and the learned score combination of ScoreCombiner."""

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.svm import SVC

from skgan_ad import SkipGANomalyDetector
from skgan_ad.metrics import anomaly_auc_scorer
from skgan_ad.model_selection import NormalOnlySplit, ScoreCombiner

from .conftest import TINY

TABULAR = {k: v for k, v in TINY.items() if k not in ("ngf", "ndf")}


def _blobs(n_normal, n_anomaly, shift, seed=0, d=2):
    """Standard normal 'normals' and anomalies shifted by ``shift`` on every feature; y = 1 anomaly.

    Shuffled, so anomalies are spread over an unshuffled KFold's folds too.
    """
    rng = np.random.RandomState(seed)
    X = np.r_[rng.normal(size=(n_normal, d)), rng.normal(size=(n_anomaly, d)) + shift]
    y = np.r_[np.zeros(n_normal, int), np.ones(n_anomaly, int)]
    order = rng.permutation(len(y))
    return X[order], y[order]


# -- NormalOnlySplit -----------------------------------------------------------------------


@pytest.mark.parametrize("cv", [3, None, StratifiedKFold(4, shuffle=True, random_state=0), KFold(3)])
def test_split_trains_on_normals_and_tests_on_everything(cv):
    X, y = _blobs(60, 15, 3.0)
    splitter = NormalOnlySplit(cv)
    splits = list(splitter.split(X, y))
    assert len(splits) == splitter.get_n_splits(X, y) == (5 if cv is None else getattr(cv, "n_splits", cv))
    test_counts = np.zeros(len(y), int)
    for train, test in splits:
        assert len(train) > 0 and np.all(y[train] == 0)
        assert not np.intersect1d(train, test).size
        # Every normal outside the test fold trains: only anomalies are dropped.
        np.testing.assert_array_equal(np.sort(train), np.setdiff1d(np.flatnonzero(y == 0), test))
        test_counts[test] += 1
    np.testing.assert_array_equal(test_counts, 1)


def test_int_cv_is_stratified_unshuffled():
    X, y = _blobs(60, 15, 3.0)
    for (_, test), (_, expected) in zip(NormalOnlySplit(3).split(X, y), StratifiedKFold(3).split(X, y)):
        np.testing.assert_array_equal(test, expected)
        assert set(y[test]) == {0, 1}


def test_split_errors():
    X, y = _blobs(20, 5, 3.0)
    with pytest.raises(ValueError, match="needs the labels y"):
        list(NormalOnlySplit(3).split(X))
    with pytest.raises(ValueError, match="1 for an anomaly"):
        list(NormalOnlySplit(3).split(X, np.where(y == 1, -1, 1)))
    anomalies, normals = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    with pytest.raises(ValueError, match="no normal sample"):
        list(NormalOnlySplit([(anomalies, normals)]).split(X, y))
    assert "NormalOnlySplit(cv=3)" in repr(NormalOnlySplit(3))


def test_grid_search_end_to_end():
    # Anomalies shifted by 1.5 standard deviations only, so the configurations do not all tie at AUC 1.
    X, y = _blobs(150, 30, 1.5, seed=1)
    search = GridSearchCV(
        # The paper's score (embedding_weight=0), whose parts lambda_score weighs.
        SkipGANomalyDetector(**TABULAR, embedding_weight=0.0),
        {"w_con": [1.0, 40.0], "lambda_score": [0.0, 1.0]},
        scoring=anomaly_auc_scorer,
        cv=NormalOnlySplit(3),
        refit=False,
        error_score="raise",
    ).fit(X, y)
    results = search.cv_results_
    means = results["mean_test_score"]
    # Best mean AUC measured 0.919 (random_state=0), 0.853 / 0.772 with random_state 1 / 2; the floor is the
    # worst seed less 0.05 for platform float differences (chance is 0.5).
    assert np.all(np.isfinite(means)) and means.max() > 0.72, means
    assert search.best_params_ == results["params"][int(np.argmax(means))]
    assert search.best_score_ == means.max()

    # The first fold's score of the best configuration, by hand: fit on that fold's normals only.
    train, test = next(NormalOnlySplit(3).split(X, y))
    det = SkipGANomalyDetector(**TABULAR, embedding_weight=0.0).set_params(**search.best_params_).fit(X[train])
    assert results["split0_test_score"][search.best_index_] == pytest.approx(
        roc_auc_score(y[test], det.anomaly_score(X[test])), abs=1e-12
    )


# -- ScoreCombiner -------------------------------------------------------------------------


class _KnownParts(SkipGANomalyDetector):
    """A real detector (trained, standardised on held-out normals) whose two score parts the data decide.

    ``residual`` is |column 1| and ``feature`` |column 0| of the network input. With anomalies shifted on
    column 0 only, ``feature`` is informative and ``residual`` pure noise, so the fixed mix (90 % residual)
    is close to chance while a combiner that learns from labels can do nearly as well as ``feature`` alone.
    """

    def _tensor_components(self, generator, discriminator, x, geometry, needed=None, index=None, rows=None):
        return {"residual": x[:, 1].abs(), "feature": x[:, 0].abs()}


# The two known parts are the paper's score, so it gets the whole weight (no embedding part).
KNOWN = dict(TABULAR, embedding_weight=0.0)


FEATURE_ONLY_SHIFT = np.array([3.0, 0.0])


@pytest.fixture(scope="module")
def known_parts():
    X_fit, _ = _blobs(300, 0, 0.0, seed=2)
    X_val, y_val = _blobs(80, 20, FEATURE_ONLY_SHIFT, seed=3)
    X_test, y_test = _blobs(200, 50, FEATURE_ONLY_SHIFT, seed=4)
    return X_fit, X_val, y_val, X_test, y_test


def _aucs(model, X_test, y_test):
    """Test AUC of the combiner, of the detector's fixed ``lambda_score`` mix, and of ``feature`` alone."""
    return (
        roc_auc_score(y_test, model.anomaly_score(X_test)),
        roc_auc_score(y_test, model.detector_.anomaly_score(X_test)),
        roc_auc_score(y_test, model.detector_.score_components(X_test)["feature"]),
    )


def test_score_combiner_learns_the_informative_part(known_parts):
    X_fit, X_val, y_val, X_test, y_test = known_parts
    model = ScoreCombiner(_KnownParts(**KNOWN)).fit(X_fit)
    with pytest.raises(NotFittedError):
        model.anomaly_score(X_test)
    model.fit_combiner(X_val, y_val)
    scores = model.anomaly_score(X_test)
    assert scores.dtype == np.float64 and scores.shape == (len(X_test),)
    np.testing.assert_array_equal(model.score_samples(X_test), -scores)
    np.testing.assert_array_equal(model.decision_function(X_test), -scores - model.offset_)
    assert set(np.unique(model.predict(X_test))) <= {-1, 1}
    assert model.component_names_ == ["feature", "residual"]
    assert model.n_features_in_ == X_test.shape[1]

    # Measured over random_state 0..2: learned 0.987-0.988, fixed lambda_score=0.9 mix 0.605-0.637,
    # feature alone 0.987-0.988: the fixed mix trails by 0.35 or more.
    learned, fixed, feature_alone = _aucs(model, X_test, y_test)
    assert learned > fixed + 0.25, (learned, fixed)
    assert learned > feature_alone - 0.02, (learned, feature_alone)


def test_score_combiner_with_a_classifier_that_ignores_labels_learns_nothing(known_parts):
    X_fit, X_val, y_val, X_test, y_test = known_parts
    model = ScoreCombiner(_KnownParts(**KNOWN), DummyClassifier()).fit(X_fit).fit_combiner(X_val, y_val)
    learned, fixed, _ = _aucs(model, X_test, y_test)
    assert learned == 0.5  # one constant score for every sample
    assert learned < fixed


def test_score_combiner_offset_is_the_contamination_quantile_of_validation_normals(known_parts):
    X_fit, X_val, y_val, _, _ = known_parts
    fitted = ScoreCombiner(_KnownParts(**KNOWN), contamination=0.2).fit(X_fit).fit_combiner(X_val, y_val)
    flagged = np.mean(fitted.predict(X_val[y_val == 0]) == -1)
    assert flagged == pytest.approx(0.2, abs=1.0 / np.sum(y_val == 0))


def test_score_combiner_with_svc_and_one_call_fit(known_parts):
    *_, X_test, y_test = known_parts
    X, y = _blobs(200, 30, FEATURE_ONLY_SHIFT, seed=5)
    model = ScoreCombiner(_KnownParts(**KNOWN), SVC(), validation_size=0.3, random_state=0).fit(X, y)
    # The detector trained on 70% of the normals only; the combiner saw the rest and all anomalies.
    assert model.detector_.n_features_in_ == 2
    assert model.detector_.calibration_scores_.size == round(0.1 * round(0.7 * 200))
    scores = model.anomaly_score(X_test)
    assert scores.dtype == np.float64 and scores.shape == (len(X_test),)
    # Measured over random_state 0..2: learned (an RBF SVC's margin) 0.985-0.987, fixed mix 0.620-0.638.
    learned, fixed, _ = _aucs(model, X_test, y_test)
    assert learned > fixed + 0.25, (learned, fixed)
    with pytest.raises(ValueError, match="both normal"):
        model.fit_combiner(X[y == 0], y[y == 0])
    with pytest.raises(TypeError, match="score_components"):
        ScoreCombiner(SVC()).fit(X)
