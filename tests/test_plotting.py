"""skgan_ad.plotting: what each figure draws (plot_anomaly_map is in tests/test_anomaly_maps.py)."""

import numpy as np
import pytest

from skgan_ad.plotting import plot_reconstructions, plot_score_histograms

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture
def figure():
    fig = plt.figure()
    yield fig
    plt.close("all")


def _bar_heights_and_lefts(ax):
    return np.array([p.get_height() for p in ax.patches]), np.array([p.get_x() for p in ax.patches])


def test_score_histograms_draw_each_class_on_shared_bins(figure, rng):
    scores = np.r_[rng.normal(size=80), rng.normal(loc=3.0, size=20)]
    y = np.r_[np.zeros(80, int), np.ones(20, int)]
    ax = figure.subplots()
    assert plot_score_histograms(scores, y, ax=ax, bins=12, title="digit 4") is ax
    heights, lefts = _bar_heights_and_lefts(ax)
    assert len(ax.patches) == 2 * 12  # one bar per bin and class
    edges = np.histogram_bin_edges(scores, bins=12)
    np.testing.assert_allclose(heights[:12], np.histogram(scores[y == 0], bins=edges, density=True)[0])
    np.testing.assert_allclose(heights[12:], np.histogram(scores[y == 1], bins=edges, density=True)[0])
    np.testing.assert_allclose(lefts[:12], edges[:-1])
    np.testing.assert_allclose(lefts[12:], edges[:-1])  # the same bins for both classes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["normal", "abnormal"]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("anomaly score", "density", "digit 4")


def test_score_histograms_default_to_the_current_axes(figure, rng):
    ax = figure.subplots()
    assert plot_score_histograms(rng.normal(size=10), np.r_[np.zeros(5), np.ones(5)], bins=4) is ax
    assert len(ax.patches) == 8 and ax.get_title() == ""


@pytest.mark.parametrize("channels", [None, 3], ids=["grey", "rgb"])
def test_reconstruction_grid_shows_inputs_reconstructions_and_residuals(channels, figure, rng):
    shape = (10, 6, 5) if channels is None else (10, 6, 5, channels)
    images = rng.uniform(size=shape)
    reconstructions = images + rng.normal(scale=0.1, size=shape)
    assert plot_reconstructions(images, reconstructions, n=4, fig=figure) is figure
    axes = np.array(figure.axes).reshape(3, 4)  # rows: input, G(x), residual; one column per image
    assert all(len(ax.images) == 1 and not ax.get_xticks().size and not ax.get_yticks().size for ax in axes.flat)
    residuals = np.abs(images - reconstructions)
    if channels is not None:
        residuals = residuals.mean(axis=-1)  # one residual map per image
    lo, hi = images[:4].min(), images[:4].max()
    for j in range(4):
        np.testing.assert_allclose(axes[0, j].images[0].get_array(), images[j])
        np.testing.assert_allclose(axes[1, j].images[0].get_array(), np.clip(reconstructions[j], lo, hi))
        np.testing.assert_allclose(axes[2, j].images[0].get_array(), residuals[j])
        assert axes[2, j].images[0].get_clim() == pytest.approx((0.0, residuals[:4].max()))
    assert [ax.get_ylabel() for ax in axes[:, 0]] == ["input", "G(x)", "|x - G(x)|"]
    assert [ax.get_ylabel() for ax in axes[:, 1:].flat] == [""] * 9


def test_reconstruction_grid_makes_its_own_figure_and_takes_fewer_images_than_n(rng):
    images = rng.uniform(size=(3, 4, 4))
    fig = plot_reconstructions(images, images, row_labels=("a", "b", "c"))
    try:
        assert len(fig.axes) == 3 * 3
        assert [ax.get_ylabel() for ax in fig.axes[::3]] == ["a", "b", "c"]
        assert fig.axes[-1].images[0].get_clim() == (0.0, 1.0)  # all-zero residuals still get a colour scale
    finally:
        plt.close(fig)
