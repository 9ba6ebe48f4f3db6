"""Pixel-level metrics against ground-truth masks (pixel ROC AUC, AUPRO) and the image-level AUC per defect type.

AUPRO is checked against a brute-force reference written from its definition
(Bergmann et al., IJCV 2021, and the MVTec AD evaluation code): one pass over
all pixels per distinct threshold, regions found image by image with
8-connectivity, the area integrated segment by segment.
"""

import numpy as np
import pytest
from scipy import ndimage
from sklearn.metrics import roc_auc_score

from skgan_ad.metrics import aupro, per_defect_auc, pixel_roc_auc


def brute_force_aupro(masks, maps, max_fpr=0.3):
    """AUPRO from its definition: a full pass over the pixels at every distinct threshold."""
    masks, maps = np.asarray(masks, dtype=bool), np.asarray(maps, dtype=float)
    regions = []  # (image, boolean mask of one connected component)
    for i, mask in enumerate(masks):
        labels, n = ndimage.label(mask, structure=np.ones((3, 3)))
        regions += [(i, labels == k) for k in range(1, n + 1)]
    points = [(0.0, 0.0)]
    for threshold in np.unique(maps)[::-1]:
        flagged = maps >= threshold
        fpr = flagged[~masks].mean()
        pro = np.mean([flagged[i][region].mean() for i, region in regions])
        points.append((fpr, pro))
    area = 0.0
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if x0 >= max_fpr:
            break
        if x1 > max_fpr:  # the last segment, cut at max_fpr
            y1 = y0 + (y1 - y0) * (max_fpr - x0) / (x1 - x0)
            x1 = max_fpr
        area += (x1 - x0) * (y0 + y1) / 2
    return area / max_fpr


def random_case(rng):
    """Small masks with both pixel classes: some images without defects, sparse (one-pixel) or dense regions,
    and maps with many ties (few integer levels), continuous, or correlated with the masks."""
    while True:
        n, h, w = rng.randint(1, 5), rng.randint(1, 8), rng.randint(1, 8)
        masks = (rng.rand(n, h, w) < rng.choice([0.05, 0.2, 0.5, 0.8])).astype(int)
        if n > 1:
            masks[rng.rand(n) < 0.4] = 0  # images without defects: normal pixels only
        if 0 < masks.sum() < masks.size:
            break
    kind = rng.randint(3)
    if kind == 0:
        maps = rng.randint(0, rng.randint(1, 5), size=masks.shape).astype(float)  # ties
    elif kind == 1:
        maps = rng.rand(*masks.shape)
    else:
        maps = np.round(masks + rng.normal(scale=0.7, size=masks.shape), 1)  # informative, with ties
    return masks, maps


@pytest.mark.parametrize("max_fpr", [0.3, 1.0, 0.05, 0.5])
def test_aupro_equals_the_brute_force_reference(max_fpr):
    rng = np.random.RandomState(int(max_fpr * 100))
    for _ in range(150):
        masks, maps = random_case(rng)
        assert aupro(masks, maps, max_fpr=max_fpr) == pytest.approx(
            brute_force_aupro(masks, maps, max_fpr), abs=1e-9
        ), (masks.tolist(), maps.tolist())


def test_aupro_equals_the_reference_on_larger_images_with_quantised_maps():
    rng = np.random.RandomState(1)
    masks = np.zeros((6, 24, 24), dtype=int)
    masks[0, 3:9, 4:12] = 1
    masks[1, 10:20, 10:13] = 1
    masks[1, 0, 0] = masks[1, 23, 23] = 1  # one-pixel regions in corners
    masks[3, 5:7, 5:7] = masks[3, 7, 7] = 1  # touches at a corner: one region (8-connectivity)
    maps = np.round(masks * 0.8 + rng.rand(*masks.shape), 1)  # ~20 levels, many ties
    for max_fpr in (0.3, 1.0, 0.01):
        assert aupro(masks, maps, max_fpr) == pytest.approx(brute_force_aupro(masks, maps, max_fpr), abs=1e-9)


@pytest.mark.parametrize("max_fpr", [0.3, 1.0, 0.1])
def test_aupro_perfect_inverted_and_constant_maps(max_fpr):
    masks = np.zeros((3, 6, 6), dtype=int)
    masks[0, 1:3, 1:4] = 1
    masks[2, 5, 5] = 1  # a one-pixel region; image 1 has no defect
    perfect = masks * 2.0 + 1.0
    assert aupro(masks, perfect, max_fpr) == pytest.approx(1.0, abs=1e-12)
    assert aupro(masks, -perfect, max_fpr) == pytest.approx(0.0, abs=1e-12)
    # A constant map: one threshold, the curve (0, 0) -> (1, 1), area max_fpr**2 / 2, normalised max_fpr / 2.
    assert aupro(masks, np.full(masks.shape, 3.0), max_fpr) == pytest.approx(max_fpr / 2, abs=1e-12)


def test_aupro_regions_are_8_connected_and_weigh_equally():
    masks = np.zeros((1, 6, 6), dtype=int)
    masks[0, 0, 0] = masks[0, 1, 1] = 1  # diagonal neighbours: one region with 8-connectivity
    masks[0, 4, 4] = 1  # a second region
    maps = np.zeros((1, 6, 6))
    maps[0, 0, 0] = maps[0, 4, 4] = 1.0
    # PRO at FPR 0: mean(1/2, 1/1) = 0.75 (with 4-connectivity it would be mean(1, 0, 1) = 2/3); then (1, 1).
    assert aupro(masks, maps, max_fpr=1.0) == pytest.approx((0.75 + 1.0) / 2, abs=1e-12)
    # Regions never span images: the same pixel in two images is two regions.
    masks = np.zeros((2, 3, 3), dtype=bool)
    masks[:, 1, 1] = True
    maps = masks * np.array([1.0, 0.0])[:, None, None]
    assert aupro(masks, maps, max_fpr=1.0) == pytest.approx((0.5 + 1.0) / 2, abs=1e-12)


def test_aupro_ignores_monotone_rescaling_of_the_maps():
    rng = np.random.RandomState(3)
    masks, maps = random_case(rng)
    assert aupro(masks, np.exp(3 * maps) - 7, 0.3) == pytest.approx(aupro(masks, maps, 0.3), abs=1e-12)


def test_pixel_roc_auc_is_roc_auc_over_every_pixel():
    rng = np.random.RandomState(0)
    masks, maps = random_case(rng)
    assert pixel_roc_auc(masks, maps) == roc_auc_score(masks.ravel(), maps.ravel())
    assert pixel_roc_auc(masks.astype(bool), -maps) == pytest.approx(1 - pixel_roc_auc(masks, maps))


@pytest.mark.parametrize("metric", [pixel_roc_auc, aupro])
def test_pixel_metrics_refuse_bad_input(metric):
    masks = np.zeros((2, 4, 4), dtype=int)
    masks[0, 1, 1] = 1
    maps = np.zeros((2, 4, 4))
    with pytest.raises(ValueError, match="no defective pixel"):
        metric(np.zeros_like(masks), maps)
    with pytest.raises(ValueError, match="no normal pixel"):
        metric(np.ones_like(masks), maps)
    with pytest.raises(ValueError, match=r"shape \(n_images, H, W\).*\(2, 4, 4\) and \(2, 4, 5\)"):
        metric(masks, np.zeros((2, 4, 5)))
    with pytest.raises(ValueError, match="shape"):
        metric(masks[0], maps[0])  # one image needs its (1, H, W) axis
    with pytest.raises(ValueError, match="1 on defective pixels and 0"):
        metric(masks * 255, maps)
    with pytest.raises(ValueError, match="finite"):
        metric(masks, np.full((2, 4, 4), np.nan))


@pytest.mark.parametrize("max_fpr", [0, -0.1, 1.5, True, "0.3"])
def test_aupro_refuses_bad_max_fpr(max_fpr):
    masks = np.zeros((1, 3, 3), dtype=int)
    masks[0, 0, 0] = 1
    with pytest.raises(ValueError, match=r"max_fpr must be a number in \(0, 1\]"):
        aupro(masks, np.zeros((1, 3, 3)), max_fpr=max_fpr)


def test_per_defect_auc_against_roc_auc_on_each_type():
    rng = np.random.RandomState(0)
    kinds = np.array(["good"] * 20 + ["crack"] * 7 + ["scratch"] * 5 + ["hole"] * 4)
    scores = rng.normal(size=len(kinds)) + (kinds != "good") * np.select([kinds == "crack"], [2.0], 0.5)
    aucs = per_defect_auc(kinds, scores)
    assert list(aucs) == ["crack", "hole", "scratch", "mean"]
    for kind in ("crack", "hole", "scratch"):
        chosen = (kinds == "good") | (kinds == kind)
        assert aucs[kind] == roc_auc_score(kinds[chosen] == kind, scores[chosen])
    assert aucs["mean"] == pytest.approx(np.mean([aucs[k] for k in ("crack", "hole", "scratch")]))
    # Another name for the normal kind; lists are accepted.
    renamed = ["ok" if k == "good" else k for k in kinds]
    assert per_defect_auc(renamed, list(scores), normal="ok") == aucs


def test_per_defect_auc_refuses_bad_input():
    with pytest.raises(ValueError, match="no sample is of the normal kind 'good'"):
        per_defect_auc(["crack", "hole"], [0.1, 0.2])
    with pytest.raises(ValueError, match="every sample is of the normal kind"):
        per_defect_auc(["good", "good"], [0.1, 0.2])
    with pytest.raises(ValueError, match="named 'mean'"):
        per_defect_auc(["good", "mean"], [0.1, 0.2])
    with pytest.raises(ValueError, match="finite"):
        per_defect_auc(["good", "crack"], [0.1, np.inf])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        per_defect_auc(["good", "crack"], [0.1, 0.2, 0.3])
