"""ONNX export (``skgan_ad.export.export_onnx``): onnxruntime gives ``score_samples`` without PyTorch.

Skipped as a whole when the ``onnx`` extra (onnx, onnxscript, onnxruntime) is
not installed. Tolerances: a standardised score crosses zero, so a relative
tolerance alone means nothing for scores near it; every comparison is
``rtol`` plus an absolute tolerance of the same size times the largest
absolute score of the batch (the scores' own scale).
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxscript")
onnxruntime = pytest.importorskip("onnxruntime")

from sklearn.exceptions import NotFittedError  # noqa: E402

from skgan_ad import (  # noqa: E402
    AnoGANDetector,
    DenseSkipAttentionDetector,
    EGBADDetector,
    GANomalyDetector,
    SkipGANomalyDetector,
)
from skgan_ad.export import export_onnx  # noqa: E402

TINY = dict(n_epochs=1, batch_size=16, ngf=4, ndf=4, hidden_dims=(8, 4), random_state=0)

# (detector, data, parameters). Images are (C, H, W): 12x12 is padded to the networks' 16x16 in the
# graph; non-default scoring options (smoothing, per-pixel residual scale, other weights, the "ce"
# discriminator term, the latent-norm part) each appear at least once. SkipGANomaly's defaults are
# residual_sigma=1 and residual_norm="pixel" already.
CASES = {
    "SkipGANomaly-rows": (SkipGANomalyDetector, "rows", {}),
    "SkipGANomaly-1x12x12": (SkipGANomalyDetector, (1, 12, 12), {"lambda_score": 0.6}),
    "GANomaly-rows": (GANomalyDetector, "rows", {"nz": 8, "residual_norm": "pixel", "lambda_score": 0.4}),
    "GANomaly-3x8x8": (
        GANomalyDetector,
        (3, 8, 8),
        {"nz": 8, "residual_sigma": 1.0, "residual_norm": "pixel", "lambda_score": 0.3},
    ),
    "EGBAD-rows": (EGBADDetector, "rows", {"nz": 8, "disc_term": "ce", "latent_norm_weight": 0.5, "lambda_score": 0.7}),
    "EGBAD-1x12x12": (EGBADDetector, (1, 12, 12), {"nz": 8, "latent_norm_weight": 0.2}),
    "DenseSkipAttention-rows": (DenseSkipAttentionDetector, "rows", {}),
    "DenseSkipAttention-3x8x8": (DenseSkipAttentionDetector, (3, 8, 8), {"residual_norm": "pixel"}),
    # The rotation head's part (four rotations of the input traced into the graph), mixed into the score.
    "SkipGANomaly-rotation-1x12x12": (SkipGANomalyDetector, (1, 12, 12), {"w_rotation": 1.0, "rotation_weight": 0.5}),
    "GANomaly-rotation-3x8x8": (GANomalyDetector, (3, 8, 8), {"nz": 8, "w_rotation": 1.0, "rotation_weight": 0.3}),
}


def make_data(kind, n=40):
    """Training data and a test set of 25 new normal and 12 shifted (anomalous) samples, as the detector takes them.

    No test sample is a training sample: those are scored leave-one-out (``embedding`` part), which
    the graph, given pixels only, does not do.
    """
    rng = np.random.RandomState(0)
    if kind == "rows":
        X = rng.normal(size=(n + 25, 5))
        shifted = X[:12] + rng.normal(scale=3.0, size=(12, 5))
    else:
        shape = kind[1:] if kind[0] == 1 else kind  # one channel as (n, H, W), the others as (n, C, H, W)
        X = rng.uniform(size=(n + 25, *shape))
        shifted = np.clip(X[:12] + rng.uniform(-0.8, 0.8, size=(12, *shape)), 0, 1)
    return X[:n], np.concatenate([X[n:], shifted])


def as_rows(X):
    """The graph's input: float64 rows, images flattened in (C, H, W) order."""
    return np.ascontiguousarray(X.reshape(len(X), -1), dtype=np.float64)


def assert_close(got, expected, rtol, scale=None):
    scale = np.abs(expected).max() if scale is None else scale
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * scale)


@pytest.mark.parametrize("embedding_weight", [1.0, 0.5, 0.0])
@pytest.mark.parametrize("case", CASES)
def test_onnxruntime_gives_score_samples(case, embedding_weight, tmp_path):
    """The graph returns score_samples (and, with components=True, the raw parts) for any batch size,
    with the default score, the papers' score and half of each."""
    cls, kind, params = CASES[case]
    X, X_test = make_data(kind)
    detector = cls(**{**TINY, **params, "embedding_weight": embedding_weight}).fit(X)
    path = export_onnx(detector, tmp_path / "detector.onnx", components=True)
    session = onnxruntime.InferenceSession(path)

    expected = detector.score_samples(X_test)
    parts = detector.score_components(X_test)
    assert [o.name for o in session.get_outputs()] == ["score_samples", *parts]
    # Tabular graphs compute in float64 like score_samples; image networks in float32 in both, whose
    # round-off differs between PyTorch and onnxruntime kernels.
    rtol = 1e-9 if kind == "rows" else 1e-4
    scale = np.abs(expected).max()
    for n in (1, 3, len(X_test)):  # the graph was traced with 2 rows: the batch axis is dynamic
        got = session.run(None, {"rows": as_rows(X_test[:n])})
        assert got[0].dtype == np.float64 and got[0].shape == (n,)
        assert_close(got[0], expected[:n], rtol, scale)
        for name, values in zip(parts, got[1:]):
            assert_close(values, parts[name][:n], rtol, np.abs(parts[name]).max())
    # The scores separate normal from shifted samples, so agreeing with them is not agreeing with a constant.
    assert expected[:25].mean() > expected[25:].mean()

    # Inputs far outside the training range: the graph clips the scaled values as score_samples does.
    extreme = X_test[:3] * 1e12
    expected = detector.score_samples(extreme)
    assert_close(session.run(None, {"rows": as_rows(extreme)})[0], expected, rtol)


def test_scoring_options_are_fixed_at_export(tmp_path):
    """The graph keeps the weights the detector had when exported: set_params afterwards changes nothing in it."""
    X, X_test = make_data("rows")
    detector = GANomalyDetector(**TINY, nz=8).fit(X)
    exported = detector.score_samples(X_test)
    session = onnxruntime.InferenceSession(export_onnx(detector, tmp_path / "detector.onnx"))
    detector.set_params(embedding_weight=0.5)  # scoring only: no refit needed, but a new export
    got = session.run(None, {"rows": as_rows(X_test)})[0]
    assert_close(got, exported, 1e-9)
    assert np.abs(detector.score_samples(X_test) - got).max() > 0.1 * np.abs(got).max()


def test_anogan_exports_its_networks_with_the_codes_as_input(tmp_path):
    """AnoGAN's latent search is not in the graph: export needs external_search=True and takes z as input."""
    X, X_test = make_data((1, 8, 8))
    # With latent_norm_weight, the score depends on the codes directly, not only through G (barely
    # trained here, so nearly constant in z); the paper's score alone (embedding_weight=0), as the
    # embedding part (discriminator features of x) does not depend on the codes.
    detector = AnoGANDetector(**TINY, nz=8, n_max=5, latent_norm_weight=1.0, embedding_weight=0.0).fit(X)
    with pytest.raises(ValueError, match="external_search=True"):
        export_onnx(detector, tmp_path / "anogan.onnx")
    session = onnxruntime.InferenceSession(export_onnx(detector, tmp_path / "anogan.onnx", external_search=True))
    assert [i.name for i in session.get_inputs()] == ["rows", "z"]

    z = detector.latent_search(X_test)["z"]
    expected = detector.score_samples(X_test)
    for n in (1, len(X_test)):
        got = session.run(["score_samples"], {"rows": as_rows(X_test[:n]), "z": z[:n]})[0]
        assert_close(got, expected[:n], 1e-4, np.abs(expected).max())
    # The score follows the codes given: codes the search did not find give other scores.
    elsewhere = session.run(["score_samples"], {"rows": as_rows(X_test), "z": z + 1.0})[0]
    assert np.abs(elsewhere - expected).max() > 0.1 * np.abs(expected).max()


def test_parameter_errors(tmp_path):
    X, _ = make_data("rows")
    detector = SkipGANomalyDetector(**TINY).fit(X)
    with pytest.raises(ValueError, match="external_search=True is for AnoGANDetector only"):
        export_onnx(detector, tmp_path / "d.onnx", external_search=True)
    with pytest.raises(ValueError, match="opset_version must be an int of at least 18"):
        export_onnx(detector, tmp_path / "d.onnx", opset_version=17)
    assert not (tmp_path / "d.onnx").exists()


def test_unfitted_or_foreign_estimators_are_refused(tmp_path):
    from sklearn.ensemble import IsolationForest

    with pytest.raises(NotFittedError):
        export_onnx(SkipGANomalyDetector(), tmp_path / "d.onnx")
    with pytest.raises(TypeError, match="IsolationForest"):
        export_onnx(IsolationForest(), tmp_path / "d.onnx")
    assert not (tmp_path / "d.onnx").exists()


def test_missing_extra_names_the_install_line(tmp_path, monkeypatch):
    X, _ = make_data("rows")
    detector = SkipGANomalyDetector(**TINY).fit(X)
    monkeypatch.setitem(sys.modules, "onnxscript", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"pip install 'skgan_ad\[onnx\]'"):
        export_onnx(detector, tmp_path / "d.onnx")


def test_the_graph_runs_without_pytorch(tmp_path):
    """export_onnx's docstring example, scored in a process where importing torch fails."""
    X, X_new = np.random.RandomState(0).normal(size=(64, 4)), np.random.RandomState(1).normal(size=(20, 4))
    detector = SkipGANomalyDetector(n_epochs=2, hidden_dims=(8, 4), random_state=0).fit(X)
    export_onnx(detector, tmp_path / "detector.onnx")
    np.save(tmp_path / "X.npy", X_new)
    script = textwrap.dedent(
        """
        import sys
        sys.modules["torch"] = None  # any import of torch now raises ImportError
        import numpy as np
        import onnxruntime
        session = onnxruntime.InferenceSession("detector.onnx")
        np.save("scores.npy", session.run(["score_samples"], {"rows": np.load("X.npy")})[0])
        """
    )
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=True, timeout=120)
    np.testing.assert_allclose(np.load(tmp_path / "scores.npy"), detector.score_samples(X_new), rtol=1e-9, atol=1e-12)
