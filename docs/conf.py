"""Sphinx configuration of skgan_ad's documentation site.

Build it (from the repository root, after ``pip install -e ".[docs]"``)::

    python -m sphinx -W -b html docs docs/_build/html

The gallery runs the fast example scripts with tiny settings (see
``docs/_ext/skgan_ad_docs.py``); ``-D plot_gallery=0`` builds without running
any of them, ``SKGAN_AD_DOCS_EXAMPLES=all`` runs every script that needs no
downloaded data.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# Document this checkout (not whatever copy of skgan_ad another install put on sys.path), and find the helpers.
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")

import skgan_ad_docs  # noqa: E402

import skgan_ad  # noqa: E402

# -- Project ---------------------------------------------------------------------------------------------------------
project = "skgan_ad"
author = "the skgan_ad developers"
copyright = "the skgan_ad developers, BSD-3-Clause"
release = skgan_ad.__version__
version = ".".join(release.split(".")[:2])

# -- General ---------------------------------------------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "skgan_ad_docs",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "_intersphinx", "_ext", "auto_examples/*.ipynb", "auto_examples/*.py", "**.md5"]
default_role = "literal"  # `name` in a docstring is code, never a silent broken reference
nitpicky = True  # every cross-reference must resolve; -W turns a broken one into an error
suppress_warnings: list[str] = []

# -- Autodoc, autosummary, numpydoc ----------------------------------------------------------------------------------
autosummary_generate = True
autodoc_typehints = "none"  # numpydoc's "Parameters" sections give the types
autodoc_member_order = "groupwise"
autodoc_inherit_docstrings = True
numpydoc_show_class_members = False  # the autosummary class template lists the members
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = True  # parameter and return types link to their classes
numpydoc_xref_ignore = "all"  # ... only the names below; "of shape (n, d)" and the like stay text
numpydoc_xref_aliases = skgan_ad_docs.XREF_ALIASES

# -- Cross-references to other projects ------------------------------------------------------------------------------
# The inventories are read from docs/_intersphinx/ (no network needed; `python docs/_intersphinx/update.py` refreshes
# them from the projects' sites where these can be reached); the links point at the projects' own sites.
intersphinx_mapping = {
    name: (url, (str(DOCS / "_intersphinx" / f"{name}.inv"),)) for name, url in skgan_ad_docs.INTERSPHINX_URLS.items()
}
intersphinx_timeout = 10

# References that cannot resolve because their target is private or not documented by its own project; each one is
# listed where it comes from, so that it can be fixed at the source (see skgan_ad_docs.NITPICK_IGNORE).
nitpick_ignore = skgan_ad_docs.NITPICK_IGNORE
nitpick_ignore_regex = skgan_ad_docs.NITPICK_IGNORE_REGEX

# -- MyST (the user guide is Markdown) -------------------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]
myst_heading_anchors = 3

# -- Gallery ---------------------------------------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    # Only the scripts that run in seconds at tiny settings are executed; the others are shown with the output of
    # a stored run (in their docstrings).
    "filename_pattern": skgan_ad_docs.executed_examples_pattern(),
    "ignore_pattern": r"__init__\.py",
    "reset_argv": "skgan_ad_docs.reset_argv",
    "image_scrapers": ("skgan_ad_docs.saved_figures_scraper",),
    "reset_modules": ("matplotlib",),
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "show_signature": False,
    "capture_repr": (),
    "doc_module": ("skgan_ad",),
    "backreferences_dir": "api/generated/backreferences",
    "inspect_global_variables": False,
    "default_thumb_file": str(DOCS / "images" / "score_histogram.png"),
}

# -- HTML ------------------------------------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"skgan_ad {release}"
html_static_path: list[str] = []
html_show_sourcelink = False
html_theme_options = {"navigation_with_keys": True}
