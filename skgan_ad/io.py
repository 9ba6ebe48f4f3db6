"""Safe, versioned persistence: :func:`save` / :func:`load`, and the store of the ``memory=`` training cache.

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
  reads and its library version is *compatible* (:func:`compatible_versions`:
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

The ``memory=`` cache (:func:`cached_training`) stores each trained pair of
networks in ``<location>/skgan_ad-networks/<key>/networks.safetensors``, in
the same format; ``<key>`` hashes the training parameters, the data, the seed
and the library version. Entries are written to a temporary folder and
renamed into place, so a crash never leaves a half entry that later loads.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
import warnings
from collections import OrderedDict
from pathlib import Path, PurePath

import joblib
import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from skorch.history import History

from . import detectors
from ._outlier import InconsistentVersionWarning, _library_version
from ._preprocessing import Geometry
from ._training import resolve_device
from .base import BaseGANDetector
from .patches import PatchDetector

__all__ = [
    "ESTIMATOR_CLASSES",
    "FORMAT_VERSION",
    "InconsistentVersionWarning",
    "cached_training",
    "compatible_versions",
    "load",
    "save",
]

#: Version of the file layout; a reader refuses formats it does not know (newer ones in particular).
FORMAT_VERSION = 1
_FORMAT = "skgan_ad"
_CACHE_FORMAT = "skgan_ad-networks"
_CACHE_FILE = "networks.safetensors"

#: The only classes :func:`load` builds, by name: a file can never make it import or call anything else.
ESTIMATOR_CLASSES = {**{name: getattr(detectors, name) for name in detectors.__all__}, "PatchDetector": PatchDetector}

# The networks of a detector, in the order ``_build_networks`` returns them.
_NETWORKS = ("generator_", "discriminator_")
# Parameters that may hold arbitrary objects: stored as None (with a warning) when they are not JSON.
_UNSTORED_PARAMS = frozenset({"callbacks", "memory"})
# Array and scalar dtypes stored as they are (numpy and torch share them; object/longdouble are not stored).
_DTYPES = frozenset(
    {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32", "float64"}
)
_FITTED_NAME = re.compile(r"_?[A-Za-z][A-Za-z0-9_]*_")
_TAG = "__type__"


# -- versions ---------------------------------------------------------------------------------
def _release(version: str) -> tuple[int, int] | None:
    match = re.match(r"(\d+)\.(\d+)", str(version))
    return (int(match[1]), int(match[2])) if match else None


def compatible_versions(saved: str, current: str) -> bool:
    """Whether a file written by skgan_ad ``saved`` may be read by skgan_ad ``current``.

    Below 1.0 any minor release may change what a fitted attribute means, so
    only the same major.minor is compatible (patch releases keep the format);
    from 1.0 the same major and a minor no newer than ``current``.

    Examples
    --------
    >>> compatible_versions("0.1.0", "0.1.3"), compatible_versions("0.1.0", "0.2.0")
    (True, False)
    """
    s, c = _release(saved), _release(current)
    if s is None or c is None:
        return False
    return s == c if c[0] == 0 else s[0] == c[0] and s[1] <= c[1]


# -- values <-> JSON + named tensors -------------------------------------------------------------
def _unstorable(where: str, value) -> TypeError:
    return TypeError(
        f"{where} holds a {type(value).__module__}.{type(value).__qualname__}, which skgan_ad.io cannot store "
        "without pickle"
    )


def _add_tensor(tensors: dict, name: str, tensor: torch.Tensor) -> str:
    if name in tensors:
        raise TypeError(f"two values would be stored under the tensor name {name!r}")
    # A CPU copy: safetensors refuses tensors that share memory, and GPU tensors are written from the CPU.
    tensors[name] = tensor.detach().to("cpu", copy=True).contiguous()
    return name


def _encode_float(value: float):
    # Standard JSON has no NaN or infinity; repr round-trips every finite float exactly.
    return value if math.isfinite(value) else {_TAG: "float", "value": repr(value)}


def _encode(value, where: str, tensors: dict):
    """``value`` as JSON; arrays and tensors are added to ``tensors`` under ``where``, their path."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.generic):  # before float: np.float64 is a float, and must come back as one
        if value.dtype.name not in _DTYPES:
            raise _unstorable(where, value)
        item = value.item()
        return {
            _TAG: "scalar",
            "dtype": value.dtype.name,
            "value": _encode_float(item) if value.dtype.kind == "f" else item,
        }
    if type(value) is int:
        return value
    if type(value) is float:
        return _encode_float(value)
    if type(value) is tuple:
        return {_TAG: "tuple", "items": [_encode(v, f"{where}[{i}]", tensors) for i, v in enumerate(value)]}
    if type(value) is list:
        return [_encode(v, f"{where}[{i}]", tensors) for i, v in enumerate(value)]
    if type(value) is OrderedDict:  # state dicts (e.g. of a loss with state)
        return {_TAG: "ordered_dict", "items": _encode_pairs(value, where, tensors)}
    if isinstance(value, History):
        return {_TAG: "history", "rows": _encode(list(value), where, tensors)}
    if type(value) is dict:
        if all(type(key) is str for key in value) and _TAG not in value:
            return {key: _encode(v, f"{where}[{key!r}]", tensors) for key, v in value.items()}
        return {_TAG: "dict", "items": _encode_pairs(value, where, tensors)}  # keys of any type, in order
    if isinstance(value, np.ndarray):
        return _encode_array(value, where, tensors)
    if type(value) is torch.Tensor:
        return {_TAG: "tensor", "tensor": _add_tensor(tensors, where, value)}
    if isinstance(value, torch.device):
        return {_TAG: "device", "value": str(value)}
    if isinstance(value, PurePath):  # memory=Path(...)
        return {_TAG: "path", "value": os.fspath(value)}
    if type(value) is np.random.RandomState:
        _, keys, pos, has_gauss, cached_gaussian = value.get_state(legacy=True)
        return {
            _TAG: "random_state",
            "keys": keys.tolist(),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": _encode_float(float(cached_gaussian)),
        }
    if type(value) in ESTIMATOR_CLASSES.values():
        return {_TAG: "estimator", **_encode_estimator(value, f"{where}/", tensors)}
    raise _unstorable(where, value)


def _encode_pairs(mapping: dict, where: str, tensors: dict) -> list:
    return [[_encode(k, f"{where}.key", tensors), _encode(v, f"{where}[{k!r}]", tensors)] for k, v in mapping.items()]


def _encode_array(value: np.ndarray, where: str, tensors: dict):
    if value.dtype.kind in "OU":
        # Column names (feature_names_in_): strings only, kept in JSON.
        items = value.tolist()
        if value.ndim != 1 or not all(type(item) is str for item in items):
            raise _unstorable(where, value)
        return {_TAG: "ndarray", "dtype": "object" if value.dtype.kind == "O" else "str", "items": items}
    if value.dtype.name not in _DTYPES:
        raise _unstorable(where, value)
    native = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("="))
    return {_TAG: "ndarray", "tensor": _add_tensor(tensors, where, torch.from_numpy(native))}


def _decode(value, tensors: dict):
    """Inverse of :func:`_encode`; anything malformed raises KeyError/TypeError/ValueError (see :func:`_corrupt`)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [_decode(v, tensors) for v in value]
    if not isinstance(value, dict):
        raise TypeError(f"unexpected JSON value {value!r}")
    tag = value.get(_TAG)
    if tag is None:
        return {key: _decode(v, tensors) for key, v in value.items()}
    if tag == "float":
        return float(value["value"])
    if tag == "scalar":
        if value["dtype"] not in _DTYPES:
            raise ValueError(f"unknown dtype {value['dtype']!r}")
        return np.dtype(value["dtype"]).type(_decode(value["value"], tensors))
    if tag == "tuple":
        return tuple(_decode(v, tensors) for v in value["items"])
    if tag == "dict":
        return {_decode(k, tensors): _decode(v, tensors) for k, v in value["items"]}
    if tag == "ordered_dict":
        return OrderedDict((_decode(k, tensors), _decode(v, tensors)) for k, v in value["items"])
    if tag == "history":
        return History(_decode(value["rows"], tensors))
    if tag == "ndarray":
        if "items" in value:
            return np.asarray(value["items"], dtype=object if value["dtype"] == "object" else str)
        return tensors[value["tensor"]].numpy().copy()
    if tag == "tensor":
        return tensors[value["tensor"]].clone()
    if tag == "device":
        return torch.device(value["value"])
    if tag == "path":
        return Path(value["value"])
    if tag == "random_state":
        state = np.random.RandomState()
        keys = np.asarray(value["keys"], dtype=np.uint32)
        state.set_state(("MT19937", keys, value["pos"], value["has_gauss"], _decode(value["cached_gaussian"], tensors)))
        return state
    if tag == "estimator":
        return _decode_estimator(value, tensors)
    raise ValueError(f"unknown value type {tag!r}")


# -- estimators ------------------------------------------------------------------------------------
def _add_network(tensors: dict, prefix: str, module: torch.nn.Module) -> None:
    for key, tensor in module.state_dict().items():
        if not isinstance(tensor, torch.Tensor):
            raise _unstorable(f"{prefix}{key}", tensor)
        _add_tensor(tensors, f"{prefix}{key}", tensor)


def _load_network(module: torch.nn.Module, tensors: dict, prefix: str) -> torch.nn.Module:
    state = {key[len(prefix) :]: tensor for key, tensor in tensors.items() if key.startswith(prefix)}
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise ValueError(f"the stored weights {prefix}* do not fit the network the parameters build: {err}") from None
    return module


def _build_networks(detector, geometry: Geometry) -> dict[str, torch.nn.Module]:
    # Module constructors draw default weights from the global RNG (then overwritten): fork it, so
    # loading leaves the user's random state as it was, as training does.
    with torch.random.fork_rng(devices=[]):
        return dict(zip(_NETWORKS, detector._build_networks(geometry)))


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
            encoded[name] = _encode(value, f"{prefix}{name}", local)
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
            _add_tensor(tensors, key, tensor)

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
                raise _unstorable(f"fitted attribute {prefix}{name}", value)
            _add_network(tensors, f"{prefix}{name}.", value)
            fitted[name] = {_TAG: "network", "prefix": f"{prefix}{name}."}
        else:
            try:
                fitted[name] = _encode(value, f"{prefix}{name}", tensors)
            except TypeError as err:
                raise TypeError(f"cannot save {cls.__name__}'s fitted attribute {name!r}: {err}") from None
    return {"class": cls.__name__, "params": encoded, "fitted": fitted}


def _decode_estimator(document: dict, tensors: dict):
    name = document["class"]
    cls = ESTIMATOR_CLASSES.get(name)
    if cls is None:
        raise ValueError(f"class {name!r} is not one skgan_ad.load builds (allowed: {sorted(ESTIMATOR_CLASSES)})")
    params = {key: _decode(value, tensors) for key, value in document["params"].items()}
    try:
        estimator = cls(**params)
    except TypeError as err:
        raise ValueError(f"the stored parameters do not fit {name}: {err}") from None
    estimator._validate_params()  # an edited file must not smuggle in values no constructor call would pass

    networks = {}
    for attribute, value in document["fitted"].items():
        if not isinstance(attribute, str) or not _FITTED_NAME.fullmatch(attribute) or attribute in params:
            raise ValueError(f"{attribute!r} is not a fitted attribute name")
        if isinstance(value, dict) and value.get(_TAG) == "network":
            networks[attribute] = value["prefix"]
        else:
            setattr(estimator, attribute, _decode(value, tensors))
    if networks:
        if not isinstance(estimator, BaseGANDetector) or not set(networks) <= set(_NETWORKS):
            raise ValueError(f"{name} has no networks {sorted(networks)} to rebuild")
        built = _build_networks(estimator, estimator._geometry())  # from the fitted n_features_in_ / image_shape_
        for attribute, prefix in networks.items():
            setattr(estimator, attribute, _load_network(built[attribute], tensors, prefix).eval())
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
def _header(kind: str) -> dict[str, str]:
    return {
        "format": kind,
        "format_version": str(FORMAT_VERSION),
        "skgan_ad_version": _library_version(),
        "torch_version": torch.__version__,
    }


def _dumps(document) -> str:
    return json.dumps(document, allow_nan=False, separators=(",", ":"))


def _read(path: str, kind: str) -> tuple[dict, dict]:
    """Metadata and tensors of a file of ``kind``, after the format and version checks."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such file: {path!r}")
    try:
        with safe_open(path, framework="pt", device="cpu") as file:
            metadata = dict(file.metadata() or {})
            tensors = {key: file.get_tensor(key) for key in file.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise ValueError(f"{path!r} is not a skgan_ad model file (not a readable safetensors file: {err})") from None
    if metadata.get("format") != kind:
        raise ValueError(f"{path!r} is not a skgan_ad model file (its metadata has no format={kind!r})")
    saved, current = metadata.get("skgan_ad_version", "unknown"), _library_version()
    try:
        format_version = int(metadata.get("format_version", ""))
    except ValueError:
        format_version = None
    if format_version != FORMAT_VERSION:
        raise ValueError(
            f"{path!r} has file format version {metadata.get('format_version')!r}, written by skgan_ad {saved}; "
            f"this is skgan_ad {current}, which reads format version {FORMAT_VERSION}: load it with skgan_ad {saved}"
        )
    if not compatible_versions(saved, current):
        raise ValueError(
            f"{path!r} was saved by skgan_ad {saved} and this is skgan_ad {current}: versions before 1.0 load only "
            "files of their own major.minor release (fitted state may mean something else in another one); load it "
            f"with skgan_ad {saved}, or refit"
        )
    return metadata, tensors


def _corrupt(path: str, what: str, err: Exception) -> ValueError:
    return ValueError(f"{path!r} is a damaged skgan_ad file: its {what} cannot be read ({type(err).__name__}: {err})")


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
    metadata = {**_header(_FORMAT), "estimator": _dumps(document)}
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
        version (the message names both versions; see :func:`compatible_versions`).
    FileNotFoundError
        If there is no such file.
    """
    path = os.fspath(path)
    metadata, tensors = _read(path, _FORMAT)
    try:
        document = json.loads(metadata["estimator"])
    except (KeyError, ValueError) as err:
        raise _corrupt(path, "estimator description", err) from None
    try:
        estimator = _decode_estimator(document, tensors)
    except (KeyError, TypeError, IndexError, AttributeError) as err:
        raise _corrupt(path, "estimator description", err) from None
    except ValueError as err:
        raise ValueError(f"{path!r}: {err}") from None
    _place(estimator, device, path)
    return estimator


# -- the memory= cache -----------------------------------------------------------------------------
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
        return joblib.hash((_CACHE_FORMAT, FORMAT_VERSION, _library_version(), *args))
    except Exception as err:  # pickle errors come as several types (PicklingError, TypeError, AttributeError)
        raise TypeError(
            "memory= keys the cache on the training parameters, and one of them cannot be hashed "
            f"({type(err).__name__}: {err}); use module-level functions in callbacks, or memory=None"
        ) from err


def _write_entry(folder: Path, key: str, trained: dict, names: tuple) -> None:
    tensors: dict = {}
    content = {name: _encode(trained[name], name, tensors) for name in names}
    for name in _NETWORKS:
        _add_network(tensors, f"{name}.", trained[name.rstrip("_")])
    metadata = {**_header(_CACHE_FORMAT), "content": _dumps(content)}
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
    metadata, tensors = _read(path, _CACHE_FORMAT)
    try:
        trained = _decode(json.loads(metadata["content"]), tensors)
        for name, network in _build_networks(spec, geometry).items():
            trained[name.rstrip("_")] = _load_network(network, tensors, f"{name}.")
    except (KeyError, TypeError, IndexError, AttributeError, ValueError) as err:
        raise _corrupt(path, "content", err) from None
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
    with ``spec._build_networks`` and returns the same keys. An entry that
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
