"""Every benchmark script runs, end to end, with tiny settings: a renamed parameter cannot break one silently.

Each run writes its results file under ``tmp_path``; the test then prints the
table again from that file with ``--show`` and checks it is the table the run
printed. Scripts are imported as modules of the ``benchmarks`` package, as
``python -m benchmarks.<name>`` runs them from the repository root.
"""

import importlib
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

# The digits task subsampled: 60 training and 60 test images (a seeded pick).
SMALL = ["--max-train", "60", "--max-test", "60"]
REPO = Path(__file__).resolve().parents[1]


def run_and_show(module: str, argv: list, tmp_path, capsys) -> tuple[dict, str]:
    """Run ``benchmarks.<module>.main(argv + --out tmp_path)``; check ``--show`` reprints its table from the file.

    Returns the results file's content and what the run printed.
    """
    script = importlib.import_module(f"benchmarks.{module}")
    out = tmp_path / "results"
    script.main([*argv, "--out", str(out)])
    printed = capsys.readouterr().out
    (path,) = out.glob("*.json")
    payload = json.loads(path.read_text())
    assert payload["command"].startswith(f"python -m benchmarks.{module} ")
    assert payload["environment"]["torch"] and payload["wall_s"] >= 0
    assert {"git_commit", "git_clean"} <= set(payload["environment"])  # provenance, in every results file
    script.main(["--show", str(path)])
    shown = capsys.readouterr().out.strip().splitlines()
    assert shown and all(line in printed for line in shown)
    return payload, printed


def test_speed(tmp_path, capsys):
    from benchmarks import speed

    argv = ["--datasets", "digits", "--n", "32", "--epochs", "1", "--repeats", "1", "--presets", "cpu"]
    argv += ["--params", "ngf=4", "ndf=4"]
    payload, printed = run_and_show("speed", argv, tmp_path, capsys)
    methods = [r["method"].split(",")[0] for r in payload["results"]]
    assert methods == [m for m in speed.DETECTORS for _ in speed.DTYPES] + [
        "IsolationForest",
        "PCA(16) recon.",
        "kNN (pixels)",
    ]
    assert all(r["fit_s"] > 0 and r["train_images_per_s"] > 0 for r in payload["results"])
    gans = [r for r in payload["results"] if "precision" in r]
    assert [r["precision"] for r in gans[:2]] == ["float32", "bfloat16"]
    # Achieved GFLOP/s: a positive share of the measured matmul peak of the same precision.
    assert set(payload["matmul_peak_gflops"]) == {"float32", "bfloat16"}
    # Only the training steps' FLOPs count (AnoGAN's fit-time latent search once made it "230 %" of the peak).
    assert all(r["train_gflops"] > 0 and 0 < r["share_of_peak"] < 1 for r in gans)
    # The training steps are part of the fit: their throughput is the higher one.
    assert all(r["train_images_per_s"] > r["fit_images_per_s"] for r in gans)
    assert "bfloat16 / float32 training images/s (steps): digits 8x8 (n=32), SkipGANomaly:" in printed
    assert "Measured matmul peak" in printed
    assert "| digits 8x8 (n=32) | SkipGANomaly, preset cpu" in printed


def test_ablation(tmp_path, capsys):
    from benchmarks import ablation

    argv = ["--digits", "4", "--ngf", "4", "--epochs", "1", "--batch-size", "64", *SMALL]
    payload, printed = run_and_show("ablation", argv, tmp_path, capsys)
    assert list(payload["records"]) == list(ablation.VARIANTS)
    assert all(0 <= r["4"]["auc"] <= 1 for r in payload["records"].values())
    assert payload["params"]["ngf"] == 4 and "| no attention |" in printed


def test_contamination_trims_as_many_samples_as_were_injected(tmp_path, capsys):
    argv = ["--digits", "4", "--width", "4", "--epochs", "3", *SMALL]
    payload, printed = run_and_show("contamination", argv, tmp_path, capsys)
    record = payload["records"]["4"]
    # trim_fraction = share: the last epoch leaves out as many samples as the 5 % that were injected.
    assert record["n_injected"] == round(0.05 / 0.95 * record["n_train_clean"])
    assert record["dropped_last_epoch"] == record["n_injected"]
    assert all(0 <= record[k] <= 1 for k in ("clean", "contaminated", "trimmed"))
    assert payload["params"]["n_epochs"] == 3 and "| **mean** |" in printed


def test_digits_peers_skips_pyod_cleanly_without_it(tmp_path, capsys):
    from benchmarks import digits_peers

    try:
        import pyod  # noqa: F401

        has_pyod = True
    except ImportError:
        has_pyod = False
    # PyOD's AnoGAN takes minutes: only ALAD of the peers, and only where PyOD is installed.
    methods = [*digits_peers.OURS, "PyOD-ALAD", *digits_peers.BASELINES]
    out = tmp_path / "results"
    argv = [
        "--digits",
        "4",
        "--width",
        "4",
        "--epochs",
        "1",
        "--n-max",
        "5",
        *SMALL,
        "--out",
        str(out),
        "--methods",
        *methods,
    ]
    digits_peers.main(argv)
    printed = capsys.readouterr().out
    assert ("pyod is not installed, skipping PyOD-ALAD" in printed) != has_pyod
    (record,) = json.loads((out / "digits_peers.json").read_text())["records"]
    expected = {*digits_peers.OURS, "AnoGAN n_max=50", "AnoGAN (MLP) n_max=50", *digits_peers.BASELINES}
    assert set(record["results"]) == expected | ({"PyOD-ALAD"} if has_pyod else set())
    # --resume runs nothing that is done, and keeps both commands.
    digits_peers.main([*argv, "--resume"])
    result = json.loads((out / "digits_peers.json").read_text())
    assert len(result["commands"]) == 2 and result["commands"][1].endswith("--resume")
    assert {"git_commit", "git_clean"} <= set(result["environment"])  # it writes its file itself
    assert result["records"][0]["results"] == record["results"]


def test_combine(tmp_path, capsys):
    payload, printed = run_and_show(
        "combine",
        ["--digits", "4", "--width", "4", "--epochs", "1", "--max-train", "260", "--max-test", "60"],
        tmp_path,
        capsys,
    )
    assert list(payload["records"]["4"]) == ["fixed lambda=0.9", "logistic regression", "RBF SVM"]
    assert "| 4 |" in printed


def test_digits_sweep_reports_each_score_part(tmp_path, capsys):
    argv = ["--config", "w16", "w32_lambda0", "--digits", "4", "--epochs", "1", *SMALL]
    payload, printed = run_and_show("digits_sweep", argv, tmp_path, capsys)
    assert list(payload["configs"]) == ["w16", "w32_lambda0"]
    assert set(payload["configs"]["w16"]["per_digit"]["4"]) == {"score", "residual", "feature"}
    # lambda_score=0 scores by the feature part alone.
    lambda0 = payload["configs"]["w32_lambda0"]["per_digit"]["4"]
    assert lambda0["score"] == pytest.approx(lambda0["feature"])


def test_grid_cache_counts_trainings(tmp_path, capsys):
    argv = ["--epochs", "1", "--width", "4", "--lambdas", "0", "1", *SMALL]
    payload, printed = run_and_show("grid_cache", argv, tmp_path, capsys)
    # 2 lambdas x 3 folds + the refit without a cache; one per fold + the refit cold; none warm.
    assert [r["trainings"] for r in payload["rows"]] == [7, 4, 0]
    assert len({r["auc"] for r in payload["rows"]}) == 1
    assert "| joblib cache (warm) | 0 |" in printed


def _git(root, *args) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(shutil.which("git") is None or not (REPO / ".git").exists(), reason="not a git checkout")
def test_results_record_the_git_commit_and_whether_this_checkout_is_clean():
    from benchmarks import _harness

    env = _harness.environment("cpu")
    head = _git(REPO, "rev-parse", "HEAD").strip()
    assert len(head) == 40 and env["git_commit"] == head
    # Clean: no line of `git status --porcelain` but untracked files under benchmarks/results/ (runs write there).
    lines = _git(REPO, "status", "--porcelain", "--untracked-files=all").splitlines()
    counted = [line for line in lines if not line.startswith("?? benchmarks/results/")]
    assert env["git_clean"] is (not counted)
    assert len(env["git_changes"]) == min(len(counted), 50)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_clean_counts_every_change_but_new_results_files(tmp_path, monkeypatch):
    from benchmarks import _harness

    monkeypatch.setattr(_harness, "REPO_ROOT", str(tmp_path))
    assert _harness.git_provenance() == dict(git_commit=None, git_clean=None, git_changes=None)  # no checkout
    _git(tmp_path, "init", "-q")
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    (tmp_path / "code.py").write_text("a = 1\n")
    (tmp_path / "benchmarks" / "results" / "old.json").write_text("{}")
    _git(tmp_path, "add", "code.py", "benchmarks/results/old.json")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", "commit", "-qm", "c")
    head = _git(tmp_path, "rev-parse", "HEAD").strip()
    assert _harness.git_provenance() == dict(git_commit=head, git_clean=True, git_changes=[])
    # A new results file is what a run writes: still clean.
    (tmp_path / "benchmarks" / "results" / "new.json").write_text("{}")
    assert _harness.git_provenance()["git_clean"] is True
    # An untracked file elsewhere, an overwritten results file, a changed source file: each one is dirty.
    for path, text in [("new.py", "b = 2\n"), ("benchmarks/results/old.json", "[]"), ("code.py", "a = 2\n")]:
        before = (tmp_path / path).read_text() if (tmp_path / path).exists() else None
        (tmp_path / path).write_text(text)
        assert _harness.git_provenance()["git_clean"] is False
        assert _harness.git_provenance()["git_changes"] == [path]
        if before is None:
            (tmp_path / path).unlink()
        else:
            (tmp_path / path).write_text(before)
    assert _harness.git_provenance()["git_clean"] is True


def test_untrained_controls_differ_from_their_methods_in_training_only():
    from benchmarks import _harness, detection, dev_ablation

    untrained = {"lr": 1e-12, "n_epochs": 1, "min_steps": 0}
    assert _harness.UNTRAINED == untrained
    # Whatever the preset or --params set for training, the control keeps its weights at their initialisation.
    preset = {**detection.PRESETS["cpu"], "detector": {**detection.PRESETS["cpu"]["detector"], "min_steps": 500}}
    pairs = [(n, n + " (untrained)") for n in detection.GAN_METHODS if not n.endswith(" (untrained)")]
    assert len(pairs) == 6 and set(detection.GAN_METHODS) == {m for pair in pairs for m in pair}
    made = [[detection.make_detector(m, preset, "cpu", 0) for m in pair] for pair in pairs]
    extra = {"lr": 1e-3, "n_epochs": 3, "min_steps": 7, "lambda_score": 0.5}
    dev_pairs = [
        ("no skips (default)", "SkipGANomaly (untrained)"),
        ("GANomaly (default)", "GANomaly (untrained)"),
        ("DenseSkipAttention (default)", "DenseSkipAttention (untrained)"),
        ("AnoGAN (default)", "AnoGAN (untrained)"),
        ("EGBAD (default)", "EGBAD (untrained)"),
        ("SkipGANomaly rotation score 0.5", "SkipGANomaly rotation score 0.5 (untrained)"),
        ("GANomaly rotation score 0.5", "GANomaly rotation score 0.5 (untrained)"),
    ]
    assert {b for _, b in dev_pairs} == {v for v in dev_ablation.VARIANTS if v.endswith(" (untrained)")}
    made += [[dev_ablation.make_variant(m, 8, extra, 0) for m in pair] for pair in dev_pairs]
    for trained, control in made:
        assert type(control) is type(trained)
        a, b = trained.get_params(), control.get_params()
        assert a.keys() == b.keys() and {k for k in a if a[k] != b[k]} == set(untrained)
        assert {k: b[k] for k in untrained} == untrained
    # The leave-one-class-out table has the control and every pixel baseline by default.
    default = detection.DEFAULT_METHODS[detection.LOCO]
    assert "SkipGANomaly (untrained)" in default and set(_harness.BASELINES) <= set(default)


def _script_of(results_file: str) -> str:
    """The benchmark that writes a results file of this name."""
    for prefix, module in [
        ("reference_protocol_", "reference_protocol"),
        ("contamination_", "contamination"),
        ("speed_", "speed"),
        ("dev_ablation_", "dev_ablation"),
        ("dask_search_", "dask_search"),
        ("thresholds", "thresholds"),
        ("checksums", "checksums"),
        ("mnist_", "detection"),
        ("cifar10_", "detection"),
    ]:
        if results_file.startswith(prefix):
            return module
    return results_file.removesuffix(".json")


def test_dev_ablation_reads_training_images_only(tmp_path, capsys):
    """The development split never touches the test split: poison the test images and nothing changes."""
    from .test_datasets import write_tiny_mnist

    rng = np.random.RandomState(0)
    write_tiny_mnist(tmp_path / "data", rng, n_train=300, n_test=20)
    argv = ["--data-root", str(tmp_path / "data"), "--classes", "3", "--width", "4", "--params", "n_epochs=1"]
    argv += ["--n-fit", "16", "--n-val", "8", "--n-anomalies", "8"]
    argv += ["--variants", "no skips (default)", "SkipGANomaly paper (all skips)", "SkipGANomaly (untrained)"]
    payload, printed = run_and_show("dev_ablation", argv, tmp_path, capsys)
    (record,) = payload["records"]
    assert record["class"] == "3" and set(record["results"]) == {
        "no skips (default)",
        "SkipGANomaly paper (all skips)",
        "SkipGANomaly (untrained)",
        "IsolationForest",
        "PCA recon.",
        "kNN (pixels)",
    }
    assert set(record["results"]["no skips (default)"]["parts"]) == {"residual", "feature", "embedding"}
    assert payload["split"] == {"n_fit": 16, "n_val": 8, "n_anomalies": 8}
    # Replace the test images by noise: a run that read them would change.
    test_images = tmp_path / "data" / "mnist" / "t10k-images-idx3-ubyte.gz"
    test_images.write_bytes(b"not an IDX file")
    (tmp_path / "results").rename(tmp_path / "first")
    again, _ = run_and_show("dev_ablation", argv, tmp_path, capsys)
    aucs = {m: r["auc"] for m, r in record["results"].items()}
    assert {m: r["auc"] for m, r in again["records"][0]["results"].items()} == aucs


def test_dev_ablation_with_synthetic_defects_as_the_anomalies(tmp_path, capsys):
    """--anomalies defects: one class's own training images, some with synthetic defects; no test image read."""
    from benchmarks import dev_ablation
    from skgan_ad.datasets import load_mnist

    from .test_datasets import write_tiny_mnist

    rng = np.random.RandomState(0)
    write_tiny_mnist(tmp_path / "data", rng, n_train=300, n_test=20)
    (tmp_path / "data" / "mnist" / "t10k-images-idx3-ubyte.gz").write_bytes(b"not an IDX file")
    argv = ["--data-root", str(tmp_path / "data"), "--classes", "3", "--width", "4", "--params", "n_epochs=1"]
    argv += ["--n-fit", "16", "--n-val", "6", "--n-anomalies", "8", "--variants", "no skips (default)"]
    payload, printed = run_and_show("dev_ablation", [*argv, "--anomalies", "defects"], tmp_path, capsys)
    assert [p.name for p in (tmp_path / "results").glob("*.json")] == ["dev_ablation_mnist_one-class_defects.json"]
    assert payload["anomalies"] == "defects" and payload["split"] == {"n_fit": 16, "n_val": 6, "n_anomalies": 8}
    assert "anomalies: synthetic defects" in printed
    (record,) = payload["records"]
    assert record["class"] == "3"
    assert set(record["results"]) == {"no skips (default)", "IsolationForest", "PCA recon.", "kNN (pixels)"}
    assert all(0 <= r["auc"] <= 1 for r in record["results"].values())
    # Every image of the split is of the class, the anomalies' sources included: one more is one too many.
    _, labels = load_mnist(tmp_path / "data" / "mnist")
    n_fit = int(np.sum(labels == 3)) - 6 - 8 + 1
    with pytest.raises(ValueError, match=rf"needs {n_fit} \+ 6 \+ 8 normal images"):
        dev_ablation.main([*argv, "--anomalies", "defects", "--n-fit", str(n_fit), "--out", str(tmp_path / "none")])
    # Defects are drawn on the normal class: the leave-one-class-out protocol is refused.
    with pytest.raises(SystemExit):
        dev_ablation.main([*argv, "--anomalies", "defects", "--protocol", "leave-one-class-out"])


@pytest.mark.parametrize(
    "name", sorted(p.name for p in (Path(__file__).resolve().parents[1] / "benchmarks" / "results").glob("*.json"))
)
def test_committed_results_files_still_print(name, tmp_path, capsys):
    # A copy: reference_protocol redraws its figure beside the file it reads.
    path = tmp_path / name
    shutil.copy(Path(__file__).resolve().parents[1] / "benchmarks" / "results" / name, path)
    importlib.import_module(f"benchmarks.{_script_of(name)}").main(["--show", str(path)])
    table = capsys.readouterr().out
    assert table.count("\n|") >= 3 and "nan" not in table


def test_large_images_measures_each_count_in_its_own_process(tmp_path, capsys):
    argv = ["--sizes", "128", "--counts", "1", "3", "--n-train", "6", "--width", "4", "--threads", "1"]
    payload, printed = run_and_show("large_images", argv, tmp_path, capsys)
    records = payload["records"]
    assert [(r["method"], r["channels"], r["images"]) for r in records] == [
        (method, channels, count)
        for channels in (1, 3)
        for method in ("SkipGANomaly", "IsolationForest")
        for count in (1, 3)
    ]
    assert all(r["patches_per_image"] == 4 and r["images_per_s"] > 0 and r["peak_mib"] >= 0 for r in records)
    assert "| SkipGANomaly | 128 | 3 | 3 | 4 |" in printed
