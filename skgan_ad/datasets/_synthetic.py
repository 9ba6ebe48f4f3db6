"""Synthetic defects with known masks on normal images, and the development split they make.

A domain without labelled anomalies still gets a development split, and the
pixel-level metrics get ground truth: defects are drawn on normal images and
their masks are the pixels they changed. Three kinds, after the
self-supervised anomaly detection literature:

* ``"cutpaste"``: a rectangle cut from one place of the image and pasted at
  another (CutPaste: Li et al., "CutPaste: Self-Supervised Learning for
  Anomaly Detection and Localization", CVPR 2021);
* ``"blotch"``: a region of thresholded Perlin noise blended with an
  intensity or with another image's texture (DRAEM: Zavrtanik et al.,
  "DRAEM: A Discriminatively Trained Reconstruction Embedding for Surface
  Anomaly Detection", ICCV 2021);
* ``"scratch"``: a thin curve of an intensity far from the background's.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils import check_random_state

from ._protocols import AnomalySplit

DEFECT_KINDS = ("cutpaste", "blotch", "scratch")
# The kind of a normal image in ``AnomalySplit.defect_types``: the industrial layout's test/good folder.
NORMAL_KIND = "good"
# The smallest image side synthetic_defects takes: a patch of 2x2 must fit twice, a curve must have room.
MIN_SIDE = 8
# Every defect changes the pixels of its mask by at least this much on average (mean over the mask of the
# channel-mean absolute change, on the [0, 1] scale: 38 grey levels of a uint8 image).
MIN_CHANGE = 0.15
# Share of the image a cut-and-paste patch or a blotch covers (CutPaste's patch areas).
_AREA = (0.02, 0.15)
# A blotch's or scratch's intensity is at least this far, per channel, from the mean of the pixels under it.
_GAP = 0.4
# A defect that changes fewer than this share of the pixels it covers (background pasted on background) is redrawn.
_COVERED = 0.25
# Draws of a content-dependent defect (cutpaste, texture blotch) before an intensity blotch is made instead.
_TRIES = 20


def perlin_noise(shape, res, random_state=None) -> np.ndarray:
    """Two-dimensional Perlin gradient noise, vectorised.

    Random unit gradients sit on a ``(res[0] + 1, res[1] + 1)`` lattice over
    the image; each pixel (sampled at its centre) interpolates the dot
    products of its cell's four corner gradients with its offsets from them,
    through Perlin's quintic fade ``6t^5 - 15t^4 + 10t^3``.

    Parameters
    ----------
    shape : (int, int)
        Height and width of the noise image.
    res : (int, int)
        Lattice cells along each axis: the noise's features are about
        ``shape / res`` pixels across.
    random_state : int, RandomState instance or None
        Seed of the gradients.

    Returns
    -------
    ndarray of shape ``shape``, float64
        Smooth noise within ``[-sqrt(2) / 2, sqrt(2) / 2]``.

    Examples
    --------
    >>> noise = perlin_noise((16, 16), (2, 2), random_state=0)
    >>> noise.shape, bool(np.abs(noise).max() <= 2**-0.5)
    ((16, 16), True)
    """
    rng = check_random_state(random_state)
    angles = rng.uniform(0, 2 * np.pi, size=(res[0] + 1, res[1] + 1))
    gradients = np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    # Pixel centres in lattice units, the integer cell each falls in and the offset within it.
    y = (np.arange(shape[0]) + 0.5) * res[0] / shape[0]
    x = (np.arange(shape[1]) + 0.5) * res[1] / shape[1]
    yi, xi = np.floor(y).astype(int), np.floor(x).astype(int)
    yf, xf = (y - yi)[:, None], (x - xi)[None, :]

    def corner(dy, dx):
        g = gradients[(yi + dy)[:, None], (xi + dx)[None, :]]
        return g[..., 0] * (yf - dy) + g[..., 1] * (xf - dx)

    def fade(t):
        return t * t * t * (t * (6 * t - 15) + 10)

    top = corner(0, 0) + fade(xf) * (corner(0, 1) - corner(0, 0))
    bottom = corner(1, 0) + fade(xf) * (corner(1, 1) - corner(1, 0))
    return top + fade(yf) * (bottom - top)


def _check_images(images) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype != np.uint8 and not np.issubdtype(images.dtype, np.floating):
        raise ValueError(f"images must be uint8 (0..255) or float in [0, 1], got dtype {images.dtype}")
    if images.ndim not in (3, 4):
        raise ValueError(f"images must be (n, H, W) grey or (n, H, W, C) colour, got shape {images.shape}")
    if images.ndim == 4 and images.shape[1] in (1, 3) and images.shape[-1] not in (1, 3, 4):
        raise ValueError(
            f"images of shape {images.shape} look channels-first (n, C, H, W); synthetic_defects takes "
            "(n, H, W, C): pass np.moveaxis(images, 1, -1)"
        )
    height, width = images.shape[1:3]
    if min(height, width) < MIN_SIDE:
        raise ValueError(f"defects need images of at least {MIN_SIDE}x{MIN_SIDE} pixels, got {height}x{width}")
    if images.dtype != np.uint8 and images.size and not (np.all(images >= 0) and np.all(images <= 1)):
        raise ValueError("float images must lie in [0, 1] (and be finite); scale them, or pass uint8 0..255")
    return images


def _check_kinds(kinds) -> tuple[str, ...]:
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    unknown = [k for k in kinds if k not in DEFECT_KINDS]
    if not kinds or unknown:
        raise ValueError(f"kinds must be a non-empty selection of {DEFECT_KINDS}, got {kinds!r}")
    return kinds


def _dihedral(patch: np.ndarray, k: int) -> np.ndarray:
    """One of the eight rotations and reflections of a square's symmetry group (k = 0 is the identity)."""
    patch = np.rot90(patch, k % 4)
    return patch[:, ::-1] if k >= 4 else patch


def _far_colour(values: np.ndarray, rng) -> np.ndarray:
    """An intensity per channel, uniform over [0, 1] less the values within ``_GAP`` of the channel's mean.

    The mean absolute difference to ``values`` (k, C) is then at least ``_GAP`` in every channel (the absolute
    difference is convex), however the values spread; the two intervals left are never both empty.
    """
    mean = values.mean(axis=0)
    below, above = np.maximum(mean - _GAP, 0), np.maximum(1 - mean - _GAP, 0)
    u = rng.uniform(0, below + above)
    return np.where(u < below, u, mean + _GAP + (u - below))


def _cutpaste(x: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    height, width = x.shape[:2]
    area = rng.uniform(*_AREA) * height * width
    aspect = np.exp(rng.uniform(np.log(0.3), -np.log(0.3)))
    h = int(np.clip(round(np.sqrt(area * aspect)), 2, height // 2))
    w = int(np.clip(round(np.sqrt(area / aspect)), 2, width // 2))
    y0, x0 = rng.randint(height - h + 1), rng.randint(width - w + 1)
    patch = x[y0 : y0 + h, x0 : x0 + w]
    if rng.rand() < 0.5:
        patch = _dihedral(patch, rng.randint(1, 8))
    # CutPaste's colour jitter, as brightness and contrast.
    mean = patch.mean()
    patch = np.clip((patch - mean) * rng.uniform(0.8, 1.2) + mean + rng.uniform(-0.1, 0.1), 0, 1)
    ph, pw = patch.shape[:2]
    while True:  # anywhere but where it was cut (at least 25 places: the patch is at most half of each side)
        y1, x1 = rng.randint(height - ph + 1), rng.randint(width - pw + 1)
        if (y1, x1, ph) != (y0, x0, h):
            break
    out, covered = x.copy(), np.zeros((height, width), bool)
    out[y1 : y1 + ph, x1 : x1 + pw] = patch
    covered[y1 : y1 + ph, x1 : x1 + pw] = True
    return out, covered


def _noise_region(height: int, width: int, rng) -> np.ndarray:
    """The top ``_AREA`` share of a Perlin noise image: one or a few smooth blobs, never empty."""
    # Lattices of 1, 2, 4, ... cells along each axis, down to cells of 4 pixels (DRAEM: scales 2^0 to 2^5), the two
    # axes' within a factor 2 of each other (DRAEM draws them apart: stripes across the image, which we leave out).
    top = [int(np.log2(max(side // 4, 1))) for side in (height, width)]
    first = rng.randint(top[0] + 1)
    second = int(np.clip(first + rng.randint(-1, 2), 0, top[1]))
    res = (2**first, 2**second)
    noise = perlin_noise((height, width), res, rng).ravel()
    k = max(1, round(rng.uniform(*_AREA) * height * width))
    region = np.zeros(height * width, bool)
    region[np.argpartition(noise, -k)[-k:]] = True
    return region.reshape(height, width)


def _blotch(x: np.ndarray, rng, texture: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    region = _noise_region(*x.shape[:2], rng)
    alpha = rng.uniform(0.5, 1.0)
    if texture is None:
        fill = _far_colour(x[region], rng)
    else:
        if rng.rand() < 0.5:
            texture = texture[::-1]
        if rng.rand() < 0.5:
            texture = texture[:, ::-1]
        shift = rng.randint(x.shape[0]), rng.randint(x.shape[1])
        fill = np.roll(texture, shift, axis=(0, 1))[region]
    out = x.copy()
    out[region] = (1 - alpha) * x[region] + alpha * fill
    return out, region


def _scratch(x: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    height, width = x.shape[:2]
    corner = np.array([height - 1, width - 1], float)
    length = rng.uniform(0.3, 0.8) * min(height, width)
    while True:  # both ends inside the image
        start = rng.uniform(0, 1, 2) * corner
        angle = rng.uniform(0, 2 * np.pi)
        end = start + length * np.array([np.sin(angle), np.cos(angle)])
        if np.all((end >= 0) & (end <= corner)):
            break
    # A quadratic Bezier curve bent off its chord by up to 0.3 of its length; the control point is kept in the
    # image, so is the curve (it stays within the triangle of its three points).
    normal = np.array([-np.cos(angle), np.sin(angle)])
    control = np.clip((start + end) / 2 + rng.uniform(-0.3, 0.3) * length * normal, 0, corner)
    # Steps of at most half a pixel (the control polygon is longer than the curve): the pixels are connected.
    n = int(np.ceil(2 * (np.linalg.norm(control - start) + np.linalg.norm(end - control)))) + 2
    t = np.linspace(0, 1, n)[:, None]
    points = np.rint((1 - t) ** 2 * start + 2 * t * (1 - t) * control + t**2 * end).astype(int)
    region = np.zeros((height, width), bool)
    offsets = [(0, 0)] if rng.rand() < 0.5 else [(0, 0), (0, 1), (1, 0), (1, 1)]  # 1 or 2 pixels wide
    for dy, dx in offsets:
        region[np.minimum(points[:, 0] + dy, height - 1), np.minimum(points[:, 1] + dx, width - 1)] = True
    out = x.copy()
    out[region] = _far_colour(x[region], rng)
    return out, region


def _as_float(image: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, C) of uint8 or float -> (H, W, C) float64 in [0, 1]."""
    image = image.astype(np.float64) / (255.0 if image.dtype == np.uint8 else 1.0)
    return image[..., None] if image.ndim == 2 else image


def _from_float(y: np.ndarray, like: np.ndarray) -> np.ndarray:
    y = y.reshape(like.shape)
    if like.dtype == np.uint8:
        return np.rint(np.clip(y, 0, 1) * 255).astype(np.uint8)
    return np.clip(y, 0, 1).astype(like.dtype)


def _changed(out: np.ndarray, image: np.ndarray) -> tuple[np.ndarray, float]:
    """The pixels ``out`` changed, and their mean absolute change on the [0, 1] scale (0 if none)."""
    diff = np.abs(_as_float(out) - _as_float(image)).mean(axis=-1)
    mask = (out != image).reshape(diff.shape + (-1,)).any(axis=-1)
    return mask, float(diff[mask].mean()) if mask.any() else 0.0


def synthetic_defects(images, kinds=DEFECT_KINDS, *, random_state=None):
    """One synthetic defect on each image, with its mask: anomalies with ground truth from normal images.

    Each image gets one defect, of a kind drawn uniformly from ``kinds``:

    * ``"cutpaste"`` (CutPaste, Li et al., CVPR 2021): a rectangle of 2-15 %
      of the image's area (each side 2 pixels to half the image's side),
      aspect ratio 0.3-3.3, is cut from one place, rotated or flipped with
      probability 1/2 (one of the 7 other symmetries of a square), jittered in
      brightness (+-0.1) and contrast (x 0.8-1.2), and pasted at another place
      of the same image;
    * ``"blotch"`` (DRAEM, Zavrtanik et al., ICCV 2021): the 2-15 % of pixels
      where a Perlin noise image (:func:`perlin_noise`, 1 to ``side / 4``
      lattice cells per axis, the two within a factor 2) is highest, one or
      a few smooth blobs, blended with weight 0.5-1 with, at even odds, an
      intensity per channel at least 0.4 from the mean of the pixels under
      the blotch, or the texture of another image of ``images`` (flipped and
      shifted at random);
    * ``"scratch"``: a quadratic Bezier curve 0.3-0.8 of the shorter side
      long, bent off its chord by up to 0.3 of its length, 1 or 2 pixels
      wide, of one intensity per channel at least 0.4 from the mean of the
      pixels under it.

    Guarantees: every mask is non-empty, and the mean over a mask of the
    absolute change (averaged over channels, on the [0, 1] scale) is at
    least ``MIN_CHANGE`` = 0.15 (38 grey levels of a uint8 image).
    Intensity blotches and scratches meet it by construction. A defect that
    does not, or that changes fewer than a quarter of the pixels it covers
    (a cutpaste or texture blotch moving background onto background), is
    drawn again, up to 20 times, after which the image gets an intensity
    blotch instead and ``kinds_used`` says so (near-flat images only).

    Parameters
    ----------
    images : ndarray of shape (n, H, W) or (n, H, W, C)
        Normal images, grey or colour with channels last, uint8 (0..255) or
        float in [0, 1]; H and W at least 8.
    kinds : str or sequence of {"cutpaste", "blotch", "scratch"}, default=all three
        The kinds to draw from.
    random_state : int, RandomState instance or None
        Seed of every draw; an int gives the same defects every time.

    Returns
    -------
    defective : ndarray of the shape and dtype of ``images``
        The images with their defects; the pixels outside a mask are equal
        to the input's.
    masks : ndarray of shape (n, H, W), uint8
        1 exactly where the defect changed a pixel (in some channel) and 0
        elsewhere: a pixel the defect covered but left equal (a pasted pixel
        equal to the one under it) is 0.
    kinds_used : ndarray of shape (n,), str
        The kind of each image's defect.

    Raises
    ------
    ValueError
        If the images are not (n, H, W) or (n, H, W, C) (channels first is
        detected and named), smaller than 8x8, of another dtype than uint8
        or float, or float outside [0, 1]; or ``kinds`` is empty or names
        another kind.

    Examples
    --------
    >>> images = np.full((3, 16, 16), 0.5)
    >>> defective, masks, kinds = synthetic_defects(images, random_state=0)
    >>> defective.shape, masks.dtype, bool(masks.reshape(3, -1).any(axis=1).all())
    ((3, 16, 16), dtype('uint8'), True)
    >>> bool(np.all((defective != images) == masks.astype(bool)))
    True
    """
    images = _check_images(images)
    kinds = _check_kinds(kinds)
    rng = check_random_state(random_state)
    n = len(images)
    defective = np.empty_like(images)
    masks = np.zeros(images.shape[:3], np.uint8)
    kinds_used = np.empty(n, dtype=f"<U{max(map(len, DEFECT_KINDS))}")
    for i, image in enumerate(images):
        x = _as_float(image)
        kind = kinds[rng.randint(len(kinds))]
        for _ in range(_TRIES):
            if kind == "cutpaste":
                y, covered = _cutpaste(x, rng)
            elif kind == "scratch":
                y, covered = _scratch(x, rng)
            else:
                other = images[(i + rng.randint(1, n)) % n] if n > 1 else image
                y, covered = _blotch(x, rng, _as_float(other) if rng.rand() < 0.5 else None)
            out = _from_float(y, image)
            mask, change = _changed(out, image)
            if change >= MIN_CHANGE and mask.sum() >= _COVERED * covered.sum():
                break
        else:  # content that cannot show this kind (a flat image): an intensity blotch, visible by construction
            kind = "blotch"
            out = _from_float(_blotch(x, rng, None)[0], image)
            mask, _ = _changed(out, image)
        defective[i], masks[i], kinds_used[i] = out, mask, kind
    return defective, masks, kinds_used


def synthetic_defect_split(
    X_train, *, n_fit, n_val, n_anomalies, kinds=DEFECT_KINDS, random_state=None
) -> AnomalySplit:
    """A development split from normal images alone, its anomalies synthetic defects with masks.

    For any domain without labelled anomalies (an industrial part, one class
    of a data set): the normal images are permuted at random into a fitting
    part (``n_fit``), a disjoint validation part (``n_val``) and
    ``n_anomalies`` further images, disjoint from both, on which
    :func:`synthetic_defects` draws the validation anomalies.

    Parameters
    ----------
    X_train : ndarray of shape (n, H, W) or (n, H, W, C)
        Normal training images (never a test split), as
        :func:`synthetic_defects` takes them.
    n_fit, n_val, n_anomalies : int
        Sizes of the three parts; together at most ``n``.
    kinds : str or sequence of {"cutpaste", "blotch", "scratch"}, default=all three
        The defects' kinds, as for :func:`synthetic_defects`.
    random_state : int, RandomState instance or None
        Seed of the permutation, then of the defects.

    Returns
    -------
    AnomalySplit
        ``X_train`` the fitting normals; ``X_test`` the validation normals,
        then the defective images; ``y_test`` 0 for normals and 1 for
        defects; ``masks`` (n_val + n_anomalies, H, W) uint8, all 0 for the
        normals and the defects' masks for the anomalies; ``defect_types``
        (n_val + n_anomalies,) str, ``"good"`` for the normals and each
        anomaly's kind (:func:`synthetic_defects`' ``kinds_used``), the
        convention of :func:`skgan_ad.datasets.load_industrial_folder`, for
        :func:`skgan_ad.metrics.per_defect_auc`.

    Raises
    ------
    ValueError
        If a size is not a positive int, the sizes add up to more than ``n``,
        or :func:`synthetic_defects` refuses the images or kinds.

    Examples
    --------
    >>> X = np.random.RandomState(0).uniform(size=(20, 8, 8))
    >>> split = synthetic_defect_split(X, n_fit=10, n_val=4, n_anomalies=3, random_state=0)
    >>> len(split.X_train), split.y_test.tolist(), split.masks.reshape(7, -1).any(axis=1).tolist()
    (10, [0, 0, 0, 0, 1, 1, 1], [False, False, False, False, True, True, True])
    >>> split.defect_types[:4].tolist(), set(split.defect_types[4:]) <= set(DEFECT_KINDS)
    (['good', 'good', 'good', 'good'], True)
    """
    X_train = _check_images(X_train)
    kinds = _check_kinds(kinds)
    for name, value in (("n_fit", n_fit), ("n_val", n_val), ("n_anomalies", n_anomalies)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if n_fit + n_val + n_anomalies > len(X_train):
        raise ValueError(
            f"the split needs {n_fit} + {n_val} + {n_anomalies} normal images (to fit, to validate, to make "
            f"defects on); there are {len(X_train)}"
        )
    rng = check_random_state(random_state)
    order = rng.permutation(len(X_train))
    fit, val = order[:n_fit], order[n_fit : n_fit + n_val]
    source = order[n_fit + n_val : n_fit + n_val + n_anomalies]
    defective, masks, kinds_used = synthetic_defects(X_train[source], kinds, random_state=rng)
    X_test = np.concatenate([X_train[val], defective])
    y_test = np.r_[np.zeros(n_val, int), np.ones(n_anomalies, int)]
    masks = np.concatenate([np.zeros((n_val, *masks.shape[1:]), np.uint8), masks])
    # "good" for the normals, as load_industrial_folder names its test/good images (and per_defect_auc expects).
    defect_types = np.concatenate([np.full(n_val, NORMAL_KIND), kinds_used]).astype(str)
    return AnomalySplit(X_train[fit], X_test, y_test, masks, defect_types)
