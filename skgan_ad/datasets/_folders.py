"""Folders of images: listing and decoding files, and the three folder layouts.

The layouts are flat (``root/*.png``), one sub-folder per class
(``root/<class>/*.png``) and the industrial one of MVTec AD
(``root/train/good``, ``root/test/good``, ``root/test/<defect>``). They are
found here only: :func:`load_image_folder` and :func:`load_industrial_folder`
read one layout each, and :func:`find_images` tells them apart for the
command line, which reads whatever folder it is given.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ._protocols import AnomalySplit

#: File suffixes read as images (compared case-insensitively).
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


# ---------------------------------------------------------------------------
# The folder layouts
# ---------------------------------------------------------------------------


def _existing_folder(root: str | os.PathLike) -> Path:
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"image folder {root} does not exist or is not a folder")
    return root


def _industrial_parts(root: Path) -> tuple[Path, Path]:
    """``root/train/good`` (normal training images) and ``root/test`` (``good`` and defect folders)."""
    return root / "train" / "good", root / "test"


def _class_images(
    folders: Sequence[Path], extensions: Sequence[str], on_empty: Callable[[Path], str] | None = None
) -> tuple[list[Path], np.ndarray]:
    """The image files of each class folder in ``folders``, in order, and the name of each file's folder.

    A folder without images raises ``ValueError(on_empty(folder))``, or is skipped when ``on_empty`` is None.
    """
    files, names = [], []
    for folder in folders:
        found = list_images(folder, extensions)
        if not found and on_empty is not None:
            raise ValueError(on_empty(folder))
        files += found
        names += [folder.name] * len(found)
    return files, np.array(names, dtype=str)


class ImageFiles(NamedTuple):
    """The image files :func:`find_images` found, in the order the loaders read them, and their labels."""

    folder: Path
    files: list[Path]
    y: np.ndarray | None


def find_images(
    root: str | os.PathLike,
    *,
    part: str = "test",
    normal_class: str = "good",
    extensions: Sequence[str] = IMAGE_EXTENSIONS,
) -> ImageFiles:
    """Find the image files of a folder in any of the three layouts, and their labels, without decoding them.

    The layout is recognised in this order:

    * industrial (``root/train/good`` and ``root/test`` both exist, as
      :func:`load_industrial_folder` reads it): ``part`` picks the folder,
      ``train/good`` or ``test``, which is then read as below, with ``good``
      the normal class;
    * flat: image files directly in the folder, unlabelled (but for
      ``train/good``, whose images are normal);
    * one sub-folder per class (``<class>/*``, as :func:`load_image_folder`
      reads it, but sub-folders without images are skipped): labelled 0 in the
      ``normal_class`` folder and 1 in every other, or unlabelled when there
      is no ``normal_class`` folder (e.g. the digits ``0`` .. ``9``).

    Parameters
    ----------
    root : str or path-like
        The folder.
    part : {"train", "test"}, default="test"
        Which part of the industrial layout to find; other layouts ignore it.
    normal_class : str, default="good"
        The class folder of the normal images in the ``<class>/`` layout.
    extensions : sequence of str
        File suffixes found, compared case-insensitively.

    Returns
    -------
    ImageFiles
        ``folder``, the folder the files were found in (``root``, or
        ``root/train/good`` or ``root/test``); ``files``, sorted by class
        folder, then by name; ``y``, 1 for an anomaly and 0 for a normal
        image, or None when the layout carries no labels. Decode the files
        with :func:`read_images`.

    Raises
    ------
    FileNotFoundError
        If ``root`` is not a folder.
    ValueError
        If ``part`` is unknown, or no image is found directly in the folder
        or in its sub-folders.
    """
    if part not in ("train", "test"):
        raise ValueError(f"part must be 'train' or 'test', got {part!r}")
    folder = _existing_folder(root)
    train_good = False
    parts = _industrial_parts(folder)
    if all(p.is_dir() for p in parts):
        train_good = part == "train"
        folder, normal_class = (parts[0], None) if train_good else (parts[1], "good")
    files = list_images(folder, extensions)
    y = np.zeros(len(files), dtype=int) if train_good else None
    if not files:
        files, names = _class_images(class_folders(folder), extensions)
        # Class folders without the normal one (e.g. digits 0..9) carry no anomaly labels.
        y = (names != normal_class).astype(int) if normal_class in names else None
    if not files:
        raise ValueError(f"image folder {folder} holds no images ({', '.join(extensions)}) directly or in sub-folders")
    return ImageFiles(folder, files, y)


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
    root = _existing_folder(root)
    size = _check_size(size)
    classes = class_folders(root)
    if not classes:
        raise ValueError(f"{root} has no class sub-folders (expected root/<class>/*{extensions[0]})")
    files, labels = _class_images(
        classes, extensions, lambda folder: f"class folder {folder} holds no images with extensions {tuple(extensions)}"
    )
    return read_images(files, grey=grey, size=size), labels, [c.name for c in classes]


def load_industrial_folder(
    root: str | os.PathLike, *, grey: bool = False, size: int | tuple[int, int] | None = None
) -> tuple[AnomalySplit, np.ndarray]:
    """Read one category of an industrial data set in the MVTec AD layout.

    The layout is ``root/train/good/*`` (normal training images),
    ``root/test/good/*`` (normal test images) and ``root/test/<defect>/*`` (one
    folder per defect type), with, optionally, the ground-truth masks of the
    defect images in ``root/ground_truth/<defect>/<stem>_mask.png`` (for
    ``root/test/<defect>/<stem>.png``). Other folders are ignored.

    A mask may be of any size with its image's aspect ratio: it is resized to
    the image's (final) size with nearest neighbour, and every pixel above 0
    is defective. The images of ``test/good`` have no mask file (theirs is all
    zeros).

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
        sorted order, with ``y_test`` 0 for test/good and 1 for any defect;
        ``masks``, of shape (n_test, H, W), uint8, 1 on the defective pixels
        of each test image (all 0 for test/good), or None when ``root`` has
        no ``ground_truth`` folder.
    defect_types : ndarray of shape (n_test,), str
        Name of each test image's folder (``"good"`` for the normal ones).

    Raises
    ------
    FileNotFoundError
        If ``root/train/good`` or ``root/test`` is missing.
    ValueError
        If a folder has no images, a file cannot be decoded, (without
        ``size``) the images differ in size, or, with a ``ground_truth``
        folder, a defect image's mask is missing, cannot be decoded or has
        another aspect ratio than its image; the message names the file.
    """
    train_good, test_dir = _industrial_parts(Path(root))
    for needed in (train_good, test_dir):
        if not needed.is_dir():
            raise FileNotFoundError(f"{needed} not found: expected root/train/good/* and root/test/<good|defect>/*")
    size = _check_size(size)
    train_files = list_images(train_good, IMAGE_EXTENSIONS)
    if not train_files:
        raise ValueError(f"{train_good} holds no images")
    test_files, defect_types = _class_images(
        class_folders(test_dir), IMAGE_EXTENSIONS, lambda folder: f"test folder {folder} holds no images"
    )
    if not test_files:
        raise ValueError(f"{test_dir} has no sub-folders of images (expected test/good and test/<defect>)")
    # One read over both parts, so that train and test are checked against the same size.
    images = read_images(train_files + test_files, grey=grey, size=size)
    y_test = (defect_types != "good").astype(int)
    masks = read_industrial_masks(Path(root), test_files, images.shape[1:3])
    split = AnomalySplit(images[: len(train_files)], images[len(train_files) :], y_test, masks, defect_types)
    return split, defect_types


def _mask_pixels(img) -> np.ndarray:
    """The defective pixels (> 0) of a decoded mask image; colour (or palette) masks count any channel but alpha."""
    if img.mode in _GREY_MODES - {"LA"}:  # one band, no alpha
        return np.asarray(img) > 0
    return np.asarray(img.convert("RGB")).any(axis=-1)


def read_industrial_masks(
    root: str | os.PathLike, test_files: Sequence[Path], shape: tuple[int, int]
) -> np.ndarray | None:
    """The ground-truth masks of test images of the industrial layout, at ``shape`` (H, W), or None without any.

    The mask of ``root/test/<defect>/<stem>.*`` is
    ``root/ground_truth/<defect>/<stem>_mask.png``, resized to ``shape`` with
    nearest neighbour (pixels above 0 are defective); ``test/good`` images
    have none (all zeros). Returns None when ``root`` has no ``ground_truth``
    folder; with one, every defect image must have its mask, of any size with
    the image's aspect ratio, or a ``ValueError`` names the file.
    :func:`load_industrial_folder` reads the masks with it, and so does the
    command line for the test images it reads.

    Returns
    -------
    masks : ndarray of shape (len(test_files), H, W), uint8, or None
        1 on defective pixels, 0 elsewhere.
    """
    truth = Path(root) / "ground_truth"
    if not truth.is_dir():
        return None
    Image = _import_pil()
    nearest = getattr(Image, "Resampling", Image).NEAREST  # Pillow < 9.1 has no Image.Resampling
    height, width = shape
    masks = np.zeros((len(test_files), height, width), dtype=np.uint8)
    for i, image in enumerate(map(Path, test_files)):
        if image.parent.name == "good":
            continue
        path = truth / image.parent.name / f"{image.stem}_mask.png"
        if not path.is_file():
            raise ValueError(
                f"ground-truth mask {path} of test image {image} not found: with a ground_truth folder every "
                "defect image test/<defect>/<stem>.* needs its ground_truth/<defect>/<stem>_mask.png"
            )
        try:
            with Image.open(image) as img:  # the header only: the image's own size, before any resizing
                image_width, image_height = img.size
            with Image.open(path) as img:
                pixels = _mask_pixels(img)
        except (OSError, ValueError, SyntaxError) as exc:  # Pillow raises all three for bad files
            raise ValueError(f"cannot read ground-truth mask {path}: {exc}") from exc
        mask_height, mask_width = pixels.shape
        # The same aspect ratio, but for the rounding of a scaled size (one pixel either way).
        if abs(mask_height * image_width - image_height * mask_width) > max(image_width, image_height):
            raise ValueError(
                f"ground-truth mask {path} is {mask_width}x{mask_height} (WxH) but its image {image} is "
                f"{image_width}x{image_height}: not the same aspect ratio, so not this image's mask"
            )
        if pixels.shape != (height, width):
            pixels = np.asarray(Image.fromarray(pixels.astype(np.uint8)).resize((width, height), nearest)) > 0
        masks[i] = pixels
    return masks
