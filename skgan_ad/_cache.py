"""The ``memory=`` training cache: trained networks stored as safetensors + JSON, keyed on what decides training.

Each trained pair of networks goes to ``<location>/skgan_ad-networks/<key>/networks.safetensors``
(the format of :mod:`skgan_ad._safetensors`, never a pickle, so reading an entry cannot run
code); ``<key>`` hashes the training parameters, the data, the seed and the library version.
Entries are written to a temporary folder and renamed into place, so a crash never leaves a
half entry that later loads. A training concern (DESIGN.md section 5): the trainer calls
:func:`cached_training`; persistence of fitted detectors (:mod:`skgan_ad.io`) shares only the
file format.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import joblib
from safetensors.torch import save_file

from . import _version
from ._preprocessing import Geometry
from ._safetensors import FORMAT_VERSION, Codec, add_network, corrupt, dumps, header, load_network, read

_CACHE_FORMAT = "skgan_ad-networks"
_CACHE_FILE = "networks.safetensors"
# The networks of a detector, in the order ``_build_networks`` returns them, as the entries name them.
_NETWORKS = ("generator_", "discriminator_")
_CODEC = Codec()


def _cache_location(memory) -> str | None:
    """The folder of a ``memory`` parameter (None: no caching), as ``Pipeline(memory=...)`` accepts it."""
    if memory is None:
        return None
    if isinstance(memory, (str, os.PathLike)):
        return os.fspath(memory)
    if hasattr(memory, "location"):  # joblib.Memory; Memory(None) caches nothing
        return None if memory.location is None else os.fspath(memory.location)
    raise TypeError(
        f"memory must be None, a folder (str or path) or a joblib.Memory, got a {type(memory).__name__} without a "
        "'location': trained networks are cached as safetensors files in a folder, never through a pickle store"
    )


def _cache_key(args: tuple) -> str:
    try:
        # joblib.hash pickles to *hash* (nothing is ever unpickled); the version makes a new release retrain.
        return joblib.hash((_CACHE_FORMAT, FORMAT_VERSION, _version.__version__, *args))
    except Exception as err:  # pickle errors come as several types (PicklingError, TypeError, AttributeError)
        raise TypeError(
            "memory= keys the cache on the training parameters, and one of them cannot be hashed "
            f"({type(err).__name__}: {err}); use module-level functions in callbacks, or memory=None"
        ) from err


def _write_entry(folder: Path, key: str, trained: dict, names: tuple) -> None:
    tensors: dict = {}
    content = {name: _CODEC.encode(trained[name], name, tensors) for name in names}
    for name in _NETWORKS:
        add_network(tensors, f"{name}.", trained[name.rstrip("_")])
    metadata = {**header(_CACHE_FORMAT), "content": dumps(content)}
    folder.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(dir=folder, prefix=".tmp-"))
    try:
        save_file(tensors, temporary / _CACHE_FILE, metadata=metadata)
        entry = folder / key
        if entry.exists():  # an unreadable entry (the caller warned): replace it
            shutil.rmtree(entry, ignore_errors=True)
        try:
            os.rename(temporary, entry)
        except OSError:
            pass  # another process stored the same training first: keep its entry
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def _read_entry(entry: Path, spec, geometry: Geometry) -> dict:
    path = os.fspath(entry / _CACHE_FILE)
    metadata, tensors = read(path, _CACHE_FORMAT)
    try:
        trained = _CODEC.decode(json.loads(metadata["content"]), tensors)
        for name, network in zip(_NETWORKS, spec._new_networks(geometry)):
            trained[name.rstrip("_")] = load_network(network, tensors, f"{name}.")
    except (KeyError, TypeError, IndexError, AttributeError, ValueError) as err:
        raise corrupt(path, "content", err) from None
    return trained


def cached_training(memory, train, args: tuple, verbose) -> dict:
    """``train(*args, verbose)``, read from / stored in the ``memory=`` cache when there is one.

    ``args`` is ``(spec, train_rows, valid_rows, image_shape, value_range, seed)``:
    the key hashes all of them (``verbose`` is left out) with the library
    version. ``train`` returns a dict with ``generator``, ``discriminator``,
    ``history``, ``shift``, ``scale`` and ``device``; only these are stored
    (and ``trainer_state`` when ``spec.warm_start``, so a warm start can
    continue a training read from the cache), never a result marked ``interrupted`` (training stopped early by the
    user is not the training the key describes). A hit rebuilds the networks
    with ``spec._new_networks`` and returns the same keys. An entry that
    cannot be read is trained again (with a warning) and replaced; a result
    that cannot be stored (a callback logged an object JSON cannot hold) is
    returned uncached, with a warning.
    """
    location = _cache_location(memory)
    if location is None:
        return train(*args, verbose)
    key = _cache_key(args)
    # A memory that locks entries (skgan_ad.parallel.ClusterMemory) makes concurrent fits of one key (the
    # score-only candidates of one fold on several Dask workers) train once: the others wait, then read it.
    lock = getattr(memory, "entry_lock", None)
    if lock is None:
        return _cached_training(location, key, train, args, verbose)
    with lock(key):
        return _cached_training(location, key, train, args, verbose)


def _cached_training(location, key: str, train, args: tuple, verbose) -> dict:
    spec, train_rows, _, image_shape, _, _ = args
    folder = Path(location) / _CACHE_FORMAT
    entry = folder / key
    if entry.is_dir():
        try:
            return _read_entry(entry, spec, Geometry(train_rows.shape[1], image_shape))
        except (ValueError, FileNotFoundError) as err:
            warnings.warn(f"memory=: ignoring the unreadable cache entry {entry} ({err}); training again", stacklevel=3)
    trained = train(*args, verbose)
    if trained.get("interrupted"):
        return trained
    # The optimizer and generator states only when a warm start may continue from them (warm_start is
    # part of the key): they triple an entry's size.
    names = ("history", "shift", "scale", "device")
    if getattr(spec, "warm_start", False) and "trainer_state" in trained:
        names += ("trainer_state",)
    try:
        _write_entry(folder, key, trained, names)
    except TypeError as err:
        warnings.warn(f"memory=: this training is not cached: {err}", UserWarning, stacklevel=3)
    return trained
