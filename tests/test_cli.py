"""The ``skgan-ad`` command line, end to end: fit, score, evaluate and info on an image folder, a .npy and a .csv.

The commands run in subprocesses (``python -m skgan_ad`` and, once, the
installed ``skgan-ad`` entry point) on tiny files written under a temporary
folder. Starting one costs ~3 s of imports, so the models are fitted once per
module and most error cases, which need no fit, run in-process through
``cli.main``; a few run as subprocesses to check the exit status and the one
line on stderr end to end. Scores are checked against the library itself:
``skgan_ad.io.load`` of the saved model on the same data read without the CLI.
"""

import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

import skgan_ad
from skgan_ad import cli
from skgan_ad.datasets import load_industrial_folder
from skgan_ad.io import load
from skgan_ad.metrics import aupro, conformal_p_values, pixel_roc_auc, recall_at_fpr

PIL = pytest.importorskip("PIL.Image")

# Tiny networks: a fit takes well under a second. random_state makes every run the same.
TINY = ["--set", "ngf=4", "--set", "ndf=4", "--set", "n_epochs=1", "--set", "hidden_dims=(8,4)"]
TINY += ["--set", "batch_size=16", "--set", "random_state=0", "--set", "validation_fraction=0.25"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def run(*args, cwd, entry_point=False):
    """Run the CLI in a subprocess; return (exit status, stdout, stderr)."""
    command = [shutil.which("skgan-ad")] if entry_point else [sys.executable, "-m", "skgan_ad"]
    done = subprocess.run([*command, *map(str, args)], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout, done.stderr


def assert_one_line_error(status, stderr, *fragments):
    assert status == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("skgan-ad: error: "), stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def write_png(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    PIL.fromarray(array).save(path)


def grey_image(rng, anomalous=False, size=8):
    image = (rng.rand(size, size) * 60 + 100).astype(np.uint8)
    if anomalous:
        image[2:6, 2:6] = 255  # a bright square: easy to tell apart
    return image


def read_scores_csv(text):
    rows = list(csv.reader(text.splitlines()))
    return rows[0], rows[1:]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """An industrial image folder, a .npy (with a labels file) and a labelled .csv, and a model fitted on each."""
    root = tmp_path_factory.mktemp("cli")
    rng = np.random.RandomState(0)
    for i in range(32):
        write_png(root / "parts" / "train" / "good" / f"{i:03d}.png", grey_image(rng))
    for folder, anomalous in (("good", False), ("crack", True)):
        for i in range(6):
            write_png(root / "parts" / "test" / folder / f"{i:03d}.png", grey_image(rng, anomalous))
    X = np.r_[rng.normal(size=(60, 4)), rng.normal(size=(12, 4)) + 5]
    np.save(root / "rows.npy", X)
    np.savetxt(root / "rows_labels.txt", np.r_[np.zeros(60, int), np.ones(12, int)], fmt="%d")
    with open(root / "table.csv", "w") as fh:
        fh.write("a,b,c,label\n")
        for i in range(72):
            label = int(i >= 60)
            fh.write(",".join(f"{v:.6f}" for v in rng.normal(size=3) + 5 * label) + f",{label}\n")

    fits = {
        # The installed console script once; python -m skgan_ad otherwise.
        "image": (("fit", "parts", "--model", "image.safetensors", *TINY), True),
        "npy": (("fit", "rows.npy", "--model", "npy.safetensors", "--detector", "ganomaly", *TINY), False),
        "csv": (("fit", "table.csv", "--model", "csv.safetensors", "--detector", "egbad", "-q", *TINY), False),
    }
    out = {}
    for kind, (args, entry_point) in fits.items():
        status, stdout, stderr = run(*args, cwd=root, entry_point=entry_point)
        assert status == 0, stderr
        out[kind] = stdout
    return root, out


# ---------------------------------------------------------------------------
# Image folder (industrial layout)
# ---------------------------------------------------------------------------


def test_fit_image_folder_trains_on_train_good(files):
    root, fit_output = files
    assert "SkipGANomalyDetector on 32 samples" in fit_output["image"]
    detector = load(root / "image.safetensors")
    assert type(detector).__name__ == "SkipGANomalyDetector"
    assert (detector.ngf, detector.hidden_dims, detector.n_iter_) == (4, (8, 4), 1)
    assert detector.image_shape_ == (1, 8, 8)  # grey PNGs make a one-channel detector


def test_score_image_folder_matches_the_library(files):
    root, _ = files
    status, stdout, stderr = run("score", "image.safetensors", "parts", "--out", "scores.csv", "-q", cwd=root)
    assert status == 0, stderr
    assert "scored 12 samples" in stdout
    header, rows = read_scores_csv((root / "scores.csv").read_text())
    assert header == ["path", "anomaly_score", "p_value", "is_anomaly"]
    # The test part of the industrial layout, in the loader's order (folders, then files, sorted).
    expected_paths = [f"test/crack/{i:03d}.png" for i in range(6)] + [f"test/good/{i:03d}.png" for i in range(6)]
    assert [r[0] for r in rows] == expected_paths
    detector = load(root / "image.safetensors")
    X_test = load_industrial_folder(root / "parts", grey=True)[0].X_test
    got = np.array([[float(v) for v in r[1:]] for r in rows])
    np.testing.assert_array_equal(got[:, 0], -detector.score_samples(X_test))
    np.testing.assert_array_equal(got[:, 1], conformal_p_values(detector, X_test))
    np.testing.assert_array_equal(got[:, 2], detector.predict(X_test) == -1)


def test_evaluate_image_folder_prints_metrics_and_writes_figures(files):
    root, _ = files
    status, stdout, stderr = run("evaluate", "image.safetensors", "parts", "--figures", "figures", cwd=root)
    assert status == 0, stderr
    assert "scoring" in stderr  # the progress bar, off with --quiet
    assert "pixel" not in stdout and "AUPRO" not in stdout  # no ground_truth folder, no pixel metrics
    split = load_industrial_folder(root / "parts", grey=True)[0]
    anomaly = load(root / "image.safetensors").anomaly_score(split.X_test)
    metrics = dict(line.split(": ", 1) for line in stdout.splitlines() if ": " in line)
    assert metrics["samples"].startswith("12 (6 normal, 6 anomalous)")
    assert float(metrics["ROC AUC"]) == pytest.approx(roc_auc_score(split.y_test, anomaly), abs=5e-5)
    assert float(metrics["average precision"]) == pytest.approx(
        average_precision_score(split.y_test, anomaly), abs=5e-5
    )
    for fpr in (1, 5):
        assert float(metrics[f"recall at {fpr}% FPR"]) == pytest.approx(
            recall_at_fpr(split.y_test, anomaly, fpr=fpr / 100), abs=5e-5
        )
    written = sorted(p.name for p in (root / "figures").iterdir())
    assert written == sorted(
        [
            "anomaly_maps.png",
            "precision_recall.png",
            "reconstructions.png",
            "roc_curve.png",
            "score_histogram.png",
            "training_curve.png",
        ]
    )
    assert all((root / "figures" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for name in written)


def test_info_prints_detector_parameters_version_and_history(files, capsys):
    root, _ = files
    assert cli.main(["info", str(root / "image.safetensors")]) == 0
    stdout = capsys.readouterr().out
    assert "detector: SkipGANomalyDetector (--detector skip-ganomaly)" in stdout
    assert f"skgan_ad version: {skgan_ad.__version__}; the model was saved by skgan_ad {skgan_ad.__version__}" in (
        stdout
    )
    assert "input: images of shape (C, H, W) = (1, 8, 8)" in stdout
    assert "training: 1 epoch; train_loss" in stdout and "valid_loss" in stdout
    assert "  ngf = 4\n" in stdout and "  hidden_dims = (8, 4)\n" in stdout


def test_score_flat_folder_and_class_folders_in_process(files, tmp_path, capsys):
    root, _ = files
    # A flat folder: ids are the file names; no labels, so evaluate refuses it.
    assert cli.main(["score", str(root / "image.safetensors"), str(root / "parts" / "test" / "good"), "-q"]) == 0
    header, rows = read_scores_csv(capsys.readouterr().out)
    assert [r[0] for r in rows] == [f"{i:03d}.png" for i in range(6)]
    assert cli.main(["evaluate", str(root / "image.safetensors"), str(root / "parts" / "test" / "good")]) == 2
    assert "has no labels" in capsys.readouterr().err
    # Class folders with a --normal-class folder are labelled.
    classes = tmp_path / "classes"
    shutil.copytree(root / "parts" / "test", classes)
    (classes / "good").rename(classes / "ok")
    assert cli.main(["evaluate", str(root / "image.safetensors"), str(classes), "--normal-class", "ok", "-q"]) == 0
    assert "(6 normal, 6 anomalous)" in capsys.readouterr().out


# ---------------------------------------------------------------------------
# Ground-truth masks (industrial layout with ground_truth/<defect>/<stem>_mask.png)
# ---------------------------------------------------------------------------


def with_masks(root, tmp_path):
    """A copy of the image folder with a mask for each crack image: its bright square, every other mask at twice
    the image's size, and one (004) off by a few pixels, so that the pixel metrics are not trivially 1."""
    parts = tmp_path / "parts"
    shutil.copytree(root / "parts", parts)
    for i in range(6):
        scale = 2 if i % 2 else 1
        mask = np.zeros((8 * scale, 8 * scale), dtype=np.uint8)
        top = 3 if i == 4 else 2
        mask[top * scale : (top + 4) * scale, 2 * scale : 6 * scale] = 255
        write_png(parts / "ground_truth" / "crack" / f"{i:03d}_mask.png", mask)
    return parts


def parse_metrics(stdout):
    return {
        key: value.split()[0] for key, value in (line.split(": ", 1) for line in stdout.splitlines() if ": " in line)
    }


@pytest.mark.parametrize("model", ["image", "patches"])
def test_evaluate_prints_pixel_metrics_and_writes_outlined_maps_with_masks(files, tmp_path, capsys, model):
    root, _ = files
    parts = with_masks(root, tmp_path)
    model_file = root / "image.safetensors"
    if model == "patches":  # a PatchDetector's stitched maps
        from skgan_ad import PatchDetector, SkipGANomalyDetector
        from skgan_ad.io import save

        inner = SkipGANomalyDetector(ngf=4, ndf=4, n_epochs=1, batch_size=16, random_state=0)
        detector = PatchDetector(inner, patch_size=4, random_state=0)
        detector.fit(load_industrial_folder(parts, grey=True)[0].X_train)
        model_file = save(detector, tmp_path / "patches.safetensors")
    figures = tmp_path / "figures"
    assert cli.main(["evaluate", str(model_file), str(parts), "-q", "--figures", str(figures)]) == 0
    stdout = capsys.readouterr().out
    split = load_industrial_folder(parts, grey=True)[0]
    maps = load(model_file).anomaly_map(split.X_test)
    metrics = parse_metrics(stdout)
    assert "pixel ROC AUC: " in stdout and "(768 pixels, 96 defective)" in stdout  # 12 images of 8x8, 6 squares
    assert float(metrics["pixel ROC AUC"]) == pytest.approx(pixel_roc_auc(split.masks, maps), abs=5e-5)
    assert float(metrics["AUPRO up to 30% FPR"]) == pytest.approx(aupro(split.masks, maps), abs=5e-5)
    assert "ROC AUC" in metrics and "average precision" in metrics  # beside the image-level metrics
    assert (figures / "ground_truth_overlays.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "ground_truth_overlays.png" in stdout
    assert ("reconstructions.png" in stdout) == (model == "image")  # a PatchDetector reconstructs nothing


def test_ground_truth_overlays_outline_the_defective_images(files, tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from skgan_ad.cli._commands import _ground_truth_overlays

    root, _ = files
    data = cli.read_data(with_masks(root, tmp_path), grey=True)
    np.testing.assert_array_equal(data.masks, load_industrial_folder(tmp_path / "parts", grey=True)[0].masks)
    detector = load(root / "image.safetensors")
    display = _ground_truth_overlays(data, detector.anomaly_map(data.X), detector.anomaly_score(data.X))
    # Six defective images (all the crack ones), then two normal ones, each with its map; outlines on the first six.
    titles = [ax.get_title().split()[0] for ax in display.axes_]
    assert titles == ["crack"] * 6 + ["good"] * 2
    assert [len(ax.collections) > 0 for ax in display.axes_] == [True] * 6 + [False] * 2
    assert len(display.overlays_) == 8
    plt.close(display.figure_)


def test_evaluate_with_a_missing_mask_or_masks_without_defects(files, tmp_path, capsys):
    root, _ = files
    parts = with_masks(root, tmp_path)
    model = str(root / "image.safetensors")
    (parts / "ground_truth" / "crack" / "003_mask.png").unlink()
    assert_one_line_error(
        cli.main(["evaluate", model, str(parts), "-q"]), capsys.readouterr().err, "003_mask.png", "not found"
    )
    for i in range(6):  # empty masks: the image-level metrics, and a word on why there are no pixel ones
        write_png(parts / "ground_truth" / "crack" / f"{i:03d}_mask.png", np.zeros((8, 8), dtype=np.uint8))
    assert cli.main(["evaluate", model, str(parts), "-q"]) == 0
    stdout = capsys.readouterr().out
    assert "ROC AUC: " in stdout and "pixel metrics: none, the ground-truth masks mark no defective pixel" in stdout


# ---------------------------------------------------------------------------
# .npy and .csv
# ---------------------------------------------------------------------------


def test_npy_score_and_evaluate(files):
    root, fit_output = files
    assert "GANomalyDetector on 72 samples" in fit_output["npy"]  # no labels: every row is trained on
    detector = load(root / "npy.safetensors")
    X = np.load(root / "rows.npy")
    status, stdout, stderr = run("score", "npy.safetensors", "rows.npy", "-q", cwd=root)
    assert status == 0, stderr
    header, rows = read_scores_csv(stdout)
    assert header == ["row", "anomaly_score", "p_value", "is_anomaly"]
    assert [int(r[0]) for r in rows] == list(range(72))
    np.testing.assert_array_equal([float(r[1]) for r in rows], detector.anomaly_score(X))

    status, stdout, stderr = run("evaluate", "npy.safetensors", "rows.npy", "--labels", "rows_labels.txt", cwd=root)
    assert status == 0, stderr
    y = np.loadtxt(root / "rows_labels.txt")
    assert f"ROC AUC: {roc_auc_score(y, detector.anomaly_score(X)):.4f}\n" in stdout


def test_csv_fit_score_and_evaluate(files):
    root, fit_output = files
    # The label column is not a feature, and fit keeps the normal rows only.
    assert "EGBADDetector on the 60 normal samples (of 72)" in fit_output["csv"]
    detector = load(root / "csv.safetensors")
    assert detector.n_features_in_ == 3
    table = np.loadtxt(root / "table.csv", delimiter=",", skiprows=1)
    X, y = table[:, :3], table[:, 3]
    status, stdout, stderr = run("score", "csv.safetensors", "table.csv", "--out", "csv_scores.csv", cwd=root)
    assert status == 0, stderr
    header, rows = read_scores_csv((root / "csv_scores.csv").read_text())
    assert header[0] == "row" and len(rows) == 72
    np.testing.assert_array_equal([float(r[1]) for r in rows], detector.anomaly_score(X))

    status, stdout, stderr = run("evaluate", "csv.safetensors", "table.csv", "-q", cwd=root)
    assert status == 0, stderr
    assert "samples: 72 (60 normal, 12 anomalous)" in stdout
    assert f"ROC AUC: {roc_auc_score(y, detector.anomaly_score(X)):.4f}\n" in stdout
    assert stderr == ""  # --quiet: no progress bar


# ---------------------------------------------------------------------------
# Failures: exit status 2 and one line
# ---------------------------------------------------------------------------


def test_errors_end_to_end(files, tmp_path):
    root, _ = files
    status, _, stderr = run("fit", tmp_path / "missing", "--model", tmp_path / "m.safetensors", cwd=tmp_path)
    assert_one_line_error(status, stderr, "does not exist")
    assert not (tmp_path / "m.safetensors").exists()

    # A model file written by another version of the library.
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(root / "npy.safetensors", framework="pt") as fh:
        metadata, tensors = fh.metadata(), {key: fh.get_tensor(key) for key in fh.keys()}
    save_file(tensors, tmp_path / "old.safetensors", metadata={**metadata, "skgan_ad_version": "0.0.1"})
    status, _, stderr = run("score", "old.safetensors", root / "rows.npy", cwd=tmp_path)
    assert_one_line_error(status, stderr, "0.0.1", skgan_ad.__version__)

    # --debug lets the exception through, traceback and all.
    with pytest.raises(ValueError, match="0.0.1"):
        cli.main(["score", str(tmp_path / "old.safetensors"), str(root / "rows.npy"), "--debug"])


def bad_inputs(root: Path, tmp: Path) -> dict:
    """Files that each break one rule, by the name of the rule."""
    rng = np.random.RandomState(1)
    write_png(tmp / "mixed" / "a.png", grey_image(rng))
    write_png(tmp / "mixed" / "b.png", grey_image(rng, size=16))
    write_png(tmp / "broken" / "a.png", grey_image(rng))
    (tmp / "broken" / "b.png").write_bytes(b"not a png")
    (tmp / "empty").mkdir()
    (tmp / "text.csv").write_text("a,b\n1,2\n3,oops\n")
    (tmp / "gap.csv").write_text("1,2\n3,\n")
    (tmp / "nan.csv").write_text("a,b\n1,2\n3,nan\n")
    (tmp / "labels.csv").write_text("a,label\n1,0\n2,2\n")
    np.save(tmp / "five.npy", np.zeros((10, 5)))
    (tmp / "notes.txt").write_text("hello")
    return {
        "mixed-size folder": (["score", root / "image.safetensors", tmp / "mixed"], ["is 16x16", "8x8"]),
        "unreadable image": (["score", root / "image.safetensors", tmp / "broken"], ["cannot read image", "b.png"]),
        "folder without images": (["score", root / "image.safetensors", tmp / "empty"], ["holds no images"]),
        "CSV with text": (["score", root / "csv.safetensors", tmp / "text.csv"], ["column 'b'", "'oops' on line 3"]),
        "CSV with a missing value": (["score", root / "csv.safetensors", tmp / "gap.csv"], ["'column 1'", "line 2"]),
        "CSV with NaN": (["score", root / "csv.safetensors", tmp / "nan.csv"], ["rows [1]", "NaN"]),
        "bad CSV labels": (["evaluate", root / "csv.safetensors", tmp / "labels.csv"], ["column 'label'", "[0, 2]"]),
        "unknown kind of file": (["score", root / "csv.safetensors", tmp / "notes.txt"], ["expected an image folder"]),
        "not a model file": (["info", tmp / "notes.txt"], ["not a skgan_ad model file"]),
        "missing model": (["info", tmp / "none.safetensors"], ["does not exist"]),
        "features of another shape": (["score", root / "csv.safetensors", tmp / "five.npy"], ["5 features", "3"]),
        "images on a tabular model": (["score", root / "csv.safetensors", root / "parts"], ["tabular"]),
        "evaluate without labels": (["evaluate", root / "npy.safetensors", tmp / "five.npy"], ["has no labels"]),
        "too few labels": (
            ["evaluate", root / "npy.safetensors", root / "rows.npy", "--labels", tmp / "five.npy"],
            ["--labels"],
        ),
        "unknown detector": (["fit", tmp / "five.npy", "--model", "m", "--detector", "x"], ["invalid choice: 'x'"]),
        "unknown parameter": (["fit", tmp / "five.npy", "--model", "m", "--set", "nfg=4"], ["--set nfg", "ngf"]),
        "--set without =": (["fit", tmp / "five.npy", "--model", "m", "--set", "ngf"], ["key=value"]),
        "invalid parameter value": (
            ["fit", tmp / "five.npy", "--model", "m", "--set", "n_epochs=-1", "-q"],
            ["n_epochs", "-1"],
        ),
    }


def test_every_expected_failure_is_one_line_with_status_2(files, tmp_path, capsys):
    root, _ = files
    for rule, (args, fragments) in bad_inputs(root, tmp_path).items():
        try:
            status = cli.main([str(a) for a in args])
        except SystemExit as exc:  # argparse's own errors exit
            status = exc.code
        err = capsys.readouterr().err
        assert status == 2, (rule, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("skgan-ad: error: "), (rule, err)
        for fragment in fragments:
            assert fragment in lines[0], (rule, lines[0])
    assert not (tmp_path / "m").exists()


def test_set_values_are_python_literals():
    assert cli._parse_setting("hidden_dims=(8, 4)") == ("hidden_dims", (8, 4))
    assert cli._parse_setting("lr=1e-3") == ("lr", 1e-3)
    assert cli._parse_setting("device=cpu") == ("device", "cpu")  # not a literal: kept as text
    assert cli._parse_setting(" residual_norm = 'none'") == ("residual_norm", "none")


# ---------------------------------------------------------------------------
# Model paths, image colours, colour codes, counts
# ---------------------------------------------------------------------------


def test_a_folder_as_the_model_is_named_a_folder_in_every_command(files, tmp_path, capsys):
    root, _ = files
    folder = root / "parts"  # exists: "does not exist" would be wrong
    for args in (["score", folder, folder], ["evaluate", folder, folder], ["info", folder]):
        status = cli.main([str(a) for a in args])
        assert_one_line_error(status, capsys.readouterr().err, f"{folder} is a folder, not a model file", "fit --model")
    # fit refuses a folder as --model before training, not when saving after it.
    status = cli.main(["fit", str(root / "rows.npy"), "--model", str(tmp_path), *TINY])
    out, err = capsys.readouterr()
    assert_one_line_error(status, err, f"--model {tmp_path} is a folder", "model.safetensors")
    assert "trained" not in out


def test_images_of_another_colour_than_the_model_are_refused_unless_converted(files, tmp_path, capsys):
    root, _ = files
    rng = np.random.RandomState(2)
    mixed = tmp_path / "mixed"
    shutil.copytree(root / "parts" / "test", mixed)
    write_png(mixed / "crack" / "001.png", (rng.rand(8, 8, 3) * 255).astype(np.uint8))
    grey_model = str(root / "image.safetensors")
    for command in ("score", "evaluate"):
        status = cli.main([command, grey_model, str(mixed), "-q"])
        assert_one_line_error(
            status,
            capsys.readouterr().err,
            str(mixed / "crack" / "001.png"),
            "mode RGB, 3 channels",
            "grey images (1 channel)",
            "--convert-color",
        )
    # Asked for, the conversion is read_images' own (RGB to grey).
    assert cli.main(["score", grey_model, str(mixed), "-q", "--convert-color"]) == 0
    header, rows = read_scores_csv(capsys.readouterr().out)
    from skgan_ad.datasets import read_images

    X = read_images([mixed / r[0] for r in rows], grey=True)
    np.testing.assert_array_equal([float(r[1]) for r in rows], load(grey_model).anomaly_score(X))
    assert cli.main(["evaluate", grey_model, str(mixed), "-q", "--convert-color"]) == 0
    assert "(6 normal, 6 anomalous)" in capsys.readouterr().out

    # Grey images on an RGB model.
    for i in range(16):
        write_png(tmp_path / "rgb" / f"{i:03d}.png", (rng.rand(8, 8, 3) * 255).astype(np.uint8))
    rgb_model = str(tmp_path / "rgb.safetensors")
    assert cli.main(["fit", str(tmp_path / "rgb"), "--model", rgb_model, "-q", *TINY]) == 0
    grey_folder = str(root / "parts" / "test" / "good")
    capsys.readouterr()
    status = cli.main(["score", rgb_model, grey_folder, "-q"])
    assert_one_line_error(
        status, capsys.readouterr().err, "000.png", "mode L, 1 channel", "RGB images (3 channels)", "all 6 images"
    )
    assert cli.main(["score", rgb_model, grey_folder, "-q", "--convert-color"]) == 0


class FakeTerminal(io.StringIO):
    """Captured text that says it is a terminal, as sys.stdout does in an interactive shell."""

    def isatty(self):
        return True


def test_no_colour_codes_in_a_pipe_or_in_captured_output(files, tmp_path, capsys):
    root, fit_output = files
    for kind, stdout in fit_output.items():  # the module's fits, their stdout a pipe
        assert "\x1b" not in stdout, kind
    assert "valid_loss" in fit_output["image"]  # the epoch table, whose best values skorch colours
    assert cli.main(["fit", str(root / "rows.npy"), "--model", str(tmp_path / "m.safetensors"), *TINY]) == 0
    out, err = capsys.readouterr()
    assert "valid_loss" in out and "\x1b" not in out + err


@pytest.mark.parametrize("no_color", [None, "1"])
def test_colour_codes_in_a_terminal_unless_no_color(files, tmp_path, monkeypatch, no_color):
    root, _ = files
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    assert cli.main(["fit", str(root / "rows.npy"), "--model", str(tmp_path / "m.safetensors"), *TINY]) == 0
    text = terminal.getvalue()
    assert "valid_loss" in text
    assert ("\x1b[" in text) == (no_color is None), text


def test_counts_read_in_the_singular_and_plural(files, tmp_path, capsys):
    root, fit_output = files
    assert "SkipGANomalyDetector on 32 samples of image folder" in fit_output["image"]
    assert fit_output["image"].splitlines()[-2].endswith(" in 1 epoch")  # n_epochs=1
    assert cli.main(["info", str(root / "npy.safetensors")]) == 0
    assert "training: 1 epoch; " in capsys.readouterr().out
    np.savetxt(tmp_path / "one.txt", [0], fmt="%d")
    (tmp_path / "short.csv").write_text("a,b\n1,2\n3\n")
    for args, fragment in (
        (["evaluate", root / "npy.safetensors", root / "rows.npy", "--labels", tmp_path / "one.txt"], "holds 1 label "),
        (
            ["score", root / "csv.safetensors", tmp_path / "short.csv"],
            "line 3: 1 field, but the first line has 2 fields",
        ),
    ):
        assert_one_line_error(cli.main([str(a) for a in args]), capsys.readouterr().err, fragment)
    assert (cli._count(1, "epoch"), cli._count(2, "epoch"), cli._count(0, "sample")) == (
        "1 epoch",
        "2 epochs",
        "0 samples",
    )
