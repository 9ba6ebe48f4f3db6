"""Helpers of skgan_ad's Sphinx build: the gallery's tiny settings, its figure scraper, cross-reference aliases.

Kept in a module (not in conf.py) so that sphinx-gallery can name them by their dotted path and Sphinx can pickle
its configuration.
"""

from __future__ import annotations

import importlib
import inspect
import os
import shutil
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1]
ROOT = DOCS.parent

# -- The gallery -----------------------------------------------------------------------------------------------------
# Where an executed example writes its figures (its --figure / --output option points here); the scraper below puts
# every PNG found there into the example's page.
FIGURES = Path(tempfile.gettempdir()) / "skgan_ad_docs_figures"

# Each script's command line under the docs build: the quick checks of the scripts' own docstrings (the settings
# tests/test_examples.py runs), figures into FIGURES/<script>/.  What the scripts compute is unchanged; only the
# size of the run is.
TINY_ARGV = {
    "digits_demo": [
        "--classes",
        "1",
        "--epochs",
        "1",
        "--width",
        "4",
        "--detectors",
        "SkipGANomaly",
        "--figure",
        "{out}/digits_demo.png",
    ],
    "plot_gallery": ["--epochs", "1", "--width", "4", "--embedding", "pca", "--output", "{out}"],
    # No data root: the script's fallbacks (scikit-learn's digits, random textures), the same on every machine.
    "synthetic_defects": ["--data-root", "{out}/no-data", "--output", "{out}/synthetic_defects.png"],
    "distributed_fit": ["--epochs", "1", "--width", "4", "--max-train", "100"],
    "dask_grid_search": ["--epochs", "1", "--width", "4", "--max-train", "120", "--in-process"],
    "grid_search": ["--epochs", "1", "--width", "4"],
    "threshold": ["--epochs", "1", "--width", "4"],
}
# Executed by every docs build (seconds each at the settings above). grid_search and threshold take minutes even at
# their smallest settings, and elpv_solar_cells needs the ELPV data: their pages show a stored run's output.
EXECUTED = ("digits_demo", "plot_gallery", "synthetic_defects", "distributed_fit", "dask_grid_search")
# SKGAN_AD_DOCS_EXAMPLES=all also runs the slow ones (never elpv_solar_cells, whose data is not downloaded).
ALL_EXECUTABLE = (*EXECUTED, "grid_search", "threshold")


def executed_examples_pattern() -> str:
    """sphinx-gallery's ``filename_pattern``: the scripts to run in this build."""
    names = ALL_EXECUTABLE if os.environ.get("SKGAN_AD_DOCS_EXAMPLES", "").lower() == "all" else EXECUTED
    return r"[\\/](" + "|".join(names) + r")\.py$"


def reset_argv(gallery_conf, script_vars) -> list[str]:
    """The command-line options an example runs with under the docs build (its output folder emptied first)."""
    stem = Path(script_vars["src_file"]).stem
    # sphinx-gallery leaves __file__ undefined; a script that finds its data beside itself (synthetic_defects.py)
    # gets its real path, as under ``python examples/<name>.py``.
    script_vars["example_globals"]["__file__"] = str(script_vars["src_file"])
    out = FIGURES / stem
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    return [arg.replace("{out}", str(out)) for arg in TINY_ARGV.get(stem, [])]


_scraped: set[tuple[str, float]] = set()


def saved_figures_scraper(block, block_vars, gallery_conf, **kwargs) -> str:
    """Put the PNG files an example wrote (to the folder of :func:`reset_argv`) into its page, in the order written.

    The scripts save their figures and close them, as a user's script would, so matplotlib's own scraper would find
    nothing; their files are the figures.
    """
    from sphinx_gallery.scrapers import figure_rst

    folder = FIGURES / Path(block_vars["src_file"]).stem
    new = [p for p in folder.rglob("*.png") if (str(p), p.stat().st_mtime) not in _scraped] if folder.is_dir() else []
    new.sort(key=lambda p: (p.stat().st_mtime, p.name))
    images = []
    for path, image_path in zip(new, block_vars["image_path_iterator"]):
        _scraped.add((str(path), path.stat().st_mtime))
        shutil.copyfile(path, image_path)
        images.append(image_path)
    return figure_rst(images, gallery_conf["src_dir"])


# -- Cross-references ------------------------------------------------------------------------------------------------
INTERSPHINX_URLS = {
    "python": "https://docs.python.org/3/",
    "numpy": "https://numpy.org/doc/stable/",
    "scipy": "https://docs.scipy.org/doc/scipy/",
    "sklearn": "https://scikit-learn.org/stable/",
    "torch": "https://docs.pytorch.org/docs/stable/",
    "skorch": "https://skorch.readthedocs.io/en/stable/",
    "joblib": "https://joblib.readthedocs.io/en/stable/",
    "matplotlib": "https://matplotlib.org/stable/",
    "dask": "https://docs.dask.org/en/stable/",
    "distributed": "https://distributed.dask.org/en/stable/",
    "onnxruntime": "https://onnxruntime.ai/docs/api/python/",
}

# Words of numpydoc type specifications ("array-like of shape (n, d)") that link to a class; numpydoc adds its own
# defaults (int, str, ndarray, array-like, ...).
XREF_ALIASES = {
    "estimator": ":term:`sklearn:estimator`",
    "Generator": "numpy.random.Generator",
    "path-like": ":term:`python:path-like object`",
    "PathLike": "os.PathLike",
    "Tensor": "torch.Tensor",
    "torch.Tensor": "torch.Tensor",
    "Module": "torch.nn.Module",
    "nn.Module": "torch.nn.Module",
    "torch.nn.Module": "torch.nn.Module",
    "Axes": "matplotlib.axes.Axes",
    "matplotlib.axes.Axes": "matplotlib.axes.Axes",
    "Figure": "matplotlib.figure.Figure",
    "matplotlib.figure.Figure": "matplotlib.figure.Figure",
    "Memory": "joblib.Memory",
    "joblib.Memory": "joblib.Memory",
    "Client": "distributed.Client",
    "Path": "pathlib.Path",
    "pathlib.Path": "pathlib.Path",
    "RandomState": "numpy.random.RandomState",
    "AnomalySplit": "skgan_ad.datasets.AnomalySplit",
    "ImageFiles": "skgan_ad.datasets.ImageFiles",
    "BaseGANDetector": "skgan_ad.BaseGANDetector",
    "PatchDetector": "skgan_ad.PatchDetector",
}

# (role, target) pairs that cannot resolve, each with where it comes from: none today. Fix a new one at the source
# (a private helper is named as a literal, not linked) rather than adding it here.
NITPICK_IGNORE: list[tuple[str, str]] = []
NITPICK_IGNORE_REGEX: list[tuple[str, str]] = []


def _import(name: str):
    """The object a dotted name ``skgan_ad....`` refers to, or None."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except Exception:  # noqa: BLE001 - any failure: not a module prefix
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _is_referable(obj) -> bool:
    # Identity of small constants (ints, strings) says nothing about where they are documented.
    return callable(obj) or isinstance(obj, type) or hasattr(obj, "__wrapped__")


def _same(a, b) -> bool:
    """The same object, seen through bound methods and wrappers (scikit-learn's ``available_if`` makes a new
    function at every attribute access)."""

    def core(obj):
        return inspect.unwrap(getattr(obj, "__func__", obj))

    return a is b or core(a) is core(b)


def resolve_alias(app, env, node, contnode):
    """Resolve ``skgan_ad.io.save`` where the object is documented as ``skgan_ad.save`` (a re-export), and back.

    Public names are documented once, where users import them from; docstrings may name the module that defines
    them, or a name of their own module (``:func:`save``` in ``skgan_ad.io``). Only the same object is accepted, so
    a misspelt name still fails the build.
    """
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "").lstrip("~.")
    if target.startswith("skgan_ad."):
        names = [target]
    else:
        module, cls = node.get("py:module"), node.get("py:class")
        if not module or not module.startswith("skgan_ad"):
            return None
        names = ([f"{module}.{cls}.{target}"] if cls else []) + [f"{module}.{target}"]
        home = getattr(_import(f"{module}.{cls}"), "__module__", None) if cls else None
        if home and home != module:  # a re-exported class's docstring names its own module's functions
            names.append(f"{home}.{target}")
    for name in names:
        obj = _import(name)
        if obj is not None and _is_referable(obj):
            break
    else:
        return None
    domain = env.get_domain("py")
    tail = target.split(".")[-1]
    candidates = sorted(
        (
            doc
            for doc, entry in domain.objects.items()
            if doc.split(".")[-1] == tail and not getattr(entry, "aliased", False)
        ),
        key=len,
    )
    for doc in candidates:
        if doc != target and _same(_import(doc), obj):
            new = node.deepcopy()
            new["reftarget"] = doc
            return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], doc, new, contnode)
    return None


def setup(app):
    app.connect("missing-reference", resolve_alias)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
