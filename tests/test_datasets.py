"""The data loaders (IDX, image folders, industrial layout) and the protocol split helpers.

Every quick test writes its own small files under ``tmp_path``; only the slow
test reads the real MNIST copy in ``../shared/data``.
"""

import gzip
import sys
from pathlib import Path

import numpy as np
import pytest

from skgan_ad.datasets import (
    AnomalySplit,
    development_split,
    digits_leave_one_out,
    leave_one_class_out,
    load_idx,
    load_image_folder,
    load_industrial_folder,
    load_mnist,
    one_class,
)

MNIST_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
IDX_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}


def idx_bytes(array):
    """Encode ``array`` as an IDX file: magic, big-endian uint32 dims, big-endian data."""
    array = np.asarray(array)
    header = bytes([0, 0, IDX_CODES[array.dtype.type], array.ndim])
    header += np.asarray(array.shape, dtype=">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path, array, gz):
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def write_tiny_mnist(data_root, rng, n_train=40, n_test=20):
    """Gzipped MNIST-style IDX files under ``data_root/mnist``, labels 0..9 in turn.

    The top half of each image is a class-dependent grey level, so classes differ.
    """
    mnist = data_root / "mnist"
    mnist.mkdir(parents=True)
    for kind, n in [("train", n_train), ("t10k", n_test)]:
        labels = np.arange(n, dtype=np.uint8) % 10
        images = rng.randint(0, 256, size=(n, 28, 28)).astype(np.uint8)
        images[:, :14] = labels[:, None, None] * 25
        write_idx(mnist / f"{kind}-images-idx3-ubyte.gz", images, gz=True)
        write_idx(mnist / f"{kind}-labels-idx1-ubyte.gz", labels, gz=True)


# ---------------------------------------------------------------------------
# IDX
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_idx_round_trip_images_and_labels(tmp_path, rng, gz):
    images = rng.randint(0, 256, size=(5, 28, 28)).astype(np.uint8)
    labels = rng.randint(0, 10, size=5).astype(np.uint8)
    suffix = ".gz" if gz else ""
    got_images = load_idx(write_idx(tmp_path / f"images-idx3-ubyte{suffix}", images, gz))
    got_labels = load_idx(write_idx(tmp_path / f"labels-idx1-ubyte{suffix}", labels, gz))
    assert got_images.dtype == np.uint8 and got_images.shape == (5, 28, 28)
    np.testing.assert_array_equal(got_images, images)
    assert got_labels.shape == (5,)
    np.testing.assert_array_equal(got_labels, labels)
    got_images[0, 0, 0] = 1  # the result is a writable copy, not a view of the file's bytes


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_other_types_are_big_endian_and_returned_native(tmp_path, rng, dtype):
    array = (rng.standard_normal((3, 4)) * 100).astype(dtype)
    got = load_idx(write_idx(tmp_path / "x.idx", array, gz=False))
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative
    np.testing.assert_array_equal(got, array)


def test_idx_compression_is_detected_by_magic_not_by_name(tmp_path):
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    np.testing.assert_array_equal(load_idx(write_idx(tmp_path / "no-suffix", array, gz=True)), array)
    np.testing.assert_array_equal(load_idx(write_idx(tmp_path / "raw.gz", array, gz=False)), array)


def test_idx_bad_magic_names_the_file(tmp_path):
    path = tmp_path / "bad.idx"
    path.write_bytes(b"\x12\x34\x08\x01" + b"\x00" * 8)
    with pytest.raises(ValueError, match="bad IDX magic.*") as info:
        load_idx(path)
    assert "bad.idx" in str(info.value)
    path.write_bytes(b"\x00\x00\x07\x01\x00\x00\x00\x01\x00")  # 0x07 is no IDX type
    with pytest.raises(ValueError, match="bad IDX magic"):
        load_idx(path)


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_idx_truncated_data_names_the_file(tmp_path, gz):
    data = idx_bytes(np.zeros((4, 5, 5), np.uint8))[:-7]
    path = tmp_path / "short-idx3-ubyte"
    path.write_bytes(gzip.compress(data) if gz else data)
    with pytest.raises(ValueError, match="short-idx3-ubyte.*truncated IDX data"):
        load_idx(path)


def test_idx_truncated_header_long_data_and_cut_gzip(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(idx_bytes(np.zeros((4, 5, 5), np.uint8))[:9])
    with pytest.raises(ValueError, match="truncated IDX header"):
        load_idx(path)
    path.write_bytes(idx_bytes(np.zeros(4, np.uint8)) + b"\x00")
    with pytest.raises(ValueError, match="wrong IDX size"):
        load_idx(path)
    path.write_bytes(gzip.compress(idx_bytes(np.arange(200, dtype=np.uint8)))[:-10])
    with pytest.raises(ValueError, match="gzip"):
        load_idx(path)


# ---------------------------------------------------------------------------
# MNIST
# ---------------------------------------------------------------------------


def test_load_mnist_reads_standard_names_gz_or_raw(tmp_path, rng):
    train = rng.randint(0, 256, size=(6, 28, 28)).astype(np.uint8)
    test = rng.randint(0, 256, size=(4, 28, 28)).astype(np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", train, gz=True)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.arange(6, dtype=np.uint8), gz=True)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", test, gz=False)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.arange(4, dtype=np.uint8), gz=False)
    X, y = load_mnist(tmp_path)
    np.testing.assert_array_equal(X, train)
    np.testing.assert_array_equal(y, np.arange(6))
    assert X.dtype == np.uint8 and y.dtype == np.int64
    X, y = load_mnist(str(tmp_path), kind="test")
    np.testing.assert_array_equal(X, test)
    assert len(y) == 4


def test_load_mnist_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"t10k-images-idx3-ubyte\(\.gz\).*t10k-labels-idx1-ubyte"):
        load_mnist(tmp_path, kind="test")
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((3, 28, 28), np.uint8), gz=False)
    with pytest.raises(FileNotFoundError, match="train-labels-idx1-ubyte") as info:
        load_mnist(tmp_path)
    assert "train-images" not in str(info.value)  # only the missing file is listed
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(2, np.uint8), gz=False)
    with pytest.raises(ValueError, match="3 images but 2 labels"):
        load_mnist(tmp_path)
    with pytest.raises(ValueError, match="kind"):
        load_mnist(tmp_path, kind="validation")


@pytest.mark.slow
@pytest.mark.skipif(not MNIST_DIR.is_dir(), reason=f"no MNIST copy at {MNIST_DIR}")
def test_load_mnist_real_files():
    for kind, n in (("train", 60000), ("test", 10000)):
        X, y = load_mnist(MNIST_DIR, kind=kind)
        assert X.shape == (n, 28, 28) and X.dtype == np.uint8
        assert y.shape == (n,)
        assert sorted(np.unique(y).tolist()) == list(range(10))
        assert X.max() == 255 and X.min() == 0
    splits = (*load_mnist(MNIST_DIR), *load_mnist(MNIST_DIR, "test"))
    split = leave_one_class_out(*splits, 0, anomalies="all")
    n_zeros = 5923 + 980  # published counts of the digit 0 in the train and test splits
    assert len(split.X_train) == 60000 - 5923
    assert split.y_test.sum() == n_zeros and len(split.y_test) == 10000 - 980 + n_zeros
    split = leave_one_class_out(*splits, 0)  # the default: the test split's anomalies only
    assert len(split.X_train) == 60000 - 5923 and split.y_test.sum() == 980 and len(split.y_test) == 10000


# ---------------------------------------------------------------------------
# Image folders
# ---------------------------------------------------------------------------


def save_image(path, array):
    # Only the image-folder tests need Pillow (the `images` extra): they skip without it, the IDX ones never do.
    Image = pytest.importorskip("PIL.Image")
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(array, dtype=np.uint8)).save(path)
    return path


def make_class_folders(root, rng, counts, shape=(6, 5, 3), ext=".png"):
    """Write ``counts[name]`` random images per class; returns them by class, in file order."""
    written = {}
    for name, n in counts.items():
        written[name] = [rng.randint(0, 256, size=shape).astype(np.uint8) for _ in range(n)]
        for i, array in enumerate(written[name]):
            save_image(root / name / f"{i:03d}{ext}", array)
    return written


def test_image_folder_rgb_png_round_trip(tmp_path, rng):
    written = make_class_folders(tmp_path, rng, {"cat": 2, "ant": 3})
    (tmp_path / "ant" / "notes.txt").write_text("not an image")  # other extensions are skipped
    (tmp_path / ".hidden").mkdir()  # hidden folders are no class
    images, labels, classes = load_image_folder(tmp_path)
    assert classes == ["ant", "cat"]
    assert images.shape == (5, 6, 5, 3) and images.dtype == np.uint8
    assert labels.tolist() == ["ant"] * 3 + ["cat"] * 2
    np.testing.assert_array_equal(images, np.stack(written["ant"] + written["cat"]))  # PNG is lossless


def test_image_folder_grey_and_jpeg(tmp_path, rng):
    make_class_folders(tmp_path, rng, {"a": 2, "b": 1}, shape=(8, 8, 3), ext=".jpg")
    flat = np.full((8, 8), 200, np.uint8)
    save_image(tmp_path / "b" / "flat.JPEG", flat)  # suffixes compare case-insensitively
    images, labels, _ = load_image_folder(tmp_path, grey=True)
    assert images.shape == (4, 8, 8) and images.dtype == np.uint8
    assert labels.tolist() == ["a", "a", "b", "b"]
    assert np.abs(images[-1].astype(int) - 200).max() <= 2  # JPEG is lossy, but a flat image stays flat


@pytest.mark.parametrize("size, expected", [(4, (4, 4)), ((3, 7), (3, 7))])
def test_image_folder_resize(tmp_path, rng, size, expected):
    save_image(tmp_path / "a" / "big.png", rng.randint(0, 256, size=(10, 12, 3)))
    save_image(tmp_path / "a" / "small.png", rng.randint(0, 256, size=(5, 6, 3)))
    images, _, _ = load_image_folder(tmp_path, size=size)
    assert images.shape == (2, *expected, 3)
    grey, _, _ = load_image_folder(tmp_path, size=size, grey=True)
    assert grey.shape == (2, *expected)


def test_image_folder_mixed_sizes_need_size(tmp_path, rng):
    save_image(tmp_path / "a" / "0.png", rng.randint(0, 256, size=(10, 12)))
    save_image(tmp_path / "b" / "1.png", rng.randint(0, 256, size=(10, 12)))
    save_image(tmp_path / "b" / "2.png", rng.randint(0, 256, size=(5, 6)))
    with pytest.raises(ValueError, match=r"2\.png is 6x5.*0\.png is 12x10.*size="):
        load_image_folder(tmp_path)


def test_image_folder_unreadable_file(tmp_path, rng):
    save_image(tmp_path / "a" / "0.png", rng.randint(0, 256, size=(4, 4)))
    (tmp_path / "a" / "1.png").write_bytes(b"this is not a png")
    with pytest.raises(ValueError, match=r"cannot read image .*1\.png"):
        load_image_folder(tmp_path)


def test_image_folder_without_pillow_says_what_to_install(tmp_path, monkeypatch):
    # Needs no Pillow itself: it hides Pillow and writes a file Pillow would have to decode.
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "0.png").write_bytes(b"never decoded")
    monkeypatch.setitem(sys.modules, "PIL", None)  # `from PIL import Image` now raises ImportError
    with pytest.raises(ImportError, match="Pillow"):
        load_image_folder(tmp_path)


def test_image_folder_empty_errors(tmp_path, rng):
    with pytest.raises(ValueError, match="no class sub-folders") as info:
        load_image_folder(tmp_path)
    assert str(tmp_path) in str(info.value)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "readme.txt").write_text("no images here")
    with pytest.raises(ValueError, match="holds no images") as info:
        load_image_folder(tmp_path)
    assert str(tmp_path / "a") in str(info.value)
    with pytest.raises(FileNotFoundError):
        load_image_folder(tmp_path / "missing")
    with pytest.raises(ValueError, match="size"):
        load_image_folder(tmp_path, size=(0, 3))


# ---------------------------------------------------------------------------
# Industrial (MVTec-style) layout
# ---------------------------------------------------------------------------


def test_industrial_folder_counts_and_labels(tmp_path, rng):
    make_class_folders(tmp_path / "train", rng, {"good": 4})
    make_class_folders(tmp_path / "test", rng, {"good": 2, "scratch": 3, "crack": 1})
    split, defects = load_industrial_folder(tmp_path)
    assert isinstance(split, AnomalySplit)
    assert split.masks is None  # no ground_truth folder
    assert split.X_train.shape == (4, 6, 5, 3)
    assert split.X_test.shape == (6, 6, 5, 3)
    assert defects.tolist() == ["crack", "good", "good", "scratch", "scratch", "scratch"]
    assert split.defect_types.tolist() == defects.tolist()  # the split carries them too, as synthetic splits do
    assert split.y_test.tolist() == [1, 0, 0, 1, 1, 1]
    split, _ = load_industrial_folder(tmp_path, grey=True, size=3)
    assert split.X_train.shape == (4, 3, 3) and split.X_test.shape == (6, 3, 3)


def write_mvtec_like(root, rng):
    """A tiny MVTec-AD-like category: 6x5 RGB images, masks for every defect image (one at twice the size)."""
    make_class_folders(root / "train", rng, {"good": 3})
    make_class_folders(root / "test", rng, {"good": 2, "scratch": 2, "crack": 1})
    (root / "ground_truth" / "good").mkdir(parents=True)  # MVTec has none; an empty one is ignored
    masks = {"crack/000": np.zeros((6, 5)), "scratch/000": np.zeros((6, 5)), "scratch/001": np.zeros((12, 10))}
    masks["crack/000"][1:3, 2] = 255
    masks["scratch/000"][5, 4] = 1  # any value above 0 is a defect
    masks["scratch/001"][0:4, 0:2] = 255  # twice the image's size: rows 0-1, column 0 once resized
    for name, mask in masks.items():
        save_image(root / "ground_truth" / f"{name}_mask.png", mask)
    expected = np.zeros((5, 6, 5), dtype=np.uint8)  # test order: crack/000, good/000, good/001, scratch/000, 001
    expected[0, 1:3, 2] = expected[3, 5, 4] = expected[4, 0:2, 0] = 1
    return expected


def test_industrial_folder_reads_ground_truth_masks(tmp_path, rng):
    expected = write_mvtec_like(tmp_path, rng)
    split, defects = load_industrial_folder(tmp_path)
    assert defects.tolist() == ["crack", "good", "good", "scratch", "scratch"]
    assert split.masks.dtype == np.uint8
    np.testing.assert_array_equal(split.masks, expected)
    # Resized with the images: nearest neighbour, so still 0 and 1, and the defects where they were.
    split, _ = load_industrial_folder(tmp_path, grey=True, size=(12, 10))
    assert split.X_test.shape == (5, 12, 10) and split.masks.shape == (5, 12, 10)
    np.testing.assert_array_equal(split.masks, expected.repeat(2, axis=1).repeat(2, axis=2))


def test_industrial_folder_masks_in_colour_and_palette_modes(tmp_path, rng):
    Image = pytest.importorskip("PIL.Image")
    expected = write_mvtec_like(tmp_path, rng)
    rgba = np.zeros((6, 5, 4), dtype=np.uint8)
    rgba[..., 3] = 255  # opaque everywhere: alpha is no defect
    rgba[1:3, 2, 0] = 200  # red marks the defect
    Image.fromarray(rgba, "RGBA").save(tmp_path / "ground_truth" / "crack" / "000_mask.png")
    Image.fromarray(expected[3] * 255).convert("1").save(tmp_path / "ground_truth" / "scratch" / "000_mask.png")
    np.testing.assert_array_equal(load_industrial_folder(tmp_path)[0].masks, expected)


def test_industrial_folder_missing_bad_or_mis_sized_mask_is_named(tmp_path, rng):
    write_mvtec_like(tmp_path, rng)
    mask = tmp_path / "ground_truth" / "scratch" / "001_mask.png"
    mask.unlink()
    with pytest.raises(ValueError, match=r"ground-truth mask .*scratch[/\\]001_mask\.png of test image .*not found"):
        load_industrial_folder(tmp_path)
    mask.write_bytes(b"not a png")
    with pytest.raises(ValueError, match=r"cannot read ground-truth mask .*scratch[/\\]001_mask\.png"):
        load_industrial_folder(tmp_path)
    save_image(mask, np.zeros((5, 6)))  # transposed: 6x5 (WxH) for a 5x6 image
    with pytest.raises(ValueError, match=r"001_mask\.png is 6x5 \(WxH\) but its image .*001\.png is 5x6"):
        load_industrial_folder(tmp_path)


def test_industrial_folder_missing_parts(tmp_path, rng):
    make_class_folders(tmp_path / "test", rng, {"good": 1})
    with pytest.raises(FileNotFoundError, match=r"train[/\\]good"):
        load_industrial_folder(tmp_path)
    (tmp_path / "train" / "good").mkdir(parents=True)
    with pytest.raises(ValueError, match="holds no images"):
        load_industrial_folder(tmp_path)


# ---------------------------------------------------------------------------
# Protocols
# ---------------------------------------------------------------------------


def labelled(n_per_class, n_classes=3, offset=0):
    """Samples whose single feature is a unique id, so a test can tell where each came from."""
    y = np.repeat(np.arange(n_classes), n_per_class)
    X = (offset + np.arange(len(y)))[:, None].astype(float)
    return X, y


@pytest.fixture
def splits():
    X_train, y_train = labelled(10)  # ids 0..29
    X_test, y_test = labelled(4, offset=1000)  # ids 1000..1011
    return X_train, y_train, X_test, y_test


def test_leave_one_class_out_takes_its_anomalies_from_the_test_split(splits):
    X_train, y_train, X_test, y_test = splits
    split = leave_one_class_out(*splits, 1)
    assert isinstance(split, AnomalySplit)
    # Train: the normal classes' training images only.
    np.testing.assert_array_equal(split.X_train, X_train[y_train != 1])
    # Test: the test split alone, normals first, then the abnormal class's test images; no training image.
    assert len(split.X_test) == 8 + 4
    np.testing.assert_array_equal(split.y_test, [0] * 8 + [1] * 4)
    np.testing.assert_array_equal(split.X_test[split.y_test == 1], X_test[y_test == 1])
    np.testing.assert_array_equal(split.X_test[split.y_test == 0], X_test[y_test != 1])
    # Training ids are 0..29, test ids 1000..1011: no anomaly (and no test image at all) is a training image.
    assert split.X_test.min() >= 1000 and not set(split.X_test[:, 0]) & set(X_train[:, 0])


def test_leave_one_class_out_anomalies_are_disjoint_from_every_development_split(splits):
    X_train, y_train, _, _ = splits
    for label in range(3):
        split = leave_one_class_out(*splits, label, max_test=9, random_state=0)
        assert split.y_test.sum() >= 1 and split.X_test.min() >= 1000  # subsampled: still the test split only
        for protocol in ("one-class", "leave-one-class-out"):
            dev = development_split(X_train, y_train, label, protocol=protocol, n_fit=4, n_val=2, n_anomalies=3)
            used = set(dev.X_train[:, 0]) | set(dev.X_test[:, 0])
            assert not used & set(split.X_test[:, 0])


def test_leave_one_class_out_all_is_the_seed_papers_split(splits):
    X_train, y_train, X_test, y_test = splits
    split = leave_one_class_out(*splits, 1, anomalies="all")
    np.testing.assert_array_equal(split.X_train, X_train[y_train != 1])
    # Test: normal test images, then every abnormal image of both splits (training images first).
    assert len(split.X_test) == 8 + 10 + 4
    np.testing.assert_array_equal(split.y_test, [0] * 8 + [1] * 14)
    np.testing.assert_array_equal(split.X_test[8:], np.concatenate([X_train[y_train == 1], X_test[y_test == 1]]))
    assert set(split.X_test[split.y_test == 0, 0]) == set(X_test[y_test != 1, 0])
    assert not set(split.X_train[:, 0]) & set(split.X_test[:, 0])


def test_leave_one_class_out_string_labels_and_images(rng):
    X_train, X_test = rng.random_sample((6, 4, 4)), rng.random_sample((3, 4, 4))
    y_train, y_test = np.array(list("aabbcc")), np.array(list("abc"))
    split = leave_one_class_out(X_train, y_train, X_test, y_test, "c", anomalies="all")
    assert split.X_train.shape == (4, 4, 4) and split.X_test.shape == (5, 4, 4)
    np.testing.assert_array_equal(split.y_test, [0, 0, 1, 1, 1])
    split = leave_one_class_out(X_train, y_train, X_test, y_test, "c")
    assert split.X_test.shape == (3, 4, 4)
    np.testing.assert_array_equal(split.X_test, X_test)
    np.testing.assert_array_equal(split.y_test, [0, 0, 1])


def test_subsampling_sizes_stratification_and_determinism(splits):
    split = leave_one_class_out(*splits, 2, max_train=7, max_test=11, random_state=0, anomalies="all")
    assert len(split.X_train) == 7 and len(split.X_test) == 11
    assert split.y_test.sum() == 7  # 14 of 22 test images are anomalies: round(11 * 14 / 22) = 7
    assert set(split.X_train[:, 0]) <= set(range(20))  # still normal (classes 0 and 1) only
    again = leave_one_class_out(*splits, 2, max_train=7, max_test=11, random_state=0, anomalies="all")
    for a, b in zip(split, again):
        np.testing.assert_array_equal(a, b)
    other = leave_one_class_out(*splits, 2, max_train=7, max_test=11, random_state=1, anomalies="all")
    assert not np.array_equal(split.X_train, other.X_train) or not np.array_equal(split.X_test, other.X_test)
    # Limits above the sizes change nothing; a tiny test set still keeps both labels.
    full = leave_one_class_out(*splits, 2, max_train=100, max_test=100, random_state=0, anomalies="all")
    assert len(full.X_train) == 20 and len(full.X_test) == 22
    tiny = leave_one_class_out(*splits, 2, max_test=2, random_state=0)
    assert sorted(tiny.y_test.tolist()) == [0, 1]
    # The default: 4 of the 12 test images are anomalies, round(9 * 4 / 12) = 3 of 9.
    small = leave_one_class_out(*splits, 2, max_test=9, random_state=0)
    assert len(small.X_test) == 9 and small.y_test.sum() == 3


def test_one_class_split(splits):
    X_train, y_train, X_test, y_test = splits
    split = one_class(*splits, 0)
    np.testing.assert_array_equal(split.X_train, X_train[y_train == 0])
    np.testing.assert_array_equal(split.X_test, X_test)  # the whole test split, in order
    np.testing.assert_array_equal(split.y_test, (y_test != 0).astype(int))
    small = one_class(*splits, 0, max_train=3, max_test=6, random_state=0)
    assert len(small.X_train) == 3 and set(small.X_train[:, 0]) <= set(range(10))
    assert len(small.X_test) == 6 and small.y_test.sum() == 4  # 8 of 12 are anomalies
    np.testing.assert_array_equal(small.y_test, (y_test[np.isin(X_test[:, 0], small.X_test[:, 0])] != 0))


def test_protocol_errors(splits):
    X_train, y_train, X_test, y_test = splits
    with pytest.raises(ValueError, match="abnormal_class 7 is in neither split"):
        leave_one_class_out(*splits, 7, anomalies="all")
    # The default takes the anomalies from the test split: a class with training images only is an error.
    with pytest.raises(ValueError, match="abnormal_class 2 is not in the test split"):
        leave_one_class_out(X_train, y_train, X_test[y_test != 2], y_test[y_test != 2], 2)
    papers = leave_one_class_out(X_train, y_train, X_test[y_test != 2], y_test[y_test != 2], 2, anomalies="all")
    assert papers.y_test.sum() == 10  # "all": the 10 training images of class 2
    with pytest.raises(ValueError, match="anomalies must be one of"):
        leave_one_class_out(*splits, 0, anomalies="train")
    with pytest.raises(ValueError, match="normal_class 7"):
        one_class(*splits, 7)
    with pytest.raises(ValueError, match="X_train and y_train differ in length"):
        leave_one_class_out(X_train[:-1], y_train, X_test, y_test, 0)
    with pytest.raises(ValueError, match="X_test and y_test differ in length"):
        one_class(X_train, y_train, X_test, y_test[:-1], 0)
    with pytest.raises(ValueError, match="max_test"):
        one_class(*splits, 0, max_test=0)
    with pytest.raises(ValueError, match="no normal training images"):
        leave_one_class_out(X_train, np.zeros_like(y_train), X_test, y_test, 0)


def test_digits_leave_one_out_is_unchanged():
    split = digits_leave_one_out(4)
    # 1,797 digits, 181 of them 4s; the other 1,616 split 80/20 by train_test_split.
    assert split.X_train.shape == (1292, 8, 8) and split.X_test.shape == (324 + 181, 8, 8)
    assert split.y_test.sum() == 181 and split.y_test[:324].sum() == 0


def test_read_images_follows_the_first_files_mode(tmp_path, rng):
    from skgan_ad.datasets import list_images, read_images

    grey = [save_image(tmp_path / "grey" / f"{i}.png", rng.randint(0, 256, size=(4, 5))) for i in range(2)]
    rgb = [save_image(tmp_path / "rgb" / f"{i}.png", rng.randint(0, 256, size=(4, 5, 3))) for i in range(2)]
    assert list_images(tmp_path / "grey") == grey
    assert read_images(grey, grey=None).shape == (2, 4, 5)
    assert read_images(rgb, grey=None).shape == (2, 4, 5, 3)
    assert read_images(grey, grey=False).shape == (2, 4, 5, 3)
    assert read_images(rgb, grey=True, size=3).shape == (2, 3, 3)
