"""MNIST-style IDX files, gzipped or raw, and the MNIST splits stored in them."""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

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
