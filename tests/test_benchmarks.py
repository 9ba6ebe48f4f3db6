"""End-to-end run of the detection benchmark on a tiny MNIST-shaped data set (slow: trains 20 networks)."""

import json
import sys
from pathlib import Path

import pytest

from .test_datasets import write_tiny_mnist

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks import detection  # noqa: E402


@pytest.mark.slow
def test_detection_benchmark_end_to_end(tmp_path, rng):
    write_tiny_mnist(tmp_path / "data", rng)
    out = tmp_path / "results"
    detection.main(
        [
            "--dataset",
            "mnist",
            "--classes",
            "3",
            "--seeds",
            "0",
            "1",
            "--data-root",
            str(tmp_path / "data"),
            "--out",
            str(out),
            "--device",
            "cpu",
            "--methods",
            *detection.GAN_METHODS,
            *detection.BASELINES,
        ]
    )
    result = json.loads((out / "mnist_cpu.json").read_text())
    assert [r["seed"] for r in result["records"]] == [0, 1]
    record = result["records"][0]
    # Leave-one-class-out counts: 36 normal training images; test = 18 normal + 4 + 2 of class 3.
    assert record["n_train"] == 36 and record["n_test"] == 24 and record["n_abnormal_test"] == 6
    assert set(record["results"]) == {*detection.GAN_METHODS, *detection.BASELINES}
    assert all(0.0 <= r["auc"] <= 1.0 and 0.0 <= r["recall_at_5fpr"] <= 1.0 for r in record["results"].values())
    assert "recall at" not in result["table"] and "DenseSkipAttention" in result["recall_table"]
    assert "| 3 |" in result["table"] and "±" in result["table"]
    assert result["environment"]["torch"] and result["command"].startswith("python benchmarks/detection.py")


def _results_file(path, records):
    path.write_text(json.dumps({"records": records}))
    return str(path)


def test_merge_prints_one_table_of_several_runs(tmp_path, capsys):
    def record(cls, auc):
        return {"class": cls, "seed": 0, "results": {"A": {"auc": auc, "recall_at_5fpr": auc / 2}}}

    first = _results_file(tmp_path / "a.json", [record("0", 0.6), record("1", 0.8)])
    second = _results_file(tmp_path / "b.json", [record("2", 0.4)])
    detection.main(["--dataset", "mnist", "--merge", first, second])
    out = capsys.readouterr().out
    assert "| 0 | 0.600 | n/a |" in out and "| 2 | 0.400 | n/a |" in out
    assert "| **mean** | **0.600** | |" in out and "| **mean** | **0.300** |" in out  # AUC, then recall
    other = {"class": "3", "seed": 0, "results": {"B": {"auc": 0.5, "recall_at_5fpr": 0.1}}}
    with pytest.raises(ValueError, match="different methods"):
        detection.main(["--dataset", "mnist", "--merge", first, _results_file(tmp_path / "c.json", [other])])
