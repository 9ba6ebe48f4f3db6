"""Dask: searches on a cluster (worker threads, a locked ``memory=`` cache) and scoring dask arrays.

Searches on a Dask cluster
    scikit-learn's searches already run on Dask through joblib's backend
    (``with joblib.parallel_backend("dask"): search.fit(X, y)``). Detectors
    pickle small and device-free (fitted networks travel as CPU tensors), and
    ``device="auto"`` makes each worker train on the GPU it sees. What this
    module adds: :func:`setup_workers` (torch threads per worker, so workers do
    not oversubscribe the cores) and :class:`ClusterMemory`, a ``memory=``
    cache on a folder all workers share that trains each network *once* even
    when several workers ask for it at the same time (a plain folder has no
    lock, so concurrent candidates of one fold would each train it).

Scoring large data on Dask
    :func:`score_dask` scores a ``dask.array`` (or a Dask DataFrame) block by
    block on the workers and returns a lazy array. dask-ml's
    ``ParallelPostFit`` wraps ``predict`` but not ``score_samples`` /
    ``decision_function``; this is the missing piece, without the dependency.

Dask and ``distributed`` are imported lazily (``pip install "skgan_ad[distributed]"``).
This module is named after the library it drives; with absolute imports
(the default) ``import dask`` here is the real Dask, not this module.
"""

from __future__ import annotations

import os
from collections import Counter
from contextlib import contextmanager

import joblib
import numpy as np
import torch
from joblib.func_inspect import filter_args
from sklearn.utils.validation import check_is_fitted

__all__ = ["ClusterMemory", "TorchThreads", "score_dask", "setup_workers"]

#: Methods :func:`score_dask` maps over blocks, with the dtype of what they return.
SCORE_METHODS = {
    "score_samples": np.float64,
    "decision_function": np.float64,
    "anomaly_score": np.float64,
    "predict": np.int64,
}


def _import_dask(what: str):
    try:
        import dask
        import dask.array as da
    except ImportError:
        raise ImportError(f"{what} needs Dask: pip install 'skgan_ad[distributed]'") from None
    return dask, da


# -- Dask: workers and a cache they share ---------------------------------------------------------------
def _torch_threads_plugin_base():
    try:
        from distributed import WorkerPlugin
    except ImportError:
        return object
    return WorkerPlugin


class TorchThreads(_torch_threads_plugin_base()):
    """Dask worker plugin: ``torch.set_num_threads(n_threads)`` on every worker, now and after restarts.

    Dask's nanny starts workers with ``OMP_NUM_THREADS=1``, so torch uses one
    core per worker whatever the machine has; this sets the share each worker
    should use instead.
    """

    name = "skgan_ad-torch-threads"

    def __init__(self, n_threads: int) -> None:
        self.n_threads = int(n_threads)

    def setup(self, worker) -> None:
        torch.set_num_threads(self.n_threads)


def setup_workers(client, torch_threads: int | None = None) -> int:
    """Give every worker of ``client``'s cluster its share of torch threads; returns the number set.

    Parameters
    ----------
    client : distributed.Client
    torch_threads : int or None, default=None
        Threads per task. None: the cores of each host divided by the worker
        threads (concurrent tasks) on it, the smallest over hosts, at least 1.

    Notes
    -----
    GPUs: start one single-threaded worker per GPU, each seeing only its own
    (``CUDA_VISIBLE_DEVICES=0 dask worker tcp://scheduler:8786 --nthreads 1``,
    then ``=1`` for the next, ...; dask-cuda's ``LocalCUDACluster`` does the
    same); detectors with ``device="auto"`` then train on the worker's GPU.
    """
    if torch_threads is None:
        workers = client.scheduler_info(n_workers=-1)["workers"]
        cores = client.run(os.cpu_count)
        tasks_per_host: Counter = Counter()
        cores_per_host: dict = {}
        for address, info in workers.items():
            tasks_per_host[info["host"]] += info["nthreads"]
            cores_per_host[info["host"]] = cores.get(address) or 1
        torch_threads = min(cores_per_host[host] // tasks for host, tasks in tasks_per_host.items())
    torch_threads = max(1, int(torch_threads))
    client.register_plugin(TorchThreads(torch_threads))
    return torch_threads


class ClusterMemory:
    """A ``memory=`` cache on a folder all workers share, that computes each entry once, under a lock.

    The detectors' cache (safetensors entries, written atomically, in
    ``location``) with one lock per entry: when several tasks of a search
    need the same networks at the same time (the ``lambda_score`` candidates
    of one fold on different workers), the first trains and stores them
    while the others wait and then read them. A plain folder has no lock, so
    each of those tasks would train. Inside a Dask worker the lock is a
    ``distributed.Lock`` (cluster-wide, whatever the file system); elsewhere
    (joblib's process or thread backends on one machine) an ``fcntl`` lock
    file in ``<location>/locks``.

    The detectors' training cache (``skgan_ad._cache.cached_training``) takes
    the lock through :meth:`entry_lock`. :meth:`cache` offers the lock for
    any function, in ``joblib.Memory``'s protocol.

    Parameters
    ----------
    location : str or path
        A folder every worker can read and write (NFS, a shared disk), at
        the same path on every worker.

    Examples
    --------
    >>> import tempfile
    >>> from skgan_ad import SkipGANomalyDetector
    >>> from skgan_ad.parallel import ClusterMemory
    >>> detector = SkipGANomalyDetector(memory=ClusterMemory(tempfile.mkdtemp()))
    """

    def __init__(self, location) -> None:
        self.location = os.fspath(location)

    @contextmanager
    def entry_lock(self, key: str):
        """Hold the lock of cache entry ``key`` (a hash) for the duration of a ``with`` block."""
        with _entry_lock(f"skgan_ad-cache-{key}", os.path.join(self.location, "locks")):
            yield

    def cache(self, func, ignore=None, **kwargs):
        """``joblib.Memory(location).cache(func, ...)``, each call holding the lock of its entry."""
        memorized = joblib.Memory(self.location, verbose=0).cache(func, ignore=ignore, **kwargs)
        return _LockedCall(memorized, func, list(ignore or []), self)

    def __repr__(self) -> str:
        return f"ClusterMemory({self.location!r})"


class _LockedCall:
    def __init__(self, memorized, func, ignore, memory) -> None:
        self.memorized, self.func, self.ignore, self.memory = memorized, func, ignore, memory

    def __call__(self, *args, **kwargs):
        # The lock's name: a hash of the arguments the cache keys on (joblib hashes the same ones).
        arguments = filter_args(self.func, self.ignore, args, kwargs)
        with self.memory.entry_lock(joblib.hash((self.func.__module__, self.func.__qualname__, arguments))):
            return self.memorized(*args, **kwargs)


@contextmanager
def _entry_lock(name: str, lock_dir: str):
    try:
        from distributed import Lock, get_worker

        get_worker()  # raises ValueError outside a Dask worker
    except (ImportError, ValueError):
        try:
            import fcntl
        except ImportError:  # Windows: no lock; concurrent tasks may each train what they need
            yield
            return
        os.makedirs(lock_dir, exist_ok=True)
        with open(os.path.join(lock_dir, name), "a") as handle:
            # Each open() is its own lock owner, so threads of one process exclude each other too.
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    with Lock(name):
        yield


# -- Dask: scoring arrays block by block -----------------------------------------------------------------
def _score_block(block, detector, method: str):
    return np.asarray(getattr(detector, method)(block), dtype=SCORE_METHODS[method])


def _score_frame_block(frame, detector, method: str):
    import pandas as pd  # a Dask DataFrame's partitions are pandas DataFrames

    # A Series on the partition's index, as the ``meta`` of ``map_partitions`` promises.
    return pd.Series(_score_block(frame, detector, method), index=frame.index, name=method)


def score_dask(detector, X, method: str = "score_samples"):
    """Score a Dask array (or DataFrame) block by block on the workers; returns a lazy result.

    The fitted detector enters the graph once (one ``dask.delayed`` key that
    every block's task depends on), so a cluster ships it once to each
    worker that scores, not once per block. Blocks run along the samples
    only: the other axes (features, or an image's H, W, C) are rechunked
    whole. A sample's score does not depend on its block (see
    ``BaseGANDetector._map_batches``), so the result equals scoring in one
    process.

    Parameters
    ----------
    detector : fitted skgan_ad detector
    X : dask.array.Array or dask.dataframe.DataFrame
        Samples along axis 0, in any layout the detector's ``fit`` accepted.
    method : {"score_samples", "decision_function", "anomaly_score", "predict"}, default="score_samples"

    Returns
    -------
    scores : dask.array.Array of shape (n_samples,)
        float64 (int64 for ``predict``); a Dask Series on ``X``'s index for a DataFrame.

    Examples
    --------
    >>> import dask.array as da
    >>> from skgan_ad import SkipGANomalyDetector
    >>> from skgan_ad.parallel import score_dask
    >>> rng = np.random.RandomState(0)
    >>> detector = SkipGANomalyDetector(hidden_dims=(8, 4), n_epochs=1, random_state=0).fit(rng.normal(size=(40, 3)))
    >>> X = da.from_array(rng.normal(size=(100, 3)), chunks=50)
    >>> scores = score_dask(detector, X)  # lazy; nothing computed yet
    >>> np.allclose(scores.compute(), detector.score_samples(X.compute()))
    True
    """
    dask, da = _import_dask("score_dask")
    if method not in SCORE_METHODS:
        raise ValueError(f"method must be one of {sorted(SCORE_METHODS)}, got {method!r}")
    check_is_fitted(detector)
    model = dask.delayed(detector, pure=True)
    dtype = SCORE_METHODS[method]
    if hasattr(X, "map_partitions"):  # a Dask DataFrame: keep its index and column names
        return X.map_partitions(_score_frame_block, model, method, meta=(method, dtype))
    if not isinstance(X, da.Array):
        raise TypeError(f"X must be a dask.array.Array or a Dask DataFrame, got {type(X).__name__}")
    if X.ndim < 2:
        raise ValueError(f"X must have samples along axis 0 and features or pixels beyond, got shape {X.shape}")
    X = X.rechunk({axis: -1 for axis in range(1, X.ndim)})
    return da.map_blocks(
        _score_block,
        X,
        model,
        method,
        drop_axis=list(range(1, X.ndim)),
        chunks=(X.chunks[0],),
        dtype=dtype,
        meta=np.empty((0,), dtype=dtype),
    )
