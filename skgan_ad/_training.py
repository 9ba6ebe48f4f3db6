"""The training engine: what a detector's ``fit`` calls to get trained networks.

:func:`fit_networks` builds the networks through the detector's hooks,
initialises them from the detector's seed and trains them with
:class:`~skgan_ad._trainer.GANTrainer` (the skorch net, in :mod:`skgan_ad._trainer`),
through the ``memory=`` cache (:mod:`skgan_ad._cache`) or, for a warm start,
continuing the last fit. Precision, budget and other training options come
from the detector's parameters.
"""

from __future__ import annotations

import copy
import inspect
import warnings
from functools import partial

import torch
from sklearn.base import clone
from skorch.callbacks import Callback, ProgressBar
from skorch.dataset import Dataset
from skorch.helper import predefined_split

from ._cache import cached_training
from ._device import resolve_device
from ._preprocessing import Geometry, fit_scaling
from ._trainer import TRAINER_CLASS, GANTrainer, TensorBatchIterator, TrainingInterruptedWarning
from .nets import init_weights_
from .nets._blocks import set_dropout_generator

# Adam betas of every seed paper (DCGAN's).
ADAM_BETAS = (0.5, 0.999)


def fit_networks(detector, train_rows, valid_rows, image_shape, value_range, seed: int, resume=None) -> dict:
    """Train ``detector``'s networks on ``train_rows`` (validation loss on ``valid_rows``, may be None).

    Training is a pure function of the training parameters, the seed and the
    data; with the detector's ``memory`` it is cached on exactly those, so a
    grid over scoring parameters (``lambda_score``, ``contamination``, ...)
    trains each network once. ``resume`` (``warm_start``) continues an earlier
    result instead (see :func:`_train_networks`); such a fit is never cached, as
    its result depends on more than the key. Returns the networks, the history
    and the input scaling.
    """
    args = (_training_spec(detector), train_rows, valid_rows, image_shape, value_range, seed)
    if resume is not None:
        return _train_networks(*args, detector.verbose, resume)
    # The cache stores safetensors + JSON, never a pickle that would run code when read (joblib.Memory's
    # store would); without memory it calls the training straight away.
    return cached_training(detector.memory, _train_networks, args, detector.verbose)


def _training_spec(detector):
    """A copy of ``detector`` holding only what decides training: the cache key.

    Scoring-only parameters are reset to their defaults and the seed is
    passed separately, so neither splits the cache.
    """
    signature = inspect.signature(type(detector).__init__)
    defaults = {name: signature.parameters[name].default for name in detector._scoring_params}
    return clone(detector).set_params(**defaults, random_state=None)


def _train_networks(
    spec, train_rows, valid_rows, image_shape, value_range, seed: int, verbose, resume: dict | None = None
) -> dict:
    """Build, initialise and train the networks; module-level so the ``memory=`` cache can wrap it.

    ``resume`` (``warm_start``) is what an earlier call returned: its networks,
    input scaling, history and ``trainer_state`` (optimizer states, random
    generators). Training then continues from it for ``n_epochs`` more epochs,
    drawing exactly what one longer run would have drawn.

    Returns the networks, the history, the input scaling, the device,
    ``trainer_state`` and ``interrupted`` (True when Ctrl-C stopped training:
    such a result is partly trained and must never be cached).
    """
    device = resolve_device(spec.device)
    torch_rng = torch.Generator().manual_seed(seed)
    # Dropout masks come from their own generator on the training device (never the global
    # random state, which other threads share).
    dropout_rng = torch.Generator(device=device).manual_seed(seed)
    geometry = Geometry(train_rows.shape[1], image_shape)
    if resume is None:
        shift, scale = fit_scaling(train_rows, image=geometry.is_image, value_range=value_range)
    else:
        # The networks were trained on inputs scaled so: new data must be scaled the same way.
        shift, scale = resume["shift"], resume["scale"]
    x_train = geometry.to_network(train_rows, shift, scale)
    x_valid = None if valid_rows is None else geometry.to_network(valid_rows, shift, scale)

    init = partial(init_weights_, generator=torch_rng)
    if resume is None:
        generator, discriminator = spec._new_networks(geometry)
        init(generator)
        init(discriminator)
    else:
        generator, discriminator = copy.deepcopy(resume["generator"]), copy.deepcopy(resume["discriminator"])
    for module in (generator, discriminator):
        set_dropout_generator(module, dropout_rng)

    steps_per_epoch = len(TensorBatchIterator(Dataset(x_train), spec.batch_size))
    objective = spec._objective(geometry)
    objective.noise_generator, objective.dropout_generator = torch_rng, dropout_rng
    # float32 steps with the multi-tensor ("foreach") Adam: the same arithmetic, value for value, as the
    # per-tensor loop torch picks on CPUs, at about 1.6x its speed. bfloat16 training, which rounds
    # differently anyway, steps with the fused kernel, faster still (it would change float32 results).
    adam = {"fused": True} if spec.precision == "bfloat16" else {"foreach": True}
    trainer = (TRAINER_CLASS.get() or GANTrainer)(
        module=generator,
        criterion=objective,
        discriminator=discriminator,
        optimizer=torch.optim.Adam,
        optimizer_discriminator=torch.optim.Adam,
        lr=spec.lr,
        optimizer__betas=ADAM_BETAS,
        optimizer_discriminator__betas=ADAM_BETAS,
        **{f"{name}__{key}": value for name in ("optimizer", "optimizer_discriminator") for key, value in adam.items()},
        discriminator_reinit=init,
        trim_fraction=spec.trim_fraction,
        trim_warmup=spec.trim_warmup,
        precision=spec.precision,
        max_epochs=training_epochs(spec.n_epochs, spec.min_steps, steps_per_epoch),
        batch_size=spec.batch_size,
        iterator_train=TensorBatchIterator,
        iterator_train__shuffle=True,
        iterator_train__generator=torch_rng,
        iterator_valid=TensorBatchIterator,
        train_split=None if x_valid is None else predefined_split(Dataset(x_valid.to(device))),
        callbacks=_trainer_callbacks(spec.callbacks, verbose),
        device=device,
        verbose=verbose,
    )
    if verbose:
        steps = trainer.max_epochs * steps_per_epoch
        print(
            f"training budget: {trainer.max_epochs} epoch{'s' * (trainer.max_epochs != 1)} x {len(x_train)} samples "
            f"= {steps} optimiser steps "
            f"of batch {spec.batch_size} (n_epochs={spec.n_epochs}, min_steps={spec.min_steps})",
            flush=True,
        )
    if resume is not None:
        trainer.initialize()
        trainer.load_trainer_state(resume["trainer_state"], resume["history"])
    trainer.partial_fit(x_train.to(device), None)
    interrupted = trainer.interrupted_
    if interrupted:
        n_before = 0 if resume is None else len(resume["history"])
        warnings.warn(
            f"training was interrupted (KeyboardInterrupt) after {trainer.epochs_completed() - n_before} of "
            f"{trainer.max_epochs} epochs: the detector is only partly trained and is not cached; history_ marks "
            "the epoch ('interrupted'). Fit again with warm_start=True to continue it.",
            TrainingInterruptedWarning,
            stacklevel=5,
        )
    for module in (trainer.module_, trainer.discriminator_):
        set_dropout_generator(module, None)  # generators stay with the training run, not the fitted model
    return {
        # Back to the default memory format: scoring and pickles see plain contiguous weights.
        "generator": trainer.module_.to(memory_format=torch.contiguous_format),
        "discriminator": trainer.discriminator_.to(memory_format=torch.contiguous_format),
        "history": trainer.history,
        "shift": shift,
        "scale": scale,
        "device": str(device),
        "trainer_state": trainer.trainer_state(),
        "interrupted": interrupted,
    }


def training_epochs(n_epochs: int, min_steps: int, steps_per_epoch: int) -> int:
    """Epochs to train: ``n_epochs``, or more when that many would make fewer than ``min_steps`` optimiser steps.

    A fixed epoch count is a very different budget on 500 and on 50,000
    images; ``min_steps`` makes small data sets train for at least that many
    generator/discriminator updates.
    """
    return max(int(n_epochs), -(-int(min_steps) // max(1, steps_per_epoch)))


def _trainer_callbacks(callbacks, verbose) -> list:
    # Deep copies: skorch initialises and mutates callbacks, and the detector's
    # parameter must stay as the user gave it (scikit-learn's clone contract).
    callbacks = copy.deepcopy(list(callbacks or []))
    for entry in callbacks:
        callback = entry[1] if isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], str) else entry
        if not (isinstance(callback, Callback) or (isinstance(callback, type) and issubclass(callback, Callback))):
            raise ValueError(
                f"callbacks must hold skorch callbacks (instances or classes) or (name, callback) pairs, got {entry!r}"
            )
    if verbose and verbose > 1:
        callbacks.append(("progress_bar", ProgressBar()))
    return callbacks
