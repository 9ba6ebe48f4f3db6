"""skgan_ad.parallel: scoring Dask arrays, searches on a Dask cluster, data-parallel training with torchrun."""

import json
import os
import runpy
import subprocess
import sys
import threading
import time
from pathlib import Path

import joblib
import numpy as np
import pytest
import torch
import torch.distributed as dist
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import Callback, EpochScoring

from skgan_ad import SkipGANomalyDetector
from skgan_ad._trainer import GANTrainer
from skgan_ad.metrics import anomaly_auc_scorer
from skgan_ad.model_selection import NormalOnlySplit

from .conftest import TINY, assert_batch_invariant

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

from skgan_ad.parallel import (  # noqa: E402
    ClusterMemory,
    DistributedGANTrainer,
    detector_digest,
    fit_distributed,
    score_dask,
    setup_workers,
)

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
def test_two_chunk_image_array_scores_equal_numpy(image_detector, method):
    detector, images = image_detector
    X = da.from_array(images, chunks=(25, 4, 8, 1))  # 2 chunks of samples; the pixel axes get rejoined
    scores = score_dask(detector, X, method=method)
    assert isinstance(scores, da.Array) and scores.shape == (50,) and scores.numblocks == (2,)
    computed = scores.compute()
    expected = getattr(detector, method)(images)
    assert computed.dtype == expected.dtype == (np.int64 if method == "predict" else np.float64)
    _assert_scores_agree(computed, expected, method, "images")


def _assert_scores_agree(computed, expected, method: str, kind: str) -> None:
    """Labels exactly; scores to the batch tolerance (chunks put a sample at another position in its batch)."""
    if method == "predict":
        np.testing.assert_array_equal(computed, expected)
    else:
        assert_batch_invariant(computed, expected, kind)


def test_two_chunk_tabular_array_scores_equal_numpy(rng):
    detector = SkipGANomalyDetector(**TINY).fit(rng.normal(size=(60, 5)))
    X = rng.normal(size=(81, 5))
    for method in METHODS:
        scores = score_dask(detector, da.from_array(X, chunks=(41, 5)), method=method)
        _assert_scores_agree(scores.compute(), getattr(detector, method)(X), method, "rows")


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
    assert_batch_invariant(scores, detector.decision_function(X))


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
    assert_batch_invariant(scores.to_numpy(), detector.score_samples(frame))
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
class _GradientRecorder(Callback):
    """Keeps each network's gradients as the optimizer is about to use them (after the all-reduce)."""

    def initialize(self):
        self.grads = []
        return self

    def on_grad_computed(self, net, named_parameters, **kwargs):
        self.grads.append({name: p.grad.detach().clone() for name, p in named_parameters})


def _one_step(trainer_class, x):
    """One generator and one discriminator step of a tiny image SkipGANomaly on batch ``x``; grads and weights."""
    from skgan_ad._preprocessing import Geometry
    from skgan_ad._trainer import TensorBatchIterator
    from skgan_ad.nets import init_weights_

    detector = SkipGANomalyDetector(**TINY)
    geometry = Geometry(64, (1, 8, 8))
    with torch.random.fork_rng():
        torch.manual_seed(0)
        generator, discriminator = detector._build_networks(geometry)
    init_weights_(generator, generator=torch.Generator().manual_seed(0))
    init_weights_(discriminator, generator=torch.Generator().manual_seed(1))
    recorder = _GradientRecorder()
    trainer = trainer_class(
        module=generator,
        criterion=detector._build_objective(geometry),
        discriminator=discriminator,
        optimizer=torch.optim.Adam,
        optimizer_discriminator=torch.optim.Adam,
        batch_size=len(x),
        max_epochs=1,
        iterator_train=TensorBatchIterator,
        train_split=None,
        callbacks=[("grads", recorder)],
    ).fit(x)
    weights = {**trainer.module_.state_dict(), **trainer.discriminator_.state_dict()}
    return recorder.grads, weights


def _distributed_checks(rank, world, folder):
    dist.init_process_group("gloo", init_method=f"file://{folder}/init", rank=rank, world_size=world)
    try:
        x = torch.randn(17, 1, 8, 8, generator=torch.Generator().manual_seed(0))  # slices of 9 and 8 samples
        single_grads, _ = _one_step(GANTrainer, x)
        grads, weights = _one_step(DistributedGANTrainer, x)
        # The summed slice gradients are the whole batch's, through the synchronised BatchNorm too.
        for step_single, step in zip(single_grads, grads, strict=True):
            for name, grad in step_single.items():
                torch.testing.assert_close(step[name], grad, rtol=1e-4, atol=1e-6, msg=f"gradient of {name}")
        gathered = [None] * world
        dist.all_gather_object(gathered, {name: w.numpy().tobytes() for name, w in weights.items()})
        assert gathered[0] == gathered[1], "the ranks' weights differ after one step"

        # A whole fit in the group that is already there; rank 0 saves.
        detector = fit_distributed(SkipGANomalyDetector(**TINY), _tiny_images(), path=f"{folder}/model.safetensors")
        record = dict(
            digest=detector_digest(detector), offset=detector.offset_, loss=detector.history_[:, "train_loss"]
        )
        Path(folder, f"rank{rank}.json").write_text(json.dumps(record))
    finally:
        dist.destroy_process_group()


def _tiny_images():
    from skgan_ad.datasets import load_digits_images

    return load_digits_images()[0][:54]  # 5 held out, 49 trained on: batches of 16, 16 and 17 (split 9 / 8)


def test_two_gloo_ranks_take_the_whole_batch_step_and_end_with_identical_detectors(tmp_path):
    torch.multiprocessing.spawn(_distributed_checks, args=(2, str(tmp_path)), nprocs=2, join=True)
    ranks = _reports(tmp_path)
    # Same weights and BatchNorm statistics, hence the same held-out statistics, offset_ and history.
    assert len(ranks) == 2 and ranks[0] == ranks[1]
    # Each step is the one-process step up to round-off: losses and threshold match a fit in this process.
    single = SkipGANomalyDetector(**TINY).fit(_tiny_images())
    np.testing.assert_allclose(ranks[0]["loss"], single.history_[:, "train_loss"], rtol=1e-5)
    assert ranks[0]["offset"] == pytest.approx(single.offset_, rel=1e-4)
    # What rank 0 saved is what the ranks hold.
    from skgan_ad.io import load

    assert detector_digest(load(tmp_path / "model.safetensors")) == ranks[0]["digest"]


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


@pytest.mark.slow
def test_torchrun_two_processes_end_with_identical_detectors_that_match_one_process(tmp_path):
    model = tmp_path / "model.safetensors"
    # 54 images, 5 held out: batches of 16, 16 and 17, the last split 9 / 8 over the ranks.
    tiny = ["--digit", "0", "--width", "4", "--epochs", "2", "--batch-size", "16", "--max-train", "54"]
    _torchrun(2, [*tiny, "--report", str(tmp_path / "ddp"), "--save", str(model)], timeout=240)
    ranks = _reports(tmp_path / "ddp")
    assert [r["rank"] for r in ranks] == [0, 1] and {r["world_size"] for r in ranks} == {2}
    # Same weights and BatchNorm statistics, hence the same held-out statistics, offset_ and history.
    assert ranks[0]["digest"] == ranks[1]["digest"]
    assert ranks[0]["offset"] == ranks[1]["offset"] and ranks[0]["train_loss"] == ranks[1]["train_loss"]

    # Each step is the one-process step on the whole batch (synchronised BatchNorm, summed gradients),
    # up to round-off: the losses and the threshold agree closely with a fit in this process.
    single = runpy.run_path(str(ROOT / "examples" / "distributed_fit.py"))["main"]
    detector, auc = single([*tiny, "--report", str(tmp_path / "single")])
    np.testing.assert_allclose(ranks[0]["train_loss"], detector.history_[:, "train_loss"], rtol=1e-5)
    assert ranks[0]["offset"] == pytest.approx(detector.offset_, rel=1e-4)

    # Rank 0 saved it, and what it saved is what the ranks hold.
    from skgan_ad.datasets import digits_leave_one_out
    from skgan_ad.io import load

    saved = load(model)
    assert detector_digest(saved) == ranks[0]["digest"]
    split = digits_leave_one_out(abnormal_class=0)
    assert roc_auc_score(split.y_test, saved.anomaly_score(split.X_test)) == pytest.approx(ranks[0]["auc"])


@pytest.mark.slow
def test_torchrun_training_reaches_the_single_process_auc_on_digits(tmp_path):
    # The example's defaults: SkipGANomalyDetector(ngf=ndf=64, 15 epochs, batch 64), abnormal digit 0
    # (README: AUC 0.996 in one process, 0.910 with the papers' score; a class near chance would compare coin flips).
    _torchrun(1, ["--digit", "0", "--report", str(tmp_path / "single")], timeout=3600)
    _torchrun(2, ["--digit", "0", "--report", str(tmp_path / "ddp")], timeout=3600)
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

    argv = ["--epochs", "1", "--width", "4", "--max-train", "120", "--in-process"]  # default: 2 worker processes
    out = run_example("dask_grid_search.py", argv, monkeypatch, capsys)
    assert "Dask: 2 workers at " in out and out.count("validation AUC") == 8  # 2 w_con x 4 lambda_score
    assert "largest difference of a fold's test score, Dask vs sequential: 0.00e+00" in out


@pytest.mark.slow
def test_dask_search_benchmark_on_worker_processes(tmp_path, capsys, torch_threads):
    from .test_benchmark_scripts import run_and_show

    argv = ["--epochs", "1", "--width", "4", "--max-train", "100", "--workers", "2"]
    payload, printed = run_and_show("dask_search", argv, tmp_path, capsys)
    assert payload["speedup"] > 0
    assert [r["torch_threads"] for r in payload["sequential"]] == sorted({os.cpu_count(), 1}, reverse=True)
    # One torch thread, as on each worker: the very same fold scores.
    assert payload["sequential"][-1]["max_fold_score_difference"] == 0.0
    assert "| Dask LocalCluster, 2 workers |" in printed
