"""The numpydoc text every detector shares, pulled into each detector's docstring.

A detector's docstring writes ``{shared_parameters}`` and ``{shared_attributes}`` where the
parameters and fitted attributes of :class:`~skgan_ad.base.BaseGANDetector` belong;
:func:`fill_docstring` (called when a detector class is defined) puts the text there.
"""

from __future__ import annotations

import textwrap

# numpydoc text of the parameters every detector shares, pulled into each detector's docstring
# where it writes ``{shared_parameters}`` (and ``{shared_attributes}`` for the fitted state).
SHARED_PARAMETERS = """\
n_epochs : int, default=15
    Training epochs (the seed papers' 15), at least; see ``min_steps``.
min_steps : int, default=0
    Training budget in optimiser steps: train for ``n_epochs`` epochs or for
    as many more as make at least ``min_steps`` generator / discriminator
    updates, whichever is longer. An epoch count alone is a very different
    budget on 500 and on 50,000 images. ``verbose=1`` prints the budget.
batch_size : int, default=64
    Mini-batch size for training and scoring (the papers' 64).
lr : float, default=2e-4
    Adam learning rate of both networks (betas 0.5, 0.999). Skip-GANomaly's
    paper states 2e-3, its reference code uses 2e-4, which trains stably.
    A non-finite loss restarts its epoch from the epoch's starting weights
    at half the learning rate (``history_[:, "recoveries"]``); after 3 such
    restarts in one fit, ``TrainingDivergedError`` (a ValueError) is raised.
precision : {"float32", "bfloat16"}, default="float32"
    Arithmetic of training: "bfloat16" runs the forward passes under
    ``torch.autocast`` (bfloat16; weights, gradients and optimizer state stay
    float32) with channels-last image tensors and PyTorch's fused Adam
    kernel, faster on CPUs with AMX or AVX-512 BF16 and on recent GPUs
    (measured: 1.4-1.8x at the ``cpu`` preset, ``benchmarks/README.md``).
    Scoring is always float32.
embedding_weight : float in [0, 1], default=1.0
    Share of the ``embedding`` part in the anomaly score: the mean distance
    from a sample's learned code (the generator's encoder code, e.g.
    GANomaly's ``z`` or the U-Net's bottleneck; the discriminator's features
    where there is no encoder) to its ``n_neighbors`` nearest codes of the
    normal training samples, each coordinate standardised on them. The
    papers' scores (``lambda_score`` below) share the rest,
    ``1 - embedding_weight``. 1.0 was chosen on development splits of MNIST
    training images (digits-like 8x8 leave-one-class-out and 28x28
    one-class, ``benchmarks/dev_knn_notes.md``), where it beat every
    mixture with the papers' scores for all five detectors; ``paper()``
    sets 0. Changing it needs no retraining.
n_neighbors : int, default=5
    Neighbours averaged in the ``embedding`` part (at most the number of
    reference codes). The reference codes are those of the training
    samples (not the held-out ones, nor those the last epoch trimmed with
    ``trim_fraction``), at most 8,192 of them, drawn at random beyond that;
    they are kept in ``embedding_reference_``. A training sample is never
    its own neighbour: a scored row equal to a reference row is scored
    without it (leave-one-out, as ``LocalOutlierFactor`` scores its training
    set), so ``fit(X).predict(X)`` flags about ``contamination`` of ``X``. A
    scoring parameter, but the part's held-out statistics depend on it:
    refit after changing it (with ``memory``, that trains nothing).
w_rotation : float, default=0.0
    Images only: weight of the self-supervised rotation loss added to the
    discriminator's (Chen et al., "Self-Supervised GANs via Auxiliary
    Rotation Loss", CVPR 2019). With ``w_rotation > 0`` the discriminator
    carries a linear head on its pooled last feature maps that predicts
    which of the four rotations (0, 90, 180, 270 degrees) an image was
    turned by, trained on the rotations of every real batch; the networks
    then have the ``rotation`` score part. 0 builds no head (the papers).
    EGBAD, whose discriminator judges (image, code) pairs, takes only 0.
rotation_weight : float in [0, 1], default=0.0
    Images with ``w_rotation > 0`` only: share of the ``rotation`` part in
    the anomaly score, the rotation head's cross-entropy on the four
    rotations of a sample, averaged over them (Golan and El-Yaniv's GEOM
    score, NeurIPS 2018, with rotations as the transformations): normal
    images are the ones whose rotations the head has learnt to tell apart.
    The ``embedding`` and the papers' parts share the rest,
    ``1 - rotation_weight``. Changing it needs no retraining.
lambda_score : float in [0, 1]
    Share of the ``residual`` part in the papers' score; ``1 - lambda_score``
    is the share of the detector's other learned part (see Notes). Both
    parts are standardised on held-out normals first, so the weight means
    what it says. Together they weigh ``1 - embedding_weight`` of the
    anomaly score. Changing it needs no retraining.
residual_sigma : float, default=0.0
    Images only: standard deviation (pixels) of a Gaussian smoothing of
    the per-pixel residual ``|x - G(x)|`` (averaged over channels); the
    ``residual`` part is then the mean *square* of the smoothed map, for
    every detector (a mean of the smoothed map would equal the mean of the
    unsmoothed one). Coherent defects then count more than the same error
    scattered over single pixels. 0 leaves the residual unsmoothed.
residual_norm : {"none", "pixel"}, default="none"
    "pixel" divides each pixel's residual by its mean on held-out normals
    (computed at fit) before averaging, so pixels that normal images
    reconstruct badly anyway (edges, texture) count less than pixels they
    never get wrong.
contamination : float in (0, 0.5], default=0.1
    Share of normal data to flag: ``offset_`` is this quantile of the
    held-out normal scores, so it is the false-positive rate accepted.
validation_fraction : float in [0, 1), default=0.1
    Share of the training data held out (at least one sample) for the
    validation loss, the score statistics and ``offset_``. With 0 the
    training data are reused, which makes ``offset_`` optimistic.
trim_fraction : float in [0, 1), default=0.0
    For training data that may hold anomalies: after ``trim_warmup``
    epochs, each epoch leaves out this share of the training samples with
    the highest training loss (the likeliest anomalies); the indices left
    out are in ``history_[:, "train_dropped"]``. 0 uses every sample.
trim_warmup : int, default=2
    Epochs on all samples before trimming starts.
image_shape : tuple (C, H, W) or None, default=None
    Shape of one image when ``X`` holds flattened images; also settles an
    ambiguous 4-D layout. None with 2-D ``X`` means tabular data.
image_layout : {"auto", "channels_first", "channels_last"}, default="auto"
    How 4-D image arrays are read: (n, C, H, W) or (n, H, W, C). "auto"
    takes the reading whose image has no more channels than pixels along its
    shorter side, and warns (``AmbiguousLayoutWarning``) when both or neither
    do, e.g. (n, 3, 8, 3). Flat rows are always (C, H, W) order.
ngf, ndf : int, default=64
    Base widths of the image generator and discriminator (channels of the
    first level, doubled per level up to 8x).
hidden_dims : tuple of positive int
    Layer widths of the tabular (fully connected) networks.
device : str or torch.device, default="auto"
    "auto" trains on CUDA when available, else the CPU.
random_state : int, RandomState instance or None, default=None
    Seeds weight initialisation, the held-out split, shuffling and every
    random draw of training (through local generators; global random states
    are not touched). On the CPU the same value gives the same scores, bit
    for bit.
verbose : int, default=0
    0 silent, 1 a table line per epoch, 2 also a progress bar per epoch.
callbacks : list of skorch callbacks or (name, callback) tuples, default=None
    Passed to the skorch training engine, e.g.
    ``EarlyStopping(monitor="valid_loss")`` or ``Checkpoint(...)``.
memory : str, path, joblib.Memory or None, default=None
    Caches trained networks (like ``Pipeline(memory=...)``), keyed on the
    training parameters, the seed and the data. Parameters that only change
    scoring (``lambda_score``, ``contamination``, ...) are not part of the
    key, so a grid search over them trains each network once. Networks
    are stored as safetensors + JSON in ``<folder>/skgan_ad-networks/``
    (never a pickle, so loading an entry cannot run code); a
    ``joblib.Memory`` contributes its ``location``.
warm_start : bool, default=False
    When True and the detector is fitted, ``fit`` trains the networks for
    ``n_epochs`` more epochs from where the last ``fit`` stopped (weights,
    optimizer states and random generators), instead of starting afresh:
    on the CPU, 2 + 2 epochs give exactly the model of 4 epochs (with the
    same data and an int ``random_state``). The input scaling of the first
    fit is kept. Warm-started fits bypass ``memory``.
    Ctrl-C during ``fit`` stops training with a warning, marks the epoch in
    ``history_`` (``"interrupted"``) and keeps the model out of the
    ``memory`` cache; ``warm_start=True`` then continues it."""

SHARED_ATTRIBUTES = """\
generator_, discriminator_ : torch.nn.Module
    The trained networks, in eval mode.
offset_ : float
    ``decision_function = score_samples - offset_``.
component_stats_ : dict
    ``{part: (mean, std)}`` of each score part on held-out normals.
embedding_reference_ : ndarray of shape (n_reference, n_codes), float32
    Standardised learned codes of (at most 8,192) training samples: the
    neighbours of the ``embedding`` part.
embedding_keys_ : ndarray of shape (n_reference,), uint64
    A key of each reference code's input row (a hash of its exact values): a
    scored row equal to one of them is scored leave-one-out, without its own code.
embedding_center_, embedding_scale_ : ndarray of shape (n_codes,)
    Mean and standard deviation of each code coordinate on those samples.
calibration_scores_ : ndarray of shape (n_held_out,)
    ``score_samples`` of the held-out normals (the training rows when
    ``validation_fraction=0``); ``offset_`` is their ``contamination`` quantile.
history_ : skorch.History
    Per-epoch losses (``train_loss``, ``valid_loss``, each loss term, ...).
n_iter_ : int
    Epochs run to their end, over all warm-started fits.
training_state_ : dict, only with ``warm_start=True``
    Optimizer and random-generator states that the next warm-started ``fit`` continues from.
image_shape_ : tuple or None
    (C, H, W) of the training images; None for tabular data.
input_shift_, input_scale_ : float or ndarray
    Scaling of the inputs to the networks' range.
n_features_in_ : int
    Number of features (pixels times channels for images) seen in ``fit``.
feature_names_in_ : ndarray, only with DataFrame input
device_ : str
    Device the networks were trained on."""


def _numpydoc_entries(text: str) -> list[tuple[set[str], str]]:
    """Split numpydoc parameter text into ``(names, entry text)``; an entry starts at an unindented line."""
    entries: list[tuple[set[str], str]] = []
    for line in text.splitlines():
        if line and not line[0].isspace():
            names = {name.strip() for name in line.split(" : ")[0].split(",")}
            entries.append((names, line))
        else:
            entries[-1] = (entries[-1][0], entries[-1][1] + "\n" + line)
    return entries


def fill_docstring(doc: str | None) -> str | None:
    """Put the shared parameter and attribute text where a docstring asks for it, at its indentation.

    A shared entry whose names the docstring already documents itself (a
    detector-specific default or meaning) is left out, so nothing is listed twice.
    """
    if not doc:
        return doc
    for marker, text in (("{shared_parameters}", SHARED_PARAMETERS), ("{shared_attributes}", SHARED_ATTRIBUTES)):
        for line in doc.splitlines():
            if line.strip() != marker:
                continue
            indent = line[: len(line) - len(line.lstrip())]
            documented = {
                name.strip()
                for own in doc.splitlines()
                if own.startswith(indent) and own[len(indent) : len(indent) + 1].isalpha() and " : " in own
                for name in own.strip().split(" : ")[0].split(",")
            }
            kept = [entry for names, entry in _numpydoc_entries(text) if not names <= documented]
            doc = doc.replace(line, textwrap.indent("\n".join(kept), indent))
    return doc
