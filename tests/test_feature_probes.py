"""benchmarks._feature_probes: kNN on a fitted detector's intermediate encoder features (issue 25's probes)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks import _feature_probes as probes
from benchmarks import dev_ablation
from skgan_ad import GANomalyDetector, SkipGANomalyDetector

from .test_datasets import write_tiny_mnist


@pytest.mark.parametrize("cls", [GANomalyDetector, SkipGANomalyDetector])
def test_encoder_maps_are_the_convolutions_of_encode(cls):
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(40, 16, 16))
    det = cls(n_epochs=1, batch_size=16, ngf=4, ndf=4, random_state=0).fit(X)
    maps = probes.encoder_maps(det, X[:21])  # 21: not a multiple of the batch size (padding is dropped)
    assert [m.shape[0] for m in maps] == [21] * len(maps)
    assert maps[0].shape[2:] == (8, 8)  # the first stride-2 convolution
    # The last convolution of encode is the code itself: the embedding part's input.
    np.testing.assert_allclose(maps[-1].reshape(21, -1), det.embed(X[:21]), rtol=1e-5, atol=1e-6)
    # A sample's maps do not depend on the other samples scored with it.
    np.testing.assert_allclose(probes.encoder_maps(det, X[3:4])[0][0], maps[0][3], rtol=1e-5, atol=1e-6)


def test_local_probe_finds_a_small_defect_that_the_pooled_one_misses():
    rng = np.random.RandomState(1)
    train = [rng.normal(size=(60, 3, 8, 8)).astype(np.float32)]
    test = rng.normal(size=(20, 3, 8, 8)).astype(np.float32)
    test[10:, :, 2:4, 2:4] += 12.0  # a 2x2 blotch on half the test maps
    local = probes.local_scores(train, [test], seed=0, min_size=4)
    assert local[10:].min() > local[:10].max()
    pooled = probes.pooled_scores(train, [test])
    # Averaged over 64 locations the blotch moves the pooled vector far less than it moves its own location.
    assert (pooled[10:].mean() - pooled[:10].mean()) / pooled[:10].std() < (
        (local[10:].mean() - local[:10].mean()) / local[:10].std()
    )


def test_dev_ablation_records_the_probes(tmp_path, capsys):
    write_tiny_mnist(tmp_path / "data", np.random.RandomState(0), n_train=300, n_test=20)
    argv = ["--data-root", str(tmp_path / "data"), "--classes", "3", "--width", "4", "--params", "n_epochs=1"]
    argv += ["--n-fit", "16", "--n-val", "8", "--n-anomalies", "8", "--probes", "--out", str(tmp_path / "r")]
    argv += ["--variants", "GANomaly (default)"]
    dev_ablation.main(argv)
    capsys.readouterr()
    (path,) = (tmp_path / "r").glob("*.json")
    result = json.loads(path.read_text())["records"][0]["results"]["GANomaly (default)"]
    assert set(result["probes"]) == {"pooled", "local"}
    assert all(0.0 <= auc <= 1.0 for auc in result["probes"].values())
