"""benchmarks.pixel_metrics and the inspection-maps figure (#26) run end to end on tiny settings.

A tiny MNIST (``write_tiny_mnist``: 30 training images a class) stands in for the real one; the networks are 4
channels wide and train one epoch, so the numbers mean nothing: what is checked is that every method gives every
metric, that the table is printed from the results file, and that no test image is read.
"""

import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

from .test_benchmark_scripts import run_and_show
from .test_datasets import write_tiny_mnist

TINY = ["--n-fit", "16", "--n-val", "6", "--n-anomalies", "8", "--seeds", "0", "--threads", "1", "--stride", "4"]
TINY_PARAMS = ["--params", "ngf=4", "ndf=4", "n_epochs=1", "n_max=3"]  # n_max: AnoGAN's latent search steps


@pytest.fixture
def tiny_mnist(tmp_path):
    """Tiny MNIST IDX files under ``tmp_path/data``, the test images replaced by bytes that are no IDX file."""
    write_tiny_mnist(tmp_path / "data", np.random.RandomState(0), n_train=300, n_test=20)
    (tmp_path / "data" / "mnist" / "t10k-images-idx3-ubyte.gz").write_bytes(b"not an IDX file")
    return tmp_path / "data"


def test_pixel_metrics_every_method_every_metric(tiny_mnist, tmp_path, capsys):
    from benchmarks import pixel_metrics

    argv = ["--data-root", str(tiny_mnist), "--classes", "3", *TINY, *TINY_PARAMS]
    payload, printed = run_and_show("pixel_metrics", argv, tmp_path, capsys)
    assert [p.name for p in (tmp_path / "results").glob("*.json")] == ["pixel_metrics.json"]
    assert payload["split"] == {"n_fit": 16, "n_val": 6, "n_anomalies": 8}
    assert payload["params"] == {"ngf": 4, "ndf": 4, "n_epochs": 1, "n_max": 3}
    (record,) = payload["records"]
    kinds = record["kinds"]  # the test images of each kind: "good" for the normals
    assert record["class"] == "3" and record["seed"] == 0 and kinds.pop("good") == 6 and sum(kinds.values()) == 8
    results = record["results"]
    assert list(results) == pixel_metrics.METHODS
    # The five detectors, each followed by its untrained control; the patch baselines and the whole-image ones.
    assert [m for m in results if m.endswith(" (untrained)")] == [
        f"{d} (untrained)" for d in ("SkipGANomaly", "GANomaly", "DenseSkipAttention", "AnoGAN", "EGBAD")
    ]
    for name, r in results.items():
        with_map = name != "kNN (pixels)"
        assert ("pixel_auc" in r and "aupro" in r) == with_map, name
        metrics = [r["image_auc"], *r["per_defect"].values(), *([r["pixel_auc"], r["aupro"]] if with_map else [])]
        assert all(0 <= v <= 1 for v in metrics), name
        assert list(r["per_defect"]) == [*sorted(kinds), "mean"]
    assert results["SkipGANomaly (untrained)"]["n_iter"] == 1
    assert "| method | image AUROC | pixel AUROC | AUPRO |" in printed
    assert "| kNN (pixels) | " in printed and "| - | - |" in printed  # no map: no pixel metrics
    # --params must name a parameter of a detector that runs.
    with pytest.raises(SystemExit, match="none of the detectors"):
        pixel_metrics.main(["--data-root", str(tiny_mnist), *TINY, "--params", "n_max=3", "--methods", "GANomaly"])


def test_patch_score_maps_give_each_pixel_its_patches_mean_score():
    from sklearn.ensemble import IsolationForest

    from benchmarks.pixel_metrics import patch_score_maps
    from skgan_ad import PatchDetector

    rng = np.random.RandomState(0)
    X = rng.uniform(size=(30, 12, 12))
    # Patches that do not overlap: the map is each patch's score, constant over the patch.
    tiles = PatchDetector(IsolationForest(random_state=0), patch_size=4, random_state=0).fit(X)
    maps, scores = patch_score_maps(tiles, X[:3]), tiles.patch_scores(X[:3])
    np.testing.assert_allclose(maps[:, :4, 4:8], np.broadcast_to(scores[:, 1, None, None], (3, 4, 4)))
    # Overlapping patches: a pixel gets the mean score of the patches that cover it.
    overlapping = PatchDetector(IsolationForest(random_state=0), patch_size=4, stride=2, random_state=0).fit(X)
    maps, scores = patch_score_maps(overlapping, X[:2]), overlapping.patch_scores(X[:2])
    covering = [p for p, (top, left) in enumerate(overlapping.grid_) if top <= 5 < top + 4 and left <= 2 < left + 4]
    np.testing.assert_allclose(maps[:, 5, 2], scores[:, covering].mean(axis=1))


def test_inspection_maps_figure(tiny_mnist, tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    figure = tmp_path / "maps.png"
    example = Path(__file__).resolve().parents[1] / "examples" / "synthetic_defects.py"
    argv = ["--maps", "--data-root", str(tiny_mnist), "--output", str(figure), "--digit", "3"]
    argv += ["--n-fit", "16", "--epochs", "1", "--width", "4"]
    monkeypatch.setattr(sys, "argv", [example.name, *argv])
    runpy.run_path(str(example), run_name="__main__")
    out = capsys.readouterr().out
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "pixel AUROC" in out and "AUPRO" in out
