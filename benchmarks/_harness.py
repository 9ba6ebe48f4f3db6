"""What every benchmark script shares: its options, the environment, timing, data, baselines and results files.

Benchmarks run as modules from the repository root, so that ``benchmarks`` is
a package and nothing edits ``sys.path``::

    python -m benchmarks.detection --help

Each script builds its parser with :func:`make_parser` (the shared options:
``--device``, ``--threads``, ``--seeds``/``--seed``, ``--out``, ``--tag``,
``--show``, and ``--data-root``/``--cache`` for scripts that read data sets),
parses with :func:`parse_args` (which applies ``--threads``), and hands its
work to :func:`run_benchmark`: that times the run, adds the command, the
environment (hardware, library versions, and the git commit with whether the
checkout was clean: :func:`git_provenance`) and the wall time, writes the JSON under ``--out``
(``benchmarks/results/`` by default), reads it back and prints the script's
table *from the file*. ``--show FILE`` prints the table of an earlier results
file without running anything.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import shlex
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from functools import partial
from importlib import metadata

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgan_ad.datasets import AnomalySplit, digits_leave_one_out, load_image_folder, load_mnist, subsample_indices
from skgan_ad.metrics import recall_at_fpr

RESULTS_DIR = os.path.join("benchmarks", "results")
DATA_ROOT = os.path.join("..", "shared", "data")
CACHE_DIR = os.path.join("benchmarks", "output", "cache")


# -- options -------------------------------------------------------------------------------------------
def make_parser(doc: str | None, *, seeds: str | None = "many", data: bool = False, device: str = "auto"):
    """An ``ArgumentParser`` with the options every benchmark shares.

    ``seeds="many"`` adds ``--seeds S [S ...]``, ``"one"`` adds ``--seed S``,
    ``None`` neither; ``data=True`` adds ``--data-root`` and ``--cache``.
    """
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    shared = parser.add_argument_group("options every benchmark shares")
    shared.add_argument("--device", default=device, help=f"'cpu', 'cuda' or 'auto' (default {device!r})")
    shared.add_argument("--threads", type=int, help="torch CPU threads (default: torch's own)")
    if seeds == "many":
        shared.add_argument("--seeds", type=int, nargs="+", default=[0], help="random seeds (default 0)")
    elif seeds == "one":
        shared.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    shared.add_argument("--out", default=RESULTS_DIR, help=f"folder of the JSON results (default {RESULTS_DIR})")
    shared.add_argument("--tag", default="", help="suffix of the results file name, to keep runs apart")
    shared.add_argument("--show", metavar="JSON", help="print the table of a results file of this script; runs nothing")
    if data:
        shared.add_argument("--data-root", default=DATA_ROOT, help="holds mnist/ (IDX files) and cifar10-jpeg.tar.gz")
        shared.add_argument("--cache", default=CACHE_DIR, help="where the CIFAR-10 archive is extracted once")
    return parser


def parse_args(parser: argparse.ArgumentParser, argv=None) -> argparse.Namespace:
    """Parse ``argv`` (``sys.argv[1:]`` when None), apply ``--threads``, and remember ``argv`` for the record."""
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    return args


def parse_params(items) -> dict:
    """``["ngf=8", "n_epochs=2", "device='cpu'"]`` -> ``{"ngf": 8, "n_epochs": 2, "device": "cpu"}``.

    Values are Python literals; anything else is kept as a string (``n_epochs=auto`` -> ``"auto"``).
    """
    params = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            raise SystemExit(f"--params takes KEY=VALUE pairs, got {item!r}")
        try:
            params[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            params[key] = value
    return params


def command(module: str, args: argparse.Namespace) -> str:
    """The command line that reproduces this run, from the repository root."""
    return shlex.join(["python", "-m", module, *args.argv])


def results_path(args: argparse.Namespace, stem: str) -> str:
    """``<out>/<stem>[_<tag>].json``."""
    return os.path.join(args.out, f"{stem}{'_' + args.tag if args.tag else ''}.json")


# -- environment and timing ------------------------------------------------------------------------------
def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# The checkout this file belongs to (git is run there, whatever the working directory).
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _git(*args: str) -> str | None:
    """``git <args>`` run in :data:`REPO_ROOT`: its output, or None when git or the checkout is missing."""
    try:
        done = subprocess.run(["git", "-C", REPO_ROOT, *args], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def git_changes() -> list[str] | None:
    """The paths that make the checkout differ from its commit, as ``git status --porcelain`` lists them.

    What counts: every change to a tracked file (modified, staged, deleted, renamed), and every untracked
    file that ``.gitignore`` does not ignore, *except* untracked files under ``benchmarks/results/``: the
    run itself writes there (and earlier runs waiting to be committed do not change the code that runs).
    A tracked results file that was overwritten does count. Ignored files (caches, ``benchmarks/output/``)
    never count. None when this is not a git checkout (or git is not installed).
    """
    status = _git("status", "--porcelain=v1", "-z", "--untracked-files=all")
    prefix = _git("rev-parse", "--show-prefix")  # REPO_ROOT inside the git repository: porcelain paths start there
    if status is None or prefix is None:
        return None
    results = f"{prefix.strip()}{RESULTS_DIR.replace(os.sep, '/')}/"
    changes, entries = [], iter(status.split("\0"))
    for entry in entries:
        if not entry:
            continue
        code, path = entry[:2], entry[3:]
        if "R" in code or "C" in code:
            next(entries, None)  # a rename or copy is followed by its source path
        if code == "??" and path.startswith(results):
            continue
        changes.append(path)
    return changes


def git_provenance() -> dict:
    """``git_commit`` (full hash of HEAD, None outside a git checkout) and ``git_clean`` (no change that
    :func:`git_changes` counts; None outside a checkout), with ``git_changes`` (those paths, at most 50)."""
    head = _git("rev-parse", "HEAD")
    changes = git_changes() if head else None
    return dict(
        git_commit=head.strip() if head else None,
        git_clean=None if changes is None else not changes,
        git_changes=None if changes is None else changes[:50],
    )


def environment(device: str = "cpu") -> dict:
    """Hardware, library versions and git provenance (:func:`git_provenance`) of this process, for the results
    file. Every benchmark's JSON gets it, through :func:`run_benchmark` or (``digits_peers``) directly."""
    import skgan_ad

    return dict(
        **git_provenance(),
        python=platform.python_version(),
        torch=torch.__version__,
        sklearn=_version("scikit-learn"),
        skorch=_version("skorch"),
        numpy=np.__version__,
        skgan_ad=skgan_ad.__version__,
        pyod=_version("pyod"),
        machine=platform.machine(),
        cpu=_cpu_model(),
        cpu_count=os.cpu_count(),
        torch_threads=torch.get_num_threads(),
        cuda_device=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        device=device,
    )


def timed(fn: Callable):
    """``(fn(), seconds)``, waiting for the GPU when there is one."""
    start = time.perf_counter()
    out = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return out, time.perf_counter() - start


# -- results files ---------------------------------------------------------------------------------------
def write_results(path: str, payload: dict) -> str:
    """Write a results file (creating its folder) and say where."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        json.dump(payload, f, indent=1)
    print(f"written to {path}", flush=True)
    return path


def read_results(path: str) -> dict:
    with open(path) as f:
        return json.load(f)


def run_benchmark(
    args: argparse.Namespace,
    module: str,
    stem: str,
    run: Callable[[argparse.Namespace], dict],
    render: Callable[[dict], str],
) -> dict:
    """Run ``run(args)``, write its results with the command and environment, and print ``render`` of the file.

    With ``--show FILE``, print ``render`` of that file instead and run nothing.
    Returns the results as read back from the file.
    """
    if args.show:
        payload = read_results(args.show)
        print(render(payload))
        return payload
    # Before the run: the record is of the code that ran, not of the tree (and results files) it left behind.
    env = environment(args.device)
    start = time.perf_counter()
    body = run(args)
    payload = dict(command=command(module, args), environment=env, wall_s=time.perf_counter() - start)
    payload.update(body)
    payload = read_results(write_results(results_path(args, stem), payload))
    print(f"\n{render(payload)}\n\nwall time {payload['wall_s'] / 60:.1f} min; {payload['environment']}")
    return payload


# -- data ------------------------------------------------------------------------------------------------
def _named(labels, classes) -> np.ndarray:
    """Class names for labels given as indices into ``classes``; names pass through."""
    return np.array([classes[i] if isinstance(i, (int, np.integer)) else i for i in labels])


def load_dataset(name: str, data_root: str = DATA_ROOT, cache: str = CACHE_DIR, *, test: bool = True):
    """``(X_train, y_train, X_test, y_test, class_names)`` of MNIST or CIFAR-10, labels as class names.

    MNIST is read from ``<data_root>/mnist`` (IDX files); CIFAR-10 from
    ``<data_root>/cifar10-jpeg.tar.gz``, extracted once into ``cache``. Nothing is downloaded.
    ``test=False`` does not read the test split at all (``X_test``, ``y_test`` are None): for
    development runs, which must not touch it.
    """
    if name == "mnist":
        read = partial(load_mnist, os.path.join(data_root, "mnist"))
        classes = [str(c) for c in range(10)]
    elif name == "cifar10":
        root = os.path.join(cache, "cifar10")
        if not os.path.isdir(root):
            os.makedirs(cache, exist_ok=True)
            with tarfile.open(os.path.join(data_root, "cifar10-jpeg.tar.gz")) as tar:
                tar.extractall(cache, filter="data")

        def read(kind):
            X, y, names = load_image_folder(os.path.join(root, kind))
            classes[:] = list(names)
            return X, y

        classes = []
    else:
        raise ValueError(f"unknown dataset {name!r}")
    X_train, y_train = read("train")
    X_test, y_test = read("test") if test else (None, None)
    return X_train, _named(y_train, classes), X_test, None if y_test is None else _named(y_test, classes), classes


def add_digits_options(parser: argparse.ArgumentParser) -> None:
    """``--max-train`` / ``--max-test``: subsample the digits task's split (quick runs; default: all of it)."""
    parser.add_argument("--max-train", type=int, help="at most this many training images, a seeded pick (default all)")
    parser.add_argument(
        "--max-test", type=int, help="at most this many test images, a seeded pick, stratified (default all)"
    )


def digits_split(digit: int, args: argparse.Namespace | None = None, seed: int = 0) -> AnomalySplit:
    """DESIGN.md's digits split for abnormal ``digit``, subsampled by ``args.max_train`` / ``args.max_test``
    (:func:`skgan_ad.datasets.subsample_indices`; the test images stratified)."""
    split = digits_leave_one_out(digit)
    rng = np.random.RandomState(seed)
    # The protocols' subsampling: the training images uniformly (all normal), the test images stratified on
    # y_test so that normals and anomalies keep their shares. A limit of 0 keeps everything, as None does.
    train = subsample_indices(
        np.zeros(len(split.X_train)), getattr(args, "max_train", None) or None, stratify=False, random_state=rng
    )
    test = subsample_indices(split.y_test, getattr(args, "max_test", None) or None, random_state=rng)
    return AnomalySplit(split.X_train[train], split.X_test[test], split.y_test[test])


# -- baselines and records -------------------------------------------------------------------------------
def _pca_error(model, X):
    return ((X - model.inverse_transform(model.transform(X))) ** 2).sum(axis=1)


def _knn_distance(model, X):
    scaler, neighbours = model[0], model[-1]
    return neighbours.kneighbors(scaler.transform(X))[0].mean(axis=1)


# name -> (make(seed), anomaly_score(model, X)) of the classic baselines every benchmark runs on flattened rows.
# "kNN (pixels)" is the detectors' ``embedding`` score on raw pixels instead of a learned code (mean distance
# to the 5 nearest standardised training rows): what the networks' codes add shows against it.
BASELINES = {
    "IsolationForest": (lambda seed: IsolationForest(random_state=seed), lambda m, X: -m.score_samples(X)),
    "PCA recon.": (lambda seed: PCA(16, random_state=seed), _pca_error),
    "kNN (pixels)": (lambda seed: make_pipeline(StandardScaler(), NearestNeighbors(n_neighbors=5)), _knn_distance),
}


# The untrained control (issue 25): the same detector with the same parameters and the same score, but a
# learning rate of 1e-12 for one epoch and no step floor, so that its weights stay at their initialisation
# (only BatchNorm's running statistics adapt to the training data). What training adds shows against it.
UNTRAINED = dict(lr=1e-12, n_epochs=1, min_steps=0)
UNTRAINED_SUFFIX = " (untrained)"


def untrained(make: Callable) -> Callable:
    """``make`` (a detector class or factory) for the untrained control: ``make(**params)`` with
    :data:`UNTRAINED` over ``params``, whatever they say. ``.trained`` is ``make`` itself."""

    def make_untrained(**params):
        return make(**{**params, **UNTRAINED})

    make_untrained.trained = make
    return make_untrained


def with_untrained(methods: dict) -> dict:
    """``methods`` (name -> ``(make, params)``) with each followed by its untrained control,
    ``"<name> (untrained)"``: ``(untrained(make), params)``."""
    out = {}
    for name, (make, params) in methods.items():
        out[name] = (make, params)
        out[name + UNTRAINED_SUFFIX] = (untrained(make), params)
    return out


def anomaly_score(model, X):
    """A fitted detector's anomaly score (higher = more abnormal): the scorer of :func:`fit_score` for ours."""
    return model.anomaly_score(X)


def fit_score(make: Callable, score: Callable, X_train, X_test):
    """Fit ``make()`` on ``X_train`` and score ``X_test``: ``(scores, fit_s, score_s)``."""
    model, fit_s = timed(lambda: make().fit(X_train))
    scores, score_s = timed(lambda: score(model, X_test))
    return scores, fit_s, score_s


def detection_record(y, scores, fit_s: float, score_s: float) -> dict:
    """ROC AUC, recall at 5 % false positives, fit and scoring seconds of one method on one split."""
    return dict(
        auc=float(roc_auc_score(y, scores)),
        recall_at_5fpr=float(recall_at_fpr(y, scores, 0.05)),
        fit_s=fit_s,
        score_s=score_s,
    )


def pyod_available(methods, peers) -> list:
    """``methods`` without those of ``peers`` when PyOD is not importable (saying so once)."""
    wanted = [m for m in methods if m in peers]
    if not wanted:
        return list(methods)
    try:
        import pyod  # noqa: F401
    except ImportError:
        print(f"note: pyod is not installed, skipping {', '.join(wanted)} (pip install 'skgan_ad[peers]')")
        return [m for m in methods if m not in peers]
    return list(methods)
