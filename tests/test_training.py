"""The training engine: skorch callbacks, history, verbosity, discriminator re-initialisation."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Checkpoint, EarlyStopping, EpochScoring, ProgressBar

from skgan_ad import SkipGANomalyDetector
from skgan_ad._outlier import holdout_split
from skgan_ad._trainer import GANTrainer, TensorBatchIterator
from skgan_ad.losses import SkipGANomalyLoss
from skgan_ad.nets import MLPDiscriminator, SkipMLPGenerator

from .conftest import TINY


def test_history_records_every_loss_term(rng):
    det = SkipGANomalyDetector(**{**TINY, "n_epochs": 3}).fit(rng.normal(size=(50, 4)))
    assert det.n_iter_ == 3 == len(det.history_)
    for key in ["train_loss", "valid_loss", "train_adv", "train_con", "train_lat", "train_d_loss", "valid_lat"]:
        values = det.history_[:, key]
        assert len(values) == 3 and np.isfinite(values).all(), key


def test_early_stopping_through_callbacks(rng):
    X = rng.normal(size=(60, 4))
    # A threshold no epoch can beat stops training after `patience` epochs.
    stop = EarlyStopping(monitor="valid_loss", patience=2, threshold=1e9)
    det = SkipGANomalyDetector(**{**TINY, "n_epochs": 20, "callbacks": [stop]}).fit(X)
    assert det.n_iter_ == 3
    assert det.callbacks[0] is stop and stop.misses_ == 0, "the parameter must not be mutated"


def test_checkpoint_and_custom_scoring_callbacks(rng, tmp_path):
    X = rng.normal(size=(60, 4))
    calls = []

    def count_epochs(net, X=None, y=None):
        calls.append(net.history[-1, "epoch"])
        return 0.0

    callbacks = [
        Checkpoint(monitor="valid_loss_best", dirname=str(tmp_path), f_params="generator.pt"),
        ("counter", EpochScoring(count_epochs, use_caching=False, on_train=True, name="counted")),
    ]
    det = SkipGANomalyDetector(**{**TINY, "n_epochs": 3, "callbacks": callbacks}).fit(X)
    assert (tmp_path / "generator.pt").exists()
    state = torch.load(tmp_path / "generator.pt", weights_only=True)
    assert set(state) == set(det.generator_.state_dict())
    assert calls == [1, 2, 3] and det.history_[-1, "counted"] == 0.0


def test_verbose_zero_is_silent_and_verbose_prints(rng, capsys):
    X = rng.normal(size=(40, 4))
    SkipGANomalyDetector(**TINY).fit(X)
    assert capsys.readouterr().out == ""
    SkipGANomalyDetector(**{**TINY, "verbose": 1}).fit(X)
    out = capsys.readouterr().out
    assert "train_loss" in out and "valid_loss" in out


def test_progress_bar_callback(rng):
    det = SkipGANomalyDetector(**{**TINY, "callbacks": [ProgressBar()]}).fit(rng.normal(size=(40, 4)))
    assert det.n_iter_ == TINY["n_epochs"]


def test_batches_cover_the_data_once_and_never_have_one_sample():
    from skorch.dataset import Dataset

    X = torch.arange(33.0)[:, None]
    it = TensorBatchIterator(Dataset(X), batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(0))
    batches = [b for b, _ in it]
    assert len(batches) == len(it) == 4 and min(len(b) for b in batches) > 1
    assert sorted(torch.cat(batches).flatten().tolist()) == X.flatten().tolist()


class _CollapsingLoss(SkipGANomalyLoss):
    """A discriminator loss that is always ~0, as if D had won outright."""

    def discriminator_loss(self, discriminator, x, fake):
        loss, logs = super().discriminator_loss(discriminator, x, fake)
        return loss * 0.0, logs


def test_discriminator_is_reinitialised_when_its_loss_collapses():
    reinits = []
    net = GANTrainer(
        module=SkipMLPGenerator(3, (4,)),
        discriminator=MLPDiscriminator(3, (4,)),
        criterion=_CollapsingLoss(),
        discriminator_reinit=lambda d: reinits.append(d),
        iterator_train=TensorBatchIterator,
        train_split=None,
        max_epochs=2,
        batch_size=10,
        verbose=0,
    )
    net.fit(torch.randn(30, 3), None)
    assert len(reinits) == 6  # 3 batches x 2 epochs
    assert net.history[:, "train_d_reinit"] == [3.0, 3.0]


def test_validation_fraction_zero_trains_without_validation(rng):
    det = SkipGANomalyDetector(**{**TINY, "validation_fraction": 0.0}).fit(rng.normal(size=(30, 4)))
    assert "valid_loss" not in det.history_[-1]
    assert np.isfinite(det.offset_)


@pytest.mark.parametrize("fraction, n_valid", [(0.1, 3), (0.5, 15), (0.01, 1), (0.99, 29)])
def test_holdout_size(fraction, n_valid, rng):
    train, valid = holdout_split(np.arange(30)[:, None], fraction, rng)
    assert len(valid) == n_valid and len(train) == 30 - n_valid
    assert not set(train.ravel()) & set(valid.ravel())
    # The detector holds out the same number of rows: its validation loss is computed on them.
    det = SkipGANomalyDetector(**{**TINY, "validation_fraction": fraction}).fit(rng.normal(size=(30, 2)))
    assert len(det.calibration_scores_) == n_valid


def test_restore_best_modules_restores_generator_and_discriminator(rng):
    from skorch.callbacks import Callback

    from skgan_ad.callbacks import RestoreBestModules

    snapshots = {}

    class Snapshot(Callback):
        def on_epoch_end(self, net, **kwargs):
            epoch = net.history[-1, "epoch"]
            snapshots[epoch] = {
                n: {k: v.clone() for k, v in getattr(net, n + "_").state_dict().items()}
                for n in ("module", "discriminator")
            }

    # A monitored value whose best epoch is known in advance: epoch 2 of 5.
    distance_to_2 = EpochScoring(
        lambda net, X=None, y=None: abs(len(net.history) - 2), name="dist", on_train=True, use_caching=False
    )
    callbacks = [distance_to_2, Snapshot(), RestoreBestModules(monitor="dist")]
    det = SkipGANomalyDetector(**{**TINY, "n_epochs": 5, "lr": 1e-2, "callbacks": callbacks}).fit(
        rng.normal(size=(60, 4))
    )
    best = 2
    assert det.history_[-1, "best_epoch"] == best
    assert not all(torch.equal(a, b) for a, b in zip(snapshots[2]["module"].values(), snapshots[5]["module"].values()))
    for name, module in (("module", det.generator_), ("discriminator", det.discriminator_)):
        for key, value in module.state_dict().items():
            assert torch.equal(value.cpu(), snapshots[best][name][key]), (name, key)


def test_min_steps_sets_the_training_budget(rng, capsys):
    """min_steps lengthens training to at least that many optimiser steps, and verbose prints the budget."""
    X = rng.normal(size=(50, 4))  # 45 training rows after the held-out 10 %: 3 batches of 16
    det = SkipGANomalyDetector(**{**TINY, "n_epochs": 1, "min_steps": 10, "verbose": 1}).fit(X)
    assert det.n_iter_ == 4  # ceil(10 / 3)
    assert "training budget: 4 epochs x 45 samples = 12 optimiser steps" in capsys.readouterr().out
    # n_epochs wins when it already gives more steps.
    assert SkipGANomalyDetector(**{**TINY, "n_epochs": 3, "min_steps": 2}).fit(X).n_iter_ == 3


@pytest.mark.parametrize("shape", [(40, 8, 8), (40, 5)], ids=["images", "rows"])
def test_bfloat16_training_stays_close_to_float32(shape, rng):
    """bfloat16 autocast changes the arithmetic of training only: same seed, nearly the same model."""
    X = rng.uniform(size=shape)
    full = SkipGANomalyDetector(**TINY).fit(X)
    half = SkipGANomalyDetector(**TINY, precision="bfloat16").fit(X)
    scores_full, scores_half = full.score_samples(X), half.score_samples(X)
    assert scores_half.dtype == np.float64 and np.isfinite(scores_half).all()
    assert not np.array_equal(scores_full, scores_half)  # the arithmetic did change
    assert np.corrcoef(scores_full, scores_half)[0, 1] > 0.9
    # Weights come back in the default memory format and float32, whatever training used.
    for p in half.generator_.parameters():
        assert p.dtype == torch.float32 and p.is_contiguous()
    with pytest.raises(ValueError, match="precision"):
        SkipGANomalyDetector(**TINY, precision="float16").fit(X)
