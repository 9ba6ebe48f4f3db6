"""The file format shared by :func:`skgan_ad.save` / :func:`skgan_ad.load` and the ``memory=`` training cache.

One ``.safetensors`` file: tensors under names, and string metadata holding ``format``,
``format_version`` (:data:`FORMAT_VERSION`), the ``skgan_ad_version`` that wrote it and JSON
documents whose values :class:`Codec` encodes (tagged objects for what JSON lacks, pointers to
named tensors for arrays). :func:`read` refuses a file of another kind, format version or
incompatible library version (:func:`compatible_versions`). Nothing is ever unpickled.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import OrderedDict
from pathlib import Path, PurePath

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from skorch.history import History

from . import _version

#: Version of the file layout; a reader refuses formats it does not know (newer ones in particular).
FORMAT_VERSION = 1
# Array and scalar dtypes stored as they are (numpy and torch share them; object/longdouble are not stored).
DTYPES = frozenset(
    {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32", "float64"}
)
TAG = "__type__"


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


def unstorable(where: str, value) -> TypeError:
    return TypeError(
        f"{where} holds a {type(value).__module__}.{type(value).__qualname__}, which skgan_ad.io cannot store "
        "without pickle"
    )


def add_tensor(tensors: dict, name: str, tensor: torch.Tensor) -> str:
    if name in tensors:
        raise TypeError(f"two values would be stored under the tensor name {name!r}")
    # A CPU copy: safetensors refuses tensors that share memory, and GPU tensors are written from the CPU.
    tensors[name] = tensor.detach().to("cpu", copy=True).contiguous()
    return name


def encode_float(value: float):
    # Standard JSON has no NaN or infinity; repr round-trips every finite float exactly.
    return value if math.isfinite(value) else {TAG: "float", "value": repr(value)}


def encode_array(value: np.ndarray, where: str, tensors: dict):
    if value.dtype.kind in "OU":
        # Column names (feature_names_in_): strings only, kept in JSON.
        items = value.tolist()
        if value.ndim != 1 or not all(type(item) is str for item in items):
            raise unstorable(where, value)
        return {TAG: "ndarray", "dtype": "object" if value.dtype.kind == "O" else "str", "items": items}
    if value.dtype.name not in DTYPES:
        raise unstorable(where, value)
    native = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("="))
    return {TAG: "ndarray", "tensor": add_tensor(tensors, where, torch.from_numpy(native))}


class Codec:
    """Values <-> JSON plus named tensors: what a file's metadata and tensors hold.

    JSON has no tuples, numpy scalars, arrays and so on, so such values become tagged
    ``{"__type__": ...}`` objects; arrays and tensors point to a named tensor. A subclass
    stores more kinds of value through :meth:`encode_other` / :meth:`decode_other`
    (:mod:`skgan_ad.io`: skgan_ad's own estimators, nested in a PatchDetector).
    """

    def encode(self, value, where: str, tensors: dict):
        """``value`` as JSON; arrays and tensors are added to ``tensors`` under ``where``, their path."""
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, np.generic):  # before float: np.float64 is a float, and must come back as one
            if value.dtype.name not in DTYPES:
                raise unstorable(where, value)
            item = value.item()
            return {
                TAG: "scalar",
                "dtype": value.dtype.name,
                "value": encode_float(item) if value.dtype.kind == "f" else item,
            }
        if type(value) is int:
            return value
        if type(value) is float:
            return encode_float(value)
        if type(value) is tuple:
            return {TAG: "tuple", "items": [self.encode(v, f"{where}[{i}]", tensors) for i, v in enumerate(value)]}
        if type(value) is list:
            return [self.encode(v, f"{where}[{i}]", tensors) for i, v in enumerate(value)]
        if type(value) is OrderedDict:  # state dicts (e.g. of a loss with state)
            return {TAG: "ordered_dict", "items": self._encode_pairs(value, where, tensors)}
        if isinstance(value, History):
            return {TAG: "history", "rows": self.encode(list(value), where, tensors)}
        if type(value) is dict:
            if all(type(key) is str for key in value) and TAG not in value:
                return {key: self.encode(v, f"{where}[{key!r}]", tensors) for key, v in value.items()}
            return {TAG: "dict", "items": self._encode_pairs(value, where, tensors)}  # keys of any type, in order
        if isinstance(value, np.ndarray):
            return encode_array(value, where, tensors)
        if type(value) is torch.Tensor:
            return {TAG: "tensor", "tensor": add_tensor(tensors, where, value)}
        if isinstance(value, torch.device):
            return {TAG: "device", "value": str(value)}
        if isinstance(value, PurePath):  # memory=Path(...)
            return {TAG: "path", "value": os.fspath(value)}
        if type(value) is np.random.RandomState:
            _, keys, pos, has_gauss, cached_gaussian = value.get_state(legacy=True)
            return {
                TAG: "random_state",
                "keys": keys.tolist(),
                "pos": int(pos),
                "has_gauss": int(has_gauss),
                "cached_gaussian": encode_float(float(cached_gaussian)),
            }
        return self.encode_other(value, where, tensors)

    def _encode_pairs(self, mapping: dict, where: str, tensors: dict) -> list:
        return [
            [self.encode(k, f"{where}.key", tensors), self.encode(v, f"{where}[{k!r}]", tensors)]
            for k, v in mapping.items()
        ]

    def decode(self, value, tensors: dict):
        """Inverse of :meth:`encode`; anything malformed raises KeyError/TypeError/ValueError (see :func:`corrupt`)."""
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, list):
            return [self.decode(v, tensors) for v in value]
        if not isinstance(value, dict):
            raise TypeError(f"unexpected JSON value {value!r}")
        tag = value.get(TAG)
        if tag is None:
            return {key: self.decode(v, tensors) for key, v in value.items()}
        if tag == "float":
            return float(value["value"])
        if tag == "scalar":
            if value["dtype"] not in DTYPES:
                raise ValueError(f"unknown dtype {value['dtype']!r}")
            return np.dtype(value["dtype"]).type(self.decode(value["value"], tensors))
        if tag == "tuple":
            return tuple(self.decode(v, tensors) for v in value["items"])
        if tag == "dict":
            return {self.decode(k, tensors): self.decode(v, tensors) for k, v in value["items"]}
        if tag == "ordered_dict":
            return OrderedDict((self.decode(k, tensors), self.decode(v, tensors)) for k, v in value["items"])
        if tag == "history":
            return History(self.decode(value["rows"], tensors))
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
            state.set_state(
                ("MT19937", keys, value["pos"], value["has_gauss"], self.decode(value["cached_gaussian"], tensors))
            )
            return state
        return self.decode_other(tag, value, tensors)

    def encode_other(self, value, where: str, tensors: dict):
        """A value of a type :meth:`encode` does not know; here: refused."""
        raise unstorable(where, value)

    def decode_other(self, tag: str, value: dict, tensors: dict):
        """A tagged value :meth:`decode` does not know; here: refused."""
        raise ValueError(f"unknown value type {tag!r}")


def add_network(tensors: dict, prefix: str, module: torch.nn.Module) -> None:
    for key, tensor in module.state_dict().items():
        if not isinstance(tensor, torch.Tensor):
            raise unstorable(f"{prefix}{key}", tensor)
        add_tensor(tensors, f"{prefix}{key}", tensor)


def load_network(module: torch.nn.Module, tensors: dict, prefix: str) -> torch.nn.Module:
    state = {key[len(prefix) :]: tensor for key, tensor in tensors.items() if key.startswith(prefix)}
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise ValueError(f"the stored weights {prefix}* do not fit the network the parameters build: {err}") from None
    return module


def header(kind: str) -> dict[str, str]:
    return {
        "format": kind,
        "format_version": str(FORMAT_VERSION),
        "skgan_ad_version": _version.__version__,
        "torch_version": torch.__version__,
    }


def dumps(document) -> str:
    return json.dumps(document, allow_nan=False, separators=(",", ":"))


def read(path: str, kind: str) -> tuple[dict, dict]:
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
    saved, current = metadata.get("skgan_ad_version", "unknown"), _version.__version__
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


def corrupt(path: str, what: str, err: Exception) -> ValueError:
    return ValueError(f"{path!r} is a damaged skgan_ad file: its {what} cannot be read ({type(err).__name__}: {err})")
