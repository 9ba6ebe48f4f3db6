"""Every example script runs, end to end, with tiny settings, as ``python examples/<name>.py`` would run it.

A renamed parameter of the library then breaks a test, not a user's first
try. The scripts are run with ``runpy`` under ``__main__`` and their own
command-line options (tiny widths and epochs); figures go to ``tmp_path``.
"""

import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name: str, argv: list, monkeypatch, capsys) -> str:
    """Run ``examples/<name>`` as a script with ``argv``; returns what it printed."""
    monkeypatch.setattr(sys, "argv", [name, *argv])
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    return capsys.readouterr().out


def test_every_example_has_a_smoke_test():
    tested = {
        "digits_demo.py",
        "grid_search.py",
        "threshold.py",
        "elpv_solar_cells.py",
        "plot_gallery.py",
        "dask_grid_search.py",
        "distributed_fit.py",
        "synthetic_defects.py",
    }
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested


def test_digits_demo(tmp_path, monkeypatch, capsys):
    figure = tmp_path / "demo.png"
    out = run_example(
        "digits_demo.py",
        ["--classes", "1", "--epochs", "1", "--width", "4", "--figure", str(figure)]
        + ["--detectors", "SkipGANomaly", "EGBAD"],  # AnoGAN's 500-step search would dominate the test's time
        monkeypatch,
        capsys,
    )
    assert (
        "| abnormal digit | SkipGANomaly | SkipGANomaly (untrained) | EGBAD | EGBAD (untrained) | IsolationForest | "
        "PCA recon. | kNN (pixels) |"
    ) in out
    assert "| 1 | " in out and "- EGBAD: " in out and "images/s" in out
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in out
    else:
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_grid_search(monkeypatch, capsys):
    out = run_example("grid_search.py", ["--epochs", "1", "--width", "4"], monkeypatch, capsys)
    assert out.count("validation AUC") == 8  # 2 w_con x 2 embedding_weight x 2 lambda_score
    assert "best: {'embedding_weight':" in out and "test AUC of the chosen configuration" in out


def test_threshold(monkeypatch, capsys):
    out = run_example("threshold.py", ["--epochs", "1", "--width", "4"], monkeypatch, capsys)
    lines = [line for line in out.splitlines() if line.startswith("target FPR")]
    assert [line.split(":")[0] for line in lines] == ["target FPR 0.01", "target FPR 0.05", "target FPR 0.10"]
    assert all("calibration scores" in line for line in lines)


def test_elpv_example_on_an_image_folder(tmp_path, rng, monkeypatch, capsys):
    from .test_datasets import make_class_folders  # needs Pillow to write the images

    make_class_folders(tmp_path / "parts" / "train", rng, {"good": 12}, shape=(32, 32))
    make_class_folders(tmp_path / "parts" / "test", rng, {"good": 4, "crack": 4}, shape=(32, 32))
    figure = tmp_path / "maps.png"
    argv = ["--folder", str(tmp_path / "parts"), "--grey", "--downscale", "1", "--patch-size", "16"]
    argv += ["--epochs", "1", "--width", "4", "--max-train", "0", "--threads", str(_threads()), "--figure", str(figure)]
    out = run_example("elpv_solar_cells.py", argv, monkeypatch, capsys)
    assert "training on 12 normal images; testing on 4 normal, 4 abnormal" in out
    for method in ("DenseSkipAttention", "IsolationForest", "PCA"):
        assert f"| {method} | " in out
    assert "4 patches of" in out


def test_elpv_example_says_how_to_get_the_data_without_the_extra(monkeypatch, capsys):
    try:
        import elpv_dataset  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("elpv-dataset is installed: the example would load the real images")
    with pytest.raises(SystemExit, match="pip install elpv-dataset"):
        run_example("elpv_solar_cells.py", ["--threads", str(_threads())], monkeypatch, capsys)


def _threads() -> int:
    """torch's current thread count: the example sets it, and this leaves it as it was."""
    import torch

    return torch.get_num_threads()


def test_plot_gallery(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    argv = ["--epochs", "1", "--width", "4", "--embedding", "pca", "--output", str(tmp_path)]
    out = run_example("plot_gallery.py", argv, monkeypatch, capsys)
    assert "abnormal digit 8: ROC AUC" in out
    for name in "score_histogram reconstructions training_curves feature_embedding anomaly_maps roc_curve".split():
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_synthetic_defects_figure(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    figure = tmp_path / "defects.png"
    # No data root: the script falls back to the 8x8 digits upscaled and random textures.
    run_example(
        "synthetic_defects.py", ["--data-root", str(tmp_path / "none"), "--output", str(figure)], monkeypatch, capsys
    )
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
