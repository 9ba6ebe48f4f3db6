"""The ``skgan-ad`` command line (also ``python -m skgan_ad``): fit, score, evaluate and describe detectors.

Only argument handling, finding the data in files and printing live here; the
work is the public API's (the detectors, :mod:`skgan_ad.io`,
:mod:`skgan_ad.metrics`, :mod:`skgan_ad.plotting`), so the command line never
computes anything differently from the library.

``DATA`` is one of:

* a folder of images, in one of three layouts: flat (``DATA/*.png``); one
  sub-folder per class (``DATA/<class>/*.png``), where the ``--normal-class``
  folder (``good`` by default) holds the normal images and every other folder
  anomalies; or the industrial layout (``DATA/train/good``, ``DATA/test/good``,
  ``DATA/test/<defect>``), of which ``fit`` reads ``train/good`` and ``score``
  and ``evaluate`` read ``test``;
* a ``.npy`` file of samples (rows, or images in any layout the detectors
  take), labelled by ``--labels FILE`` if at all;
* a ``.csv`` file of numeric columns, with or without a header; its
  ``--label-column`` (``label`` by default), if present, holds the labels and
  is never a feature.

Labels read 1 as an anomaly and 0 as normal. ``fit`` trains on the normal
samples when ``DATA`` has labels, on every sample otherwise. ``score`` and
``evaluate`` refuse images of another colour than the model's (RGB on a grey
model, grey on an RGB one) unless ``--convert-color`` asks for the conversion.
Training's colour codes go to a terminal only, never with ``NO_COLOR`` set.
Every failure ends with exit status 2 and one line on stderr,
``skgan-ad: error: ...``; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import ast
import csv
import os
import re
import sys
from contextlib import ExitStack, contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PROG = "skgan-ad"

#: Command-line names of the detectors and their classes in :mod:`skgan_ad`.
DETECTORS = {
    "skip-ganomaly": "SkipGANomalyDetector",
    "ganomaly": "GANomalyDetector",
    "dense-skip-attention": "DenseSkipAttentionDetector",
    "anogan": "AnoGANDetector",
    "egbad": "EGBADDetector",
}

# ANSI colour codes (SGR sequences such as ESC[32m): skorch's epoch table marks the best values with them.
_COLOR_CODE = re.compile(r"\x1b\[[0-9;]*m")


class CLIError(Exception):
    """A failure the user can fix (bad path, bad option): reported in one line, without a traceback."""


@dataclass
class Data:
    """Samples read from ``DATA``, with one identifier each and the labels when ``DATA`` has them."""

    X: np.ndarray
    ids: list
    id_name: str  # "path" (relative to DATA) for image files, "row" (from 0) for rows of a .npy or .csv file
    y: np.ndarray | None  # 1 anomaly, 0 normal; None when DATA has no labels
    source: str


# ---------------------------------------------------------------------------
# Reading DATA
# ---------------------------------------------------------------------------


def read_data(
    path,
    *,
    part: str = "test",
    grey: bool | None = None,
    size=None,
    normal_class="good",
    label_column="label",
    labels=None,
    convert_color: bool = True,
) -> Data:
    """Read ``DATA`` (an image folder, a ``.npy`` or a ``.csv`` file) as the commands do.

    Parameters
    ----------
    path : str or path-like
    part : {"train", "test"}
        Which part of the industrial layout to read (``train/good`` or ``test``).
    grey : bool or None
        Read images as one grey channel or as RGB; None decides from the first image's mode.
    size : (H, W) or None
        Resize every image to this size; without it a folder of mixed sizes is an error.
    normal_class : str
        The class folder of the normal images in the ``<class>/`` layout.
    label_column : str
        The CSV column of labels, if the file has one.
    labels : path or None
        A ``.npy`` or text file of one label per sample; overrides the labels found in ``DATA``.
    convert_color : bool
        With ``grey`` given, convert images of the other colour (colour to grey, grey to RGB) to it; False
        refuses them, naming the first, as ``score`` and ``evaluate`` do without ``--convert-color``.
    """
    path = Path(path)
    if path.is_dir():
        data = _read_folder(path, part, grey, size, normal_class, convert_color)
    elif not path.exists():
        raise CLIError(f"DATA {path} does not exist")
    elif path.suffix.lower() == ".npy":
        data = _read_npy(path)
    elif path.suffix.lower() == ".csv":
        data = _read_csv(path, label_column)
    else:
        raise CLIError(f"DATA {path}: expected an image folder, a .npy file or a .csv file")
    if len(data.X) == 0:
        raise CLIError(f"{data.source} holds no samples")
    if labels is not None:
        data.y = _read_labels(labels, len(data.X))
    return data


def _read_folder(root: Path, part: str, grey: bool | None, size, normal_class: str, convert_color: bool) -> Data:
    from .datasets import IMAGE_EXTENSIONS, class_folders, list_images, read_images

    source = f"image folder {root}"
    folder, train_part = root, False
    if (root / "train" / "good").is_dir() and (root / "test").is_dir():  # the industrial layout
        train_part = part == "train"
        folder, normal_class = (root / "train" / "good", None) if train_part else (root / "test", "good")
        source = f"image folder {folder}"
    files = list_images(folder)
    # Flat folders carry no labels, but for train/good: normal by definition.
    y = np.zeros(len(files), dtype=int) if train_part else None
    if not files:
        classes = [(sub.name, list_images(sub)) for sub in class_folders(folder)]
        files = [f for _, found in classes for f in found]
        names = np.array([name for name, found in classes for _ in found], dtype=str)
        # Class folders without the normal one (e.g. digits 0..9) carry no anomaly labels.
        y = (names != normal_class).astype(int) if normal_class in names else None
    if not files:
        raise CLIError(f"{source} holds no images ({', '.join(IMAGE_EXTENSIONS)}) directly or in sub-folders")
    if grey is not None and not convert_color:
        _check_color(files, grey)
    X = read_images(files, grey=grey, size=size)
    return Data(X, [f.relative_to(root).as_posix() for f in files], "path", y, source)


def _check_color(files, grey: bool) -> None:
    """Refuse images of the other colour than the model's (``grey``): read_images would convert them without a
    word, and a colour photograph scored as grey (or a grey scan as flat RGB) is not the data the model learnt."""
    from .datasets import _GREY_MODES, _import_pil

    Image = _import_pil()
    other = []
    for path in files:
        try:
            with Image.open(path) as img:  # reads the header only
                mode, bands = img.mode, len(img.getbands())
        except (OSError, ValueError, SyntaxError):
            continue  # read_images names the file it cannot decode
        if (mode in _GREY_MODES) != grey:
            other.append((path, mode, bands))
    if not other:
        return
    path, mode, bands = other[0]
    kind = "colour" if grey else "grey"
    channels = "a colour palette" if mode in ("P", "PA") else _count(bands, "channel")
    share = "all" if len(other) == len(files) else f"{len(other)} of the"
    more = f" ({share} {len(files)} images are {kind})" if len(other) > 1 else ""
    raise CLIError(
        f"{path} is a {kind} image (mode {mode}, {channels}) but the model takes "
        f"{'grey images (1 channel)' if grey else 'RGB images (3 channels)'}{more}; pass --convert-color to "
        f"convert such images to {'grey' if grey else 'RGB'}"
    )


def _read_npy(path: Path) -> Data:
    try:
        X = np.load(path, allow_pickle=False)  # a pickle would run code from the file
    except (OSError, ValueError) as exc:
        raise CLIError(f"cannot read {path} as a .npy array: {exc}") from exc
    if X.ndim < 2:
        raise CLIError(f"{path} holds an array of shape {X.shape}; expected samples along the first axis")
    _check_finite(X, path)
    return Data(X, list(range(len(X))), "row", None, f"{path}")


def _read_csv(path: Path, label_column: str) -> Data:
    try:
        with open(path, newline="") as fh:
            lines = [(n, row) for n, row in enumerate(csv.reader(fh), start=1) if any(c.strip() for c in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CLIError(f"cannot read {path} as CSV: {exc}") from exc
    if not lines:
        raise CLIError(f"{path} is empty")
    header = [c.strip() for c in lines[0][1]]
    if all(_is_number(c) or not c for c in header):  # no header: columns are named by position
        header = [f"column {j}" for j in range(len(header))]
    else:
        lines = lines[1:]
    for n, row in lines:
        if len(row) != len(header):
            raise CLIError(
                f"{path}, line {n}: {_count(len(row), 'field')}, but the first line has {_count(len(header), 'field')}"
            )
    columns = {}
    for j, name in enumerate(header):
        for n, row in lines:
            if not row[j].strip():
                raise CLIError(f"{path}: column {name!r} has no value on line {n}; the detectors need every value")
            if not _is_number(row[j]):
                raise CLIError(
                    f"{path}: column {name!r} is not numeric ({row[j].strip()!r} on line {n}); the CSV may hold "
                    f"numeric columns only, and the labels in the --label-column ({label_column!r})"
                )
        columns[name] = np.array([float(row[j]) for _, row in lines])
    y = columns.pop(label_column, None)
    if y is not None:
        y = _check_labels(y, f"column {label_column!r} of {path}")
    if not columns:
        raise CLIError(f"{path} has no feature columns besides the label column {label_column!r}")
    X = np.column_stack(list(columns.values())) if lines else np.empty((0, len(columns)))
    _check_finite(X, path)
    return Data(X, list(range(len(X))), "row", y, f"{path}")


def _check_finite(X: np.ndarray, path: Path) -> None:
    """Refuse NaN and infinity while the row numbers can still be named (the detectors refuse them too)."""
    if X.dtype.kind in "fc" and len(X) and not np.isfinite(X).all():
        bad = np.flatnonzero(~np.isfinite(X.reshape(len(X), -1)).all(axis=1))
        raise CLIError(f"{path}: rows {bad[:5].tolist()}{'...' if len(bad) > 5 else ''} hold NaN or infinite values")


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _read_labels(path, n: int) -> np.ndarray:
    path = Path(path)
    try:
        y = np.load(path, allow_pickle=False) if path.suffix.lower() == ".npy" else np.loadtxt(path, ndmin=1)
    except (OSError, ValueError) as exc:
        raise CLIError(f"cannot read labels from {path}: {exc}") from exc
    y = _check_labels(np.ravel(y), f"--labels {path}")
    if len(y) != n:
        raise CLIError(f"--labels {path} holds {_count(len(y), 'label')} for {_count(n, 'sample')}")
    return y


def _check_labels(y, what: str) -> np.ndarray:
    from .metrics import check_anomaly_labels

    values = np.asarray(y, dtype=float)
    if np.isnan(values).any():
        raise CLIError(f"{what} has missing labels")
    if np.array_equal(values, np.round(values)):
        y = values.astype(int)  # CSV and text files give floats: 1.0 reads as the label 1
    try:
        return check_anomaly_labels(y)
    except ValueError as exc:
        raise CLIError(f"{what}: {exc}") from exc


# ---------------------------------------------------------------------------
# The commands
# ---------------------------------------------------------------------------


def _fit(args) -> None:
    import skgan_ad

    from .io import save

    detector = getattr(skgan_ad, DETECTORS[args.detector])()
    settings = dict(_parse_setting(text) for text in args.set)
    for key, value in settings.items():
        try:
            detector.set_params(**{key: value})
        except ValueError as exc:  # scikit-learn's message lists the valid names
            raise CLIError(f"--set {key}: {exc}") from exc
    if "verbose" not in settings:
        detector.set_params(verbose=0 if args.quiet else 2)  # 2: a line and a progress bar per epoch
    _model_path(args.model, write=True)  # before training, not after it
    data = _read_args_data(args, part="train", grey={"auto": None, "grey": True, "rgb": False}[args.color])
    X = data.X if data.y is None else data.X[data.y == 0]
    if len(X) == 0:
        raise CLIError(f"{data.source} has no normal (label 0) samples to train on")
    with _color_for_terminals_only():
        detector.fit(X)
    save(detector, args.model)
    if len(X) == len(data.X):
        kept = _count(len(X), "sample")
    else:
        kept = f"the {_count(len(X), 'normal sample')} (of {len(data.X)})"
    print(f"trained {type(detector).__name__} on {kept} of {data.source} in {_count(detector.n_iter_, 'epoch')}")
    print(f"saved to {args.model}")


def _parse_setting(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise CLIError(f"--set expects key=value, got {text!r}")
    try:
        value = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        pass  # a plain word such as cpu or pixel: keep the string
    return key.strip(), value


def _score(args) -> None:
    detector = _load_model(args.model)
    data = _read_args_data(args, part="test", grey=_model_grey(detector), convert_color=args.convert_color)
    scores, p_values = _score_samples(detector, data.X, quiet=args.quiet, p_values=True)
    flags = scores - detector.offset_ < 0  # predict's rule: decision_function = score_samples - offset_ < 0
    out = open(args.out, "w", newline="") if args.out else sys.stdout
    try:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([data.id_name, "anomaly_score", "p_value", "is_anomaly"])
        for sample, score, p, flag in zip(data.ids, scores, p_values, flags):
            writer.writerow([sample, repr(-float(score)), repr(float(p)), int(flag)])
    finally:
        if out is not sys.stdout:
            out.close()
    if args.out:
        print(f"scored {_count(len(scores), 'sample')} of {data.source}: {int(flags.sum())} flagged; wrote {args.out}")


def _evaluate(args) -> None:
    from sklearn.metrics import average_precision_score, roc_auc_score

    from .metrics import recall_at_fpr

    if args.figures:
        _import_pyplot()  # fail before scoring when matplotlib is missing
    detector = _load_model(args.model)
    data = _read_args_data(args, part="test", grey=_model_grey(detector), convert_color=args.convert_color)
    if data.y is None:
        raise CLIError(
            f"{data.source} has no labels: evaluate needs the industrial layout (test/good, test/<defect>), "
            "a --normal-class folder beside the anomalies' folders, a CSV label column (--label-column) or --labels"
        )
    y = data.y
    if y.min() == y.max():
        raise CLIError(f"{data.source} holds only {'anomalies' if y[0] else 'normal samples'}; evaluate needs both")
    anomaly = -_score_samples(detector, data.X, quiet=args.quiet)
    flagged = anomaly > -detector.offset_  # predict's rule: score_samples < offset_
    print(f"samples: {len(y)} ({int((y == 0).sum())} normal, {int(y.sum())} anomalous) from {data.source}")
    print(f"ROC AUC: {roc_auc_score(y, anomaly):.4f}")
    print(f"average precision: {average_precision_score(y, anomaly):.4f}")
    for fpr in (0.01, 0.05):
        print(f"recall at {fpr:.0%} FPR: {recall_at_fpr(y, anomaly, fpr=fpr):.4f}")
    print(
        f"at the model's threshold (contamination={detector.contamination}): "
        f"recall {flagged[y == 1].mean():.4f}, false-positive rate {flagged[y == 0].mean():.4f}"
    )
    if args.figures:
        written = _write_figures(Path(args.figures), detector, data, anomaly)
        print(f"figures: {', '.join(str(p) for p in written)}")


def _info(args) -> None:
    import skgan_ad

    detector = _load_model(args.model)
    name = type(detector).__name__
    cli_name = {cls: key for key, cls in DETECTORS.items()}.get(name)
    print(f"detector: {name}" + (f" (--detector {cli_name})" if cli_name else ""))
    saved = _file_metadata(args.model)
    print(
        f"skgan_ad version: {skgan_ad.__version__}; the model was saved by skgan_ad "
        f"{saved.get('skgan_ad_version', 'unknown')} (torch {saved.get('torch_version', 'unknown')}, "
        f"file format {saved.get('format_version', 'unknown')})"
    )
    shape = getattr(detector, "image_shape_", None)
    n_features = getattr(detector, "n_features_in_", None)
    print(f"input: images of shape (C, H, W) = {tuple(shape)}" if shape else f"input: rows of {n_features} features")
    calibration = getattr(detector, "calibration_scores_", None)
    print(
        f"threshold: offset_ = {detector.offset_:.6g} (contamination {detector.contamination})"
        + (f", {_count(len(calibration), 'held-out normal score')} for p-values" if calibration is not None else "")
    )
    print(_history_summary(detector))
    print("parameters:")
    for key, value in sorted(detector.get_params(deep=False).items()):
        print(f"  {key} = {value!r}")


def _file_metadata(path) -> dict:
    """The string metadata of a model file: the versions that wrote it (see :mod:`skgan_ad.io`'s file layout)."""
    from safetensors import safe_open

    with safe_open(path, framework="pt") as file:
        return dict(file.metadata() or {})


def _history_summary(detector) -> str:
    history = getattr(detector, "history_", None)
    if history is None or not len(history):
        return "training: no history stored"
    parts = [f"training: {_count(len(history), 'epoch')}"]
    for key in ("train_loss", "valid_loss"):
        values = [epoch[key] for epoch in history if key in epoch]
        if values:
            best = int(np.argmin(values))
            parts.append(f"{key} {values[0]:.4g} -> {values[-1]:.4g} (lowest {values[best]:.4g}, epoch {best + 1})")
    durations = [epoch["dur"] for epoch in history if "dur" in epoch]
    if durations:
        parts.append(f"{sum(durations):.1f} s")
    return "; ".join(parts)


# ---------------------------------------------------------------------------
# Helpers of the commands
# ---------------------------------------------------------------------------


def _read_args_data(args, *, part: str, grey: bool | None, convert_color: bool = True) -> Data:
    return read_data(
        args.data,
        part=part,
        grey=grey,
        size=args.size,
        normal_class=args.normal_class,
        label_column=args.label_column,
        labels=args.labels,
        convert_color=convert_color,
    )


def _count(n: int, noun: str) -> str:
    """``n`` and ``noun``, in the plural unless ``n`` is 1: "1 epoch", "2 epochs", "0 samples"."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _model_path(path, *, write: bool = False) -> Path:
    """Check the MODEL path of any command before the work, so that a folder (``skgan-ad score data data``) or a
    missing file is named as what it is rather than failing later, or after training for ``fit --model``."""
    path = Path(path)
    if write:
        if path.is_dir():
            raise CLIError(
                f"--model {path} is a folder, not a model file: give the file to save the model to, "
                f"e.g. {path / 'model.safetensors'}"
            )
        if not path.parent.is_dir():
            raise CLIError(f"--model {path}: the folder {path.parent} does not exist")
        return path
    what = "MODEL (the first argument) is the file that skgan-ad fit --model wrote, e.g. model.safetensors"
    if path.is_dir():
        raise CLIError(f"{path} is a folder, not a model file: {what}")
    if not path.exists():
        raise CLIError(f"model file {path} does not exist; {what}")
    if not path.is_file():
        raise CLIError(f"{path} is not a regular file: {what}")
    return path


def _load_model(path):
    from .io import load

    detector = load(_model_path(path))
    if not hasattr(detector, "score_samples") or not hasattr(detector, "offset_"):
        raise CLIError(f"{path} does not hold a fitted detector (got {type(detector).__name__})")
    return detector


def _model_grey(detector) -> bool | None:
    """Read images with the fitted detector's number of channels (None for a tabular model: decide per image)."""
    shape = getattr(detector, "image_shape_", None)
    return None if shape is None else shape[0] == 1


class _NoColorStream:
    """A text stream that drops ANSI colour codes on the way to ``stream``; every other attribute is the stream's."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        self._stream.write(_COLOR_CODE.sub("", text))
        return len(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _use_color(stream) -> bool:
    """Colour for a terminal only (a log file or a pipe would get ``^[[32m5.74^[[0m``), and never with NO_COLOR set
    to anything but the empty string (https://no-color.org)."""
    isatty = getattr(stream, "isatty", None)
    return not os.environ.get("NO_COLOR") and isatty is not None and isatty()


@contextmanager
def _color_for_terminals_only():
    """Strip the colour codes that training writes (skorch's epoch table colours the best values whatever the
    output is) from stdout and stderr, each unless :func:`_use_color` allows them."""
    with ExitStack() as stack:
        if not _use_color(sys.stdout):
            stack.enter_context(redirect_stdout(_NoColorStream(sys.stdout)))
        if not _use_color(sys.stderr):
            stack.enter_context(redirect_stderr(_NoColorStream(sys.stderr)))
        yield


def _score_samples(detector, X, *, quiet: bool, p_values: bool = False):
    """``detector.score_samples(X)`` in chunks behind a progress bar (scores do not depend on the chunks).

    With ``p_values``, also the conformal p-values of :func:`skgan_ad.metrics.conformal_p_values`
    (from the same scores), returned as ``(scores, p_values)``.
    """
    from tqdm.auto import tqdm

    from .metrics import conformal_p_values

    chunk = 8 * int(getattr(detector, "batch_size", 64))
    scores, p = [], []

    def score(part):
        scores.append(np.asarray(detector.score_samples(part), dtype=np.float64))
        if p_values:
            p.append(conformal_p_values(detector, scores=scores[-1]))

    # The first chunk before the bar: input the model refuses (shape, features) fails alone on stderr.
    score(X[:chunk])
    with tqdm(
        total=len(X), initial=len(scores[0]), desc="scoring", unit="sample", disable=quiet, file=sys.stderr
    ) as bar:
        for start in range(chunk, len(X), chunk):
            score(X[start : start + chunk])
            bar.update(len(scores[-1]))
    return (np.concatenate(scores), np.concatenate(p)) if p_values else np.concatenate(scores)


def _import_pyplot():
    try:
        import matplotlib
    except ImportError as exc:
        raise CLIError("--figures needs matplotlib: pip install 'skgan_ad[plots]'") from exc
    matplotlib.use("Agg")  # files only: no display needed, on a server or in CI
    import matplotlib.pyplot as plt

    return plt


def _write_figures(folder: Path, detector, data: Data, anomaly: np.ndarray) -> list[Path]:
    """ROC and precision-recall curves, score histograms, training curves; for images, the most anomalous
    samples' reconstructions and anomaly maps. Returns the files written."""
    from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay

    from .plotting import AnomalyMapDisplay, ReconstructionDisplay, ScoreHistogramDisplay, TrainingCurveDisplay

    plt = _import_pyplot()
    folder.mkdir(parents=True, exist_ok=True)
    name, y = type(detector).__name__, data.y
    # Anomaly scores, not from_estimator: that ranks by decision_function, higher for *normal* samples.
    figures = {
        "roc_curve.png": lambda: RocCurveDisplay.from_predictions(y, anomaly, pos_label=1, name=name),
        "precision_recall.png": lambda: PrecisionRecallDisplay.from_predictions(y, anomaly, pos_label=1, name=name),
        "score_histogram.png": lambda: ScoreHistogramDisplay.from_predictions(
            anomaly, y, threshold=-detector.offset_, name=name
        ),
    }
    if getattr(detector, "history_", None):
        figures["training_curve.png"] = lambda: TrainingCurveDisplay.from_estimator(detector, name=name)
    if getattr(detector, "image_shape_", None) is not None:
        # The most anomalous samples: those a reviewer of the flags looks at first.
        top = np.argsort(-anomaly, kind="stable")[:8]
        titles = [f"{anomaly[i]:.2f}" for i in top]
        figures["reconstructions.png"] = lambda: ReconstructionDisplay.from_estimator(
            detector, data.X, indices=top, titles=titles
        )
        figures["anomaly_maps.png"] = lambda: AnomalyMapDisplay.from_estimator(
            detector, data.X, indices=top, titles=titles
        )
    written = []
    for filename, draw in figures.items():
        figure = draw().figure_
        figure.savefig(folder / filename, dpi=100, bbox_inches="tight")
        plt.close(figure)
        written.append(folder / filename)
    return written


# ---------------------------------------------------------------------------
# Argument handling
# ---------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # argparse prints the usage too; one line reads better in logs and is what every other failure gives.
        self.exit(2, f"{PROG}: error: {message} (see '{self.prog} --help')\n")


def _size(text: str) -> tuple[int, int]:
    try:
        sizes = [int(s) for s in text.lower().replace("x", " ").replace(",", " ").split()]
    except ValueError:
        sizes = []
    if len(sizes) not in (1, 2) or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected N or HxW (positive ints), got {text!r}")
    return (sizes[0], sizes[-1])


def build_parser() -> argparse.ArgumentParser:
    """The ``skgan-ad`` argument parser, one sub-command per task."""
    from . import __version__

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    common.add_argument("--debug", action="store_true", help="show the traceback of a failure")
    reading = argparse.ArgumentParser(add_help=False)
    reading.add_argument(
        "--size", type=_size, metavar="N|HxW", help="resize images to N or HxW pixels (the same at fit and score)"
    )
    reading.add_argument(
        "--normal-class",
        default="good",
        metavar="NAME",
        help="class folder of the normal images in DATA/<class>/ (default: good)",
    )
    reading.add_argument(
        "--label-column",
        default="label",
        metavar="NAME",
        help="CSV column of labels, 1 anomaly / 0 normal (default: label)",
    )
    reading.add_argument("--labels", metavar="FILE", help="labels of DATA's samples, one per line or a .npy file")
    scoring = argparse.ArgumentParser(add_help=False)
    scoring.add_argument("model", metavar="MODEL", help="a model file written by skgan-ad fit (skgan_ad.save)")
    scoring.add_argument("data", metavar="DATA", help="an image folder, a .npy file or a .csv file")
    scoring.add_argument(
        "--convert-color",
        action="store_true",
        help="convert images whose colour differs from the model's (colour to grey, grey to RGB); "
        "without it such an image is an error",
    )

    parser = _Parser(
        prog=PROG,
        description="GAN anomaly detectors on image folders, .npy and .csv files.",
        epilog="DATA: an image folder (flat, <class>/ sub-folders, or train/good + test/<good|defect>), "
        "a .npy file or a .csv file of numeric columns.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fit = commands.add_parser(
        "fit",
        parents=[common, reading],
        help="train a detector on normal data and save it",
        description=(
            "Train on the normal samples of DATA (all of them when DATA has no labels; train/good of the "
            "industrial layout) and save the model."
        ),
    )
    fit.add_argument("data", metavar="DATA", help="an image folder, a .npy file or a .csv file")
    fit.add_argument("--model", required=True, metavar="MODEL", help="file to save the fitted detector to")
    fit.add_argument("--detector", default="skip-ganomaly", choices=list(DETECTORS), help="default: skip-ganomaly")
    fit.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a detector parameter, the value read as a Python literal: --set n_epochs=5 --set hidden_dims=(64,32)",
    )
    fit.add_argument(
        "--color",
        choices=("auto", "grey", "rgb"),
        default="auto",
        help="read images as grey or RGB (auto: as the first image is)",
    )
    fit.set_defaults(run=_fit)

    score = commands.add_parser(
        "score",
        parents=[scoring, common, reading],
        help="write anomaly scores, p-values and flags as CSV",
        description="One CSV row per sample: its path or row number, anomaly score (higher is more abnormal), "
        "conformal p-value against the held-out normals of training, and flag (1: beyond the model's threshold).",
    )
    score.add_argument("--out", metavar="FILE", help="CSV file to write (default: standard output)")
    score.set_defaults(run=_score)

    evaluate = commands.add_parser(
        "evaluate",
        parents=[scoring, common, reading],
        help="ROC AUC, average precision, recall at 1%% and 5%% FPR",
        description="Evaluate on labelled DATA (test/good and test/<defect>, a --normal-class folder, a CSV label "
        "column or --labels; 1 anomaly, 0 normal).",
    )
    evaluate.add_argument("--figures", metavar="DIR", help="write ROC, precision-recall and other plots here")
    evaluate.set_defaults(run=_evaluate)

    info = commands.add_parser(
        "info",
        parents=[common],
        help="describe a saved model",
        description="Print a saved model's detector, "
        "parameters, input, threshold and training history, and the library version.",
    )
    info.add_argument("model", metavar="MODEL")
    info.set_defaults(run=_info)
    return parser


def _one_line(exc: BaseException) -> str:
    message = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, (CLIError, ValueError, TypeError, OSError, ImportError)):
        return message
    return f"{type(exc).__name__}: {message} (run again with --debug for the traceback)"


def main(argv=None) -> int:
    """Run ``skgan-ad`` with ``argv`` (``sys.argv[1:]`` by default); return the exit status.

    0 on success; 2, with one line on stderr, on any failure (``--debug``
    raises it with its traceback instead).
    """
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except BrokenPipeError:
        # The reader went away (skgan-ad score ... | head): nothing to report. Point stdout at devnull so
        # that Python's flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        if args.debug:
            raise
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    return 0
