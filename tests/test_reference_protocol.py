"""benchmarks/reference_protocol.py: snapshots, the reference score, and BatchNorm in train mode."""

import copy
import json

import numpy as np
import pytest
import torch

from benchmarks import reference_protocol as rp
from skgan_ad import SkipGANomalyDetector

from .conftest import TINY


@pytest.fixture(scope="module")
def fitted(digit_images):
    images, labels = digit_images
    normal = labels != 3
    snapshots = []
    det = SkipGANomalyDetector(
        **{**TINY, "n_epochs": 3}, device="cpu", callbacks=[("snapshots", rp.EpochSnapshots(snapshots.append))]
    )
    det.fit(images[normal][:80])
    X_test = np.concatenate([images[normal][80:], images[~normal]])
    y_test = np.r_[np.zeros(len(images[normal][80:]), int), np.ones((~normal).sum(), int)]
    return det, snapshots, X_test, y_test


def _network_input(det, X):
    rows, _ = det._validate(X)
    return det._geometry().to_network(rows, det.input_shift_, det.input_scale_)


def test_snapshots_one_per_epoch_and_last_is_the_fitted_network(fitted):
    det, snapshots, _, _ = fitted
    assert [epoch for epoch, _, _ in snapshots] == [1, 2, 3]
    _, g_state, d_state = snapshots[-1]
    for state, module in ((g_state, det.generator_), (d_state, det.discriminator_)):
        fitted_state = module.state_dict()
        assert state.keys() == fitted_state.keys()
        assert all(torch.equal(state[k], fitted_state[k]) for k in state)
    # Earlier epochs are different networks, not references to the same tensors.
    first = snapshots[0][1]
    assert any(not torch.equal(first[k], g_state[k]) for k in g_state if first[k].is_floating_point())


def test_eval_mode_reference_score_matches_the_public_score_parts(fitted):
    det, _, X_test, _ = fitted
    x = _network_input(det, X_test)
    order = np.random.RandomState(1).permutation(len(x))
    scores = rp.reference_scores(det, det.generator_, det.discriminator_, x, train_mode=False, order=order)
    parts = det.score_components(X_test)
    expected = rp.REFERENCE_LAMBDA * parts["residual"] + (1 - rp.REFERENCE_LAMBDA) * parts["feature"]
    np.testing.assert_allclose(scores, expected, rtol=1e-4, atol=1e-6)


def test_train_mode_scores_depend_on_the_batch_and_eval_mode_scores_do_not(fitted):
    det, _, X_test, y_test = fitted
    x = _network_input(det, X_test)
    # Copies: a train-mode pass updates BatchNorm's running statistics.
    g, d = copy.deepcopy(det.generator_), copy.deepcopy(det.discriminator_)
    sorted_order = np.argsort(y_test, kind="stable")
    shuffled = np.random.RandomState(0).permutation(len(x))
    kw = dict(detector=det, generator=g, discriminator=d, x=x, batch_size=8)
    eval_sorted = rp.reference_scores(**kw, train_mode=False, order=sorted_order)
    eval_shuffled = rp.reference_scores(**kw, train_mode=False, order=shuffled)
    train_sorted = rp.reference_scores(**kw, train_mode=True, order=sorted_order)
    train_shuffled = rp.reference_scores(**kw, train_mode=True, order=shuffled)
    np.testing.assert_allclose(eval_sorted, eval_shuffled, rtol=1e-4, atol=1e-6)
    assert not np.allclose(train_sorted, train_shuffled, rtol=1e-3)


def test_evaluate_snapshots_leaves_the_fitted_detector_untouched(fitted):
    det, snapshots, X_test, y_test = fitted
    before = det.score_samples(X_test)
    g_before = {k: v.clone() for k, v in det.generator_.state_dict().items()}
    aucs = rp.evaluate_snapshots(det, snapshots, X_test, y_test, seed=0)
    assert set(aucs) == set(rp.MODES)
    assert all(len(v) == 3 and all(0.0 <= a <= 1.0 for a in v) for v in aucs.values())
    # BatchNorm running statistics of the fitted networks are unchanged by the train-mode passes.
    assert all(torch.equal(g_before[k], v) for k, v in det.generator_.state_dict().items())
    np.testing.assert_array_equal(det.score_samples(X_test), before)
    assert not det.generator_.training and not det.discriminator_.training


def test_markdown_table_paper_column():
    record = dict(
        ours_last=0.5,
        per_epoch={mode: [0.4, 0.6, 0.55] for mode in rp.MODES},
    )
    records = [{**record, "class": "bird"}, {**record, "class": "automobile"}]
    table = rp.markdown_table(records, "cifar10")
    # Skip-GANomaly's Table I: bird 0.448, car (CIFAR-10's automobile) 0.953.
    assert "paper: Skip-GANomaly (Table I, leave-one-class-out" in table.splitlines()[0]
    assert "| bird | 0.500 | 0.550 | 0.600 | 0.600 | 0.550 | 0.600 | 0.448 |" in table
    assert table.splitlines()[-1].endswith(f"| **{np.mean([0.448, 0.953]):.3f}** |")
    mnist = rp.markdown_table(records, "mnist")  # nothing published: n/a, and no paper mean
    assert "| bird | 0.500 | 0.550 | 0.600 | 0.600 | 0.550 | 0.600 | n/a |" in mnist
    assert mnist.splitlines()[-1].endswith("|  |")


def test_plot_curves_writes_a_figure(tmp_path):
    pytest.importorskip("matplotlib")
    records = [{"class": c, "ours_last": 0.5, "per_epoch": {mode: [0.4, 0.6, 0.55] for mode in rp.MODES}} for c in "ab"]
    path = tmp_path / "sub" / "curves.png"
    assert rp.plot_curves(records, str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_replot_redraws_table_and_figure_from_a_results_file(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    records = [{"class": "bird", "ours_last": 0.5, "per_epoch": {mode: [0.4, 0.6] for mode in rp.MODES}}]
    path = tmp_path / "reference_protocol_cifar10_cpu.json"
    path.write_text(json.dumps({"records": records}))
    rp.main(["--replot", str(path)])
    assert "| bird | 0.500 | 0.600 | 0.600 | 0.600 | 0.600 | 0.600 | 0.448 |" in capsys.readouterr().out
    assert (tmp_path / "reference_protocol_cifar10_cpu.png").is_file()


def test_main_end_to_end_on_tiny_idx_files(tmp_path, rng, capsys):
    from .test_benchmark_scripts import run_and_show
    from .test_datasets import write_tiny_mnist

    write_tiny_mnist(tmp_path / "data", rng)
    argv = ["--dataset", "mnist", "--classes", "3", "--epochs", "2", "--device", "cpu", "--params", "ngf=8", "ndf=8"]
    result, printed = run_and_show(
        "reference_protocol", [*argv, "--data-root", str(tmp_path / "data")], tmp_path, capsys
    )
    (record,) = result["records"]
    # Leave-one-class-out counts: 36 normal training images; test = 18 normal + 4 + 2 of class 3.
    assert record["class"] == "3" and record["n_train"] == 36 and record["n_test"] == 24
    assert all(len(v) == 2 for v in record["per_epoch"].values()) and result["params"]["n_epochs"] == 2
    assert result["params"]["ngf"] == 8
    assert result["command"].startswith("python -m benchmarks.reference_protocol --dataset mnist")
    assert "| 3 | " in printed
