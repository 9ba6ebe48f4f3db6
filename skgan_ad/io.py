"""Safe, versioned persistence of fitted detectors: :func:`save` / :func:`load`.

``pickle`` (and ``joblib.load``, ``torch.load`` of anything but plain weights)
runs code while it reads, so whoever can write a model file or a cache folder
can run code in the process that loads it. Nothing here is ever unpickled:
weights and arrays are stored with ``safetensors`` (raw little-endian bytes
under a JSON header) and everything else as JSON, rebuilt from an allow-list
of skgan_ad's own classes. A file also says which skgan_ad wrote it, so a
model is never silently read by a version that would score it differently.

File layout (one ``.safetensors`` file, readable by any safetensors tool)
-------------------------------------------------------------------------
A single file, not a folder: it is one artefact to copy, upload or version,
it is replaced in one atomic rename, and safetensors' header already is the
JSON index the format needs. Its string metadata holds:

* ``format``: ``"skgan_ad"``; ``format_version``: :data:`FORMAT_VERSION`;
* ``skgan_ad_version``: the library that wrote it (``torch_version`` too, for
  information);
* ``estimator``: JSON ``{"class", "params", "fitted"}``: the class name (from
  :data:`ESTIMATOR_CLASSES` only), ``get_params(deep=False)`` and every fitted
  attribute (name ending in ``_``). JSON has no tuples, numpy scalars, and
  so on, so such values are tagged ``{"__type__": ...}`` objects: tuples stay
  tuples, ``np.float64`` stays ``np.float64``, a ``RandomState`` keeps its
  exact state, a ``skorch.History`` comes back as a ``History``, and arrays
  and tensors point to a named tensor of the file (their dtype and shape are
  safetensors'). Networks are stored as state dicts and rebuilt on load by
  the detector's own ``_build_networks(geometry)``.

Policies
--------
* Versions: a file loads when its format version is one this library
  reads and its library version is *compatible* (:func:`~skgan_ad.io.compatible_versions`:
  the same major.minor while skgan_ad is below 1.0; from 1.0 the same major
  and a minor no newer than this one); otherwise :func:`load` raises a
  ``ValueError`` naming both versions. (A pickle can only warn:
  :class:`InconsistentVersionWarning`.)
* Parameters that are arbitrary Python objects, ``callbacks`` (skorch
  callbacks) and a ``memory`` given as a ``joblib.Memory``, cannot be
  stored without pickle: :func:`save` stores None for them, with a warning
  naming the parameter. They only matter for a refit; pass them again with
  ``set_params``. Any *fitted* attribute of a type this module does not know
  makes :func:`save` fail, naming it: nothing is dropped silently.
* Devices: tensors always load on the CPU, so a model saved on a GPU loads
  anywhere. ``device_`` (where it was trained) is kept as recorded; the
  ``device`` parameter, which scoring uses, is kept when it works here and
  otherwise set to ``"auto"`` with a warning; ``load(path, device=...)``
  chooses it outright.

The ``memory=`` training cache shares this file format (``skgan_ad._safetensors``) but is a
training concern and lives below the trainer, in ``skgan_ad._cache``.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import warnings
from pathlib import Path

import torch
from safetensors.torch import save_file

from . import detectors
from ._device import resolve_device
from ._outlier import InconsistentVersionWarning
from ._safetensors import (
    FORMAT_VERSION,
    TAG,
    Codec,
    add_network,
    add_tensor,
    compatible_versions,
    corrupt,
    dumps,
    header,
    load_network,
    read,
    unstorable,
)
from .base import BaseGANDetector
from .patches import PatchDetector

__all__ = [
    "ESTIMATOR_CLASSES",
    "FORMAT_VERSION",
    "InconsistentVersionWarning",
    "compatible_versions",
    "load",
    "save",
]

_FORMAT = "skgan_ad"

#: The only classes :func:`load` builds, by name: a file can never make it import or call anything else.
ESTIMATOR_CLASSES = {**{name: getattr(detectors, name) for name in detectors.__all__}, "PatchDetector": PatchDetector}

# The networks of a detector, in the order ``_build_networks`` returns them.
_NETWORKS = ("generator_", "discriminator_")
# Parameters that may hold arbitrary objects: stored as None (with a warning) when they are not JSON.
_UNSTORED_PARAMS = frozenset({"callbacks", "memory"})
_FITTED_NAME = re.compile(r"_?[A-Za-z][A-Za-z0-9_]*_")


# -- estimators ------------------------------------------------------------------------------------
class _EstimatorCodec(Codec):
    """The file format's values, and skgan_ad's own estimators among them (a PatchDetector's inner one)."""

    def encode_other(self, value, where: str, tensors: dict):
        if type(value) in ESTIMATOR_CLASSES.values():
            return {TAG: "estimator", **_encode_estimator(value, f"{where}/", tensors)}
        return super().encode_other(value, where, tensors)

    def decode_other(self, tag: str, value: dict, tensors: dict):
        if tag == "estimator":
            return _decode_estimator(value, tensors)
        return super().decode_other(tag, value, tensors)


_CODEC = _EstimatorCodec()


def _encode_estimator(estimator, prefix: str, tensors: dict) -> dict:
    cls = type(estimator)
    if cls not in ESTIMATOR_CLASSES.values():
        raise TypeError(
            f"skgan_ad.save stores skgan_ad's own estimators ({', '.join(sorted(ESTIMATOR_CLASSES))}), "
            f"got {cls.__module__}.{cls.__qualname__}" + (f" at {prefix[:-1]}" if prefix else "")
        )
    params = estimator.get_params(deep=False)
    encoded = {}
    for name, value in params.items():
        local: dict = {}
        try:
            encoded[name] = _CODEC.encode(value, f"{prefix}{name}", local)
        except TypeError:
            if name not in _UNSTORED_PARAMS or value is None:
                raise
            warnings.warn(
                f"{cls.__name__}'s parameter {name}={value!r} is not stored (it is an arbitrary Python object that "
                f"only pickle could store); the loaded estimator has {name}=None: pass it again with set_params "
                "before refitting",
                UserWarning,
                stacklevel=3,
            )
            encoded[name] = None
            continue
        for key, tensor in local.items():
            add_tensor(tensors, key, tensor)

    fitted = {}
    for name, value in vars(estimator).items():
        if name in params:
            continue
        if not _FITTED_NAME.fullmatch(name):
            raise TypeError(
                f"{cls.__name__} holds the attribute {name!r}, neither a parameter nor fitted state (a name ending "
                "in '_'): skgan_ad.save cannot know how to restore it"
            )
        if isinstance(value, torch.nn.Module):
            if name not in _NETWORKS or not isinstance(estimator, BaseGANDetector):
                raise unstorable(f"fitted attribute {prefix}{name}", value)
            add_network(tensors, f"{prefix}{name}.", value)
            fitted[name] = {TAG: "network", "prefix": f"{prefix}{name}."}
        else:
            try:
                fitted[name] = _CODEC.encode(value, f"{prefix}{name}", tensors)
            except TypeError as err:
                raise TypeError(f"cannot save {cls.__name__}'s fitted attribute {name!r}: {err}") from None
    return {"class": cls.__name__, "params": encoded, "fitted": fitted}


def _decode_estimator(document: dict, tensors: dict):
    name = document["class"]
    cls = ESTIMATOR_CLASSES.get(name)
    if cls is None:
        raise ValueError(f"class {name!r} is not one skgan_ad.load builds (allowed: {sorted(ESTIMATOR_CLASSES)})")
    params = {key: _CODEC.decode(value, tensors) for key, value in document["params"].items()}
    # A file written before a parameter existed: the value that gives the detector it stored, not today's default.
    params = {**getattr(cls, "_added_params", {}), **params}
    try:
        estimator = cls(**params)
    except TypeError as err:
        raise ValueError(f"the stored parameters do not fit {name}: {err}") from None
    estimator._validate_params()  # an edited file must not smuggle in values no constructor call would pass

    networks = {}
    for attribute, value in document["fitted"].items():
        if not isinstance(attribute, str) or not _FITTED_NAME.fullmatch(attribute) or attribute in params:
            raise ValueError(f"{attribute!r} is not a fitted attribute name")
        if isinstance(value, dict) and value.get(TAG) == "network":
            networks[attribute] = value["prefix"]
        else:
            setattr(estimator, attribute, _CODEC.decode(value, tensors))
    if networks:
        if not isinstance(estimator, BaseGANDetector) or not set(networks) <= set(_NETWORKS):
            raise ValueError(f"{name} has no networks {sorted(networks)} to rebuild")
        built = dict(zip(_NETWORKS, estimator._new_networks(estimator._geometry())))  # fitted n_features_in_ etc.
        for attribute, prefix in networks.items():
            setattr(estimator, attribute, load_network(built[attribute], tensors, prefix).eval())
    return estimator


def _skgan_detectors(estimator):
    """``estimator`` and the skgan_ad detectors inside it (a PatchDetector's inner one, given and fitted)."""
    yield estimator
    for attribute in ("estimator", "estimator_"):
        inner = getattr(estimator, attribute, None) if isinstance(estimator, PatchDetector) else None
        if isinstance(inner, (BaseGANDetector, PatchDetector)):
            yield from _skgan_detectors(inner)


def _place(estimator, device, path: str) -> None:
    """Set the ``device`` parameter(s) of a loaded estimator (see the module's device policy)."""
    if device is not None:
        resolve_device(device)  # a clear error now rather than at the first score
    for detector in _skgan_detectors(estimator):
        if not isinstance(detector, BaseGANDetector):
            continue
        if device is not None:
            detector.set_params(device=device)
            continue
        try:
            resolve_device(detector.device)
        except ValueError as err:
            warnings.warn(
                f"{path}: the saved {type(detector).__name__} has device={detector.device!r}, which is not available "
                f"here ({err}); it is set to device='auto'. Pass load(..., device=...) to choose.",
                UserWarning,
                stacklevel=3,
            )
            detector.set_params(device="auto")


# -- files -----------------------------------------------------------------------------------------
def save(estimator, path) -> Path:
    """Save a skgan_ad detector (fitted or not) to one ``safetensors`` file, without pickle.

    Weights and arrays go in as tensors, everything else as JSON in the
    file's metadata, with the library version; see the module docstring for
    the layout and the rules. The file is written to a temporary name first
    and renamed, so an interrupted save never leaves a truncated model under
    ``path``.

    Parameters
    ----------
    estimator : SkipGANomalyDetector, GANomalyDetector, DenseSkipAttentionDetector, \
AnoGANDetector, EGBADDetector or PatchDetector (of one of these)
    path : str or path-like
        File to write (conventionally ending in ``.safetensors``); replaced if it exists.

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    TypeError
        If the estimator is not one of skgan_ad's, or holds a fitted
        attribute this format cannot store (the message names it).

    Warns
    -----
    UserWarning
        When ``callbacks`` or a ``joblib.Memory`` given as ``memory`` is not
        stored (these parameters come back as None).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skgan_ad import SkipGANomalyDetector, save, load
    >>> X = np.random.RandomState(0).normal(size=(40, 3))
    >>> det = SkipGANomalyDetector(n_epochs=1, hidden_dims=(8, 4), random_state=0).fit(X)
    >>> path = save(det, os.path.join(tempfile.mkdtemp(), "model.safetensors"))
    >>> bool(np.array_equal(load(path).score_samples(X), det.score_samples(X)))
    True
    """
    path = Path(path)
    tensors: dict = {}
    document = _encode_estimator(estimator, "", tensors)
    metadata = {**header(_FORMAT), "estimator": dumps(document)}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        save_file(tensors, temporary, metadata=metadata)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return path


def load(path, *, device=None):
    """Load an estimator saved by :func:`save`; nothing in the file is executed.

    Parameters
    ----------
    path : str or path-like
    device : str, torch.device or None, default=None
        The loaded detector's ``device`` parameter (where it scores). None
        keeps the saved one when it works on this machine and otherwise sets
        ``"auto"`` (with a warning), so a model saved on a GPU scores on a
        CPU-only machine. Tensors are always read onto the CPU.

    Returns
    -------
    estimator
        Its scores, thresholds and reconstructions equal the saved
        estimator's (bit for bit on the CPU).

    Raises
    ------
    ValueError
        If the file is not a skgan_ad file, is damaged or truncated, has an
        unknown format version, or was written by an incompatible skgan_ad
        version (the message names both versions; see :func:`~skgan_ad.io.compatible_versions`).
    FileNotFoundError
        If there is no such file.
    """
    path = os.fspath(path)
    metadata, tensors = read(path, _FORMAT)
    try:
        document = json.loads(metadata["estimator"])
    except (KeyError, ValueError) as err:
        raise corrupt(path, "estimator description", err) from None
    try:
        estimator = _decode_estimator(document, tensors)
    except (KeyError, TypeError, IndexError, AttributeError) as err:
        raise corrupt(path, "estimator description", err) from None
    except ValueError as err:
        raise ValueError(f"{path!r}: {err}") from None
    _place(estimator, device, path)
    return estimator
