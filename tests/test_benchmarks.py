"""benchmarks/detection.py and the shared harness: both protocols end to end on tiny IDX files, the paper
columns, merging results files, and the harness's options."""

import json
import re
from pathlib import Path

import pytest
import torch

from benchmarks import _harness, detection

from .test_benchmark_scripts import run_and_show

PAPERS = Path(__file__).resolve().parents[2] / "shared" / "PAPERS.md"
TINY_DETECTORS = ["--params", "ngf=4", "ndf=4", "n_epochs=1", "batch_size=16"]


def tiny_mnist(tmp_path, rng, n_train):
    from .test_datasets import write_tiny_mnist

    write_tiny_mnist(tmp_path / "data", rng, n_train=n_train, n_test=20)
    return ["--dataset", "mnist", "--device", "cpu", "--data-root", str(tmp_path / "data")]


def test_leave_one_class_out_end_to_end(tmp_path, rng, capsys):
    argv = [*tiny_mnist(tmp_path, rng, 100), "--classes", "3", "--seeds", "0", "1", *TINY_DETECTORS]
    argv += ["--methods", "SkipGANomaly", *_harness.BASELINES]
    result, printed = run_and_show("detection", argv, tmp_path, capsys)
    assert (tmp_path / "results" / "mnist_cpu.json").is_file()
    assert result["protocol"] == "leave-one-class-out" and [r["seed"] for r in result["records"]] == [0, 1]
    record = result["records"][0]
    # 90 normal training images; test = 18 normal + class 3's 2 test images (its training images are not
    # tested: they could be development data).
    assert record["n_train"] == 90 and record["n_test"] == 20 and record["n_abnormal_test"] == 2
    assert list(record["results"]) == ["SkipGANomaly", *_harness.BASELINES]
    assert all(0.0 <= r["auc"] <= 1.0 and 0.0 <= r["recall_at_5fpr"] <= 1.0 for r in record["results"].values())
    # The --params reach the detectors, and the budget is stated in optimiser steps: 81 images, batch 16.
    assert result["preset_params"]["detector"]["n_epochs"] == 1
    assert "about 6 optimiser steps" in result["training_budget"] and "training budget" in printed
    assert "| 3 | " in printed and "±" in printed and "abnormal class" in printed
    assert "paper:" not in printed  # no published column for MNIST under this protocol
    assert "not the papers' protocol" in printed  # the anomalies' origin is said


def test_one_class_end_to_end(tmp_path, rng, capsys):
    try:
        import pyod  # noqa: F401

        peers = list(detection.PYOD_PEERS)
    except ImportError:
        peers = []
    result, printed = run_and_show(
        "detection",
        [*tiny_mnist(tmp_path, rng, 200), "--protocol", "one-class", "--classes", "3", *TINY_DETECTORS],
        tmp_path,
        capsys,
    )
    assert (tmp_path / "results" / "mnist_one_class_cpu.json").is_file() and result["protocol"] == "one-class"
    (record,) = result["records"]
    # Normal: the 20 training images of class 3; test: the whole test split, 18 of its 20 images anomalies.
    assert record["n_train"] == 20 and record["n_test"] == 20 and record["n_abnormal_test"] == 18
    # Every method by default; PyOD's peers where PyOD is installed, a note where it is not.
    assert list(record["results"]) == [*detection.GAN_METHODS, *_harness.BASELINES, *peers]
    assert ("pyod is not installed" in printed) == (not peers)
    assert "| normal class |" in printed and "Deep SVDD" in printed and "Table I" not in printed


def _records(classes, auc=0.5, method="A"):
    return [{"class": c, "seed": 0, "results": {method: {"auc": auc, "recall_at_5fpr": auc / 2}}} for c in classes]


def test_paper_columns_only_beside_the_same_data_set_and_protocol():
    cifar = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    table = detection.markdown_table(_records(cifar), "cifar10", "leave-one-class-out")
    header = table.splitlines()[0]
    assert header.count("paper:") == 4 and "Skip-GANomaly (Skip-GANomaly Table I, leave-one-class-out)" in header
    # The paper's "plane" and "car" are CIFAR-10's airplane and automobile.
    assert "| airplane | 0.500 | 0.516 | 0.577 | 0.633 | 0.797 |" in table
    assert "| automobile | 0.500 | 0.492 | 0.514 | 0.631 | 0.953 |" in table
    assert table.splitlines()[-1] == "| **mean** | **0.500** | **0.434** | **0.462** | **0.610** | **0.731** |"
    # Fewer classes than the paper's: its per-class values, but no published mean beside a partial mean.
    partial = detection.markdown_table(_records(["bird"]), "cifar10", "leave-one-class-out")
    assert "| bird | 0.500 | 0.411 | 0.383 | 0.510 | 0.448 |" in partial
    assert partial.splitlines()[-1] == "| **mean** | **0.500** |  |  |  |  |"
    one_class = detection.markdown_table(_records(cifar), "cifar10", "one-class")
    assert "Table I" not in one_class and "| airplane | 0.500 |  |  |  |  |" in one_class
    assert one_class.splitlines()[-1] == "| **mean** | **0.500** | **0.648** | **0.657** | **0.860** | **0.612** |"
    assert "paper" not in detection.markdown_table(_records("01"), "mnist", "leave-one-class-out")
    assert "paper" not in detection.markdown_table(_records(cifar), "cifar10", "leave-one-class-out", "recall_at_5fpr")


@pytest.mark.skipif(not PAPERS.is_file(), reason="../shared/PAPERS.md is not here")
def test_paper_numbers_are_those_of_papers_md():
    text = PAPERS.read_text()
    header = re.search(r"^\| model \| bird \| car .*$", text, re.M).group(0)
    classes = [c.strip() for c in header.strip("|").split("|")[1:]]
    names = {"car": "automobile", "plane": "airplane"}
    columns = {
        p.label.split(" (")[0].removeprefix("paper: "): p for p in detection.PAPER_AUC["cifar10", detection.LOCO]
    }
    for model in ("AnoGAN", "EGBAD", "GANomaly", "Skip-GANomaly"):
        row = re.search(rf"^\| {re.escape(model)} \| (0\.\d{{3}} \|.*)$", text, re.M).group(1)
        published = dict(zip(classes, (float(v) for v in row.strip("|").split("|")), strict=True))
        assert columns[model].per_class == {names.get(c, c): v for c, v in published.items()}
        mean = float(re.search(rf"{re.escape(model)} (0\.\d{{3}})[,.]", text.split("Means:")[1]).group(1))
        assert columns[model].mean == mean
    one_class_section = text.split("## Published one-class results")[1]
    for dataset, position in (("mnist", 0), ("cifar10", 1)):
        for column in detection.PAPER_AUC[dataset, detection.ONE_CLASS]:
            name = column.label.removeprefix("paper: ").split(",")[0].split(" as reported")[0]
            row = re.search(rf"^\| {re.escape(name)}[ (].*$", one_class_section, re.M).group(0)
            values = [float(v) for v in re.findall(r"0\.\d{3}", row)]
            assert column.mean == values[position]


def _results_file(path, records, **extra):
    path.write_text(json.dumps({"records": records, **extra}))
    return str(path)


def test_merge_prints_one_table_of_several_runs(tmp_path, capsys):
    first = _results_file(tmp_path / "a.json", _records("0", 0.6) + _records("1", 0.8))
    second = _results_file(tmp_path / "b.json", _records("2", 0.4))  # written before protocols: leave-one-class-out
    detection.main(["--dataset", "mnist", "--merge", first, second])
    out = capsys.readouterr().out
    assert "mnist, leave-one-class-out" in out and "| 0 | 0.600 |" in out and "| 2 | 0.400 |" in out
    assert "| **mean** | **0.600** |" in out and "| **mean** | **0.300** |" in out  # AUC, then recall
    other = _results_file(tmp_path / "c.json", _records("3", method="B"))
    with pytest.raises(ValueError, match="different methods"):
        detection.main(["--dataset", "mnist", "--merge", first, other])
    one_class = _results_file(tmp_path / "d.json", _records("3", 0.6), protocol="one-class")
    with pytest.raises(ValueError, match="different protocols"):
        detection.main(["--dataset", "mnist", "--merge", first, one_class])


def test_existing_results_files_still_print(capsys):
    results = Path(_harness.__file__).parent / "results"
    detection.main(["--show", str(results / "cifar10_cpu.json")])  # the data set is read from its command
    out = capsys.readouterr().out
    assert "| airplane | 0.475 | 0.466 | 0.562 | 0.412 | 0.516 | 0.577 | 0.633 | 0.797 |" in out
    assert "| **mean** | **0.506** | **0.505** | **0.517** | **0.505** | **0.434** |" in out


def test_parse_params_and_threads():
    assert _harness.parse_params(["ngf=8", "lr=2e-3", "n_epochs=auto", "hidden_dims=(8, 4)"]) == dict(
        ngf=8, lr=2e-3, n_epochs="auto", hidden_dims=(8, 4)
    )
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        _harness.parse_params(["ngf"])
    before = torch.get_num_threads()
    try:
        args = _harness.parse_args(_harness.make_parser(None), ["--threads", "1", "--tag", "x"])
        assert torch.get_num_threads() == 1 and args.argv == ["--threads", "1", "--tag", "x"]
        assert _harness.results_path(args, "stem") == str(Path("benchmarks", "results", "stem_x.json"))
        assert _harness.command("benchmarks.speed", args) == "python -m benchmarks.speed --threads 1 --tag x"
    finally:
        torch.set_num_threads(before)


def test_training_budget_counts_optimiser_steps():
    preset = {"detector": dict(n_epochs=5, batch_size=64)}
    assert "about 215 optimiser steps" in detection.training_budget(preset, 3000)  # 2,700 images: 43 batches
    # min_steps adds epochs until the steps are reached: 1,000 steps of 43 batches = 24 epochs, 1,032 steps.
    budget = detection.training_budget({"detector": dict(n_epochs=5, batch_size=64, min_steps=1000)}, 3000)
    assert budget.startswith("24 epochs (n_epochs=5, min_steps=1000)") and "about 1032 optimiser steps" in budget
