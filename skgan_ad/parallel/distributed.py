"""``torch.distributed``: data-parallel training of one detector over the ranks of a process group.

:func:`distributed_training` (a context manager) makes ``fit`` train with
:class:`DistributedGANTrainer` across the processes of a
``torch.distributed`` group (launched with ``torchrun``);
:func:`fit_distributed` adds the checks and rank 0's save. Every rank
holds the same data and seed, so the held-out split, the score
statistics and ``offset_`` (all computed in ``fit`` after training) agree
once the weights agree, which :func:`check_ranks_agree` verifies.

Why not ``DistributedDataParallel``: the generator's loss back-propagates
through the discriminator, and the discriminator runs in both steps of a
batch (on real and on generated samples), which DDP's per-forward
gradient hooks handle badly (parameters reduced twice, or gradients of
the wrong step). The trainer instead all-reduces each network's
gradients right before its optimizer step (the engine's
``_notify_grad_computed`` hook), which is what DDP computes, and
synchronises BatchNorm itself (``torch.nn.SyncBatchNorm`` runs on GPUs
only), so a step on N ranks is the one-process step on the whole batch,
up to round-off. Nor skorch's ``AccelerateMixin``: it needs
``accelerate`` and assumes one module and one optimizer.

``torch.distributed`` ships with torch.
"""

from __future__ import annotations

import hashlib
import os
from contextlib import contextmanager

import numpy as np
import torch
import torch.distributed as dist

from .._trainer import TRAINER_CLASS, GANTrainer

__all__ = [
    "DistributedGANTrainer",
    "check_ranks_agree",
    "desynchronise_batchnorm",
    "detector_digest",
    "distributed_training",
    "fit_distributed",
    "synchronise_batchnorm",
]


def _world() -> tuple[int, int]:
    return dist.get_rank(), dist.get_world_size()


class _RankShard:
    """This rank's share of every batch of a (shuffled) batch iterator.

    All ranks draw the same permutation, so together they cover each global
    batch of ``batch_size`` exactly once.
    """

    def __init__(self, iterator, rank: int, world: int) -> None:
        self.iterator, self.rank, self.world = iterator, rank, world
        self.dataset = iterator.dataset

    def __len__(self) -> int:
        return len(self.iterator)

    def __iter__(self):
        for x, y in self.iterator:
            yield torch.tensor_split(x, self.world)[self.rank], y


class _RankMeanObjective(torch.nn.Module):
    """The training objective, its loss *values* those of the global batch, identical on all ranks.

    The value every rank sees (for the history, the divergence guard, the
    discriminator re-initialisation decision) is the global batch's mean
    loss. Back-propagation starts from this rank's share of it (its slice's
    mean loss times slice size / global batch size), so the gradients summed
    over ranks are the global batch's, also when slices differ in size.
    """

    def __init__(self, objective) -> None:
        super().__init__()
        self.objective = objective

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._modules["objective"], name)

    # The objective's own state (its random generators), so trainer states and checkpoints of a
    # distributed run have the keys of a single-process one.
    def state_dict(self, *args, **kwargs):
        return self.objective.state_dict(*args, **kwargs)

    def load_state_dict(self, state_dict, *args, **kwargs):
        return self.objective.load_state_dict(state_dict, *args, **kwargs)

    def _global(self, loss, logs, n_local: int):
        names = list(logs)
        local = torch.tensor(
            [n_local, n_local * float(loss.detach()), *(n_local * float(logs[k]) for k in names)],
            dtype=torch.float64,
            device=loss.device,  # NCCL reduces GPU tensors only
        )
        dist.all_reduce(local)
        n_global = local[0].item()
        self.global_batch_size = int(n_global)
        mean = local[1:] / n_global
        value = _GlobalValue.apply(loss, mean[0].to(dtype=loss.dtype, device=loss.device), n_local / n_global)
        return value, {k: mean[i + 1].item() for i, k in enumerate(names)}

    def generator_loss(self, generator, discriminator, x):
        loss, logs, fake = self.objective.generator_loss(generator, discriminator, x)
        loss, logs = self._global(loss, logs, len(x))
        return loss, logs, fake

    def discriminator_loss(self, discriminator, x, fake):
        loss, logs = self.objective.discriminator_loss(discriminator, x, fake)
        return self._global(loss, logs, len(x))


class _GlobalValue(torch.autograd.Function):
    """Forward: ``value`` (the global mean); backward: into ``loss``, scaled by this rank's ``share``."""

    @staticmethod
    def forward(ctx, loss, value, share):
        ctx.share = share
        return value.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.share, None, None


class _BroadcastAfter:
    """Call ``reinit(module)``, then give every rank rank 0's result (ranks draw different random numbers)."""

    def __init__(self, reinit) -> None:
        self.reinit = reinit

    def __call__(self, module) -> None:
        self.reinit(module)
        for tensor in module.state_dict().values():
            dist.broadcast(tensor, src=0)


class DistributedGANTrainer(GANTrainer):
    """``GANTrainer`` (``skgan_ad._trainer``) for one of several ``torch.distributed`` ranks.

    * Batches: each rank draws the same shuffled global batch of
      ``batch_size`` and trains on its slice of it.
    * Gradients: each rank back-propagates its share of the global batch's
      mean loss; each network's gradients are summed over ranks right before
      its optimizer step, so all ranks take the same step (the global
      batch's) and keep identical weights.
    * Loss values: averaged over ranks, so the history and the
      discriminator re-initialisation decision agree; a re-initialised
      discriminator is broadcast from rank 0.
    * BatchNorm: training-mode statistics are computed over the global batch
      (all slices, as ``torch.nn.SyncBatchNorm`` does on GPUs), so each step
      computes what one process would on the whole batch, and the running
      statistics stay identical on all ranks.
    * Validation: every rank computes the loss on the full held-out set
      (identical weights give identical values, so callbacks such as
      ``EarlyStopping`` decide alike on every rank).
    * Randomness: shuffling uses a copy of the engine's generator taken
      before training, identical on all ranks; the prior noise and dropout
      generators are re-seeded per rank, so the slices do not share noise.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.discriminator_reinit is not None and not isinstance(self.discriminator_reinit, _BroadcastAfter):
            self.discriminator_reinit = _BroadcastAfter(self.discriminator_reinit)
        self._shuffle_rng, self._generators_split = None, False

    def initialize(self):
        if not dist.is_available() or not dist.is_initialized():
            raise RuntimeError(
                "DistributedGANTrainer needs an initialised torch.distributed process group: "
                "use skgan_ad.parallel.distributed_training() under torchrun"
            )
        self._shuffle_rng, self._generators_split = None, False
        return super().initialize()

    def initialize_criterion(self, *args, **kwargs):
        super().initialize_criterion(*args, **kwargs)
        if not isinstance(self.criterion_, _RankMeanObjective):
            self.criterion_ = _RankMeanObjective(self.criterion_)
        return self

    def get_iterator(self, dataset, training=False):
        iterator = super().get_iterator(dataset, training=training)
        if not training:
            return iterator  # validation: the full held-out set on every rank
        if not self._generators_split:
            self._shuffle_rng = self._split_generators(iterator.generator)
            self._generators_split = True
        iterator.generator = self._shuffle_rng
        return _RankShard(iterator, *_world())

    def _split_generators(self, shared):
        """A shuffling generator identical on all ranks; the shared one (noise, dropout) re-seeded per rank."""
        shuffle = None if shared is None else torch.Generator().set_state(shared.get_state())
        rank = dist.get_rank()
        generators = (shared, self.criterion_.noise_generator, self._dropout_generator())
        for generator in {id(g): g for g in generators if g is not None}.values():
            seed = int(torch.randint(2**62, (1,), generator=generator, device=generator.device))
            generator.manual_seed(seed + rank)
        return shuffle

    def _dropout_generator(self):
        return getattr(self.criterion_, "dropout_generator", None)

    def _notify_grad_computed(self, module, batch) -> None:
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        if grads:
            flat = torch.cat([g.reshape(-1) for g in grads])
            dist.all_reduce(flat)  # each rank's share of the global loss: the sum is the global gradient
            for grad, reduced in zip(grads, torch.split(flat, [g.numel() for g in grads])):
                grad.copy_(reduced.view_as(grad))
        super()._notify_grad_computed(module, batch)

    def initialize_module(self):
        super().initialize_module()
        synchronise_batchnorm(self.module_, self.discriminator_)
        return self

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        super().on_batch_end(net, batch=batch, training=training, **kwargs)
        if training:
            # skorch records the slice's size; the epoch's losses are averages weighted by it, so record the
            # global batch's: the history is then the one-process history, identical on every rank.
            self.history.record_batch("train_batch_size", self.criterion_.global_batch_size)

    def on_train_end(self, net, **kwargs):
        super().on_train_end(net, **kwargs)
        # The trained networks leave with their own classes: they pickle, save and score as usual.
        desynchronise_batchnorm(self.module_, self.discriminator_)


class _SynchronisedBatchNorm:
    """BatchNorm whose training-mode statistics are the global batch's: the slices of all ranks together.

    Mixed into a BatchNorm layer's own class for the duration of training
    (:func:`synchronise_batchnorm`), so its parameters, buffers and
    ``state_dict`` stay as they are. ``torch.nn.SyncBatchNorm`` does the
    same on GPUs only. Two differentiable all-reduces per call (the sums,
    then the squared deviations from the global mean); gradients flow back
    across ranks through them. Running statistics are updated from the
    global statistics, so they are identical on every rank.
    """

    def forward(self, x):
        if not self.training:
            return super().forward(x)
        self._check_input_dim(x)
        dims = [0, *range(2, x.dim())]
        shape = (1, -1) + (1,) * (x.dim() - 2)
        values = x.float()
        total = _SumOverRanks.apply(
            torch.cat([values.sum(dims), values.new_tensor([values.numel() / values.shape[1]])])
        )
        count = total[-1]
        mean = total[:-1] / count
        centred = values - mean.view(shape)
        var = _SumOverRanks.apply((centred * centred).sum(dims)) / count
        out = centred * torch.rsqrt(var + self.eps).view(shape)
        if self.affine:
            out = out * self.weight.view(shape) + self.bias.view(shape)
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                factor = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                n = float(count)
                self.running_mean.mul_(1 - factor).add_(mean.to(self.running_mean.dtype), alpha=factor)
                unbiased = var * (n / max(n - 1.0, 1.0))
                self.running_var.mul_(1 - factor).add_(unbiased.to(self.running_var.dtype), alpha=factor)
        return out.to(x.dtype)


class _SumOverRanks(torch.autograd.Function):
    """Differentiable all-reduce: the sum over ranks forward, and the sum of the ranks' gradients backward
    (every rank's loss depends on every rank's input through the sum)."""

    @staticmethod
    def forward(ctx, tensor):
        total = tensor.clone()
        dist.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx, grad):
        total = grad.clone()
        dist.all_reduce(total)
        return total


_SYNCHRONISED_CLASSES: dict = {}


def synchronise_batchnorm(*modules) -> None:
    """Make every BatchNorm layer of ``modules`` compute training statistics over all ranks (in place)."""
    for module in modules:
        for layer in module.modules():
            if isinstance(layer, torch.nn.modules.batchnorm._BatchNorm) and not isinstance(
                layer, (_SynchronisedBatchNorm, torch.nn.SyncBatchNorm)
            ):
                cls = type(layer)
                if cls not in _SYNCHRONISED_CLASSES:
                    _SYNCHRONISED_CLASSES[cls] = type(f"Synchronised{cls.__name__}", (_SynchronisedBatchNorm, cls), {})
                layer.__class__ = _SYNCHRONISED_CLASSES[cls]


def desynchronise_batchnorm(*modules) -> None:
    """Undo :func:`synchronise_batchnorm`: every layer gets its own class back."""
    for module in modules:
        for layer in module.modules():
            if isinstance(layer, _SynchronisedBatchNorm):
                layer.__class__ = type(layer).__bases__[1]


@contextmanager
def distributed_training(backend: str | None = None):
    """Within this block, detectors' ``fit`` trains data-parallel over the ranks of a process group.

    Joins the group ``torchrun`` describes in the environment (``init_method="env://"``)
    unless one is already initialised (then left as it is); leaves it on exit
    if it joined. Backend: ``"nccl"`` with CUDA, else ``"gloo"``. With CUDA,
    rank ``LOCAL_RANK`` uses GPU ``LOCAL_RANK`` (``device="auto"`` or ``"cuda"``).

    Run ``fit`` on every rank with the same data and ``random_state``, and
    ``memory=None`` (or see :func:`fit_distributed`, which does all this).
    """
    joined = not dist.is_initialized()
    if joined:
        dist.init_process_group(backend or ("nccl" if torch.cuda.is_available() else "gloo"))
    if torch.cuda.is_available() and "LOCAL_RANK" in os.environ:
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    token = TRAINER_CLASS.set(DistributedGANTrainer)
    try:
        yield
    finally:
        TRAINER_CLASS.reset(token)
        if joined:
            dist.destroy_process_group()


def detector_digest(detector) -> str:
    """SHA-256 of a fitted detector's weights, buffers, ``offset_`` and score statistics."""
    digest = hashlib.sha256()
    for module in (detector.generator_, detector.discriminator_):
        for name, tensor in module.state_dict().items():
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    digest.update(np.float64(detector.offset_).tobytes())
    digest.update(repr(sorted(detector.component_stats_.items())).encode())
    return digest.hexdigest()


def check_ranks_agree(detector) -> str:
    """Raise ``RuntimeError`` unless every rank holds exactly the same fitted detector; returns its digest."""
    digests = [None] * dist.get_world_size()
    dist.all_gather_object(digests, detector_digest(detector))
    if len(set(digests)) != 1:
        raise RuntimeError(f"ranks ended with different detectors (weight digests {digests})")
    return digests[0]


def fit_distributed(detector, X, y=None, *, path=None, check: bool = True, backend: str | None = None):
    """Fit ``detector`` data-parallel over the ranks of ``torchrun``; rank 0 saves it to ``path``.

    Call on every rank with the same ``X`` and a fixed ``random_state``. The
    detector's ``memory`` is not used while training (the ranks train
    together; a cache hit on one rank only would leave the others waiting).

    Parameters
    ----------
    detector : skgan_ad detector
    X : array-like
    y : ignored
    path : str or None, default=None
        Where rank 0 saves the fitted detector, with :func:`skgan_ad.io.save`
        (a ``.safetensors`` file; :func:`skgan_ad.io.load` reads it).
    check : bool, default=True
        Verify with :func:`check_ranks_agree` that every rank ended with the
        same weights, score statistics and ``offset_``.
    backend : str or None
        ``torch.distributed`` backend; None picks ``"nccl"`` with CUDA, else ``"gloo"``.

    Examples
    --------
    ``torchrun --nproc_per_node 2 examples/distributed_fit.py`` (see that script).
    """
    memory = detector.memory
    with distributed_training(backend):
        detector.set_params(memory=None)
        try:
            detector.fit(X, y)
        finally:
            detector.set_params(memory=memory)
        if check:
            check_ranks_agree(detector)
        if path is not None and dist.get_rank() == 0:
            from ..io import save

            save(detector, path)
        dist.barrier()  # the file is complete before any rank goes on to read it
    return detector
