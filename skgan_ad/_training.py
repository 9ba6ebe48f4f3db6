"""The training engine: alternating generator / discriminator updates on skorch.

``GANTrainer`` is a private :class:`skorch.NeuralNet` with two modules
(``module_`` is the generator, ``discriminator_``) and two optimizers
(``optimizer_``, ``optimizer_discriminator_``). Everything else is skorch's:
the epoch loop, the history, and the callbacks (progress bars, early stopping,
checkpoints, learning-rate schedules) that a detector's ``callbacks``
parameter passes through. What is trained for comes from a
:class:`skgan_ad.losses.GANObjective`, given as the net's criterion.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
from skorch import NeuralNet
from skorch.dataset import Dataset
from skorch.utils import TeeGenerator, to_device

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
        **kwargs,
    ) -> None:
        # Set before NeuralNet.__init__, which only then starts tracking torch components.
        self.discriminator = discriminator
        self.optimizer_discriminator = optimizer_discriminator
        self.discriminator_reinit = discriminator_reinit
        self.reinit_threshold = reinit_threshold
        self.trim_fraction = trim_fraction
        self.trim_warmup = trim_warmup
        super().__init__(module, criterion, *args, **kwargs)

    # -- initialisation: two modules, two optimizers --------------------------
    def initialize_module(self):
        super().initialize_module()
        self.discriminator_ = self.initialized_instance(self.discriminator, self.get_params_for("discriminator"))
        return self

    def initialize_optimizer(self, *args, **kwargs):
        args, kw = self.get_params_for_optimizer("optimizer", self.module_.named_parameters())
        self.optimizer_ = self.optimizer(*args, **kw)
        args, kw = self.get_params_for_optimizer("optimizer_discriminator", self.discriminator_.named_parameters())
        self.optimizer_discriminator_ = self.optimizer_discriminator(*args, **kw)
        return self

    # -- one batch --------------------------------------------------------------
    def train_step(self, batch, **fit_params):
        x = to_device(batch[0], self.device)
        generator, discriminator = self.module_, self.discriminator_
        self._set_training(True)

        self.optimizer_.zero_grad(set_to_none=True)
        g_loss, logs, fake = self.criterion_.generator_loss(generator, discriminator, x)
        g_loss.backward()
        self.notify(
            "on_grad_computed",
            named_parameters=TeeGenerator(generator.named_parameters()),
            batch=batch,
            training=True,
        )
        self.optimizer_.step()

        self.optimizer_discriminator_.zero_grad(set_to_none=True)
        fake = _detach(fake)
        d_loss, d_logs = self.criterion_.discriminator_loss(discriminator, x, fake)
        d_loss.backward()
        self.optimizer_discriminator_.step()

        d_value = d_loss.item()
        reinit = self.discriminator_reinit is not None and d_value < self.reinit_threshold
        if reinit:
            self.discriminator_reinit(discriminator)
        self._record_batch("train", {**logs, **d_logs, "d_loss": d_value, "d_reinit": float(reinit)})
        return {"loss": g_loss.detach(), "y_pred": fake}

    def validation_step(self, batch, **fit_params):
        x = to_device(batch[0], self.device)
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
