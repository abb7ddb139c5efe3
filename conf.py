"""The one Sphinx configuration of the book, for both languages and every builder.

Sphinx applies ``-D language=zh_CN`` *after* this file runs, so everything that depends on the
language is set in the ``config-inited`` hook at the bottom (see ``_per_language``).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))

# -- Project ------------------------------------------------------------------------------------
project = "Deep Learning on Yang"
author = "Yang"
copyright = "2026, Yang"
language = "en"

# -- Extensions ---------------------------------------------------------------------------------
extensions = [
    "myst_nb",  # loads myst_parser itself; listing both is an error
    "sphinxcontrib.bibtex",
    "sphinx_copybutton",
    "sphinx_design",
    "langswitch",
]
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
exclude_patterns = ["_build", "locales", "_ext", "**.ipynb_checkpoints", "jupyter_execute"]
templates_path = ["book/_templates"]  # relative to the conf dir
html_static_path = ["book/_static"]

# -- Execution: one cache for every builder and both languages -----------------------------------
nb_execution_mode = os.environ.get("NB_EXECUTION_MODE", "cache")
nb_execution_cache_path = str(ROOT / "_build" / ".jupyter_cache")
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

# -- Citations ----------------------------------------------------------------------------------
bibtex_bibfiles = ["references.bib"]  # relative to the conf dir
bibtex_default_style = "plain"
bibtex_reference_style = "author_year"

# -- Translation --------------------------------------------------------------------------------
locale_dirs = ["locales/"]  # relative to the source dir, book/
gettext_compact = False
gettext_uuid = False
gettext_location = False

# -- HTML ---------------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = project
html_baseurl = os.environ.get("READTHEDOCS_CANONICAL_URL", "")
html_last_updated_fmt = None
html_theme_options = {
    "repository_url": "https://github.com/yang-blog/deep-learning-book",
    "path_to_docs": "book",
    "repository_branch": "main",
    "use_repository_button": True,
    "use_download_button": True,
    "home_page_in_toc": True,
    "show_toc_level": 2,
}
html_sidebars = {
    "**": ["navbar-logo.html", "lang-switcher.html", "search-button-field.html", "sbt-sidebar-nav.html"]
}

# -- LaTeX --------------------------------------------------------------------------------------
latex_engine = "xelatex"
latex_use_xindy = False
latex_documents = [("index", "yangbook.tex", project, author, "manual")]
latex_elements = {"papersize": "a4paper", "pointsize": "10pt"}

# -- Per-language settings ----------------------------------------------------------------------
TITLES = {"en": "Deep Learning on Yang", "zh_CN": "Yang 的深度学习"}
AUTHORS = {"en": "Yang", "zh_CN": "Yang"}


def _per_language(app, config):
    lang = config.language or "en"
    if lang not in TITLES:
        raise ValueError(f"conf.py: unknown language {lang!r}; the book has {sorted(TITLES)}")
    config.project = TITLES[lang]
    config.html_title = TITLES[lang]
    config.latex_documents = [("index", "yangbook.tex", TITLES[lang], AUTHORS[lang], "manual")]


def _mystnb_css_first(app):
    """Copy myst-nb's CSS into the output before any page is written.

    myst-nb copies it only when the build finishes, so on a cold build the pages written last
    (search, genindex) link it without the ``?v=`` checksum that a rebuild adds; copying it first
    makes two builds in a row identical.
    """
    if app.builder.format == "html":
        from myst_nb.sphinx_ext import add_global_html_resources

        (Path(app.builder.outdir) / "_static").mkdir(parents=True, exist_ok=True)
        add_global_html_resources(app, None)


def _toc_changed_rewrites_all(app, env, added, changed, removed):
    """Re-read every page when the table of contents may have changed.

    Each page's sidebar holds the whole table of contents, but an incremental build rewrites only the
    pages that changed, so adding a chapter would leave stale sidebars on the others. Re-reading is
    cheap: notebooks come from the execution cache.
    """
    if added or removed or any(doc in env.toctree_includes for doc in changed):
        return sorted(env.found_docs)
    return []


def setup(app):
    app.connect("config-inited", _per_language, priority=400)
    app.connect("builder-inited", _mystnb_css_first)
    app.connect("env-get-outdated", _toc_changed_rewrites_all)


# -- RSS feeds (book/_ext/rss.py; every rss_* value is documented there) -------------------------
# The feeds need absolute links. On Read the Docs html_baseurl is the build's canonical URL, with
# its language and version path. A local build has no html_baseurl (langswitch then links the
# languages relatively), so its feeds link to the published book of the same language.
from langswitch import rtd_code  # noqa: E402

extensions.append("rss")
rss_base_url = html_baseurl or {
    lang: f"https://deep-learning-on-yang.readthedocs.io/{rtd_code(lang)}/latest/" for lang in TITLES
}
rss_feed_length = 20
rss_full_text = False
rss_tags = None  # a feed for every tag of a dated page
# -- end of RSS feeds ---------------------------------------------------------------------------
