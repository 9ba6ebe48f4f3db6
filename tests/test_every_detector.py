"""Shared machinery the other test files check on some detectors only: held-out score statistics,
trimming of contaminated data, and ``verbose=2``'s progress bar."""

import re

import numpy as np
import pytest
import torch
from sklearn.utils import check_random_state
from skorch.callbacks import Callback

from skgan_ad import AnoGANDetector, DenseSkipAttentionDetector, SkipGANomalyDetector
from skgan_ad._outlier import draw_seed, holdout_split

from .conftest import TINY
from .test_survey_options import _contaminated_rows
from .test_vocabulary import DETECTORS


@pytest.mark.parametrize("cls", DETECTORS, ids=lambda c: c.__name__)
def test_score_statistics_and_offset_come_from_the_held_out_rows(cls, rng):
    X = rng.normal(size=(60, 4))
    det = cls(**DETECTORS[cls], validation_fraction=0.25).fit(X)
    # The held-out rows, drawn as fit draws them: one seed for training first, then the split.
    split_rng = check_random_state(det.random_state)
    draw_seed(split_rng)
    train, held_out = holdout_split(X, det.validation_fraction, split_rng)
    assert len(held_out) == 15
    parts = det.score_components(held_out)
    assert set(det.component_stats_) == set(parts)
    for name, values in parts.items():
        assert det.component_stats_[name] == pytest.approx((values.mean(), values.std()), rel=1e-6), name
    np.testing.assert_allclose(det.calibration_scores_, det.score_samples(held_out), rtol=1e-6, atol=1e-9)
    # The statistics of the memorised training rows differ: the test tells the two sets apart.
    train_parts = det.score_components(train)
    assert not all(det.component_stats_[name][0] == pytest.approx(train_parts[name].mean()) for name in parts)


EXPECTED_DROPS = []


class _HighestLosses(Callback):
    """Records, at the start of each epoch, the training rows with the highest ``sample_losses``."""

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        x = dataset_train.X
        net._set_training(False)
        with torch.no_grad():  # in batches, as the trainer computes them
            losses = torch.cat(
                [
                    net.criterion_.sample_losses(net.module_, net.discriminator_, x[i : i + net.batch_size])
                    for i in range(0, len(x), net.batch_size)
                ]
            )
        n_drop = int(net.trim_fraction * len(x))
        EXPECTED_DROPS.append(sorted(torch.argsort(losses, stable=True)[len(x) - n_drop :].tolist()))


@pytest.mark.parametrize(
    "cls, params",
    [(AnoGANDetector, {"nz": 4, "n_max": 5}), (DenseSkipAttentionDetector, {})],
    ids=["AnoGAN", "DenseSkipAttention"],
)
def test_trimming_drops_the_highest_training_losses(cls, params, rng):
    # The other three detectors: tests/test_survey_options.py.
    X, injected = _contaminated_rows(rng)
    EXPECTED_DROPS.clear()
    params = dict(TINY, **params, n_epochs=5, validation_fraction=0.0, trim_fraction=0.05, trim_warmup=2)
    det = cls(**params, callbacks=[_HighestLosses()]).fit(X)
    history = det.history_
    assert "train_dropped" not in history[1] and "train_dropped" in history[2]
    for epoch in range(2, 5):
        assert history[epoch, "train_dropped"] == EXPECTED_DROPS[epoch], epoch
        assert sum(b["train_batch_size"] for b in history[epoch, "batches"]) == 190
    if cls is DenseSkipAttentionDetector:
        # Its reconstruction loss finds the injected anomalies (10 of 10 over random_state 0..2). AnoGAN's
        # per-sample loss is the discriminator's, which finds 10 / 0 / 3 of them at this budget.
        assert len(np.intersect1d(history[-1, "train_dropped"], injected)) >= 8


def test_verbose_2_adds_a_progress_bar_per_epoch(rng, capsys):
    X = rng.normal(size=(40, 4))  # 36 training rows (3 batches of at most 16) and 4 held out (1 batch)
    SkipGANomalyDetector(**{**TINY, "verbose": 1}).fit(X)
    assert "it/s" not in capsys.readouterr().err
    SkipGANomalyDetector(**{**TINY, "verbose": 2}).fit(X)
    captured = capsys.readouterr()
    assert "train_loss" in captured.out  # the epoch table is still printed
    # tqdm's bar (on stderr) opens at 0 of the epoch's 3 + 1 batches, once per epoch.
    assert len(re.findall(r"\b0/4 \[", captured.err)) == TINY["n_epochs"], captured.err
