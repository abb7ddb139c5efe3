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


def _language_from_rtd() -> str:
    """The language when no ``-D language`` is given: Read the Docs' project language, or English.

    Read the Docs exports READTHEDOCS_LANGUAGE in its own spelling (``en``, ``zh-cn``); a ``-D
    language=...`` on the command line is applied after this file and wins.
    """
    code = os.environ.get("READTHEDOCS_LANGUAGE", "en").strip().lower()
    sphinx_codes = {"en": "en", "zh-cn": "zh_CN"}
    if code not in sphinx_codes:
        raise ValueError(f"conf.py: READTHEDOCS_LANGUAGE={code!r} is not one of {sorted(sphinx_codes)}")
    return sphinx_codes[code]


language = _language_from_rtd()

# -- Extensions ---------------------------------------------------------------------------------
extensions = [
    "myst_nb",  # loads myst_parser itself; listing both is an error
    "sphinxcontrib.bibtex",
    "sphinx_copybutton",
    "sphinx_design",
    "langswitch",
    "pdfbook",  # LaTeX only: preface, parts, one chapter per page (book/_ext/pdfbook.py)
    "readerview",  # HTML: Download-PDF link, .ipynb twins of the notebook pages for Colab
    "mathjaxlocal",  # HTML: MathJax served from _static, not a CDN (book/_ext/mathjaxlocal.py)
    "searchfix",  # HTML: Sphinx 9.0's zh search names a JS stemmer that does not exist
    "gluei18n",  # myst-nb glue roles inside translated messages (book/_ext/gluei18n.py)
    "glossary",  # HTML zh: the search keeps the glossary's terms whole (book/_ext/glossary.py)
    "uistrings",  # HTML: the themes' interface in the page's language (book/_ext/uistrings.py)
    "zhnotebooks",  # HTML zh: the downloads and the Colab notebook in Chinese (book/_ext/zhnotebooks.py)
    "claims",  # a sentence this machine's numbers do not bear out: a note on its page (book/_ext/claims.py)
    "codecells",  # HTML: long exported cells and cells that only show something are folded, with a summary
    "tables",  # tables of results: labels translated from _ext/tables.po, outputs out of the page catalogues
    "contents",  # HTML: the landing page lists every chapter with its one-line description
    "notfound.extension",  # HTML: 404.html from book/404.md, with absolute links (sphinx-notfound-page)
]
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
# **.ipynb: the .ipynb twins that readerview writes next to the pages for Colab are not pages.
exclude_patterns = ["_build", "locales", "_ext", "**.ipynb_checkpoints", "jupyter_execute", "**.ipynb"]
templates_path = ["book/_templates"]  # relative to the conf dir
html_static_path = ["book/_static"]

# -- Execution: one cache for every builder and both languages -----------------------------------
nb_execution_mode = os.environ.get("NB_EXECUTION_MODE", "cache")
# YANGBOOK_CACHE: another cache for another build (make check-claims builds "another machine" beside it)
nb_execution_cache_path = os.environ.get("YANGBOOK_CACHE") or str(ROOT / "_build" / ".jupyter_cache")
# Trained detectors that several pages share (yangbook.deepfake.train.trained), next to the execution
# cache, so that a clean build starts with both empty; the kernels inherit this environment.
os.environ.setdefault("YANGBOOK_STORE", str(ROOT / "_build" / "store"))
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
# Anything a cell writes to stderr (a warning, a findfont or missing-glyph message) fails the build:
# a page must not carry noise, and a figure must not silently draw boxes for missing characters.
nb_output_stderr = "error"
# A results table (yangbook.utils.Table) is MyST Markdown with its labels as a {tr} role (book/_ext/
# tables.py); it also carries HTML for notebooks, but the book's HTML takes the Markdown, which the
# LaTeX builder takes as well, so both get a real, translated table.
nb_render_markdown_format = "myst"
nb_mime_priority_overrides = [
    (builder, "text/markdown", 25) for builder in ("html", "dirhtml", "singlehtml", "epub")
]

# Figures carry numbered captions ({glue:figure}); their labels are set per language in _per_language.
numfig = True

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
    # Colab opens the page's .ipynb twin on GitHub (written by book/_ext/readerview.py).
    "launch_buttons": {"colab_url": "https://colab.research.google.com"},
}
# pydata-sphinx-theme logs a console error on a first visit unless the default mode is named.
html_context = {"default_mode": "auto"}
html_sidebars = {
    "**": ["navbar-logo.html", "lang-switcher.html", "pdf-download.html", "sbt-sidebar-nav.html"]
}

# -- LaTeX --------------------------------------------------------------------------------------
# xelatex + latexmk; `make pdf-deps` installs the TeX set (Debian: texlive-xetex, latexmk, FreeFont,
# Noto CJK, texlive-fonts-recommended). The Chinese preamble is set in `_per_language` below.
latex_engine = "xelatex"
latex_use_xindy = False
latex_documents = [("index", "yangbook.tex", project, author, "manual")]
latex_show_urls = "no"
pdfbook_backmatter = ["references"]  # its citations form the last chapter, titled \bibname
LATEX_FONTS_FREEFONT = r"""
\setmainfont{FreeSerif}[Extension=.otf, UprightFont=*, ItalicFont=*Italic, BoldFont=*Bold,
  BoldItalicFont=*BoldItalic]
\setsansfont{FreeSans}[Extension=.otf, UprightFont=*, ItalicFont=*Oblique, BoldFont=*Bold,
  BoldItalicFont=*BoldOblique]
\setmonofont{FreeMono}[Scale=0.9, Extension=.otf, UprightFont=*, ItalicFont=*Oblique,
  BoldFont=*Bold, BoldItalicFont=*BoldOblique]
"""
# Both editions: Latin in FreeFont (Sphinx's xelatex default; it has the Č, Ł, Š of cited authors'
# names, which Noto CJK lacks), Chinese in Noto CJK SC through xeCJK, so that Chinese in the English
# edition (a translation example, an output) is set too. Naming every CJK face matters: where one is
# missing xeCJK falls back to Fandol, whose embedded fonts cannot be copied or searched.
LATEX_ELEMENTS_COMMON = {
    "papersize": "a4paper",
    "pointsize": "10pt",
    # Long code lines wrap, even inside a long word, instead of running off the page.
    "sphinxsetup": "verbatimforcewraps=true, verbatimmaxunderfull=2",
    "fontenc": r"\usepackage{xeCJK}",
    "fontpkg": LATEX_FONTS_FREEFONT + r"""
\setCJKmainfont{Noto Serif CJK SC}[BoldFont={Noto Serif CJK SC Bold}, ItalicFont={Noto Serif CJK SC}]
\setCJKsansfont{Noto Sans CJK SC}[BoldFont={Noto Sans CJK SC Bold}, ItalicFont={Noto Sans CJK SC}]
\setCJKmonofont{Noto Sans Mono CJK SC}[BoldFont={Noto Sans Mono CJK SC Bold}, ItalicFont={Noto Sans Mono CJK SC}]
""",
    # xeCJK must not add spaces inside verbatim (code) blocks
    "fvset": r"\fvset{fontsize=\small,formatcom=\xeCJKVerbAddon}",
}
LATEX_ELEMENTS_EN = {
    **LATEX_ELEMENTS_COMMON,
    "preamble": r"""
\addto\captionsenglish{\renewcommand{\bibname}{References}}
% xeCJK counts curly quotes, dashes and the ellipsis as CJK (full width); in English they are Latin.
\xeCJKDeclareCharClass{Default}{"00B7, "2010 -> "2015, "2018, "2019, "201C, "201D, "2026}
""",
}
latex_elements = dict(LATEX_ELEMENTS_EN)

# The Chinese edition adds Chinese chrome: 第 N 章, 目录, 参考文献 (Sphinx falls back to babel's
# English for zh, and its own catalogue already gives 图/表 for figure and table captions).
LATEX_ELEMENTS_ZH = {
    **LATEX_ELEMENTS_COMMON,
    "fncychap": "",  # the chapter heading is set below, as 第 N 章
    "preamble": r"""
\makeatletter
% Running heads read "第 N 章 Title" (Sphinx's page style uses \@chappos, as for Japanese); the space
% after 章 is explicit, since xeCJK drops an ordinary space between two Chinese characters.
\def\@chappos{章\hspace{1em}}
\makeatother
\addto\captionsenglish{%
  \renewcommand{\chaptername}{第}%
  \renewcommand{\contentsname}{目录}%
  \renewcommand{\bibname}{参考文献}%
  \renewcommand{\indexname}{索引}%
  \renewcommand{\appendixname}{附录}%
  \renewcommand{\partname}{部分}}
\titleformat{\chapter}[display]{\normalfont\sffamily\bfseries}%
  {\Large 第\,\thechapter\,章}{12pt}{\Huge}
\titlespacing*{\chapter}{0pt}{0pt}{24pt}
""",
}

# -- Per-language settings ----------------------------------------------------------------------
TITLES = {"en": "Deep Learning on Yang", "zh_CN": "Yang 的深度学习"}
AUTHORS = {"en": "Yang", "zh_CN": "Yang"}


def _per_language(app, config):
    lang = config.language or "en"
    if lang not in TITLES:
        raise ValueError(f"conf.py: unknown language {lang!r}; the book has {sorted(TITLES)}")
    config.project = TITLES[lang]
    # the date on the PDF's title page, without leading zeros: "December 1, 2026", "2026 年 12 月 1 日"
    config.today_fmt = {"en": "%B %-d, %Y", "zh_CN": "%Y 年 %-m 月 %-d 日"}[lang]
    config.html_title = TITLES[lang]
    config.numfig_format = {"en": {"figure": "Figure %s", "table": "Table %s", "code-block": "Listing %s"},
                            "zh_CN": {"figure": "图 %s", "table": "表 %s", "code-block": "代码 %s"}}[lang]
    # 404.html is served for any missing address, so its links are absolute: under the language's
    # folder of _build/html locally, under /<language>/<version>/ on Read the Docs (its canonical URL).
    if not os.environ.get("READTHEDOCS_CANONICAL_URL"):
        config.notfound_urls_prefix = f"/{lang}/"
    config.latex_documents = [("index", "yangbook.tex", TITLES[lang], AUTHORS[lang], "manual")]
    if lang == "zh_CN":
        config.latex_elements = dict(LATEX_ELEMENTS_ZH)


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
# Every chapter page is dated (when it was first published in the book) and tagged by part
# (transformer, deepfake-detection, getting-started, appendix); the two Part pages keep the blog's
# dates and its deep-learning tag, so that tag's feed continues the blog's. Items carry the whole page.
rss_feed_length = None  # every dated page: the feed carries the book
rss_full_text = True
rss_tags = None  # a feed for every tag of a dated page
# Each tag's channel is named as the blog names its tag feeds ("Deep Learning on Yang"); translated in
# locales/zh_CN/LC_MESSAGES/_ext/rss.po ("Yang 的深度学习").
rss_tag_names = {"deep-learning": "Deep Learning", "getting-started": "Getting Started",
                 "transformer": "Transformer", "deepfake-detection": "Deepfake Detection",
                 "appendix": "Appendix"}
rss_tag_title = "{tag} on Yang"
# -- end of RSS feeds ---------------------------------------------------------------------------
