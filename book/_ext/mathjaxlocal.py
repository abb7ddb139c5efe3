"""Serve MathJax with the book instead of from a CDN.

Sphinx loads MathJax from jsDelivr by default, so the math of a page read offline (a downloaded HTML
copy, a machine without that network, the browser tests) stays raw TeX. This extension copies the
combined TeX component of MathJax 3 from the pinned PyPI package ``django-static-mathjax`` (pure
static files, no dependencies) into ``_static/mathjax/``, with its web fonts and TeX extensions, and
points ``mathjax_path`` at it.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

__version__ = "1.0"

BUNDLE = "tex-mml-chtml.js"
# what the combined component loads at run time, relative to its own folder
PARTS = ("output/chtml/fonts/woff-v2", "input/tex/extensions")


def mathjax_es5() -> Path:
    try:
        import mathjax  # django-static-mathjax
    except ImportError as exc:  # pragma: no cover - the package is pinned in requirements.txt
        raise ExtensionError(
            "mathjaxlocal: the package django-static-mathjax is not installed (see requirements.txt)"
        ) from exc
    es5 = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (es5 / BUNDLE).is_file():
        raise ExtensionError(f"mathjaxlocal: {es5 / BUNDLE} is missing from django-static-mathjax")
    return es5


def _config_inited(app: Sphinx, config) -> None:
    mathjax_es5()  # fail early, with the reason, when the package is missing
    config.mathjax_path = "mathjax/" + BUNDLE


def _builder_inited(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    es5 = mathjax_es5()
    target = Path(app.outdir) / "_static" / "mathjax"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(es5 / BUNDLE, target / BUNDLE)
    for part in PARTS:
        shutil.copytree(es5 / part, target / part, dirs_exist_ok=True)


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _config_inited)
    app.connect("builder-inited", _builder_inited)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
