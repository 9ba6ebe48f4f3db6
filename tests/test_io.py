"""``skgan_ad.save`` / ``skgan_ad.load`` (safetensors + JSON, never pickle), versioned pickles, the safe cache."""

import json
import os
import pickle
import warnings

import joblib
import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import EpochScoring
from skorch.history import History

import skgan_ad
from skgan_ad import DenseSkipAttentionDetector, EGBADDetector, GANomalyDetector, PatchDetector, SkipGANomalyDetector
from skgan_ad import io as skio
from skgan_ad._cache import cached_training
from skgan_ad._training import _train_networks, _training_spec

from .conftest import TINY
from .test_vocabulary import DETECTORS

KINDS = ["tabular", "images"]


def _data(kind, seed=0):
    rng = np.random.RandomState(seed)
    return rng.normal(size=(48, 5)) if kind == "tabular" else rng.uniform(size=(40, 8, 8))


@pytest.fixture(scope="module")
def fitted():
    """One fitted detector per (class, kind), fitted once for the module."""
    cache = {}

    def get(cls, kind):
        if (cls, kind) not in cache:
            cache[cls, kind] = cls(**DETECTORS[cls]).fit(_data(kind))
        return cache[cls, kind]

    return get


def _round_trip(estimator, tmp_path, **load_params):
    return skio.load(skio.save(estimator, tmp_path / "model.safetensors"), **load_params)


def _assert_same_outputs(original, loaded, X, image: bool):
    for method in ("score_samples", "decision_function", "predict", "reconstruct"):
        np.testing.assert_array_equal(getattr(loaded, method)(X), getattr(original, method)(X), err_msg=method)
    a, b = original.score_components(X), loaded.score_components(X)
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(b[name], a[name], err_msg=name)
    if image:
        np.testing.assert_array_equal(loaded.anomaly_map(X), original.anomaly_map(X))


def _assert_same_state(original, loaded):
    assert type(loaded) is type(original)
    assert repr(loaded.get_params()) == repr(original.get_params())
    fitted = {k for k in vars(original) if k.endswith("_")}
    assert {k for k in vars(loaded) if k.endswith("_")} == fitted
    for name in fitted - {"generator_", "discriminator_", "estimator_"}:
        a, b = getattr(original, name), getattr(loaded, name)
        assert type(b) is type(a), name
        if isinstance(a, np.ndarray):
            assert b.dtype == a.dtype, name
            np.testing.assert_array_equal(b, a, err_msg=name)
        elif isinstance(a, History):
            assert list(b) == list(a)
        else:
            assert b == a, name
    for name in ("generator_", "discriminator_"):
        if hasattr(original, name):
            a, b = getattr(original, name).state_dict(), getattr(loaded, name).state_dict()
            assert a.keys() == b.keys()
            assert all(torch.equal(a[k], b[k]) and a[k].dtype == b[k].dtype for k in a), name
            assert not getattr(loaded, name).training


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("cls", DETECTORS, ids=lambda cls: cls.__name__)
def test_round_trip_is_bit_identical(cls, kind, fitted, tmp_path):
    det = fitted(cls, kind)
    loaded = _round_trip(det, tmp_path)
    _assert_same_state(det, loaded)
    X = _data(kind, seed=1)[:20]
    _assert_same_outputs(det, loaded, X, image=kind == "images")


def test_patch_detector_round_trip(tmp_path):
    rng = np.random.RandomState(0)
    det = PatchDetector(SkipGANomalyDetector(**TINY), patch_size=8, stride=4, random_state=0)
    det.fit((rng.uniform(size=(16, 16, 16)) * 255).astype(np.uint8))
    loaded = _round_trip(det, tmp_path)
    _assert_same_state(det, loaded)
    _assert_same_state(det.estimator_, loaded.estimator_)
    X = (rng.uniform(size=(5, 16, 16)) * 255).astype(np.uint8)
    for method in ("score_samples", "decision_function", "predict", "patch_scores", "highest_patch", "anomaly_map"):
        np.testing.assert_array_equal(getattr(loaded, method)(X), getattr(det, method)(X), err_msg=method)


def test_dataframe_column_names_round_trip(tmp_path):
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(_data("tabular"), columns=list("abcde"))
    det = SkipGANomalyDetector(**TINY).fit(X)
    loaded = _round_trip(det, tmp_path)
    np.testing.assert_array_equal(loaded.feature_names_in_, det.feature_names_in_)
    assert loaded.feature_names_in_.dtype == det.feature_names_in_.dtype
    np.testing.assert_array_equal(loaded.score_samples(X), det.score_samples(X))
    with pytest.raises(ValueError, match="feature names"):
        loaded.score_samples(X.rename(columns={"a": "z"}))


def test_unfitted_detector_round_trips(tmp_path):
    det = GANomalyDetector(nz=7, hidden_dims=(16, 8), image_shape=(1, 8, 8), device=torch.device("cpu"))
    loaded = _round_trip(det, tmp_path)
    assert loaded.get_params() == det.get_params()
    assert isinstance(loaded.hidden_dims, tuple) and isinstance(loaded.device, torch.device)
    with pytest.raises(NotFittedError):
        check_is_fitted(loaded)


def test_random_state_instance_keeps_its_exact_state(tmp_path):
    state = np.random.RandomState(3)
    state.normal(size=5)  # mid-stream, with a cached Gaussian
    loaded = _round_trip(SkipGANomalyDetector(random_state=state), tmp_path)
    assert loaded.random_state is not state
    np.testing.assert_array_equal(loaded.random_state.normal(size=10), state.normal(size=10))


def test_callbacks_and_memory_objects_are_stored_as_none_with_a_warning(fitted, tmp_path):
    det = fitted(SkipGANomalyDetector, "tabular")
    det = det.set_params(callbacks=[EpochScoring(len)], memory=joblib.Memory(None, verbose=0))
    try:
        with pytest.warns(UserWarning) as record:
            loaded = _round_trip(det, tmp_path)
    finally:
        det.set_params(callbacks=None, memory=None)
    messages = " ".join(str(w.message) for w in record)
    assert "callbacks" in messages and "memory" in messages
    assert loaded.callbacks is None and loaded.memory is None
    for folder in (tmp_path / "cache", os.fspath(tmp_path / "cache")):  # a folder is plain JSON
        assert _round_trip(SkipGANomalyDetector(memory=folder), tmp_path).memory == folder


def test_save_refuses_what_it_cannot_store(fitted, tmp_path):
    det = SkipGANomalyDetector(**TINY).fit(_data("tabular"))
    det.extra_ = object()
    with pytest.raises(TypeError, match="fitted attribute 'extra_'"):
        skio.save(det, tmp_path / "m.safetensors")
    del det.extra_
    det.projection_ = torch.nn.Linear(2, 2)  # a network _build_networks does not make
    with pytest.raises(TypeError, match="projection_"):
        skio.save(det, tmp_path / "m.safetensors")
    del det.projection_
    det._cache = {}
    with pytest.raises(TypeError, match="'_cache'"):
        skio.save(det, tmp_path / "m.safetensors")
    with pytest.raises(TypeError, match="IsolationForest"):
        skio.save(IsolationForest(), tmp_path / "m.safetensors")
    with pytest.raises(TypeError, match="IsolationForest"):
        skio.save(PatchDetector(IsolationForest()), tmp_path / "m.safetensors")
    assert not any(tmp_path.iterdir())  # nothing written, not even a temporary file


def test_a_failed_save_leaves_the_previous_file(fitted, tmp_path, monkeypatch):
    det = fitted(SkipGANomalyDetector, "tabular")
    path = skio.save(det, tmp_path / "m.safetensors")
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(skio, "save_file", crash)
    with pytest.raises(KeyboardInterrupt):
        skio.save(det, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_load_never_unpickles(fitted, tmp_path, monkeypatch):
    path = skio.save(fitted(EGBADDetector, "images"), tmp_path / "m.safetensors")

    def forbidden(*args, **kwargs):
        raise AssertionError("load must not unpickle")

    for module, name in [(pickle, "load"), (pickle, "loads"), (pickle, "Unpickler"), (torch, "load"), (joblib, "load")]:
        monkeypatch.setattr(module, name, forbidden)
    assert skio.load(path).n_features_in_ == 64


def test_a_pickle_payload_is_not_executed(tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ValueError, match="not a skgan_ad model file"):
        skio.load(path)
    assert not marker.exists()


def _rewrite(path, tensors=None, **metadata):
    """Write ``path`` again with some metadata entries replaced (None removes one)."""
    with safe_open(path, framework="pt") as file:
        old = file.metadata()
        tensors = tensors or {k: file.get_tensor(k) for k in file.keys()}
    new = {k: v for k, v in {**old, **metadata}.items() if v is not None}
    save_file(tensors, path, metadata=new)
    return path


def test_not_our_file_is_a_clear_error(fitted, tmp_path):
    path = skio.save(fitted(SkipGANomalyDetector, "tabular"), tmp_path / "m.safetensors")
    data = path.read_bytes()
    cases = {
        "text.safetensors": b"hello, world",
        "empty.safetensors": b"",
        "truncated.safetensors": data[: len(data) - 100],
        "header-only.safetensors": data[:200],
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match="not a skgan_ad model file"):
            skio.load(tmp_path / name)
    save_file({"w": torch.zeros(3)}, tmp_path / "other.safetensors", metadata={"format": "pt"})
    with pytest.raises(ValueError, match="not a skgan_ad model file"):
        skio.load(tmp_path / "other.safetensors")
    with pytest.raises(FileNotFoundError):
        skio.load(tmp_path / "missing.safetensors")


def test_a_damaged_description_is_a_clear_error(fitted, tmp_path):
    det = fitted(SkipGANomalyDetector, "tabular")
    path = skio.save(det, tmp_path / "m.safetensors")
    with safe_open(path, framework="pt") as file:
        document = json.loads(file.metadata()["estimator"])
        tensors = {k: file.get_tensor(k) for k in file.keys()}

    def loads_with(change):
        doc = json.loads(json.dumps(document))
        change(doc)
        _rewrite(path, tensors, estimator=json.dumps(doc))
        return skio.load(path)

    with pytest.raises(ValueError, match="damaged"):
        _rewrite(path, tensors, estimator="{not json")
        skio.load(path)
    with pytest.raises(ValueError, match="'os.system' is not one skgan_ad.load builds"):
        loads_with(lambda doc: doc.update({"class": "os.system"}))
    with pytest.raises(ValueError, match="'__class__' is not a fitted attribute"):
        loads_with(lambda doc: doc["fitted"].update({"__class__": "x"}))
    with pytest.raises(ValueError, match="unknown value type"):
        loads_with(lambda doc: doc["fitted"].update({"offset_": {"__type__": "pickle", "data": "x"}}))
    with pytest.raises(ValueError, match="n_epochs"):
        loads_with(lambda doc: doc["params"].update({"n_epochs": -3}))
    with pytest.raises(ValueError, match="do not fit"):
        loads_with(lambda doc: doc["fitted"].update({"n_features_in_": 7}))  # networks built for 7 features
    with pytest.raises(ValueError, match="damaged"):
        loads_with(lambda doc: doc["fitted"].update({"input_shift_": {"__type__": "ndarray", "tensor": "nope"}}))


def test_compatible_versions():
    assert skio.compatible_versions("0.1.0", "0.1.0")
    assert skio.compatible_versions("0.1.4", "0.1.0")  # patch releases keep the format
    assert skio.compatible_versions("0.1.0.dev3", "0.1.2")
    assert not skio.compatible_versions("0.2.0", "0.1.0")
    assert not skio.compatible_versions("0.1.0", "0.2.0")
    assert skio.compatible_versions("1.2.0", "1.4.1")
    assert not skio.compatible_versions("1.5.0", "1.4.1")  # a newer minor may store what this one does not know
    assert not skio.compatible_versions("1.2.0", "2.0.0")
    assert not skio.compatible_versions("unknown", "0.1.0")


def test_incompatible_library_version_names_both(fitted, tmp_path, monkeypatch):
    det = fitted(SkipGANomalyDetector, "tabular")
    current = skgan_ad.__version__
    monkeypatch.setattr(skgan_ad._version, "__version__", "0.97.2")
    path = skio.save(det, tmp_path / "m.safetensors")
    monkeypatch.setattr(skgan_ad._version, "__version__", current)
    with pytest.raises(ValueError, match=rf"saved by skgan_ad 0\.97\.2 and this is skgan_ad {current}"):
        skio.load(path)
    # A patch release of this version reads it.
    _rewrite(path, skgan_ad_version=current.rsplit(".", 1)[0] + ".99")
    assert skio.load(path).offset_ == det.offset_


def test_unknown_format_version_names_both(fitted, tmp_path):
    path = skio.save(fitted(SkipGANomalyDetector, "tabular"), tmp_path / "m.safetensors")
    for version in ("2", "0", "x", None):
        _rewrite(path, format_version=version)
        with pytest.raises(ValueError, match=rf"format version .*this is skgan_ad {skgan_ad.__version__}"):
            skio.load(path)


def test_gpu_saved_model_scores_on_cpu(tmp_path):
    # Simulated: a detector that says it was trained on, and scores on, CUDA (this machine has none).
    X = _data("images")
    det = SkipGANomalyDetector(**TINY).fit(X)
    expected = det.score_samples(X)
    det.set_params(device="cuda")
    det.device_ = "cuda"
    path = skio.save(det, tmp_path / "m.safetensors")
    if torch.cuda.is_available():
        pytest.skip("simulates a CPU-only machine")
    with pytest.warns(UserWarning, match="device='auto'"):
        loaded = skio.load(path)
    assert loaded.device == "auto" and loaded.device_ == "cuda"
    np.testing.assert_array_equal(loaded.score_samples(X), expected)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chosen = skio.load(path, device="cpu")
    assert chosen.device == "cpu"
    np.testing.assert_array_equal(chosen.score_samples(X), expected)


@pytest.mark.gpu
def test_fitted_on_gpu_loads_on_cpu(tmp_path):
    X = _data("images")
    det = SkipGANomalyDetector(**{**TINY, "device": "cuda"}).fit(X)
    loaded = skio.load(skio.save(det, tmp_path / "m.safetensors"), device="cpu")
    assert all(p.device.type == "cpu" for p in loaded.generator_.parameters())
    cpu = pickle.loads(pickle.dumps(det)).set_params(device="cpu")
    np.testing.assert_array_equal(loaded.score_samples(X), cpu.score_samples(X))


def test_load_leaves_the_global_random_state_alone(fitted, tmp_path):
    path = skio.save(fitted(DenseSkipAttentionDetector, "images"), tmp_path / "m.safetensors")
    before = torch.get_rng_state()
    skio.load(path)
    assert torch.equal(torch.get_rng_state(), before)


def test_warm_start_continues_from_a_loaded_model(tmp_path):
    if "warm_start" not in SkipGANomalyDetector().get_params():
        pytest.skip("no warm_start parameter")
    X = _data("tabular")
    det = SkipGANomalyDetector(**TINY, warm_start=True).fit(X)
    loaded = _round_trip(det, tmp_path)
    np.testing.assert_array_equal(loaded.fit(X).score_samples(X), det.fit(X).score_samples(X))


def test_warm_start_continues_from_a_cached_training(tmp_path):
    if "warm_start" not in SkipGANomalyDetector().get_params():
        pytest.skip("no warm_start parameter")
    X = _data("tabular")
    trained = SkipGANomalyDetector(**TINY, warm_start=True, memory=tmp_path).fit(X)
    hit = SkipGANomalyDetector(**TINY, warm_start=True, memory=tmp_path).fit(X)  # from the cache
    np.testing.assert_array_equal(hit.fit(X).score_samples(X), trained.fit(X).score_samples(X))
    assert hit.n_iter_ == 2 * TINY["n_epochs"]


# -- pickles carry the version --------------------------------------------------------------------
def test_pickle_carries_the_version_and_warns_under_another(fitted, monkeypatch):
    det = fitted(GANomalyDetector, "tabular")
    data = pickle.dumps(det)
    version = skgan_ad.__version__
    assert det.__getstate__()["_skgan_ad_version"] == version
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        same = pickle.loads(data)  # same version: silent
    assert not hasattr(same, "_skgan_ad_version")
    X = _data("tabular")
    np.testing.assert_array_equal(same.score_samples(X), det.score_samples(X))

    monkeypatch.setattr(skgan_ad._version, "__version__", "0.97.2")
    with pytest.warns(skio.InconsistentVersionWarning) as record:
        pickle.loads(data)
    warning = record[0].message
    assert (warning.original_version, warning.current_version) == (version, "0.97.2")
    assert "GANomalyDetector" in str(warning) and "0.97.2" in str(warning)


def test_patch_detector_pickle_carries_the_version(monkeypatch):
    det = PatchDetector(SkipGANomalyDetector(**TINY), patch_size=8)
    data = pickle.dumps(det)
    monkeypatch.setattr(skgan_ad._version, "__version__", "0.97.2")
    with pytest.warns(skio.InconsistentVersionWarning) as record:
        pickle.loads(data)
    assert {w.message.estimator_name for w in record} == {"PatchDetector", "SkipGANomalyDetector"}


# -- the memory= cache ------------------------------------------------------------------------------
def _training_args(detector, X, seed=0):
    return (_training_spec(detector), X[:40], X[40:], None, None, seed)


def _counting(calls, **extra):
    def train(*args):
        calls.append(1)
        return {**_train_networks(*args), **extra}

    return train


def test_cache_entries_are_safetensors_not_pickles(tmp_path):
    X = _data("images")
    first = DenseSkipAttentionDetector(**TINY, memory=tmp_path).fit(X)
    entries = list((tmp_path / "skgan_ad-networks").iterdir())
    assert len(entries) == 1 and [p.name for p in entries[0].iterdir()] == ["networks.safetensors"]
    with safe_open(entries[0] / "networks.safetensors", framework="pt") as file:
        metadata = file.metadata()
    assert metadata["format"] == "skgan_ad-networks" and metadata["skgan_ad_version"] == skgan_ad.__version__
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".safetensors"]
    hit = DenseSkipAttentionDetector(**{**TINY, "lambda_score": 0.5}, memory=tmp_path).fit(X)
    np.testing.assert_array_equal(hit.score_components(X)["residual"], first.score_components(X)["residual"])
    assert list(hit.history_) == list(first.history_)


def test_interrupted_trainings_and_unknown_keys_are_not_stored(tmp_path):
    X = _data("tabular")
    args = _training_args(SkipGANomalyDetector(**TINY), X)
    calls = []
    result = cached_training(tmp_path, _counting(calls, interrupted=True), args, 0)
    assert result["interrupted"] and not list((tmp_path / "skgan_ad-networks").glob("*"))
    cached_training(tmp_path, _counting(calls, trainer_state={"opaque": object()}), args, 0)
    hit = cached_training(tmp_path, _counting(calls), args, 0)
    assert len(calls) == 2  # the interrupted result was not stored; the complete one was
    assert set(hit) == {"generator", "discriminator", "history", "shift", "scale", "device"}


def test_an_unreadable_entry_is_trained_again(tmp_path):
    X = _data("tabular")
    args = _training_args(SkipGANomalyDetector(**TINY), X)
    calls = []
    first = cached_training(tmp_path, _counting(calls), args, 0)
    (entry,) = (tmp_path / "skgan_ad-networks").iterdir()
    (entry / "networks.safetensors").write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="unreadable cache entry"):
        again = cached_training(tmp_path, _counting(calls), args, 0)
    assert len(calls) == 2
    repaired = cached_training(tmp_path, _counting(calls), args, 0)
    assert len(calls) == 2  # the entry was replaced by a good one
    for name in ("generator", "discriminator"):
        for key, value in first[name].state_dict().items():
            assert torch.equal(value.cpu(), again[name].state_dict()[key])
            assert torch.equal(value.cpu(), repaired[name].state_dict()[key])
    assert not [p for p in (tmp_path / "skgan_ad-networks").iterdir() if p.name.startswith(".tmp")]


def test_cache_key_includes_the_library_version(tmp_path, monkeypatch):
    X = _data("tabular")
    args = _training_args(SkipGANomalyDetector(**TINY), X)
    calls = []
    cached_training(tmp_path, _counting(calls), args, 0)
    monkeypatch.setattr(skgan_ad._version, "__version__", "0.97.2")
    cached_training(tmp_path, _counting(calls), args, 0)
    assert len(calls) == 2


def test_memory_values(tmp_path):
    X = _data("tabular")
    args = _training_args(SkipGANomalyDetector(**TINY), X)
    calls = []
    cached_training(joblib.Memory(None, verbose=0), _counting(calls), args, 0)
    assert len(calls) == 1 and not any(tmp_path.iterdir())
    with pytest.raises(TypeError, match="memory must be None, a folder"):
        cached_training(object(), _counting(calls), args, 0)
    spec = _training_spec(SkipGANomalyDetector(**TINY, callbacks=[EpochScoring(lambda net, X, y: 0.0)]))
    with pytest.raises(TypeError, match="cannot be hashed"):
        cached_training(tmp_path, _counting(calls), (spec, *args[1:]), 0)
