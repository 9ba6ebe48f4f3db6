"""Long runs that go wrong: divergence, Ctrl-C, resuming (warm_start, Checkpoint), threads, batch independence."""

from __future__ import annotations

import os
import signal
import threading

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback, Checkpoint, LoadInitState

from skgan_ad import DenseSkipAttentionDetector, EGBADDetector, GANomalyDetector, SkipGANomalyDetector
from skgan_ad._trainer import TrainingDivergedError, TrainingInterruptedWarning

from .conftest import assert_batch_invariant

TINY_IMAGES = dict(ngf=4, ndf=4, batch_size=16, random_state=0)
TINY_ROWS = dict(hidden_dims=(8, 4), batch_size=16, random_state=0)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((48, 1, 8, 8))


@pytest.fixture(scope="module")
def rows():
    return np.random.default_rng(1).normal(size=(64, 5))


def _weights(detector) -> list[torch.Tensor]:
    return [t.clone() for m in (detector.generator_, detector.discriminator_) for t in m.state_dict().values()]


def _assert_same_model(a, b) -> None:
    for x, y in zip(_weights(a), _weights(b), strict=True):
        assert torch.equal(x, y)


# -- warm_start: 2 + 2 epochs are 4 epochs ------------------------------------------------
@pytest.mark.parametrize(
    "make, data",
    [
        (lambda **kw: SkipGANomalyDetector(**TINY_IMAGES, **kw), "images"),
        # EGBAD's discriminator has dropout: its masks' generator must carry over too.
        (lambda **kw: EGBADDetector(**TINY_ROWS, **kw), "rows"),
    ],
    ids=["SkipGANomaly-images", "EGBAD-rows"],
)
def test_warm_start_two_plus_two_epochs_is_four(make, data, request):
    X = request.getfixturevalue(data)
    four = make(n_epochs=4).fit(X)
    warm = make(n_epochs=2, warm_start=True).fit(X)
    assert warm.n_iter_ == 2
    warm.fit(X)
    assert warm.n_iter_ == 4 and len(warm.history_) == 4
    _assert_same_model(warm, four)
    np.testing.assert_array_equal(warm.score_samples(X), four.score_samples(X))
    assert warm.offset_ == four.offset_


def test_without_warm_start_a_refit_starts_afresh(rows):
    detector = GANomalyDetector(**TINY_ROWS, n_epochs=2).fit(rows)
    first = detector.score_samples(rows)
    detector.fit(rows)
    assert detector.n_iter_ == 2 and not hasattr(detector, "training_state_")
    np.testing.assert_array_equal(detector.score_samples(rows), first)


def test_warm_start_refuses_data_of_another_shape(rows):
    detector = GANomalyDetector(**TINY_ROWS, n_epochs=1, warm_start=True).fit(rows)
    with pytest.raises(ValueError, match="warm_start=True continues the last fit"):
        detector.fit(rows[:, :3])
    assert not hasattr(detector, "generator_")


# -- Checkpoint + LoadInitState resume exactly ------------------------------------------------
def test_checkpoint_resume_reproduces_an_uninterrupted_run(images, tmp_path):
    checkpoint = Checkpoint(
        monitor=None,
        dirname=str(tmp_path),
        f_discriminator="discriminator.pt",
        f_optimizer_discriminator="optimizer_discriminator.pt",
    )
    four = SkipGANomalyDetector(**TINY_IMAGES, n_epochs=4).fit(images)
    SkipGANomalyDetector(**TINY_IMAGES, n_epochs=2, callbacks=[checkpoint]).fit(images)
    resumed = SkipGANomalyDetector(**TINY_IMAGES, n_epochs=2, callbacks=[LoadInitState(checkpoint)]).fit(images)
    assert len(resumed.history_) == 4
    _assert_same_model(resumed, four)


# -- Ctrl-C -------------------------------------------------------------------------
class _CtrlCAt(Callback):
    """Sends this process SIGINT (what Ctrl-C does) at the end of an epoch."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_warns_marks_history_and_can_be_continued(rows):
    detector = GANomalyDetector(**TINY_ROWS, n_epochs=5, callbacks=[_CtrlCAt(2)], warm_start=True)
    with pytest.warns(TrainingInterruptedWarning, match="after 2 of 5 epochs"):
        detector.fit(rows)
    assert detector.history_[-1, "interrupted"] is True
    assert detector.n_iter_ == 2
    assert np.isfinite(detector.score_samples(rows)).all()
    # The partly trained model continues where it stopped.
    detector.set_params(callbacks=None, n_epochs=3).fit(rows)
    assert detector.n_iter_ == 5


def test_early_stopping_is_not_an_interruption(rows):
    from skorch.callbacks import EarlyStopping

    stop = EarlyStopping(monitor="train_loss", patience=1, threshold=1e9)  # stops after 2 epochs
    with __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("error", TrainingInterruptedWarning)
        detector = GANomalyDetector(**TINY_ROWS, n_epochs=10, callbacks=[stop]).fit(rows)
    assert detector.n_iter_ < 10
    assert "interrupted" not in detector.history_[-1]


def test_ctrl_c_is_never_cached(rows, tmp_path):
    interrupted = GANomalyDetector(**TINY_ROWS, n_epochs=4, memory=str(tmp_path), callbacks=[_CtrlCAt(1)])
    with pytest.warns(TrainingInterruptedWarning):
        interrupted.fit(rows)
    # The same training parameters again: must train in full, not get the short model back.
    full = GANomalyDetector(**TINY_ROWS, n_epochs=4, memory=str(tmp_path), callbacks=[_CtrlCAt(99)]).fit(rows)
    assert full.n_iter_ == 4
    assert "interrupted" not in full.history_[-1]


# -- divergence -----------------------------------------------------------------------
class _PoisonOnce(Callback):
    """Writes NaN into one generator weight before a chosen batch, once: the next loss is NaN."""

    def __init__(self, at_batch: int) -> None:
        self.at_batch = at_batch

    def initialize(self):
        self.seen_ = 0
        return self

    def on_batch_begin(self, net, training=False, **kwargs):
        if training:
            self.seen_ += 1
            if self.seen_ == self.at_batch:
                with torch.no_grad():
                    next(net.module_.parameters()).view(-1)[0] = float("nan")


def test_a_non_finite_loss_restores_the_last_good_weights(rows):
    detector = GANomalyDetector(**TINY_ROWS, n_epochs=3, callbacks=[_PoisonOnce(at_batch=6)]).fit(rows)
    recoveries = detector.history_[:, "recoveries"]
    assert sum(recoveries) == 1 and recoveries[1] == 1  # batch 6 of 4 per epoch is in epoch 2
    assert all(torch.isfinite(t).all() for t in _weights(detector) if t.is_floating_point())
    assert np.isfinite(detector.score_samples(rows)).all() and np.isfinite(detector.offset_)


def test_hopeless_divergence_raises_a_clear_error_and_leaves_no_fit(rows):
    detector = GANomalyDetector(**TINY_ROWS, n_epochs=2, lr=1e30)
    with pytest.raises(TrainingDivergedError, match=r"not finite in epoch \d+.*lower lr"):
        detector.fit(rows * 1e30)
    assert not [k for k in vars(detector) if k.endswith("_") and not k.startswith("__")]
    assert isinstance(TrainingDivergedError("x"), ValueError)


def test_finite_but_exploded_weights_are_not_a_fitted_model():
    # One Adam step at lr 1e30 leaves finite weights of size 1e30: the losses stay finite, the scores overflow.
    X = np.random.default_rng(0).normal(size=(50, 4)) * 1e30
    detector = GANomalyDetector(n_epochs=1, hidden_dims=(8,), lr=1e30, random_state=0)
    with pytest.raises(TrainingDivergedError, match=r"score part\(s\) \['latent'\] are not finite.*lower lr"):
        detector.fit(X)
    assert not hasattr(detector, "offset_")


# -- determinism across threads and batches ---------------------------------------------
def test_same_seed_fits_in_threads_agree(rows):
    # EGBAD's dropout used PyTorch's global random state, which threads share.
    results = [None] * 4

    def fit(i):
        results[i] = EGBADDetector(**TINY_ROWS, n_epochs=2).fit(rows).score_samples(rows)

    threads = [threading.Thread(target=fit, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    alone = EGBADDetector(**TINY_ROWS, n_epochs=2).fit(rows).score_samples(rows)
    for scores in results:
        np.testing.assert_array_equal(scores, alone)


@pytest.mark.parametrize("make", [GANomalyDetector, EGBADDetector, SkipGANomalyDetector])
def test_tabular_scores_do_not_depend_on_the_batch(make, rows):
    # To round-off, not to the bit: on some CPUs (seen on AMD EPYC) the float64 matrix product
    # rounds a row differently by its position in the batch (relative differences ~1e-15).
    detector = make(**TINY_ROWS, n_epochs=1, embedding_weight=0.5).fit(rows)
    together = detector.score_samples(rows)
    alone = np.concatenate([detector.score_samples(rows[i : i + 1]) for i in range(len(rows))])
    reversed_ = detector.score_samples(rows[::-1])[::-1]
    assert_batch_invariant(alone, together)
    assert_batch_invariant(reversed_, together)


@pytest.mark.parametrize("make", [GANomalyDetector, EGBADDetector, SkipGANomalyDetector, DenseSkipAttentionDetector])
def test_image_scores_do_not_depend_on_the_batch(make, images):
    detector = make(**TINY_IMAGES, n_epochs=1, embedding_weight=0.5).fit(images)
    together = detector.score_samples(images)
    in_threes = np.concatenate([detector.score_samples(images[i : i + 3]) for i in range(0, len(images), 3)])
    assert_batch_invariant(in_threes, together, "images")
    assert_batch_invariant(detector.score_samples(images[::-1])[::-1], together, "images")


# -- bounded memory: scoring converts the input chunk by chunk ------------------------------
def test_chunked_scoring_equals_scoring_at_once(images, tmp_path, monkeypatch):
    detector = SkipGANomalyDetector(**TINY_IMAGES, n_epochs=1, residual_norm="none").fit(images)
    as_uint8 = (images[:, 0] * 255).astype(np.uint8)
    path = tmp_path / "images.npy"
    np.save(path, as_uint8)
    mapped = np.load(path, mmap_mode="r")
    expected = {
        "score_samples": detector.score_samples(as_uint8.astype(np.float64)),
        "reconstruct": detector.reconstruct(as_uint8.astype(np.float64)),
        "anomaly_map": detector.anomaly_map(as_uint8.astype(np.float64)),
        "predict": detector.predict(as_uint8.astype(np.float64)),
    }
    seen = []
    original = type(detector)._validate

    def spy(self, X):
        seen.append(len(X))
        return original(self, X)

    # Chunks of 16 rows (the batch size): a 48-image memmap is read in three slices.
    monkeypatch.setattr(type(detector), "_CHUNK_BYTES", 1)
    monkeypatch.setattr(type(detector), "_validate", spy)
    for call, want in expected.items():
        seen.clear()
        got = getattr(detector, call)(mapped)
        assert max(seen) == 16, seen
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
