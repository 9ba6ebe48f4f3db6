"""benchmarks.dev_mixtures: the offline mixture is the detector's own score, and its ranking reads kept parts."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from benchmarks import dev_ablation, dev_mixtures
from skgan_ad import GANomalyDetector, SkipGANomalyDetector

from .test_datasets import write_tiny_mnist


@pytest.mark.parametrize("cls", [GANomalyDetector, SkipGANomalyDetector])
def test_mixture_of_standardised_parts_is_the_anomaly_score(cls):
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(48, 12, 12))
    det = cls(n_epochs=1, batch_size=16, ngf=4, ndf=4, w_rotation=1.0, random_state=0).fit(X)
    parts = det.score_components(X[:9], standardize=True)
    for weights in [(0.0, 1.0, 0.9), (0.3, 0.5, 0.5), (1.0, 0.0, 1.0), (0.25, 0.0, 0.9)]:
        det.set_params(rotation_weight=weights[0], embedding_weight=weights[1], lambda_score=weights[2])
        np.testing.assert_allclose(
            dev_mixtures.mixture(parts, *weights), det.anomaly_score(X[:9]), rtol=1e-10, atol=1e-12
        )


def test_ranking_from_a_dev_ablation_run_with_kept_parts(tmp_path, capsys):
    write_tiny_mnist(tmp_path / "data", np.random.RandomState(0), n_train=300, n_test=20)
    argv = ["--data-root", str(tmp_path / "data"), "--classes", "3", "--width", "4", "--params", "n_epochs=1"]
    argv += ["--n-fit", "16", "--n-val", "8", "--n-anomalies", "8", "--keep-parts", "--out", str(tmp_path / "r")]
    argv += ["--variants", "GANomaly rotation head", "GANomaly rotation score 0.5 (untrained)"]
    dev_ablation.main(argv)
    capsys.readouterr()
    (path,) = (tmp_path / "r").glob("*.json")
    record = json.loads(path.read_text())["records"][0]
    assert len(record["y"]) == 16 and set(record["y"]) == {0, 1}
    kept = record["results"]["GANomaly rotation head"]["standardized"]
    assert set(kept) == {"residual", "latent", "embedding", "rotation"} and all(len(v) == 16 for v in kept.values())

    dev_mixtures.main([str(path), "--variants", "GANomaly rotation head", "--top", "3"])
    printed = capsys.readouterr().out
    rows = [line for line in printed.splitlines() if line.startswith("| 0") or line.startswith("| 1")]
    means = [float(line.split("**")[1]) for line in rows]
    assert means[:3] == sorted(means[:3], reverse=True)  # best first
    assert max(means) == means[0] and "(today's default)" in printed
    assert "mnist one-class" in printed and "margin over untrained" in printed

    # The non-linear rules, each recomputed here from the kept parts.
    parts = {k: np.asarray(v) for k, v in kept.items()}
    for name, rule in dev_mixtures.RULES.items():
        (line,) = [row for row in printed.splitlines() if row.startswith(f"| {name} |")]
        expected = roc_auc_score(record["y"], rule(parts))
        assert float(line.split("**")[1]) == pytest.approx(expected, abs=6e-4)
