"""Sphinx configuration: numpydoc API reference, Markdown pages, sphinx-gallery examples.

Build: python -m sphinx -W -b html docs docs/_build/html
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # sphinxext_quick
sys.path.insert(0, os.path.dirname(HERE))  # the checkout's skae, whatever is installed

import skae  # noqa: E402

project = "skae"
author = "skae developers"
release = version = skae.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "generated/*.examples"]
myst_heading_anchors = 3

autosummary_generate = True
autodoc_default_options = {
    "members": True,
    "inherited-members": False,
    # scikit-learn's metadata-routing methods, generated on every estimator;
    # their docstrings link into scikit-learn's own documentation.
    "exclude-members": "set_fit_request,set_partial_fit_request,set_score_request,"
    "set_transform_request,set_predict_request,get_metadata_routing",
}
numpydoc_show_class_members = False
numpydoc_validation_checks = set()  # numpydoc's style checks are ruff's and review's job
intersphinx_mapping = {}  # no network: links to other projects stay plain text

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "ignore_pattern": r"(^|[\\/])_[^\\/]*\.py$",  # helpers such as _image_pairs.py
    "filename_pattern": r"[\\/][^_][^\\/]*\.py$",  # run every example
    "reset_argv": "sphinxext_quick.quick_argv",
    "download_all_examples": False,
    "remove_config_comments": True,
}

html_theme = "alabaster"
html_title = "skae"


def _plain_glossary_terms(app, what, name, obj, options, lines):
    """Methods inherited from scikit-learn (a search's ``predict``...) cite its glossary,
    which is not part of these docs: show the term as code instead of a broken link."""
    lines[:] = [re.sub(r":term:`([^`<]+?)(?:\s*<[^>]+>)?`", r"``\1``", line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", _plain_glossary_terms)
