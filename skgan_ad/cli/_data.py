"""Reading ``DATA`` as the commands do: image folders (through :mod:`skgan_ad.datasets`), .npy and .csv files,
and label files."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._common import CLIError, _count


@dataclass
class Data:
    """Samples read from ``DATA``, with one identifier each and the labels when ``DATA`` has them."""

    X: np.ndarray
    ids: list
    id_name: str  # "path" (relative to DATA) for image files, "row" (from 0) for rows of a .npy or .csv file
    y: np.ndarray | None  # 1 anomaly, 0 normal; None when DATA has no labels
    source: str
    # The industrial layout's ground-truth masks of the test images, (n, H, W) of 0/1 as X; None without ground_truth.
    masks: np.ndarray | None = None


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
    from ..datasets import find_images, read_images
    from ..datasets._folders import read_industrial_masks

    try:  # the layouts (flat, <class>/, train/good + test/<good|defect>) are the datasets module's
        found = find_images(root, part=part, normal_class=normal_class)
    except ValueError as exc:
        raise CLIError(str(exc)) from exc
    if grey is not None and not convert_color:
        _check_color(found.files, grey)
    X = read_images(found.files, grey=grey, size=size)
    ids = [f.relative_to(root).as_posix() for f in found.files]
    # The test part of the industrial layout (find_images read root/test): its ground_truth masks, where it has them.
    masks = read_industrial_masks(root, found.files, X.shape[1:3]) if found.folder == root / "test" else None
    return Data(X, ids, "path", found.y, f"image folder {found.folder}", masks)


def _check_color(files, grey: bool) -> None:
    """Refuse images of the other colour than the model's (``grey``): read_images would convert them without a
    word, and a colour photograph scored as grey (or a grey scan as flat RGB) is not the data the model learnt."""
    from ..datasets._folders import _GREY_MODES, _import_pil

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
    from ..metrics import check_anomaly_labels

    values = np.asarray(y, dtype=float)
    if np.isnan(values).any():
        raise CLIError(f"{what} has missing labels")
    if np.array_equal(values, np.round(values)):
        y = values.astype(int)  # CSV and text files give floats: 1.0 reads as the label 1
    try:
        return check_anomaly_labels(y)
    except ValueError as exc:
        raise CLIError(f"{what}: {exc}") from exc
