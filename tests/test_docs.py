"""The documentation site: it builds with warnings as errors, every public name has its API page, and the short
README keeps what a newcomer needs and points at pages that exist.

The build here leaves the gallery's scripts unexecuted (``-D plot_gallery=0``) to stay fast; ``.ci/run`` builds
the full site, running the fast examples at tiny settings. Without the ``docs`` extra the build tests are skipped,
as the ONNX tests are without ``onnx``.
"""

from __future__ import annotations

import importlib
import inspect
import re
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = (ROOT / "README.md").read_text(encoding="utf-8")

# Every module whose names users import; the names are its __all__ (callbacks has none: its public classes).
PUBLIC_MODULES = [
    "skgan_ad",
    "skgan_ad.base",
    "skgan_ad.datasets",
    "skgan_ad.metrics",
    "skgan_ad.model_selection",
    "skgan_ad.patches",
    "skgan_ad.plotting",
    "skgan_ad.io",
    "skgan_ad.export",
    "skgan_ad.callbacks",
    "skgan_ad.parallel",
    "skgan_ad.cli",
]


def public_names(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [
        name
        for name, obj in vars(module).items()
        if not name.startswith("_") and getattr(obj, "__module__", None) == module_name
    ]


def _core(obj):
    return inspect.unwrap(getattr(obj, "__func__", obj))


def _resolve(name: str):
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr, None)
        return obj
    return None


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    for extra in ("sphinx", "numpydoc", "sphinx_gallery", "myst_parser", "furo", "matplotlib"):
        pytest.importorskip(extra, reason="the docs extra: pip install -e '.[docs]'")
    out = tmp_path_factory.mktemp("site")
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-q",
        "-b",
        "html",
        "-D",
        "plot_gallery=0",
        "-d",
        str(out / "doctrees"),
        str(DOCS),
        str(out / "html"),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"sphinx -W failed:\n{done.stdout[-4000:]}\n{done.stderr[-8000:]}"
    return out / "html"


def test_the_site_builds_with_warnings_as_errors(site):
    for page in [
        "index",
        "install",
        "quick_start",
        "measured",
        "benchmarks",
        "user_guide/index",
        "api/index",
        "auto_examples/index",
    ]:
        assert (site / f"{page}.html").is_file(), page


def test_every_public_name_has_an_api_page(site):
    documented = {}  # name -> page, from the site's objects.inv (version 2: four header lines, then zlib)
    raw = (site / "objects.inv").read_bytes()
    body = zlib.decompress(raw.split(b"\n", 4)[4]).decode()
    for line in body.splitlines():
        name, role, _priority, uri, _title = re.match(r"(.+?)\s+(\S+:\S+)\s+(-?\d+)\s+(\S*)\s+(.*)", line).groups()
        if role.startswith("py:") and role != "py:module":
            uri = uri.replace("$", name) if uri.endswith("$") else uri
            documented[name] = uri.split("#")[0]
    missing = []
    for module in PUBLIC_MODULES:
        for name in public_names(module):
            obj = getattr(importlib.import_module(module), name)
            full = f"{module}.{name}"
            if full in documented:
                page = documented[full]
            else:  # a re-export, documented once where users import it from
                same = [doc for doc in documented if doc.split(".")[-1] == name and _core(_resolve(doc)) is _core(obj)]
                if not same:
                    missing.append(full)
                    continue
                page = documented[same[0]]
            # One page per name: the page of a class or function is its own, not its module's.
            assert (site / page).is_file(), (full, page)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                assert Path(page).stem.split(".")[-1] == name, (full, page)
    assert not missing, f"public names without an API page: {missing}"


def test_the_gallery_has_a_page_for_every_example(site):
    for script in sorted((ROOT / "examples").glob("*.py")):
        assert (site / "auto_examples" / f"{script.stem}.html").is_file(), script.name


# -- The README ------------------------------------------------------------------------------------------------------
def test_readme_is_short_and_keeps_the_set_up_commands():
    assert len(README.splitlines()) <= 200
    for command in [
        "python3 -m pip install torch==2.13.0",
        'python3 -m pip install -e ".[dev,onnx,distributed]"',
        "python3 -m pytest",  # .ci/run runs this one
        'python3 -m pip install -e ".[docs]"',
        "python3 -m sphinx -W -b html docs docs/_build/html",
    ]:
        assert command in README, command
    assert "| `SkipGANomalyDetector`" in README and "![" in README


def test_readme_links_point_at_files_that_exist():
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README)
    local = [link for link in links if "://" not in link]
    assert len(local) >= 10  # the user-guide pages, the API reference, the gallery, the measurements
    for link in local:
        assert (ROOT / link).exists(), link


def test_readme_sections_that_moved_live_in_the_docs():
    pages = "\n".join(p.read_text(encoding="utf-8") for p in DOCS.rglob("*.md") if "_build" not in p.parts)
    for heading in [
        "# Data",
        "# Sign conventions",
        "# Industrial images: patches and anomaly maps",
        "## Options from the survey, for every detector",
        "# One vocabulary for scores",
        "# Model selection and thresholds",
        "# Saving, loading and exporting",
        "# Command line",
        "# Figures",
        "# Long runs: divergence, Ctrl-C, resuming, memory",
        "# Scaling out",
        "# Measured",
        "# Changes",
        "# For contributors: layout",
    ]:
        assert re.search(rf"^{re.escape(heading)}$", pages, re.M), heading
