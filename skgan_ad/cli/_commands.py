"""The commands (fit, score, evaluate, info) and their printing: progress, colour codes, figures."""

from __future__ import annotations

import ast
import csv
import os
import re
import sys
from contextlib import ExitStack, contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np

from ._common import DETECTORS, CLIError, _count
from ._data import Data, read_data

# ANSI colour codes (SGR sequences such as ESC[32m): skorch's epoch table marks the best values with them.
_COLOR_CODE = re.compile(r"\x1b\[[0-9;]*m")


def _fit(args) -> None:
    import skgan_ad

    from ..io import save

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

    from ..metrics import recall_at_fpr

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
    maps = None if data.masks is None else _print_pixel_metrics(detector, data, quiet=args.quiet)
    if args.figures:
        written = _write_figures(Path(args.figures), detector, data, anomaly, maps)
        print(f"figures: {', '.join(str(p) for p in written)}")


def _print_pixel_metrics(detector, data: Data, *, quiet: bool) -> np.ndarray | None:
    """Pixel ROC AUC and AUPRO of the detector's anomaly maps against ``data.masks``; returns the maps (None when
    the detector has none)."""
    from ..metrics import aupro, pixel_roc_auc

    if getattr(detector, "image_shape_", None) is None or not hasattr(detector, "anomaly_map"):
        print(f"pixel metrics: none, {type(detector).__name__} gives no anomaly maps")
        return None
    maps = np.concatenate(_in_chunks(detector, data.X, detector.anomaly_map, desc="anomaly maps", quiet=quiet))
    masks = data.masks
    if maps.shape != masks.shape:
        raise CLIError(f"the anomaly maps have shape {maps.shape} but the ground-truth masks {masks.shape}")
    n_defective = int(masks.sum())
    if n_defective == 0:
        print("pixel metrics: none, the ground-truth masks mark no defective pixel")
        return maps
    pixels = f"{masks.size} pixels, {n_defective} defective"
    print(f"pixel ROC AUC: {pixel_roc_auc(masks, maps):.4f} ({pixels})")
    print(f"AUPRO up to 30% FPR: {aupro(masks, maps, max_fpr=0.3):.4f} (normalised: 1 is perfect)")
    return maps


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
    from ..io import load

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
    from ..metrics import conformal_p_values

    def score(part):
        scores = np.asarray(detector.score_samples(part), dtype=np.float64)
        return (scores, conformal_p_values(detector, scores=scores)) if p_values else scores

    parts = _in_chunks(detector, X, score, desc="scoring", quiet=quiet)
    if p_values:
        return np.concatenate([s for s, _ in parts]), np.concatenate([p for _, p in parts])
    return np.concatenate(parts)


def _in_chunks(detector, X, compute, *, desc: str, quiet: bool) -> list:
    """``[compute(chunk) for chunk in X]`` in chunks of ``8 * batch_size`` samples behind a progress bar."""
    from tqdm.auto import tqdm

    chunk = 8 * int(getattr(detector, "batch_size", 64))
    # The first chunk before the bar: input the model refuses (shape, features) fails alone on stderr.
    parts = [compute(X[:chunk])]
    with tqdm(
        total=len(X), initial=min(chunk, len(X)), desc=desc, unit="sample", disable=quiet, file=sys.stderr
    ) as bar:
        for start in range(chunk, len(X), chunk):
            parts.append(compute(X[start : start + chunk]))
            bar.update(len(X[start : start + chunk]))
    return parts


def _import_pyplot():
    try:
        import matplotlib
    except ImportError as exc:
        raise CLIError("--figures needs matplotlib: pip install 'skgan_ad[plots]'") from exc
    matplotlib.use("Agg")  # files only: no display needed, on a server or in CI
    import matplotlib.pyplot as plt

    return plt


def _write_figures(folder: Path, detector, data: Data, anomaly: np.ndarray, maps: np.ndarray | None) -> list[Path]:
    """ROC and precision-recall curves, score histograms, training curves; for images, the most anomalous
    samples' reconstructions and anomaly maps, and, with ground-truth masks (and their ``maps``), maps over a few
    test images with the defects outlined. Returns the files written."""
    from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay

    from ..plotting import AnomalyMapDisplay, ReconstructionDisplay, ScoreHistogramDisplay, TrainingCurveDisplay

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
        if hasattr(detector, "reconstruct"):  # a PatchDetector has maps but no reconstructions
            figures["reconstructions.png"] = lambda: ReconstructionDisplay.from_estimator(
                detector, data.X, indices=top, titles=titles
            )
        figures["anomaly_maps.png"] = lambda: AnomalyMapDisplay.from_estimator(
            detector, data.X, indices=top, titles=titles
        )
    if maps is not None and data.masks is not None:
        figures["ground_truth_overlays.png"] = lambda: _ground_truth_overlays(data, maps, anomaly)
    written = []
    for filename, draw in figures.items():
        figure = draw().figure_
        figure.savefig(folder / filename, dpi=100, bbox_inches="tight")
        plt.close(figure)
        written.append(folder / filename)
    return written


def _ground_truth_overlays(data: Data, maps: np.ndarray, anomaly: np.ndarray, n_defective: int = 6, n_normal: int = 2):
    """Anomaly maps over a few test images (defective ones first, spread over the set, then normal ones), with the
    ground-truth regions outlined."""
    from ..plotting import AnomalyMapDisplay

    defective = np.flatnonzero(data.masks.reshape(len(data.masks), -1).any(axis=1))
    normal = np.setdiff1d(np.arange(len(data.masks)), defective)
    chosen = np.concatenate([defective[_spread(len(defective), n_defective)], normal[_spread(len(normal), n_normal)]])
    titles = [f"{Path(data.ids[i]).parent.name} {anomaly[i]:.2f}" for i in chosen]
    return AnomalyMapDisplay.from_predictions(
        data.X[chosen],
        maps[chosen],
        masks=data.masks[chosen],
        titles=titles,
        name="anomaly maps, ground truth outlined",
    )


def _spread(n: int, k: int) -> np.ndarray:
    """At most ``k`` indices of ``range(n)``, evenly spread, first and last included."""
    return np.unique(np.linspace(0, n - 1, min(n, k)).round().astype(int)) if n else np.zeros(0, dtype=int)
