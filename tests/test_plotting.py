"""skgan_ad.plotting: each Display draws from tiny fitted detectors, and what it draws is the right value."""

import sys

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.neighbors import KernelDensity

from skgan_ad import EGBADDetector, PatchDetector, SkipGANomalyDetector
from skgan_ad.plotting import (
    AnomalyMapDisplay,
    FeatureEmbeddingDisplay,
    ReconstructionDisplay,
    ScoreHistogramDisplay,
    TrainingCurveDisplay,
)
from skgan_ad.plotting._features import discriminator_features

from .conftest import TINY

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def digits(digit_images):
    """Training images, test images and their labels (1 = digit 1, the anomaly)."""
    images, labels = digit_images
    return images[:80], images[80:], (labels[80:] == 1).astype(int)


@pytest.fixture(scope="module")
def image_detector(digits):
    return SkipGANomalyDetector(**TINY).fit(digits[0])


@pytest.fixture(scope="module")
def tabular():
    rng = np.random.RandomState(0)
    X = np.r_[rng.normal(size=(40, 3)), rng.normal(loc=4.0, size=(8, 3))]
    y = np.r_[np.zeros(40, int), np.ones(8, int)]
    return SkipGANomalyDetector(**TINY).fit(X[:30]), X, y


def _unit(images):
    lo, hi = images.min(), images.max()
    return np.clip((images - lo) / (hi - lo), 0, 1)


# -- score histograms ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["images", "tabular"])
def test_score_histogram_counts_every_sample_and_draws_the_threshold_at_minus_offset(
    kind, digits, image_detector, tabular
):
    detector, X, y = (image_detector, digits[1], digits[2]) if kind == "images" else tabular
    display = ScoreHistogramDisplay.from_estimator(detector, X, y, bins=7, density=False)
    assert display.threshold == display.threshold_line_.get_xdata()[0] == -detector.offset_
    scores = detector.anomaly_score(X)
    np.testing.assert_array_equal(display.scores, scores)
    edges = np.histogram_bin_edges(scores, bins=7)
    for label, value in (("normal", 0), ("anomalous", 1)):
        heights = [bar.get_height() for bar in display.bars_[label]]
        np.testing.assert_array_equal(heights, np.histogram(scores[y == value], bins=edges)[0])
        np.testing.assert_allclose([bar.get_x() for bar in display.bars_[label]], edges[:-1])  # shared bins
    assert sum(bar.get_height() for bars in display.bars_.values() for bar in bars) == len(X)
    assert display.ax_.get_title() == "SkipGANomalyDetector" and display.ax_.get_ylabel() == "count"
    assert [t.get_text() for t in display.ax_.get_legend().get_texts()][:2] == ["normal", "anomalous"]
    assert display.figure_ is display.ax_.figure


def test_score_histogram_threshold_separates_what_predict_flags(rng):
    X = np.r_[rng.normal(size=(60, 2)), rng.normal(loc=5, size=(6, 2))]
    y = np.r_[np.zeros(60, int), np.ones(6, int)]
    forest = IsolationForest(random_state=0).fit(X[:60])
    display = ScoreHistogramDisplay.from_estimator(forest, X, y)
    np.testing.assert_array_equal(display.scores > display.threshold, forest.predict(X) == -1)
    # No offset_, no line; a float is drawn where it says.
    assert ScoreHistogramDisplay.from_estimator(KernelDensity().fit(X), X, y).threshold_line_ is None
    assert ScoreHistogramDisplay.from_estimator(forest, X, y, threshold=0.25).threshold_line_.get_xdata()[0] == 0.25


def test_score_histogram_plots_again_into_given_axes(rng):
    display = ScoreHistogramDisplay.from_predictions(rng.normal(size=20), np.r_[np.zeros(15), np.ones(5)], name="a")
    fig, ax = plt.subplots()
    assert display.plot(ax=ax, name="b", bins=4, hist_kwargs={"alpha": 0.3}) is display
    assert display.ax_ is ax and display.figure_ is fig and ax.get_title() == "b"
    assert len(ax.patches) == 8 and ax.patches[0].get_alpha() == 0.3 and display.threshold_line_ is None
    assert ax.get_ylabel() == "density"


@pytest.mark.parametrize(
    "y, match",
    [
        (np.zeros(10), "both normal"),
        (np.r_[np.zeros(5), np.ones(4)], "y has 9 labels but there are 10 scores"),
        (np.r_[-np.ones(5), np.ones(5)], "1 for an anomaly and 0 for a normal sample"),
    ],
    ids=["one class", "lengths", "values"],
)
def test_score_histogram_refuses_bad_labels(y, match, rng):
    with pytest.raises(ValueError, match=match):
        ScoreHistogramDisplay.from_predictions(rng.normal(size=10), y)


def test_score_histogram_refuses_an_unknown_threshold_word(tabular):
    detector, X, y = tabular
    with pytest.raises(ValueError, match="threshold must be 'offset'"):
        ScoreHistogramDisplay.from_estimator(detector, X, y, threshold="auto")


def test_missing_matplotlib_names_the_extra(monkeypatch, rng):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(
        ImportError, match=r"ScoreHistogramDisplay.from_predictions needs matplotlib: .*skgan_ad\[plots\]"
    ):
        ScoreHistogramDisplay.from_predictions(rng.normal(size=4), [0, 0, 1, 1])


# -- reconstructions -----------------------------------------------------------------------------------------------
def test_reconstructions_show_inputs_reconstructions_and_residuals(digits, image_detector):
    X = digits[1]
    indices = [3, 0, 7]
    display = ReconstructionDisplay.from_estimator(image_detector, X, indices=indices, titles=["a", "b", "c"])
    assert display.axes_.shape == (3, 3) and display.figure_ is display.axes_[0, 0].figure
    images, reconstructions = X[indices], image_detector.reconstruct(X[indices])
    np.testing.assert_allclose(display.residuals, np.abs(images - reconstructions))
    lo, hi = images.min(), images.max()
    for j in range(3):
        np.testing.assert_allclose(display.axes_[0, j].images[0].get_array(), _unit(images)[j])
        shown = np.clip((reconstructions[j] - lo) / (hi - lo), 0, 1)  # on the inputs' grey scale
        np.testing.assert_allclose(display.axes_[1, j].images[0].get_array(), shown)
        np.testing.assert_allclose(display.axes_[2, j].images[0].get_array(), display.residuals[j])
        assert display.axes_[2, j].images[0].get_clim() == pytest.approx((0.0, display.residuals.max()))
    assert [ax.get_ylabel() for ax in display.axes_[:, 0]] == ["input", "G(x)", "|x - G(x)|"]
    assert [ax.get_title() for ax in display.axes_[0]] == ["a", "b", "c"]


def test_reconstructions_read_flat_rows_as_images_and_default_to_eight(digits):
    train, test, _ = digits
    flat = SkipGANomalyDetector(**TINY, image_shape=(1, 8, 8)).fit(train.reshape(len(train), -1))
    display = ReconstructionDisplay.from_estimator(flat, test.reshape(len(test), -1))
    assert display.axes_.shape == (3, 8)
    np.testing.assert_allclose(display.images, test[:8])


def test_reconstructions_of_colour_images_average_the_residual_over_channels(rng):
    images = rng.uniform(size=(4, 6, 5, 3))
    reconstructions = images + rng.normal(scale=0.1, size=images.shape)
    fig = plt.figure()
    display = ReconstructionDisplay.from_predictions(images, reconstructions, fig=fig, name="colour")
    assert display.figure_ is fig and fig.get_suptitle() == "colour"
    np.testing.assert_allclose(display.residuals, np.abs(images - reconstructions).mean(axis=-1))
    np.testing.assert_allclose(display.axes_[0, 1].images[0].get_array(), _unit(images)[1])


def test_reconstructions_refuse_tabular_detectors_and_mismatched_inputs(tabular, rng):
    detector, X, _ = tabular
    with pytest.raises(ValueError, match="needs images; SkipGANomalyDetector was fitted on tabular rows"):
        ReconstructionDisplay.from_estimator(detector, X)
    with pytest.raises(ValueError, match="same shape"):
        ReconstructionDisplay.from_predictions(rng.uniform(size=(3, 4, 4)), rng.uniform(size=(2, 4, 4)))
    with pytest.raises(ValueError, match=r"images must have shape \(n, H, W\)"):
        ReconstructionDisplay.from_predictions(rng.uniform(size=(3, 16)), rng.uniform(size=(3, 16)))
    with pytest.raises(ValueError, match="one title per image"):
        ReconstructionDisplay.from_predictions(rng.uniform(size=(3, 4, 4)), rng.uniform(size=(3, 4, 4)), titles=["a"])


# -- training curves -----------------------------------------------------------------------------------------------
def test_training_curves_follow_the_history(image_detector):
    display = TrainingCurveDisplay.from_estimator(image_detector)
    history = image_detector.history_
    assert list(display.lines_) == ["generator", "discriminator", "validation"]
    for label, key in (("generator", "train_loss"), ("discriminator", "train_d_loss"), ("validation", "valid_loss")):
        np.testing.assert_allclose(display.lines_[label].get_ydata(), history[:, key])
        np.testing.assert_array_equal(display.lines_[label].get_xdata(), history[:, "epoch"])
    assert display.ax_.get_yscale() == "log" and display.ax_.get_title() == "SkipGANomalyDetector"
    fig, ax = plt.subplots()
    assert display.plot(ax=ax, yscale="linear") is display and display.ax_ is ax and ax.get_yscale() == "linear"


def test_training_curves_leave_out_missing_default_keys_and_refuse_unknown_ones(digits):
    detector = SkipGANomalyDetector(**TINY, validation_fraction=0).fit(digits[0])
    assert "valid_loss" not in detector.history_[-1]
    assert list(TrainingCurveDisplay.from_estimator(detector).lines_) == ["generator", "discriminator"]
    display = TrainingCurveDisplay.from_estimator(detector, keys={"train_con": "contextual"})
    np.testing.assert_allclose(display.lines_["contextual"].get_ydata(), detector.history_[:, "train_con"])
    with pytest.raises(ValueError, match=r"keys \['valid_loss'\] are not in the history"):
        TrainingCurveDisplay.from_estimator(detector, keys=["train_loss", "valid_loss"])
    with pytest.raises(ValueError, match="has no history_"):
        TrainingCurveDisplay.from_estimator(SkipGANomalyDetector())


def test_training_curves_from_a_plain_history():
    display = TrainingCurveDisplay.from_history([{"train_loss": 2.0}, {"train_loss": -1.0, "valid_loss": 0.5}])
    np.testing.assert_array_equal(display.lines_["validation"].get_ydata(), [np.nan, 0.5])
    np.testing.assert_array_equal(display.epochs, [1, 2])
    assert display.ax_.get_yscale() == "linear"  # a negative loss has no logarithm
    with pytest.raises(ValueError, match="none of the keys"):
        TrainingCurveDisplay.from_history([{"dur": 1.0}])
    with pytest.raises(ValueError, match="history is empty"):
        TrainingCurveDisplay.from_history([])


# -- discriminator feature embeddings -------------------------------------------------------------------------------
def test_discriminator_features_are_the_ones_the_feature_score_compares(digits, image_detector, tabular):
    for detector, X in ((image_detector, digits[1][:20]), (tabular[0], tabular[1])):
        real, fake = discriminator_features(detector, X), discriminator_features(detector, detector.reconstruct(X))
        # SkipGANomaly's ``feature`` part is the mean squared distance of f(x) and f(G(x)).
        np.testing.assert_allclose(
            ((real - fake) ** 2).mean(axis=1), detector.score_components(X)["feature"], rtol=1e-3, atol=1e-6
        )


@pytest.mark.parametrize("kind", ["images", "tabular"])
def test_feature_embedding_places_each_class_where_pca_puts_it(kind, digits, image_detector, tabular):
    detector, X, y = (image_detector, digits[1], digits[2]) if kind == "images" else tabular
    display = FeatureEmbeddingDisplay.from_estimator(detector, X, y)
    expected = PCA(n_components=2).fit_transform(discriminator_features(detector, X))
    np.testing.assert_allclose(display.embedding, expected)
    np.testing.assert_allclose(display.scatters_["normal"].get_offsets(), expected[y == 0])
    np.testing.assert_allclose(display.scatters_["anomalous"].get_offsets(), expected[y == 1])
    assert (display.ax_.get_xlabel(), display.ax_.get_ylabel()) == ("PC 1", "PC 2")
    assert display.ax_.get_title() == "SkipGANomalyDetector"


def test_feature_embedding_with_tsne_and_a_pair_discriminator(digits):
    train, X, y = digits
    egbad = EGBADDetector(**TINY).fit(train)  # its discriminator judges (x, E(x)) pairs
    fig, ax = plt.subplots()
    display = FeatureEmbeddingDisplay.from_estimator(egbad, X, y, method="tsne", random_state=0, ax=ax)
    assert display.ax_ is ax and display.embedding.shape == (len(X), 2) and ax.get_xlabel() == "t-SNE 1"
    assert display.plot(ax=ax, name="again") is display and ax.get_title() == "again"
    # f(x) of the pair (x, E(x)), as EGBADDetector's score computes it from ``x_hat, z = generator(x)``.
    rows = X.reshape(len(X), -1)
    expected = egbad._map_batches(rows, lambda g, d, x, geometry: d((x, g(x)[1]))[1].flatten(1).numpy())
    np.testing.assert_allclose(discriminator_features(egbad, X), np.concatenate(expected), rtol=1e-5, atol=1e-6)


def test_feature_embedding_refuses_bad_input(tabular, rng):
    detector, X, y = tabular
    with pytest.raises(ValueError, match="method must be one of"):
        FeatureEmbeddingDisplay.from_estimator(detector, X, y, method="umap")
    with pytest.raises(ValueError, match="y has 47 labels but there are 48 feature rows"):
        FeatureEmbeddingDisplay.from_estimator(detector, X, y[:-1])
    with pytest.raises(ValueError, match="both normal"):
        FeatureEmbeddingDisplay.from_features(rng.normal(size=(6, 3)), np.ones(6))
    with pytest.raises(TypeError, match="IsolationForest has no discriminator"):
        FeatureEmbeddingDisplay.from_estimator(IsolationForest().fit(X), X, y)


# -- anomaly maps ----------------------------------------------------------------------------------------------------
def test_anomaly_maps_overlay_the_detectors_maps_on_one_colour_scale(digits, image_detector):
    X = digits[1]
    display = AnomalyMapDisplay.from_estimator(image_detector, X, indices=[2, 5], sigma=0.5, titles=["x", "y"])
    maps = image_detector.anomaly_map(X[[2, 5]], sigma=0.5)
    assert display.axes_.shape == (2,) and display.figure_ is display.axes_[0].figure
    for j, ax in enumerate(display.axes_):
        assert ax.images[1] is display.overlays_[j] and ax.get_title() == "xy"[j]
        np.testing.assert_allclose(ax.images[0].get_array(), _unit(X[[2, 5]][j]))
        np.testing.assert_allclose(display.overlays_[j].get_array(), maps[j])
        assert display.overlays_[j].get_clim() == pytest.approx((maps.min(), maps.max()))
    assert display.boxes_ == [None, None] and display.colorbar_.mappable is display.overlays_[0]
    with pytest.raises(ValueError, match="box=True needs a detector with highest_patch"):
        AnomalyMapDisplay.from_estimator(image_detector, X, box=True)


def test_anomaly_maps_outline_the_highest_patch_into_given_axes(rng):
    X = rng.uniform(size=(24, 16, 16))
    patches = PatchDetector(SkipGANomalyDetector(**TINY), patch_size=8, random_state=0).fit(X)
    fig, axes = plt.subplots(2, 3)
    display = AnomalyMapDisplay.from_estimator(patches, X, indices=[0, 1, 2], box=True, ax=axes[1], vmax=2.0)
    assert list(display.axes_) == list(axes[1]) and display.figure_ is fig
    for (top, left, height, width), box in zip(patches.highest_patch(X[:3]), display.boxes_):
        assert (box.get_x(), box.get_y(), box.get_width(), box.get_height()) == (left - 0.5, top - 0.5, width, height)
    assert display.overlays_[0].get_clim()[1] == 2.0
    assert display.plot(ax=axes[0], colorbar=False).colorbar_ is None and list(display.axes_) == list(axes[0])
    with pytest.raises(ValueError, match="draws 3 image.s., one per axes; ax has 6 axes"):
        display.plot(ax=axes)


def test_anomaly_maps_outline_the_ground_truth_regions(digits, image_detector):
    X = digits[1][:5]
    masks = np.zeros((len(X), *X.shape[1:3]), dtype=np.uint8)
    masks[1, 2:5, 3:6] = 1  # a 3x3 defect in image 1; image 3's is one pixel
    masks[3, 0, 0] = 1
    display = AnomalyMapDisplay.from_estimator(image_detector, X, indices=[0, 1, 3], masks=masks)
    assert [outline is None for outline in display.outlines_] == [True, False, False]  # picked with indices too
    # The outline runs along the defect's outer pixel edges: around the 3x3 block, x in [2.5, 5.5], y in [1.5, 4.5].
    vertices = np.concatenate(display.outlines_[1].allsegs[0])
    assert vertices[:, 0].min() == pytest.approx(2.5, abs=0.01) and vertices[:, 0].max() == pytest.approx(5.5, abs=0.01)
    assert vertices[:, 1].min() == pytest.approx(1.5, abs=0.01) and vertices[:, 1].max() == pytest.approx(4.5, abs=0.01)
    with pytest.raises(ValueError, match=r"masks has shape \(5, 8, 8\), expected the maps'"):
        AnomalyMapDisplay.from_predictions(X[:2], image_detector.anomaly_map(X[:2]), masks=masks)
    plt.close(display.figure_)


def test_anomaly_maps_refuse_tabular_detectors_and_mismatched_maps(tabular, rng):
    detector, X, _ = tabular
    with pytest.raises(ValueError, match="needs images"):
        AnomalyMapDisplay.from_estimator(detector, X)
    with pytest.raises(ValueError, match=r"anomaly_maps has shape \(2, 3, 3\)"):
        AnomalyMapDisplay.from_predictions(rng.uniform(size=(2, 4, 4)), rng.uniform(size=(2, 3, 3)))
    with pytest.raises(ValueError, match=r"boxes must have shape \(n, 4\)"):
        AnomalyMapDisplay.from_predictions(rng.uniform(size=(2, 4, 4)), rng.uniform(size=(2, 4, 4)), boxes=[[0, 0, 1]])
