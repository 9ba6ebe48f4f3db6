"""Data sets shaped for the detectors, and the evaluation protocols' splits.

Nothing here downloads: the 8x8 digits ship with scikit-learn, and every other
loader reads files from a path the user gives (MNIST-style IDX files, folders
of images with one sub-folder per class, and the ``train/good``,
``test/<defect>`` layout of industrial data sets such as MVTec AD).

The protocol helpers build the two splits of the seed papers (GANomaly,
Skip-GANomaly) from any labelled train/test pair; their labels are 1 for an
anomaly and 0 for a normal sample. Leave-one-class-out takes its anomalies
from the test split only by default, unlike the papers (see
:func:`leave_one_class_out`).
"""

from __future__ import annotations

import gzip
import numbers
import os
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state


class AnomalySplit(NamedTuple):
    """A train/test split for anomaly detection; labels are 1 for anomalies, 0 for normals."""

    X_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def load_digits_images() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 8x8 digits of scikit-learn as float images in [0, 1] (pixels / 16).

    Returns
    -------
    images : ndarray of shape (1797, 8, 8), float64
    labels : ndarray of shape (1797,), int
    """
    digits = load_digits()
    return digits.images / 16.0, digits.target


def digits_leave_one_out(abnormal_class: int, *, test_size: float = 0.2, random_state: int = 0) -> AnomalySplit:
    """Leave-one-class-out on the digits, as DESIGN.md's reference table uses it.

    The other nine digits are normal and split ``train_test_split(test_size,
    random_state)``; the detector trains on the normal training part and is
    tested on the normal test part plus every image of ``abnormal_class``.
    """
    images, labels = load_digits_images()
    if abnormal_class not in set(labels.tolist()):
        raise ValueError(f"abnormal_class must be a digit 0..9, got {abnormal_class!r}")
    normal, abnormal = images[labels != abnormal_class], images[labels == abnormal_class]
    X_train, X_test_normal = train_test_split(normal, test_size=test_size, random_state=random_state)
    X_test = np.concatenate([X_test_normal, abnormal])
    y_test = np.concatenate([np.zeros(len(X_test_normal), int), np.ones(len(abnormal), int)])
    return AnomalySplit(X_train, X_test, y_test)


def to_optdigits(images, *, threshold: int = 127, deslant: bool = True) -> np.ndarray:
    """Grey digit images (e.g. MNIST's 28x28) made 8x8 the way the UCI "optdigits" behind ``load_digits`` were.

    The UCI digits are 32x32 bitmaps of size-normalised, upright, bold
    handwriting, cut into 4x4 blocks whose count of black pixels gives an 8x8
    image of 0..16. This mirrors that, so that MNIST *training* images can
    stand in for the digits as a development set (every digit image is an
    anomaly of one leave-one-class-out test split, so none may be used to
    choose settings). Each image is deslanted (a shear that makes its
    intensity-weighted row/column covariance zero), cut to the bounding box
    of its pixels above ``threshold``, scaled (bilinear) to 32 rows with its
    aspect ratio kept but at most 20 columns wide (narrowed if wider),
    centred, binarised at ``threshold``, thickened by one pixel (4-neighbour
    dilation: the UCI strokes are about twice as thick as MNIST's), and summed
    over 4x4 blocks. These steps were chosen to match the digits' pixel
    statistics (mean 4.9 of 16, half the pixels 0, the column profile) and
    the PCA and IsolationForest AUCs of leave-one-class-out; no GAN detector
    was run to choose them.

    Parameters
    ----------
    images : array-like of shape (n, H, W)
        Grey images, 0..255 (dark background), e.g. MNIST's uint8 images.
    threshold : int, default=127
        A pixel is "on" above this value.
    deslant : bool, default=True
        Shear each image upright first (the UCI digits lean far less than
        MNIST's; deslanting brings the baselines' AUCs close to the digits').

    Returns
    -------
    ndarray of shape (n, 8, 8), int64
        Counts 0..16; divide by 16 for the ``[0, 1]`` scale of
        :func:`load_digits_images`. Images with no pixel above ``threshold``
        give zeros.

    Examples
    --------
    >>> bar = np.zeros((1, 28, 28), np.uint8)
    >>> bar[0, 4:24, 12:17] = 255  # an upright stroke 20 x 5 pixels: 32 x 8 once scaled, 10 wide once thickened
    >>> digit = to_optdigits(bar)
    >>> digit.shape, digit[0, 0].tolist(), bool((digit[0] == digit[0, 0]).all())
    ((1, 8, 8), [0, 0, 4, 16, 16, 4, 0, 0], True)
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3 or min(images.shape[1:], default=0) < 1:
        raise ValueError(f"images must have shape (n, H, W), got {images.shape}")
    if deslant:
        images = _deslant(images)
    n, height, width = images.shape
    on = images > threshold
    rows, cols = on.any(axis=2), on.any(axis=1)
    empty = ~rows.any(axis=1)
    # Bounding boxes [top, bottom] x [left, right], inclusive (a dummy box for empty images, zeroed below).
    top, bottom = rows.argmax(axis=1), height - 1 - rows[:, ::-1].argmax(axis=1)
    left, right = cols.argmax(axis=1), width - 1 - cols[:, ::-1].argmax(axis=1)
    box_h, box_w = bottom - top + 1, right - left + 1
    out_w = np.clip(np.round(box_w * 32 / box_h), 1, 20).astype(int)
    out_left = (32 - out_w) // 2
    # Where each output pixel centre falls in the input (pixel-centre coordinates), box edge to box edge.
    grid = np.arange(32) + 0.5
    src_y = top[:, None] - 0.5 + grid[None] * (box_h / 32)[:, None]
    src_x = left[:, None] - 0.5 + (grid[None] - out_left[:, None]) * (box_w / out_w)[:, None]
    inside_x = (grid[None] >= out_left[:, None]) & (grid[None] < (out_left + out_w)[:, None])
    bitmap = _bilinear(images, src_y, src_x) > threshold
    bitmap &= inside_x[:, None, :] & ~empty[:, None, None]
    # One-pixel 4-neighbour dilation: the UCI strokes are bolder than MNIST's.
    bold = bitmap.copy()
    bold[:, 1:] |= bitmap[:, :-1]
    bold[:, :-1] |= bitmap[:, 1:]
    bold[:, :, 1:] |= bitmap[:, :, :-1]
    bold[:, :, :-1] |= bitmap[:, :, 1:]
    return bold.reshape(n, 8, 4, 8, 4).sum(axis=(2, 4)).astype(np.int64)


def _deslant(images: np.ndarray) -> np.ndarray:
    """Shear each image horizontally about its centre of mass so that its row/column covariance is zero."""
    n, height, width = images.shape
    rows, cols = np.arange(height, dtype=float)[:, None], np.arange(width, dtype=float)[None]
    mass = np.maximum(images.sum(axis=(1, 2)), 1e-12)  # empty images: no shear
    cy = (images * rows).sum(axis=(1, 2)) / mass
    cx = (images * cols).sum(axis=(1, 2)) / mass
    dy, dx = rows[None] - cy[:, None, None], cols[None] - cx[:, None, None]
    var_y = np.maximum((images * dy**2).sum(axis=(1, 2)) / mass, 1e-12)
    slope = (images * dy * dx).sum(axis=(1, 2)) / mass / var_y  # columns gained per row down the stroke
    # Output (r, c) reads input (r, c + slope (r - cy)): linear interpolation along each row, 0 outside.
    src = cols[None] + slope[:, None, None] * dy + 1  # + 1: coordinates in the zero-padded rows
    padded = np.pad(images, ((0, 0), (0, 0), (1, 1)))
    pos = np.clip(src, 0, width + 1)
    low = np.minimum(np.floor(pos).astype(int), width)
    weight = pos - low
    return (1 - weight) * np.take_along_axis(padded, low, axis=2) + weight * np.take_along_axis(padded, low + 1, axis=2)


def _bilinear(images: np.ndarray, src_y: np.ndarray, src_x: np.ndarray) -> np.ndarray:
    """``images`` (n, H, W) sampled bilinearly at rows ``src_y`` (n, h) x columns ``src_x`` (n, w); 0 outside."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))  # zeros one pixel beyond every edge
    idx = np.arange(len(images))[:, None]

    def weights(src, size):  # lower neighbour (in padded coordinates) and the upper one's weight
        pos = np.clip(src + 1, 0, size + 1)
        low = np.minimum(np.floor(pos).astype(int), size)
        return low, (pos - low)

    # Separable: interpolate along rows, then along columns (the sample grid is a product of the two).
    y0, wy = weights(src_y, images.shape[1])
    rows = (1 - wy)[:, :, None] * padded[idx, y0] + wy[:, :, None] * padded[idx, y0 + 1]
    x0, wx = weights(src_x, images.shape[2])
    cols = np.arange(len(images))[:, None, None], np.arange(rows.shape[1])[None, :, None]
    return (1 - wx)[:, None] * rows[(*cols, x0[:, None])] + wx[:, None] * rows[(*cols, x0[:, None] + 1)]


# ---------------------------------------------------------------------------
# MNIST-style IDX files
# ---------------------------------------------------------------------------

# IDX type codes (third magic byte); IDX stores every multi-byte value big-endian.
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_maybe_gzipped(path: Path) -> bytes:
    """Return the file's bytes, decompressed when it starts with the gzip magic (whatever its name)."""
    with open(path, "rb") as fh:
        raw = fh.read()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError; a cut stream is an EOFError
        raise ValueError(f"{path}: corrupt or truncated gzip data ({exc})") from exc


def load_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one MNIST-style IDX file, gzipped or raw.

    Compression is detected from the first two bytes (``1f 8b``), not from the
    file name, so a renamed or already-decompressed file still reads.

    Parameters
    ----------
    path : str or path-like
        The IDX file, e.g. ``train-images-idx3-ubyte.gz``.

    Returns
    -------
    data : ndarray
        Array of the shape given in the header, in the native byte order of the
        stored type (uint8, int8, int16, int32, float32 or float64).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the magic number is not an IDX one, or the data is truncated or
        longer than the header says; the message names the file.
    """
    path = Path(path)
    data = _read_maybe_gzipped(path)
    if len(data) < 4:
        raise ValueError(f"{path}: not an IDX file (only {len(data)} bytes, a header needs at least 4)")
    zero, code, ndim = int.from_bytes(data[:2], "big"), data[2], data[3]
    if zero != 0 or code not in _IDX_DTYPES or ndim == 0:
        raise ValueError(
            f"{path}: bad IDX magic number 0x{data[:4].hex()} (expected 0x0000, a type code among "
            f"{', '.join(f'0x{c:02X}' for c in _IDX_DTYPES)}, and at least one dimension)"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(data)} bytes, {ndim} dimensions need {header})")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(data) - header
    if found < expected:
        raise ValueError(f"{path}: truncated IDX data ({found} bytes after the header, shape {shape} needs {expected})")
    if found > expected:
        raise ValueError(f"{path}: wrong IDX size ({found} bytes after the header, shape {shape} needs {expected})")
    # frombuffer over bytes is read-only; astype copies into a writable, native-endian array.
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


_MNIST_PREFIX = {"train": "train", "test": "t10k"}


def _find_idx(root: Path, name: str) -> Path | None:
    for candidate in (root / f"{name}.gz", root / name):
        if candidate.is_file():
            return candidate
    return None


def load_mnist(root: str | os.PathLike, kind: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Read the MNIST training or test split from a folder of the standard IDX files.

    Looks for ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte``
    (``kind="train"``) or ``t10k-images-idx3-ubyte`` and
    ``t10k-labels-idx1-ubyte`` (``kind="test"``), each either with ``.gz`` or
    raw. Any data set in the same format (e.g. Fashion-MNIST) reads too.

    Parameters
    ----------
    root : str or path-like
        Folder holding the files. Nothing is downloaded.
    kind : {"train", "test"}, default="train"
        Which split to read.

    Returns
    -------
    images : ndarray of shape (n, rows, cols), uint8
        (n, 28, 28) for MNIST, pixels 0..255.
    labels : ndarray of shape (n,), int64

    Raises
    ------
    FileNotFoundError
        If a file is missing; the message lists the names looked for.
    ValueError
        If ``kind`` is unknown, a file is malformed, or the counts of images
        and labels differ.
    """
    if kind not in _MNIST_PREFIX:
        raise ValueError(f"kind must be 'train' or 'test', got {kind!r}")
    root = Path(root)
    prefix = _MNIST_PREFIX[kind]
    names = (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
    found = [_find_idx(root, name) for name in names]
    if None in found:
        looked_for = ", ".join(f"{n}(.gz)" for n, f in zip(names, found) if f is None)
        raise FileNotFoundError(f"MNIST {kind} split: {looked_for} not found in {root}")
    images, labels = (load_idx(f) for f in found)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"{found[0]}: expected uint8 images of 3 dimensions, got {images.dtype} {images.shape}")
    if labels.ndim != 1:
        raise ValueError(f"{found[1]}: expected 1-D labels, got shape {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(f"MNIST {kind} split in {root}: {len(images)} images but {len(labels)} labels")
    return images, labels.astype(np.int64)


# ---------------------------------------------------------------------------
# Folders of images
# ---------------------------------------------------------------------------

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def _import_pil():
    try:
        from PIL import Image
    except ImportError as exc:  # Pillow is optional: only the folder loaders need it
        raise ImportError("reading image folders needs Pillow: pip install 'skgan_ad[images]' (or Pillow)") from exc
    return Image


def _check_size(size: int | Sequence[int] | None) -> tuple[int, int] | None:
    """Normalise ``size`` to (H, W), or None."""
    if size is None:
        return None
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        size = (int(size), int(size))
    try:
        h, w = (int(s) for s in size)
    except (TypeError, ValueError):
        raise ValueError(f"size must be an int or a pair (H, W) of ints, got {size!r}") from None
    if h < 1 or w < 1:
        raise ValueError(f"size must be positive, got {size!r}")
    return h, w


def list_images(folder: str | os.PathLike, extensions: Sequence[str] = IMAGE_EXTENSIONS) -> list[Path]:
    """Image files directly in ``folder``, sorted by name so that the order is the same everywhere."""
    exts = tuple(e.lower() for e in extensions)
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in exts)


def class_folders(folder: str | os.PathLike) -> list[Path]:
    """Sub-folders of ``folder``, sorted; hidden ones (.ipynb_checkpoints, .git ...) are never classes."""
    return sorted(p for p in Path(folder).iterdir() if p.is_dir() and not p.name.startswith("."))


# Pillow modes of one-band (grey) images.
_GREY_MODES = {"1", "L", "LA", "I", "F", "I;16", "I;16B", "I;16L"}


def read_images(
    files: Sequence[str | os.PathLike], *, grey: bool | None = False, size: int | tuple[int, int] | None = None
) -> np.ndarray:
    """Decode image ``files`` into one uint8 array, (n, H, W) grey or (n, H, W, 3) RGB.

    ``grey=None`` follows the first file: grey if it is a one-band image.
    Every image must end up the same size: pass ``size`` (an int or (H, W)) to
    resize them. A file that cannot be decoded raises a ``ValueError`` naming it.
    """
    size = _check_size(size)
    Image = _import_pil()
    resample = getattr(Image, "Resampling", Image).BILINEAR  # Pillow < 9.1 has no Image.Resampling
    images = []
    for path in files:
        try:
            with Image.open(path) as img:
                if grey is None:
                    grey = img.mode in _GREY_MODES
                img = img.convert("L" if grey else "RGB")  # convert() decodes, so a broken file fails here
                if size is not None:
                    img = img.resize((size[1], size[0]), resample)  # Pillow sizes are (W, H)
                array = np.asarray(img, dtype=np.uint8)
        except (OSError, ValueError, SyntaxError) as exc:  # Pillow raises all three for bad files
            raise ValueError(f"cannot read image {path}: {exc}") from exc
        if images and array.shape != images[0].shape:
            raise ValueError(
                f"{path} is {array.shape[1]}x{array.shape[0]} (WxH) but {files[0]} is "
                f"{images[0].shape[1]}x{images[0].shape[0]}; pass size=(H, W) to resize them all"
            )
        images.append(array)
    return np.stack(images)


def load_image_folder(
    root: str | os.PathLike,
    *,
    grey: bool = False,
    size: int | tuple[int, int] | None = None,
    extensions: Sequence[str] = IMAGE_EXTENSIONS,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read a folder of images with one sub-folder per class (``root/<class>/*.png``).

    Classes and the files in each are taken in sorted order, so the result is
    the same on every machine. Hidden sub-folders and files with other
    extensions are ignored.

    Parameters
    ----------
    root : str or path-like
        The folder holding one sub-folder per class.
    grey : bool, default=False
        Convert every image to one grey channel; otherwise to RGB.
    size : int or (H, W), optional
        Resize every image to this size (bilinear). Without it all images must
        already share one size.
    extensions : sequence of str
        File suffixes read, compared case-insensitively.

    Returns
    -------
    images : ndarray of shape (n, H, W) if grey else (n, H, W, 3), uint8
    labels : ndarray of shape (n,), str
        Name of each image's class folder.
    classes : list of str
        The class names, sorted.

    Raises
    ------
    FileNotFoundError
        If ``root`` is not a folder.
    ValueError
        If ``root`` has no class folders, a class folder has no images, a file
        cannot be decoded, or (without ``size``) the images differ in size;
        the message names the folder or file.
    ImportError
        If Pillow is not installed.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"image folder {root} does not exist or is not a folder")
    size = _check_size(size)
    classes = class_folders(root)
    if not classes:
        raise ValueError(f"{root} has no class sub-folders (expected root/<class>/*{extensions[0]})")
    files, labels = [], []
    for folder in classes:
        found = list_images(folder, extensions)
        if not found:
            raise ValueError(f"class folder {folder} holds no images with extensions {tuple(extensions)}")
        files += found
        labels += [folder.name] * len(found)
    return read_images(files, grey=grey, size=size), np.array(labels, dtype=str), [c.name for c in classes]


def load_industrial_folder(
    root: str | os.PathLike, *, grey: bool = False, size: int | tuple[int, int] | None = None
) -> tuple[AnomalySplit, np.ndarray]:
    """Read one category of an industrial data set in the MVTec AD layout.

    The layout is ``root/train/good/*`` (normal training images),
    ``root/test/good/*`` (normal test images) and ``root/test/<defect>/*`` (one
    folder per defect type). Other folders (e.g. ``ground_truth`` masks) are
    ignored.

    Parameters
    ----------
    root : str or path-like
        The category folder, e.g. ``mvtec_anomaly_detection/bottle``.
    grey : bool, default=False
        Convert every image to one grey channel; otherwise to RGB.
    size : int or (H, W), optional
        Resize every image to this size (bilinear); without it all images must
        share one size.

    Returns
    -------
    split : AnomalySplit
        ``X_train`` from train/good; ``X_test`` from every test folder in
        sorted order, with ``y_test`` 0 for test/good and 1 for any defect.
    defect_types : ndarray of shape (n_test,), str
        Name of each test image's folder (``"good"`` for the normal ones).

    Raises
    ------
    FileNotFoundError
        If ``root/train/good`` or ``root/test`` is missing.
    ValueError
        If a folder has no images, a file cannot be decoded, or (without
        ``size``) the images differ in size.
    """
    root = Path(root)
    train_good, test_dir = root / "train" / "good", root / "test"
    for needed in (train_good, test_dir):
        if not needed.is_dir():
            raise FileNotFoundError(f"{needed} not found: expected root/train/good/* and root/test/<good|defect>/*")
    size = _check_size(size)
    train_files = list_images(train_good, IMAGE_EXTENSIONS)
    if not train_files:
        raise ValueError(f"{train_good} holds no images")
    test_files, defect_types = [], []
    for folder in class_folders(test_dir):
        found = list_images(folder, IMAGE_EXTENSIONS)
        if not found:
            raise ValueError(f"test folder {folder} holds no images")
        test_files += found
        defect_types += [folder.name] * len(found)
    if not test_files:
        raise ValueError(f"{test_dir} has no sub-folders of images (expected test/good and test/<defect>)")
    # One read over both parts, so that train and test are checked against the same size.
    images = read_images(train_files + test_files, grey=grey, size=size)
    defect_types = np.array(defect_types, dtype=str)
    y_test = (defect_types != "good").astype(int)
    split = AnomalySplit(images[: len(train_files)], images[len(train_files) :], y_test)
    return split, defect_types


# ---------------------------------------------------------------------------
# Evaluation protocols
# ---------------------------------------------------------------------------


def _check_labelled(X_train, y_train, X_test, y_test) -> tuple[np.ndarray, ...]:
    arrays = [np.asarray(a) for a in (X_train, y_train, X_test, y_test)]
    for part, X, y in (("train", arrays[0], arrays[1]), ("test", arrays[2], arrays[3])):
        if y.ndim != 1:
            raise ValueError(f"y_{part} must be 1-D, got shape {y.shape}")
        if X.ndim == 0 or len(X) != len(y):
            raise ValueError(f"X_{part} and y_{part} differ in length: {X.shape} vs {y.shape}")
    # Test images from both splits are concatenated, so their sample shapes must agree.
    if arrays[0].shape[1:] != arrays[2].shape[1:]:
        raise ValueError(f"X_train and X_test samples differ in shape: {arrays[0].shape[1:]} vs {arrays[2].shape[1:]}")
    return tuple(arrays)


def _check_max(name: str, value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int or None, got {value!r}")
    return int(value)


def _subsample(y: np.ndarray, max_n: int | None, rng: np.random.RandomState, stratify: bool) -> np.ndarray:
    """Indices of at most ``max_n`` samples, in their original order.

    With ``stratify`` every value of ``y`` keeps its share (largest remainder
    rounding) and at least one sample, so a subsampled test set still has both
    normals and anomalies.
    """
    n = len(y)
    if max_n is None or n <= max_n:
        return np.arange(n)
    if not stratify:
        return np.sort(rng.choice(n, size=max_n, replace=False))
    values, counts = np.unique(y, return_counts=True)
    if max_n < len(values):
        raise ValueError(f"cannot keep all {len(values)} label values in a subsample of {max_n}")
    quota = counts * max_n / n
    take = np.maximum(np.floor(quota).astype(int), 1)
    # Hand the places left to the largest remainders; take from the largest groups if the floor of 1 overshot.
    while take.sum() < max_n:
        take[np.argmax(np.where(take < counts, quota - take, -np.inf))] += 1
    while take.sum() > max_n:
        take[np.argmax(np.where(take > 1, take - quota, -np.inf))] -= 1
    chosen = [rng.choice(np.flatnonzero(y == v), size=k, replace=False) for v, k in zip(values, take)]
    return np.sort(np.concatenate(chosen))


def _present(label, *ys: np.ndarray) -> bool:
    return any(np.any(y == label) for y in ys if y.size)


_ANOMALY_SOURCES = ("test", "all")


def leave_one_class_out(
    X_train,
    y_train,
    X_test,
    y_test,
    abnormal_class,
    *,
    anomalies="test",
    max_train=None,
    max_test=None,
    random_state=None,
) -> AnomalySplit:
    """Leave-one-class-out: one class is the anomaly and all others are normal.

    The detector trains on the normal classes' training images only, and is
    tested on the normal classes' test images plus the abnormal class's
    images: by default its *test* images only (``anomalies="test"``).

    This departs from the seed papers (GANomaly, Skip-GANomaly), whose test
    set also holds every *training* image of the abnormal class
    (``anomalies="all"``; on CIFAR-10, 45,000 training images and
    9,000 normal : 6,000 abnormal test images). Development splits
    (:func:`development_split`) draw their images, anomalies included, from
    the training split, so under the papers' protocol the test set shares
    images with the data that settings were chosen on (on MNIST, about 85 %
    of its anomalies are training images). With ``anomalies="test"`` the test
    set is the test split alone, disjoint from every development split; it
    holds fewer anomalies (on CIFAR-10, 9,000 normal : 1,000 abnormal), so
    AUCs are not comparable with the papers' figures one to one.

    Parameters
    ----------
    X_train, y_train : array-like of shape (n_train, ...), (n_train,)
        The data set's training split and its class labels.
    X_test, y_test : array-like of shape (n_test, ...), (n_test,)
        Its test split and class labels.
    abnormal_class : label
        The class taken as the anomaly.
    anomalies : {"test", "all"}, default="test"
        Where the test set's anomalies come from: ``"test"``, the abnormal
        class's test-split images only; ``"all"``, its training and test
        images (the papers' protocol).
    max_train : int, optional
        Keep at most this many training images, drawn at random.
    max_test : int, optional
        Keep at most this many test images, drawn at random stratified on
        ``y_test`` so that normals and anomalies keep their proportion.
    random_state : int, RandomState instance or None
        Seed of the subsampling.

    Returns
    -------
    AnomalySplit
        ``X_test`` holds the normal test images first, then (``"all"`` only)
        the abnormal class's training images, then its test images (each part
        in its original order); ``y_test`` is 1 for the abnormal class, 0
        otherwise.

    Raises
    ------
    ValueError
        If ``anomalies`` is neither ``"test"`` nor ``"all"``, ``abnormal_class``
        has no image where the anomalies are taken from (the test split, or
        either split with ``"all"``), no normal training image remains, or an
        X and its y differ in length.
    """
    if not isinstance(anomalies, str) or anomalies not in _ANOMALY_SOURCES:
        raise ValueError(f"anomalies must be one of {_ANOMALY_SOURCES}, got {anomalies!r}")
    X_train, y_train, X_test, y_test = _check_labelled(X_train, y_train, X_test, y_test)
    max_train, max_test = _check_max("max_train", max_train), _check_max("max_test", max_test)
    classes = np.unique(np.concatenate([y_train, y_test])).tolist()
    if anomalies == "all" and not _present(abnormal_class, y_train, y_test):
        raise ValueError(f"abnormal_class {abnormal_class!r} is in neither split; the classes are {classes}")
    if anomalies == "test" and not _present(abnormal_class, y_test):
        raise ValueError(
            f"abnormal_class {abnormal_class!r} is not in the test split, where anomalies='test' takes the "
            f"anomalies from; the classes are {classes}"
        )
    abnormal_train, abnormal_test = y_train == abnormal_class, y_test == abnormal_class
    if abnormal_train.all():
        raise ValueError(f"no normal training images: every training label is {abnormal_class!r}")
    rng = check_random_state(random_state)
    X_normal = X_train[~abnormal_train]
    X_anomalies = X_test[abnormal_test]
    if anomalies == "all":
        X_anomalies = np.concatenate([X_train[abnormal_train], X_anomalies])
    X_out = np.concatenate([X_test[~abnormal_test], X_anomalies])
    y_out = np.r_[np.zeros((~abnormal_test).sum(), int), np.ones(len(X_anomalies), int)]
    keep_train = _subsample(np.zeros(len(X_normal)), max_train, rng, stratify=False)
    keep_test = _subsample(y_out, max_test, rng, stratify=True)
    return AnomalySplit(X_normal[keep_train], X_out[keep_test], y_out[keep_test])


def one_class(
    X_train, y_train, X_test, y_test, normal_class, *, max_train=None, max_test=None, random_state=None
) -> AnomalySplit:
    """One-class protocol: one class is normal, every other class is an anomaly.

    The detector trains on ``normal_class``'s training images and is tested on
    the whole test split.

    Parameters
    ----------
    normal_class : label
        The class taken as normal.
    X_train, y_train, X_test, y_test, max_train, max_test, random_state
        As for :func:`leave_one_class_out` (``max_test`` stratifies on the
        anomaly label, so normals and anomalies keep their proportion).

    Returns
    -------
    AnomalySplit
        ``X_test`` in its original order; ``y_test`` is 0 for
        ``normal_class`` and 1 for every other class.

    Raises
    ------
    ValueError
        If ``normal_class`` has no training image, or an X and its y differ
        in length.
    """
    X_train, y_train, X_test, y_test = _check_labelled(X_train, y_train, X_test, y_test)
    max_train, max_test = _check_max("max_train", max_train), _check_max("max_test", max_test)
    if not _present(normal_class, y_train):
        raise ValueError(
            f"normal_class {normal_class!r} has no training images; the classes are {np.unique(y_train).tolist()}"
        )
    rng = check_random_state(random_state)
    X_normal = X_train[y_train == normal_class]
    y_out = (y_test != normal_class).astype(int)
    keep_train = _subsample(np.zeros(len(X_normal)), max_train, rng, stratify=False)
    keep_test = _subsample(y_out, max_test, rng, stratify=True)
    return AnomalySplit(X_normal[keep_train], X_test[keep_test], y_out[keep_test])


def development_split(
    X_train, y_train, label, *, protocol="one-class", n_fit=2000, n_val=500, n_anomalies=500, random_state=None
) -> AnomalySplit:
    """A development split carved from a data set's *training* images, for choosing settings honestly.

    Defaults, epochs and configurations must never be chosen on a test split
    (the reference code picks epochs by test AUC). This helper builds the
    protocol's split from the training split alone: normal images are drawn
    at random into a fitting part (``n_fit``) and a disjoint validation part
    (``n_val``), and ``n_anomalies`` images of the anomalous classes are
    drawn as validation anomalies. Tune on it; then run the test protocol
    (:func:`one_class`, :func:`leave_one_class_out`) once.

    Parameters
    ----------
    X_train, y_train : array-like of shape (n_train, ...), (n_train,)
        A data set's training split and its class labels (never its test split).
    label : label
        The normal class (``protocol="one-class"``) or the abnormal class
        (``protocol="leave-one-class-out"``).
    protocol : {"one-class", "leave-one-class-out"}, default="one-class"
    n_fit, n_val, n_anomalies : int, default=2000, 500, 500
        Sizes of the three parts (each at most what the classes hold).
    random_state : int, RandomState instance or None
        Seed of the draws: normals are permuted first, then anomalies.

    Returns
    -------
    AnomalySplit
        ``X_train`` the fitting normals; ``X_test`` the validation normals,
        then the anomalies; ``y_test`` 0 for normals and 1 for anomalies.

    Examples
    --------
    >>> import numpy as np
    >>> X, y = np.arange(100).reshape(50, 2), np.repeat([0, 1, 2, 3, 4], 10)
    >>> split = development_split(X, y, 0, n_fit=6, n_val=4, n_anomalies=5, random_state=0)
    >>> len(split.X_train), split.y_test.tolist()
    (6, [0, 0, 0, 0, 1, 1, 1, 1, 1])
    """
    if protocol not in ("one-class", "leave-one-class-out"):
        raise ValueError(f"protocol must be 'one-class' or 'leave-one-class-out', got {protocol!r}")
    X_train, y_train = np.asarray(X_train), np.asarray(y_train)
    if len(X_train) != len(y_train):
        raise ValueError(f"X_train and y_train differ in length: {len(X_train)} vs {len(y_train)}")
    if not _present(label, y_train):
        raise ValueError(f"class {label!r} is not in y_train; the classes are {np.unique(y_train).tolist()}")
    for name, value in (("n_fit", n_fit), ("n_val", n_val), ("n_anomalies", n_anomalies)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    rng = check_random_state(random_state)
    is_normal = (y_train == label) if protocol == "one-class" else (y_train != label)
    normals = rng.permutation(np.flatnonzero(is_normal))
    anomalies = rng.permutation(np.flatnonzero(~is_normal))
    if len(normals) < n_fit + n_val or len(anomalies) < n_anomalies:
        raise ValueError(
            f"the {protocol} split for class {label!r} needs {n_fit} + {n_val} normal and {n_anomalies} anomalous "
            f"training images; there are {len(normals)} and {len(anomalies)}"
        )
    fit, val = normals[:n_fit], normals[n_fit : n_fit + n_val]
    X_test = np.concatenate([X_train[val], X_train[anomalies[:n_anomalies]]])
    y_test = np.r_[np.zeros(len(val), int), np.ones(n_anomalies, int)]
    return AnomalySplit(X_train[fit], X_test, y_test)
