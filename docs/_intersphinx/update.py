"""Write the intersphinx inventories of docs/_intersphinx/, so that the docs build needs no network.

    python docs/_intersphinx/update.py              # write the inventories from ENTRIES below
    python docs/_intersphinx/update.py --download   # fetch the projects' full inventories instead (needs network)

The build reads ``docs/_intersphinx/<project>.inv`` (conf.py's ``intersphinx_mapping``); links go to the projects'
own sites (``skgan_ad_docs.INTERSPHINX_URLS``). The files written from ENTRIES hold only the names this site refers
to, each with its address on the project's site. A new reference to another project's object fails the nitpicky
build until its entry is added here (or the full inventories are downloaded) and this script is rerun.
"""

from __future__ import annotations

import argparse
import sys
import urllib.request
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "_ext"))
from skgan_ad_docs import INTERSPHINX_URLS  # noqa: E402

VERSIONS = {
    "python": "3",
    "numpy": "stable",
    "scipy": "stable",
    "sklearn": "stable",
    "torch": "stable",
    "skorch": "stable",
    "joblib": "stable",
    "matplotlib": "stable",
    "dask": "stable",
    "distributed": "stable",
    "onnxruntime": "stable",
}


def _api(prefix: str, names: str, role: str = "py:class") -> list[tuple[str, str, str]]:
    """Entries of names documented one page each, at ``<prefix><name>.html#<name>``."""
    return [(name, role, f"{prefix}{name}.html#{name}") for name in names.split()]


# (name, domain:role, address relative to the project's root); the address of a py: entry ends in its anchor.
ENTRIES: dict[str, list[tuple[str, str, str]]] = {
    "python": [
        *[(n, "py:class", f"library/functions.html#{n}") for n in "int float bool object".split()],
        *[(n, "py:class", f"library/stdtypes.html#{n}") for n in "str dict list tuple".split()],
        *[(n, "py:data", f"library/constants.html#{n}") for n in "None True False".split()],
        ("callable", "py:function", "library/functions.html#callable"),
        ("os.PathLike", "py:class", "library/os.html#os.PathLike"),
        ("pathlib.Path", "py:class", "library/pathlib.html#pathlib.Path"),
        ("collections.namedtuple", "py:function", "library/collections.html#collections.namedtuple"),
        ("contextlib.contextmanager", "py:function", "library/contextlib.html#contextlib.contextmanager"),
        ("pickle", "py:module", "library/pickle.html#module-pickle"),
        *[
            (n, "py:exception", f"library/exceptions.html#{n}")
            for n in "Exception Warning UserWarning ValueError TypeError OSError FileNotFoundError".split()
        ],
        ("KeyboardInterrupt", "py:exception", "library/exceptions.html#KeyboardInterrupt"),
        ("iterable", "std:term", "glossary.html#term-iterable"),
        ("sequence", "std:term", "glossary.html#term-sequence"),
        ("generator", "std:term", "glossary.html#term-generator"),
        ("path-like object", "std:term", "glossary.html#term-path-like-object"),
        ("bltin-boolean-values", "std:label", "library/stdtypes.html#bltin-boolean-values"),
    ],
    "numpy": [
        *_api("reference/generated/", "numpy.ndarray numpy.memmap numpy.dtype"),
        *_api("reference/generated/", "numpy.histogram_bin_edges numpy.load", "py:function"),
        ("numpy.random.RandomState", "py:class", "reference/random/legacy.html#numpy.random.RandomState"),
        ("numpy.random.Generator", "py:class", "reference/random/generator.html#numpy.random.Generator"),
        ("numpy.inf", "py:data", "reference/constants.html#numpy.inf"),
        ("numpy.nan", "py:data", "reference/constants.html#numpy.nan"),
        ("array_like", "std:term", "glossary.html#term-array_like"),
        ("arrays.scalars", "std:label", "reference/arrays.scalars.html#arrays-scalars"),
    ],
    "scipy": [
        *_api("reference/generated/", "scipy.ndimage.gaussian_filter", "py:function"),
    ],
    "sklearn": [
        *_api(
            "modules/generated/",
            "sklearn.pipeline.Pipeline sklearn.model_selection.GridSearchCV "
            "sklearn.model_selection.KFold sklearn.model_selection.StratifiedKFold "
            "sklearn.metrics.RocCurveDisplay sklearn.manifold.TSNE sklearn.decomposition.PCA "
            "sklearn.ensemble.IsolationForest sklearn.linear_model.LogisticRegression "
            "sklearn.neighbors.LocalOutlierFactor sklearn.neighbors.NearestNeighbors "
            "sklearn.preprocessing.StandardScaler sklearn.base.BaseEstimator sklearn.base.OutlierMixin "
            "sklearn.utils.metadata_routing.MetadataRequest",
        ),
        *_api(
            "modules/generated/",
            "sklearn.model_selection.cross_val_score sklearn.model_selection.check_cv "
            "sklearn.model_selection.train_test_split sklearn.metrics.roc_auc_score sklearn.metrics.roc_curve "
            "sklearn.metrics.average_precision_score sklearn.metrics.make_scorer "
            "sklearn.pipeline.make_pipeline",
            "py:function",
        ),
        (
            "sklearn.metrics.RocCurveDisplay.from_predictions",
            "py:method",
            "modules/generated/sklearn.metrics.RocCurveDisplay.html#sklearn.metrics.RocCurveDisplay.from_predictions",
        ),
        ("estimator", "std:term", "glossary.html#term-estimator"),
        ("random_state", "std:term", "glossary.html#term-random_state"),
        ("metadata_routing", "std:label", "metadata_routing.html#metadata-routing"),
    ],
    "torch": [
        ("torch.Tensor", "py:class", "tensors.html#torch.Tensor"),
        ("torch.device", "py:class", "tensor_attributes.html#torch.device"),
        ("torch.dtype", "py:class", "tensor_attributes.html#torch.dtype"),
        ("torch.distributed", "py:module", "distributed.html#module-torch.distributed"),
        *_api(
            "generated/",
            "torch.nn.Module torch.Generator torch.nn.BatchNorm2d torch.optim.Adam "
            "torch.nn.parallel.DistributedDataParallel",
        ),
        *_api("generated/", "torch.set_num_threads", "py:function"),
    ],
    "skorch": [
        ("skorch.net.NeuralNet", "py:class", "net.html#skorch.net.NeuralNet"),
        ("skorch.NeuralNet", "py:class", "net.html#skorch.net.NeuralNet"),
        ("skorch.history.History", "py:class", "history.html#skorch.history.History"),
        *[
            (f"skorch.callbacks.{n}", "py:class", f"callbacks.html#skorch.callbacks.{n}")
            for n in "Callback EarlyStopping Checkpoint LoadInitState GradientNormClipping".split()
        ],
    ],
    "joblib": [
        *_api("generated/", "joblib.Memory"),
        *_api("generated/", "joblib.parallel_backend joblib.dump joblib.load", "py:function"),
    ],
    "matplotlib": [
        *_api(
            "api/_as_gen/",
            "matplotlib.axes.Axes matplotlib.figure.Figure matplotlib.lines.Line2D matplotlib.patches.Rectangle",
        ),
        *_api("api/_as_gen/", "matplotlib.pyplot.subplots", "py:function"),
        ("matplotlib.image.AxesImage", "py:class", "api/image_api.html#matplotlib.image.AxesImage"),
        ("matplotlib.container.BarContainer", "py:class", "api/container_api.html#matplotlib.container.BarContainer"),
        (
            "matplotlib.collections.PathCollection",
            "py:class",
            "api/collections_api.html#matplotlib.collections.PathCollection",
        ),
    ],
    "dask": [
        *_api("generated/", "dask.array.Array dask.dataframe.DataFrame dask.dataframe.Series"),
    ],
    "distributed": [
        ("distributed.Client", "py:class", "api.html#distributed.Client"),
        ("distributed.LocalCluster", "py:class", "api.html#distributed.LocalCluster"),
        ("distributed.WorkerPlugin", "py:class", "plugins.html#distributed.diagnostics.plugin.WorkerPlugin"),
        (
            "distributed.diagnostics.plugin.WorkerPlugin",
            "py:class",
            "plugins.html#distributed.diagnostics.plugin.WorkerPlugin",
        ),
    ],
    "onnxruntime": [
        ("onnxruntime", "py:module", "api_summary.html#module-onnxruntime"),
        ("onnxruntime.InferenceSession", "py:class", "api_summary.html#onnxruntime.InferenceSession"),
    ],
}


def inventory(project: str, entries) -> bytes:
    """An objects.inv (version 2) of ``entries``."""
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {VERSIONS[project]}\n"
        "# The remainder of this file is compressed using zlib.\n"
    ).encode()
    lines = "".join(f"{name} {role} 1 {uri} -\n" for name, role, uri in sorted(entries))
    return header + zlib.compress(lines.encode())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--download", action="store_true", help="fetch the full inventories from the projects' sites")
    args = parser.parse_args(argv)
    assert set(ENTRIES) == set(INTERSPHINX_URLS), sorted(set(ENTRIES) ^ set(INTERSPHINX_URLS))
    for project, url in INTERSPHINX_URLS.items():
        path = HERE / f"{project}.inv"
        if args.download:
            with urllib.request.urlopen(url + "objects.inv", timeout=30) as response:
                path.write_bytes(response.read())
        else:
            path.write_bytes(inventory(project, ENTRIES[project]))
        print(f"wrote {path.relative_to(HERE.parents[1])}")


if __name__ == "__main__":
    main()
