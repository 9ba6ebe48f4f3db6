"""The skorch net that trains a generator and a discriminator: :class:`GANTrainer`, its batches, its errors.

``GANTrainer`` is a private :class:`skorch.NeuralNet` with two modules
(``module_`` is the generator, ``discriminator_``) and two optimizers
(``optimizer_``, ``optimizer_discriminator_``). Everything else is skorch's:
the epoch loop, the history, and the callbacks (progress bars, early stopping,
checkpoints, learning-rate schedules) that a detector's ``callbacks``
parameter passes through. What is trained for comes from a
:class:`skgan_ad.losses.GANObjective`, given as the net's criterion.
:mod:`skgan_ad._training` builds and runs it.
"""

from __future__ import annotations

import copy
import math
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import torch
from skorch import NeuralNet
from skorch.dataset import Dataset
from skorch.utils import TeeGenerator, to_device

#: The skorch net class that trains the networks (None: :class:`GANTrainer`). An extension
#: (e.g. :mod:`skgan_ad.parallel`'s distributed training) sets a subclass for the duration of a
#: ``with`` block; the core never imports the extension.
TRAINER_CLASS: ContextVar[type | None] = ContextVar("skgan_ad_trainer_class", default=None)


@contextmanager
def _recording_sigint(trainer):
    """Note on ``trainer`` when SIGINT (Ctrl-C) arrives, then let the usual handler raise.

    Signal handlers live in the main thread only; elsewhere Ctrl-C never reaches training.
    """
    trainer._sigint_received = False
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):
        trainer._sigint_received = True
        if callable(previous):
            previous(signum, frame)
        else:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class TrainingInterruptedWarning(UserWarning):
    """``fit`` returned a partly trained detector because training was interrupted (Ctrl-C)."""


class TrainingDivergedError(ValueError):
    """Training produced non-finite losses and restarting from the last good weights did not help.

    A ``ValueError``: the remedy is a parameter (a lower ``lr``) or the data.
    """


# Per-batch history keys that skorch itself aggregates per epoch.
_SKORCH_BATCH_KEYS = {"train_loss", "valid_loss", "train_batch_size", "valid_batch_size"}


def _detach(fake):
    """Detach what an objective generated: a tensor or a tuple of them (BiGAN pairs)."""
    return tuple(t.detach() for t in fake) if isinstance(fake, tuple) else fake.detach()


class TensorBatchIterator:
    """Mini-batches sliced from one tensor, shuffled by an explicit ``torch.Generator``.

    A ``DataLoader`` collates sample by sample, which costs more than a small
    network's whole step; slicing a tensor costs nothing. A final batch of a
    single sample is merged into the one before it, so BatchNorm never sees a
    batch of one during training.
    """

    def __init__(self, dataset, batch_size: int, shuffle: bool = False, generator=None) -> None:
        self.dataset = dataset
        self.X = dataset.X
        if not isinstance(self.X, torch.Tensor):
            raise TypeError("TensorBatchIterator needs a dataset whose X is a torch.Tensor")
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.generator = generator

    def _bounds(self) -> list[tuple[int, int]]:
        n, size = len(self.X), self.batch_size
        bounds = [(start, min(start + size, n)) for start in range(0, n, size)]
        if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
            bounds[-2:] = [(bounds[-2][0], n)]
        return bounds

    def __len__(self) -> int:
        return len(self._bounds())

    def __iter__(self) -> Iterator[tuple[torch.Tensor, None]]:
        order = None
        if self.shuffle:
            order = torch.randperm(len(self.X), generator=self.generator).to(self.X.device)
        for start, stop in self._bounds():
            yield (self.X[order[start:stop]] if order is not None else self.X[start:stop]), None


class GANTrainer(NeuralNet):
    """skorch net that alternates a generator step and a discriminator step per batch.

    Parameters beyond :class:`skorch.NeuralNet`'s
    -----------------------------------------------
    discriminator : torch.nn.Module
        Returns ``(logits, features)``; becomes ``discriminator_``.
    optimizer_discriminator : optimizer class
        Trains the discriminator (``lr`` and ``optimizer_discriminator__*``
        apply to it as ``lr`` and ``optimizer__*`` do to the generator's).
    discriminator_reinit : callable or None
        Called with the discriminator when its loss falls below
        ``reinit_threshold``: a discriminator that wins outright gives the
        generator no gradient, and the reference code re-initialises it.
    trim_fraction : float in [0, 1)
        Robust training on contaminated data: from epoch ``trim_warmup + 1``
        on, each epoch first scores every training sample with the
        objective's ``sample_losses`` and leaves out this share of the
        highest (the likeliest anomalies). 0 turns it off.
    trim_warmup : int
        Epochs trained on all samples before trimming starts, so the losses
        that decide what is dropped come from a model that has learnt something.
    precision : {"float32", "bfloat16"}
        "bfloat16" computes the training losses (forward passes) under
        ``torch.autocast`` in bfloat16 and, for image networks, keeps tensors
        channels-last; weights, optimizer state and gradients stay float32,
        and no loss scaling is needed (bfloat16 has float32's range).
    """

    def __init__(
        self,
        module,
        criterion,
        *args,
        discriminator=None,
        optimizer_discriminator=torch.optim.Adam,
        discriminator_reinit: Callable | None = None,
        reinit_threshold: float = 1e-5,
        trim_fraction: float = 0.0,
        trim_warmup: int = 2,
        precision: str = "float32",
        max_recoveries: int = 3,
        **kwargs,
    ) -> None:
        # Set before NeuralNet.__init__, which only then starts tracking torch components.
        self.discriminator = discriminator
        self.optimizer_discriminator = optimizer_discriminator
        self.discriminator_reinit = discriminator_reinit
        self.reinit_threshold = reinit_threshold
        self.trim_fraction = trim_fraction
        self.trim_warmup = trim_warmup
        self.precision = precision
        self.max_recoveries = max_recoveries
        super().__init__(module, criterion, *args, **kwargs)

    # -- initialisation: two modules, two optimizers --------------------------
    def initialize_module(self):
        super().initialize_module()
        self.discriminator_ = self.initialized_instance(self.discriminator, self.get_params_for("discriminator"))
        if self._channels_last():
            # Convolutions with bfloat16 autocast run fastest on channels-last tensors (oneDNN, cuDNN).
            self.module_ = self.module_.to(memory_format=torch.channels_last)
            self.discriminator_ = self.discriminator_.to(memory_format=torch.channels_last)
        return self

    def initialize_optimizer(self, *args, **kwargs):
        args, kw = self.get_params_for_optimizer("optimizer", self.module_.named_parameters())
        self.optimizer_ = self.optimizer(*args, **kw)
        args, kw = self.get_params_for_optimizer("optimizer_discriminator", self.discriminator_.named_parameters())
        self.optimizer_discriminator_ = self.optimizer_discriminator(*args, **kw)
        return self

    # -- one batch --------------------------------------------------------------
    def _autocast(self):
        """The forward passes' precision context: bfloat16 autocast, or a no-op for float32."""
        device_type = torch.device(self.device).type
        return torch.autocast(device_type=device_type, dtype=torch.bfloat16, enabled=self.precision == "bfloat16")

    def _channels_last(self) -> bool:
        return self.precision == "bfloat16"

    def _network_input(self, batch) -> torch.Tensor:
        """The batch's images on the device, channels-last when the networks are."""
        x = to_device(batch[0], self.device)
        if self._channels_last() and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return x

    def train_step(self, batch, **fit_params):
        x = self._network_input(batch)
        self._set_training(True)
        while True:
            outcome = self._alternating_step(x, batch)
            if outcome is not None:
                return outcome
            # A loss was not finite: the epoch's starting weights are back, at half the learning rate.

    def _alternating_step(self, x, batch):
        """One generator step, then one discriminator step; None when a loss was not finite (recovered)."""
        generator, discriminator = self.module_, self.discriminator_
        self.optimizer_.zero_grad(set_to_none=True)
        with self._autocast():
            g_loss, logs, fake = self.criterion_.generator_loss(generator, discriminator, x)
        if not torch.isfinite(g_loss):
            return self._recover("generator loss")
        g_loss.backward()
        self._notify_grad_computed(generator, batch)
        self.optimizer_.step()

        self.optimizer_discriminator_.zero_grad(set_to_none=True)
        fake = _detach(fake)
        with self._autocast():
            d_loss, d_logs = self.criterion_.discriminator_loss(discriminator, x, fake)
        d_value = d_loss.item()
        if not math.isfinite(d_value):
            return self._recover("discriminator loss")
        d_loss.backward()
        self._notify_grad_computed(discriminator, batch)
        self.optimizer_discriminator_.step()

        reinit = self.discriminator_reinit is not None and d_value < self.reinit_threshold
        if reinit:
            self.discriminator_reinit(discriminator)
        self._record_batch("train", {**logs, **d_logs, "d_loss": d_value, "d_reinit": float(reinit)})
        return {"loss": g_loss.detach(), "y_pred": fake}

    # -- divergence guard ------------------------------------------------------------
    def _both_optimizers(self):
        return (self.optimizer_, self.optimizer_discriminator_)

    def _snapshot(self) -> dict:
        return copy.deepcopy(
            {
                "generator": self.module_.state_dict(),
                "discriminator": self.discriminator_.state_dict(),
                "optimizers": [opt.state_dict() for opt in self._both_optimizers()],
            }
        )

    def _recover(self, what: str) -> None:
        """Restore the epoch's starting state and halve the learning rates, or give up with a clear error."""
        self.recoveries_ += 1
        epoch = len(self.history)
        lrs = [[group["lr"] for group in opt.param_groups] for opt in self._both_optimizers()]
        if self.recoveries_ > self.max_recoveries:
            raise TrainingDivergedError(
                f"training diverged: the {what} was not finite in epoch {epoch}, even after "
                f"{self.max_recoveries} restarts from the epoch's starting weights, each at half the learning rate "
                f"(now {lrs[0][0]:.3g}); lower lr (it was {self.lr:g}), or check the data for extreme values"
            )
        snapshot = self._good_state
        self.module_.load_state_dict(snapshot["generator"])
        self.discriminator_.load_state_dict(snapshot["discriminator"])
        for opt, state, groups_lr in zip(self._both_optimizers(), snapshot["optimizers"], lrs, strict=True):
            opt.load_state_dict(state)
            for group, lr in zip(opt.param_groups, groups_lr, strict=True):
                group["lr"] = 0.5 * lr
        self._epoch_recoveries += 1
        self._good_state = self._snapshot()
        return None

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_begin(net, dataset_train=dataset_train, dataset_valid=dataset_valid, **kwargs)
        # The last good state to come back to if a loss turns non-finite during this epoch.
        self._good_state = self._snapshot()
        self._epoch_recoveries = 0

    def _weights_finite(self) -> bool:
        return all(
            bool(torch.isfinite(t).all())
            for module in (self.module_, self.discriminator_)
            for t in module.state_dict().values()
            if t.is_floating_point()
        )

    # -- interruption and resumption --------------------------------------------------
    def partial_fit(self, X, y=None, classes=None, **fit_params):
        self.interrupted_ = False
        if not hasattr(self, "recoveries_"):
            self.recoveries_ = 0
        with _recording_sigint(self):
            return super().partial_fit(X, y, classes=classes, **fit_params)

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        """skorch's loop; a Ctrl-C is recorded before skorch swallows its ``KeyboardInterrupt``.

        skorch's ``EarlyStopping`` stops training with a ``KeyboardInterrupt``
        too; only one that follows a SIGINT (Ctrl-C) counts as an interruption.
        """
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except KeyboardInterrupt:
            if getattr(self, "_sigint_received", False):
                self.interrupted_ = True
                if len(self.history):
                    self.history.record("interrupted", True)
            raise

    def epochs_completed(self) -> int:
        """Epochs that ran to their end (an interrupted epoch does not count)."""
        return sum(1 for row in self.history if "train_loss" in row)

    def trainer_state(self) -> dict:
        """What continuing this run needs beyond the networks: optimizer and random-generator states."""
        return copy.deepcopy(
            {
                "optimizer": self.optimizer_.state_dict(),
                "optimizer_discriminator": self.optimizer_discriminator_.state_dict(),
                "criterion": self.criterion_.state_dict(),
                "recoveries": self.recoveries_,
            }
        )

    def load_trainer_state(self, state: dict, history) -> None:
        """Continue a run from :meth:`trainer_state` and its history (call after ``initialize``)."""
        self.optimizer_.load_state_dict(state["optimizer"])
        self.optimizer_discriminator_.load_state_dict(state["optimizer_discriminator"])
        self.criterion_.load_state_dict(state["criterion"])
        self.recoveries_ = state["recoveries"]
        self.history_ = copy.deepcopy(history)

    def _notify_grad_computed(self, module, batch) -> None:
        """``on_grad_computed`` for one network's fresh gradients, before its optimizer steps.

        Called once for the generator and once for the discriminator, so
        gradient callbacks (skorch's ``GradientNormClipping``, logging) act on both.
        """
        self.notify(
            "on_grad_computed", named_parameters=TeeGenerator(module.named_parameters()), batch=batch, training=True
        )

    def validation_step(self, batch, **fit_params):
        x = self._network_input(batch)
        self._set_training(False)
        with torch.no_grad():
            loss, logs = self.criterion_.validation_loss(self.module_, self.discriminator_, x)
        self._record_batch("valid", logs)
        return {"loss": loss, "y_pred": None}

    # -- robust training on contaminated data ---------------------------------------
    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """Run one epoch; when trimming is on, over this epoch's kept training samples only."""
        epochs_done = len(self.history) - 1  # on_epoch_begin has already added this epoch's row
        if training and self.trim_fraction > 0 and epochs_done >= self.trim_warmup:
            iterator = self.get_iterator(self._trimmed(iterator.dataset), training=True)
        return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)

    def _trimmed(self, dataset):
        x = dataset.X
        self._set_training(False)
        with torch.no_grad():
            losses = torch.cat(
                [
                    self.criterion_.sample_losses(self.module_, self.discriminator_, x[i : i + self.batch_size])
                    for i in range(0, len(x), self.batch_size)
                ]
            )
        order = torch.argsort(losses.cpu(), stable=True)
        n_keep = len(x) - int(self.trim_fraction * len(x))
        # Indices (into the training rows) left out this epoch, for inspection and tests.
        self.history.record("train_dropped", order[n_keep:].sort().values.tolist())
        return Dataset(x[order[:n_keep].sort().values.to(x.device)])

    def _record_batch(self, prefix: str, logs: dict) -> None:
        for name, value in logs.items():
            self.history.record_batch(f"{prefix}_{name}", float(value))

    # -- per-epoch summaries of the extra loss terms ------------------------------
    def on_epoch_end(self, net, **kwargs):
        """Average each extra per-batch term over the epoch, weighted by batch size.

        Runs before the callbacks, so ``PrintLog`` shows the averages.
        """
        super().on_epoch_end(net, **kwargs)
        if not self._weights_finite():
            # A step with finite losses can still leave non-finite weights (the last of an epoch).
            self._recover("network weights")
        self.history.record("recoveries", self._epoch_recoveries)
        weighted: dict[str, float] = {}
        totals: dict[str, float] = {}
        weights: dict[str, float] = {}
        for batch in self.history[-1, "batches"]:
            for key, value in batch.items():
                if key in _SKORCH_BATCH_KEYS:
                    continue
                w = batch.get(key.split("_", 1)[0] + "_batch_size", 1)
                weighted[key] = weighted.get(key, 0.0) + w * value
                totals[key] = totals.get(key, 0.0) + value
                weights[key] = weights.get(key, 0.0) + w
        for key in weighted:
            # Re-initialisations are counted; loss terms are averaged.
            value = totals[key] if key.endswith("_reinit") else weighted[key] / weights[key]
            self.history.record(key, value)
