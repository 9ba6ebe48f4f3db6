"""Residual scoring options (smoothing, per-pixel normalisation) and the U-Net's number of skips."""

import numpy as np
import pytest
import torch

from skgan_ad import SkipGANomalyDetector
from skgan_ad._outlier import draw_seed, holdout_split
from skgan_ad.nets import SkipMLPGenerator, SkipUNetGenerator

from .conftest import TINY
from .test_vocabulary import DETECTORS


@pytest.mark.parametrize("cls", DETECTORS, ids=lambda c: c.__name__)
def test_smoothed_residual_is_the_smoothed_anomaly_map(cls, digit_images):
    """residual_sigma smooths |x - G(x)| like anomaly_map (scipy's gaussian_filter), then takes the mean square."""
    X = digit_images[0][:40]
    det = cls(**DETECTORS[cls], residual_sigma=1.5, residual_norm="none").fit(X)
    maps = det.anomaly_map(X[:6], sigma=1.5)  # network units, channels averaged, scipy-smoothed
    expected = (maps**2).reshape(6, -1).mean(axis=1)
    np.testing.assert_allclose(det.score_components(X[:6])["residual"], expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("cls", DETECTORS, ids=lambda c: c.__name__)
def test_pixel_normalised_residual(cls, digit_images):
    """residual_norm='pixel' divides each pixel's residual by its mean on the held-out normals."""
    X = digit_images[0][:40]
    plain = cls(**DETECTORS[cls], residual_sigma=0.0, residual_norm="none").fit(X)
    det = cls(**DETECTORS[cls], residual_sigma=0.0, residual_norm="pixel").fit(X)
    assert plain.residual_scale_ is None and det.residual_scale_.shape == (1, 8, 8)
    power = 2 if det._distance == "l2" else 1
    per_pixel = plain.anomaly_map(X[:6], sigma=0) ** power  # same networks: residual options train nothing
    expected = (per_pixel / det.residual_scale_[0]).reshape(6, -1).mean(axis=1)
    np.testing.assert_allclose(det.score_components(X[:6])["residual"], expected, rtol=1e-5, atol=1e-7)
    assert np.all(det.residual_scale_ >= det._PIXEL_SCALE_FLOOR)
    # Switching the option after fit needs a refit, and a score that uses the residual says so.
    plain.set_params(residual_norm="pixel", embedding_weight=0.5)
    with pytest.raises(ValueError, match="refit"):
        plain.score_samples(X[:3])


def test_pixel_scale_comes_from_the_held_out_rows(digit_images):
    X = digit_images[0][:50]
    det = SkipGANomalyDetector(**TINY, residual_sigma=0.0, residual_norm="pixel").fit(X)
    rng = np.random.RandomState(TINY["random_state"])
    draw_seed(rng)
    rows = X.reshape(len(X), -1)
    _, held_out = holdout_split(rows, det.validation_fraction, rng)
    maps = SkipGANomalyDetector(**TINY, residual_sigma=0.0).fit(X).anomaly_map(held_out.reshape(-1, 8, 8), sigma=0) ** 2
    np.testing.assert_allclose(det.residual_scale_[0], maps.mean(axis=0) + det._PIXEL_SCALE_FLOOR, rtol=1e-5)


def test_tabular_rows_get_a_per_feature_scale(rng):
    det = SkipGANomalyDetector(**TINY, residual_norm="pixel", residual_sigma=2.0).fit(rng.normal(size=(60, 5)))
    assert det.residual_scale_.shape == (5,)  # smoothing applies to images only
    assert np.isfinite(det.score_samples(rng.normal(size=(4, 5)))).all()


@pytest.mark.parametrize("n_skips, kept", [(None, 4), (0, 0), (1, 1), (3, 3), (9, 4)])
def test_unet_keeps_the_innermost_skips(n_skips, kept):
    gen = SkipUNetGenerator(1, 32, n_skips=n_skips, ngf=4)
    widths = [4, 8, 16, 32, 32]  # ngf * 2**level, capped at 8 * ngf; level 4 is the 1x1 code
    # Up blocks run innermost first; a block with a skip takes twice its level's width.
    inputs = [block[1].in_channels for block in gen.up]
    has_skip = [c == 2 * w for c, w in zip(inputs, reversed(widths))]
    assert has_skip == [False] + [True] * kept + [False] * (4 - kept)
    assert gen(torch.zeros(2, 1, 32, 32)).shape == (2, 1, 32, 32)


def test_without_skips_the_output_depends_on_the_code_only():
    """n_skips=0: G(x) is the decoder applied to the 1x1 code alone."""
    torch.manual_seed(0)
    gen = SkipUNetGenerator(1, 8, n_skips=0, ngf=4).eval()
    x = torch.randn(2, 1, 8, 8)
    h = x
    for block in gen.down:
        h = block(h)
    for block in gen.up:
        h = block(h)
    torch.testing.assert_close(gen(x), h)
    assert SkipMLPGenerator(6, (8, 4, 2), n_skips=0)(torch.zeros(3, 6)).shape == (3, 6)


def test_detector_passes_n_skips_to_its_generators(rng):
    X = rng.uniform(size=(40, 8, 8))
    det = SkipGANomalyDetector(**TINY, n_skips=1).fit(X)
    assert det.generator_.n_skips == 1
    rows = SkipGANomalyDetector(**TINY, n_skips=0).fit(rng.normal(size=(40, 5)))
    assert rows.generator_.n_skips == 0


@pytest.mark.parametrize("distance", ["l1", "l2"])
def test_smoothing_makes_a_coherent_defect_count_more(distance):
    """The same total error scores higher as one 4x4 blob than scattered over 16 pixels (any distance)."""
    det = SkipGANomalyDetector(residual_sigma=1.0, residual_norm="none")
    det._distance = distance
    geometry = type("G", (), {"is_image": True, "crop": staticmethod(lambda t: t)})()
    x_hat = torch.zeros(2, 1, 16, 16)
    x = torch.zeros(2, 1, 16, 16)
    x[0, 0, 6:10, 6:10] = 1.0  # coherent
    x[1, 0, ::4, ::4] = 1.0  # scattered, same mass
    blob, scattered = det._residual(x, x_hat, geometry)
    assert blob > 2 * scattered
    det.residual_sigma = 0.0
    unsmoothed = det._residual(x, x_hat, geometry)
    torch.testing.assert_close(unsmoothed[0], unsmoothed[1])  # without smoothing they are the same
