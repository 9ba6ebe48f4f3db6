"""skgan_ad.parallel: scoring Dask arrays, searches on a Dask cluster, data-parallel training with torchrun."""

import inspect
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import joblib
import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import EpochScoring

from skgan_ad import SkipGANomalyDetector
from skgan_ad.metrics import anomaly_auc_scorer
from skgan_ad.model_selection import NormalOnlySplit

from .conftest import TINY

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

from skgan_ad.parallel import ClusterMemory, score_dask, setup_workers  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
METHODS = ["score_samples", "decision_function", "anomaly_score", "predict"]


# -- scoring Dask arrays -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def image_detector():
    from skgan_ad.datasets import load_digits_images

    images, _ = load_digits_images()
    detector = SkipGANomalyDetector(**{**TINY, "n_epochs": 1}).fit(images[:64])
    return detector, images[64:114, :, :, None]  # 50 images, (n, H, W, C)


@pytest.mark.parametrize("method", METHODS)
def test_two_chunk_image_array_scores_equal_numpy_exactly(image_detector, method):
    detector, images = image_detector
    X = da.from_array(images, chunks=(25, 4, 8, 1))  # 2 chunks of samples; the pixel axes get rejoined
    scores = score_dask(detector, X, method=method)
    assert isinstance(scores, da.Array) and scores.shape == (50,) and scores.numblocks == (2,)
    computed = scores.compute()
    expected = getattr(detector, method)(images)
    assert computed.dtype == expected.dtype == (np.int64 if method == "predict" else np.float64)
    np.testing.assert_array_equal(computed, expected)


def test_two_chunk_tabular_array_scores_equal_numpy(rng):
    detector = SkipGANomalyDetector(**TINY).fit(rng.normal(size=(60, 5)))
    X = rng.normal(size=(81, 5))
    for method in METHODS:
        scores = score_dask(detector, da.from_array(X, chunks=(41, 5)), method=method)
        np.testing.assert_array_equal(scores.compute(), getattr(detector, method)(X))


def test_the_model_is_one_node_of_the_graph_that_every_block_depends_on(image_detector):
    detector, images = image_detector
    scores = score_dask(detector, da.from_array(images, chunks=(10, 8, 8, 1)))
    graph = dict(scores.__dask_graph__())
    shared = set.intersection(*(dask.core.get_dependencies(graph, key) for key in scores.__dask_keys__()))
    (model_key,) = shared  # 5 blocks, one common dependency: the model, shipped once per worker
    assert dask.get(graph, model_key) is detector


def test_score_dask_on_a_local_cluster(rng):
    detector = SkipGANomalyDetector(**TINY).fit(rng.normal(size=(60, 5)))
    X = rng.normal(size=(80, 5))
    with distributed.Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None):
        scores = score_dask(detector, da.from_array(X, chunks=40), method="decision_function").compute()
    np.testing.assert_array_equal(scores, detector.decision_function(X))


def test_score_dask_rejects_bad_input(rng):
    detector = SkipGANomalyDetector(**TINY)
    X = da.from_array(rng.normal(size=(20, 3)), chunks=10)
    with pytest.raises(NotFittedError):
        score_dask(detector, X)
    detector.fit(rng.normal(size=(40, 3)))
    with pytest.raises(ValueError, match="method must be one of"):
        score_dask(detector, X, method="fit")
    with pytest.raises(TypeError, match="X must be a dask.array.Array"):
        score_dask(detector, rng.normal(size=(20, 3)))
    with pytest.raises(ValueError, match="X must have samples along axis 0"):
        score_dask(detector, da.ones(5, chunks=5))


def test_score_dask_on_a_dask_dataframe_keeps_the_index(rng):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    frame = pd.DataFrame(rng.normal(size=(40, 3)), columns=list("abc"), index=np.arange(100, 140))
    detector = SkipGANomalyDetector(**TINY).fit(frame)
    scores = score_dask(detector, dd.from_pandas(frame, npartitions=2)).compute()
    np.testing.assert_array_equal(scores.to_numpy(), detector.score_samples(frame))
    np.testing.assert_array_equal(scores.index, frame.index)


# -- searches on Dask, with a shared cache -----------------------------------------------------------------
TRAININGS = []


def _count_training(net, X=None, y=None):
    # Module-level so that the callback pickles (and hashes into the cache key) the same way every time.
    TRAININGS.append(1)
    return 0.0


def _search(memory, n_jobs=None):
    counter = EpochScoring(_count_training, on_train=True, use_caching=False, name="counted")
    detector = SkipGANomalyDetector(**{**TINY, "n_epochs": 1}, callbacks=[counter], memory=memory)
    grid = {"lambda_score": [0.0, 0.3, 0.6, 0.9, 1.0]}
    return GridSearchCV(detector, grid, scoring=anomaly_auc_scorer, cv=NormalOnlySplit(2), refit=False, n_jobs=n_jobs)


def _blobs(rng):
    X = np.vstack([rng.normal(size=(70, 3)), rng.normal(loc=3.0, size=(10, 3))])
    return X, np.r_[np.zeros(70, int), np.ones(10, int)]


def _fold_scores(search):
    return np.column_stack([search.cv_results_[f"split{i}_test_score"] for i in range(2)])


def _dask_search(memory, X, y):
    with distributed.Client(processes=False, n_workers=2, threads_per_worker=2, dashboard_address=None) as client:
        assert setup_workers(client) >= 1
        search = _search(memory, n_jobs=-1)
        with joblib.parallel_backend("dask"):
            return search.fit(X, y)


def _cache_entries(folder: Path) -> list:
    return [entry for store in folder.iterdir() if store.name != "locks" for entry in store.iterdir()]


def test_grid_search_on_dask_equals_the_sequential_search(rng, tmp_path):
    X, y = _blobs(rng)
    sequential = _search(None).fit(X, y)
    # Threads, not processes, so that the test stays fast (examples/dask_grid_search.py runs processes).
    search = _dask_search(ClusterMemory(tmp_path), X, y)
    np.testing.assert_array_equal(_fold_scores(search), _fold_scores(sequential))
    assert len(_cache_entries(tmp_path)) == 2  # one trained network pair per fold, shared by the 5 candidates


def _cache_takes_entry_locks() -> bool:
    from skgan_ad import io

    return "entry_lock" in inspect.getsource(io.cached_training)


@pytest.mark.skipif(
    not _cache_takes_entry_locks(), reason="skgan_ad.io.cached_training does not take ClusterMemory.entry_lock yet"
)
def test_score_only_candidates_train_each_network_once_on_dask(rng, tmp_path):
    X, y = _blobs(rng)
    TRAININGS.clear()
    _dask_search(ClusterMemory(tmp_path), X, y)
    # 5 score-only candidates x 2 folds, 4 tasks at a time: without the lock, often 3 or 4 trainings.
    assert len(TRAININGS) == 2


def test_cluster_memory_computes_an_entry_once_when_asked_at_the_same_time(tmp_path):
    calls = []

    def slow_square(x):
        calls.append(x)
        time.sleep(0.3)
        return x * x

    cached = ClusterMemory(tmp_path).cache(slow_square)
    results = []
    threads = [threading.Thread(target=lambda: results.append(cached(3))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [9, 9, 9] and calls == [3]
    assert cached(4) == 16 and calls == [3, 4]  # another argument: another entry


def test_setup_workers_sets_torch_threads_on_every_worker():
    threads = torch.get_num_threads()
    try:
        with distributed.Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as client:
            assert setup_workers(client, torch_threads=1) == 1
            assert set(client.run(torch.get_num_threads).values()) == {1}
    finally:
        torch.set_num_threads(threads)


# -- data-parallel training with torchrun ------------------------------------------------------------------
def _torchrun(nproc: int, args: list, timeout: float) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"]
    command = [*launcher, str(ROOT / "examples" / "distributed_fit.py"), *args] if nproc > 1 else None
    if nproc == 1:
        command = [sys.executable, str(ROOT / "examples" / "distributed_fit.py"), *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def _reports(folder: Path) -> list:
    return [json.loads(path.read_text()) for path in sorted(folder.glob("rank*.json"))]


def test_torchrun_two_processes_end_with_identical_detectors(tmp_path):
    model = tmp_path / "model.joblib"
    tiny = ["--width", "4", "--epochs", "2", "--batch-size", "16", "--max-train", "49"]  # 3 batches: 16, 16, 17
    _torchrun(2, [*tiny, "--report", str(tmp_path / "ddp"), "--save", str(model)], timeout=240)
    ranks = _reports(tmp_path / "ddp")
    assert [r["rank"] for r in ranks] == [0, 1] and {r["world_size"] for r in ranks} == {2}
    # Same weights and BatchNorm statistics, hence the same held-out statistics, offset_ and history.
    assert ranks[0]["digest"] == ranks[1]["digest"]
    assert ranks[0]["offset"] == ranks[1]["offset"] and ranks[0]["train_loss"] == ranks[1]["train_loss"]
    # Rank 0 saved it, and what it saved is what the ranks hold.
    from skgan_ad.datasets import digits_leave_one_out
    from skgan_ad.parallel import detector_digest

    try:
        from skgan_ad.io import load
    except ImportError:
        load = joblib.load
    saved = load(model)
    assert detector_digest(saved) == ranks[0]["digest"]
    split = digits_leave_one_out(abnormal_class=1)
    assert roc_auc_score(split.y_test, saved.anomaly_score(split.X_test)) == pytest.approx(ranks[0]["auc"])


@pytest.mark.slow
def test_torchrun_training_reaches_the_single_process_auc_on_digits(tmp_path):
    # The example's defaults: SkipGANomalyDetector(ngf=ndf=64, 15 epochs, batch 64), abnormal digit 1.
    _torchrun(1, ["--report", str(tmp_path / "single")], timeout=3600)
    _torchrun(2, ["--report", str(tmp_path / "ddp")], timeout=3600)
    (single,) = _reports(tmp_path / "single")
    ranks = _reports(tmp_path / "ddp")
    assert ranks[0]["digest"] == ranks[1]["digest"]
    print(f"AUC single process {single['auc']:.4f}, 2 processes {ranks[0]['auc']:.4f}")
    assert abs(ranks[0]["auc"] - single["auc"]) <= 0.03


# -- the example and the benchmark -------------------------------------------------------------------------
@pytest.fixture
def torch_threads():
    """setup_workers on in-process workers sets this process's torch threads: put them back afterwards."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_dask_grid_search_example(monkeypatch, capsys, torch_threads):
    from .test_examples import run_example

    argv = ["--epochs", "1", "--width", "4", "--in-process"]  # the default starts 2 worker processes (slow test)
    out = run_example("dask_grid_search.py", argv, monkeypatch, capsys)
    assert "Dask: 2 workers at " in out and out.count("validation AUC") == 8  # 2 w_con x 4 lambda_score
    assert "largest difference of a fold's test score, Dask vs sequential: 0.00e+00" in out


@pytest.mark.slow
def test_dask_search_benchmark_on_worker_processes(tmp_path, capsys, torch_threads):
    from .test_benchmark_scripts import run_and_show

    argv = ["--epochs", "1", "--width", "4", "--max-train", "100", "--workers", "2"]
    payload, printed = run_and_show("dask_search", argv, tmp_path, capsys)
    assert payload["max_fold_score_difference"] == 0.0 and payload["speedup"] > 0
    assert [r["torch_threads"] for r in payload["sequential"]] == sorted({os.cpu_count(), 1}, reverse=True)
    assert "| Dask LocalCluster, 2 workers |" in printed
