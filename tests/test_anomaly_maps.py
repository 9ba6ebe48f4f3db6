"""anomaly_map on every image detector: shape, smoothing, errors, and that it finds a pasted defect."""

import numpy as np
import pytest

from skgan_ad import (
    AnoGANDetector,
    DenseSkipAttentionDetector,
    EGBADDetector,
    GANomalyDetector,
    SkipGANomalyDetector,
)

from .conftest import TINY

DETECTORS = [
    (SkipGANomalyDetector, dict(ngf=8, ndf=8)),
    (DenseSkipAttentionDetector, dict(ngf=8, ndf=8)),
    (GANomalyDetector, dict(ngf=8, ndf=8, nz=16)),
    (EGBADDetector, dict(ngf=8, ndf=8, nz=16)),
    (AnoGANDetector, dict(ngf=8, ndf=8, nz=16, n_max=50)),
]


def _gratings(rng, n, size=16):
    """Smooth sinusoidal gratings with random phase and frequency: easy to learn, nothing square in them."""
    yy, xx = np.mgrid[0:size, 0:size]
    phase, freq = rng.uniform(0, 2 * np.pi, n), rng.uniform(0.3, 0.6, n)
    return (0.5 + 0.25 * np.sin(freq[:, None, None] * xx[None] + phase[:, None, None])).astype(np.float32)


@pytest.mark.parametrize("cls, params", DETECTORS, ids=lambda v: getattr(v, "__name__", ""))
def test_map_peaks_inside_a_pasted_square(cls, params):
    rng = np.random.RandomState(0)
    X = _gratings(rng, 300)
    det = cls(n_epochs=5, batch_size=16, random_state=0, **params).fit(X)
    defects, corners = X[:20].copy(), rng.randint(0, 12, size=(20, 2))
    for image, (r, c), value in zip(defects, corners, rng.rand(20) < 0.5):
        image[r : r + 4, c : c + 4] = float(value)  # a white or black 4x4 square
    maps = det.anomaly_map(defects)
    assert maps.shape == (20, 16, 16) and maps.dtype == np.float64
    peaks = np.array([np.unravel_index(m.argmax(), m.shape) for m in maps])
    inside = ((peaks >= corners) & (peaks < corners + 4)).all(axis=1)
    assert inside.mean() >= 0.8, inside  # chance: 16 of 256 pixels


def test_map_layouts_smoothing_and_errors(digit_images, rng):
    X = digit_images[0]
    det = SkipGANomalyDetector(**TINY).fit(X)
    raw, smooth = det.anomaly_map(X[:4], sigma=0), det.anomaly_map(X[:4])
    assert raw.shape == smooth.shape == (4, 8, 8) and (raw >= 0).all()
    assert smooth.std() < raw.std()  # smoothing spreads the residual
    np.testing.assert_allclose(det.anomaly_map(X[:4].reshape(4, -1)), smooth)  # flat rows, same image_shape_
    # At sigma=0 the map is the channel mean of |x - G(x)| in the network's [-1, 1] scale.
    residual = np.abs(X[:4] - det.reconstruct(X[:4])) / det.input_scale_
    np.testing.assert_allclose(raw, residual, atol=1e-5)
    with pytest.raises(ValueError, match="sigma"):
        det.anomaly_map(X[:2], sigma=-1)
    tabular = SkipGANomalyDetector(**TINY).fit(rng.normal(size=(40, 3)))
    with pytest.raises(ValueError, match="tabular"):
        tabular.anomaly_map(rng.normal(size=(2, 3)))
