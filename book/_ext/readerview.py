"""The reader's extras on every HTML page: the book as a PDF, and each notebook as a real ``.ipynb``.

* **Download PDF.** Every page links to the PDF of its language. On Read the Docs (``html_baseurl`` is
  the canonical URL ``https://host/<lang>/<version>/``) the link is Read the Docs' own download URL
  ``https://host/_/downloads/<lang>/<version>/pdf/``. In a local build it is ``yangbook-<lang>.pdf``
  at the root of the HTML output: ``make pdf`` copies the PDF there, and so does every HTML build
  when ``_build/pdf/`` already holds one.
* **.ipynb for Colab.** The pages are MyST Markdown notebooks; Colab opens only ``.ipynb`` files, and
  sphinx-book-theme links a page to Colab as ``.ipynb`` only when a file of that name sits next to the
  ``.md``. At the start of every build this extension writes ``book/<page>.ipynb`` (no outputs) from
  each notebook page with jupytext, when its content changed. The files are committed, so the links
  resolve on GitHub; ``exclude_patterns`` keeps Sphinx from reading them as pages. The download menu's
  ``.ipynb`` is the executed notebook, outputs included (the theme copies it from ``jupyter_execute``).
* **The 404 page.** sphinx-notfound-page writes ``404.html`` from ``book/404.md`` with absolute links to
  the theme's files, but the links that the book's own extensions and the page's text add (the feeds,
  the language switch, the PDF, the page's links) stay relative, and a server shows the 404 page at any
  depth. When the build finishes they are made absolute under ``notfound_urls_prefix`` too.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path
from urllib.parse import urljoin

from sphinx.application import Sphinx
from sphinx.util import logging

from langswitch import rtd_code

__version__ = "1.0"
logger = logging.getLogger(__name__)

# The link's text, per language (the theme's catalogues have no such string).
LABELS = {"en": "Download PDF", "zh_CN": "下载 PDF"}
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)


def pdf_filename(lang: str) -> str:
    return f"yangbook-{lang}.pdf"


def pdf_download_url(baseurl: str, lang: str) -> str | None:
    """Read the Docs' PDF download URL for a canonical URL ``https://host[/sub]/<lang>/<version>/``.

    Returns None when ``baseurl`` is empty (a local build). Raises ValueError for a URL that does not
    have the Read the Docs shape, naming it.
    """
    if not baseurl:
        return None
    code = rtd_code(lang)
    match = re.fullmatch(rf"(https?://[^/]+(?:/.*?)?)/{re.escape(code)}/([^/]+)/?", baseurl)
    if match is None:
        raise ValueError(
            f"readerview: html_baseurl {baseurl!r} is not a Read the Docs canonical URL of the form "
            f"https://host/{code}/<version>/; cannot derive the PDF download URL"
        )
    host, version = match.groups()
    return f"{host}/_/downloads/{code}/{version}/pdf/"


def is_notebook_page(path: Path) -> bool:
    """A MyST page that is a notebook: its front matter names a kernelspec (as jupytext writes it)."""
    match = _FRONT_MATTER.match(path.read_text(encoding="utf-8"))
    return bool(match) and re.search(r"^kernelspec:", match.group(1), re.M) is not None


def notebook_pages(srcdir: Path) -> list[Path]:
    return sorted(
        p for p in srcdir.rglob("*.md")
        if not any(part.startswith(("_", ".")) or part == "locales" for part in p.relative_to(srcdir).parts[:-1])
        and is_notebook_page(p)
    )


def twin_notebook(md: Path):
    """``md`` as a notebook without outputs (jupytext), with stable cell ids."""
    import jupytext

    notebook = jupytext.read(md)
    # nbformat gives every cell a random id; a stable one keeps the committed file unchanged
    for index, cell in enumerate(notebook.cells):
        digest = hashlib.sha1(f"{cell.cell_type}\n{cell.source}".encode("utf-8")).hexdigest()[:8]
        cell["id"] = f"c{index:03d}-{digest}"
    return notebook


def write_ipynb(md: Path, values: dict[str, str] | None = None) -> bool:
    """Write ``md``'s ``.ipynb`` twin (no outputs, the glued ``values`` pasted into its prose); True
    when the file changed."""
    import jupytext

    notebook = twin_notebook(md)
    paste_notebook(notebook, values or {})
    text = jupytext.writes(notebook, fmt="ipynb")
    target = md.with_suffix(".ipynb")
    if target.exists() and target.read_text(encoding="utf-8") == text:
        return False
    target.write_text(text, encoding="utf-8")
    return True


# -- glued values in the notebooks a reader takes away ------------------------------------------
# The prose quotes the build's numbers through myst-nb's glue role, {glue:text}`key` (or `key:fmt`).
# Sphinx pastes them into the HTML; a notebook file (the download, the Colab twin) would show the raw
# role. These functions paste the values of the executed notebook into its markdown cells instead.
_GLUE_ROLE = re.compile(r"\{glue:text\}`([^`]+)`")


def glue_values(notebook) -> dict[str, str]:
    """``{key: text/plain}`` of every value that an executed notebook's cells glued."""
    values = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            meta = output.get("metadata", {}).get("scrapbook")
            if not meta:
                continue
            prefix = meta.get("mime_prefix", "")
            data = {k[len(prefix):]: v for k, v in output.get("data", {}).items()}
            if "text/plain" in data:
                values[meta["name"]] = data["text/plain"]
    return values


def paste_glue(text: str, values: dict[str, str]) -> str:
    """``text`` with each ``{glue:text}`key[:fmt]``` whose key has a value replaced by the value,
    formatted as myst-nb formats it; a role without a value is left as it is."""
    from myst_nb.core.variables import format_plain_text

    def paste(m: re.Match) -> str:
        key, _, fmt = m.group(1).rpartition(":") if ":" in m.group(1) else (m.group(1), "", "")
        if key not in values:
            return m.group(0)
        try:
            return format_plain_text(values[key], fmt)
        except (ValueError, TypeError):
            return m.group(0)
    return _GLUE_ROLE.sub(paste, text)


def paste_notebook(notebook, values: dict[str, str]) -> None:
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and values:
            cell.source = paste_glue(cell.source, values)


def cached_values(app: Sphinx, md: Path) -> dict[str, str]:
    """The glued values of ``md``'s executed notebook in the execution cache (empty when it is not
    there: execution off, a cold cache before the page ran, a page that failed)."""
    from jupyter_cache import get_cache

    if app.config.nb_execution_mode != "cache":
        return {}
    try:
        _, merged = get_cache(app.config.nb_execution_cache_path).merge_match_into_notebook(twin_notebook(md))
    except KeyError:
        return {}
    return glue_values(merged)


def _restore_outputs(app: Sphinx, doctree) -> None:
    """Put the cached outputs into ``jupyter_execute/<page>.ipynb`` (see the module docstring)."""
    if app.builder.format != "html" or app.config.nb_execution_mode != "cache":
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / (app.env.docname + ".ipynb")
    if not executed.exists():
        return
    import nbformat
    from jupyter_cache import get_cache

    notebook = nbformat.read(executed, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    if not code or any(cell.get("outputs") for cell in code):
        return
    try:
        _, merged = get_cache(app.config.nb_execution_cache_path).merge_match_into_notebook(notebook)
    except KeyError:  # not in the cache (it failed, or execution is excluded): leave it
        return
    nbformat.write(merged, executed)


def writes_twins() -> bool:
    """Whether this build writes the committed ``.ipynb`` twins in the source tree: not a build with its
    own execution cache (``make check-claims``, "another machine"), whose values are not the edition's."""
    return not os.environ.get("YANGBOOK_CACHE")


def _builder_inited(app: Sphinx) -> None:
    if app.builder.format != "html" or not writes_twins():
        return
    changed = [md for md in notebook_pages(Path(app.srcdir)) if write_ipynb(md, cached_values(app, md))]
    if changed:
        logger.info("readerview: wrote %d .ipynb twin(s) for Colab", len(changed))


def _local_pdf(app: Sphinx) -> Path:
    return Path(app.confdir) / app.config.readerview_pdf_dir / pdf_filename(app.config.language or "en")


def _page_context(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    lang = app.config.language or "en"
    url = pdf_download_url(app.config.html_baseurl, lang)
    if url is None:
        url = "../" * pagename.count("/") + pdf_filename(lang)
    context["pdf_download_url"] = url
    context["pdf_download_label"] = LABELS.get(lang, LABELS["en"])


def _build_finished(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    pdf = _local_pdf(app)
    if pdf.exists():
        shutil.copy2(pdf, Path(app.outdir) / pdf.name)
    # The twins again, now that every page has run (a cold build starts with an empty cache), and the
    # English downloads with the values pasted; the Chinese ones are translated first (zhnotebooks).
    src = Path(app.srcdir)
    for md in notebook_pages(src):
        values = cached_values(app, md)
        if writes_twins():
            write_ipynb(md, values)
        if (app.config.language or "en").startswith("zh"):
            continue
        paste_download(Path(app.outdir) / "_sources" / md.relative_to(src), values)


def paste_download(source: Path, values: dict[str, str]) -> None:
    """The download menu's ``_sources/<page>.md`` and ``.ipynb`` with the glued values pasted."""
    import nbformat

    if source.exists():
        text = source.read_text(encoding="utf-8")
        pasted = paste_glue(text, values)
        if pasted != text:
            source.write_text(pasted, encoding="utf-8")
    executed = source.with_suffix(".ipynb")
    if executed.exists():
        notebook = nbformat.read(executed, as_version=4)
        paste_notebook(notebook, values)
        nbformat.write(notebook, executed)


_LINK = re.compile(r'\b(href|src)="([^"]*)"')
_ABSOLUTE = ("/", "#", "http:", "https:", "mailto:", "data:", "javascript:")


def _absolute_404(app: Sphinx, exception) -> None:
    """build-finished: every relative link of ``404.html`` made absolute under the 404 prefix."""
    if exception is not None or app.builder.format != "html":
        return
    prefix = getattr(app.config, "notfound_urls_prefix", None)
    page = Path(app.outdir) / f"{getattr(app.config, 'notfound_pagename', '404')}.html"
    if not prefix or not page.exists():
        return
    text = page.read_text(encoding="utf-8")

    def absolute(m: re.Match) -> str:
        target = m.group(2)
        return m.group(0) if target.startswith(_ABSOLUTE) else f'{m.group(1)}="{urljoin(prefix, target)}"'

    fixed = _LINK.sub(absolute, text)
    if fixed != text:
        page.write_text(fixed, encoding="utf-8")


def setup(app: Sphinx) -> dict:
    # Where `make pdf` leaves the PDFs (relative to the conf dir).
    app.add_config_value("readerview_pdf_dir", "_build/pdf", "html")
    app.connect("builder-inited", _builder_inited)
    app.connect("doctree-read", _restore_outputs)
    app.connect("html-page-context", _page_context)
    app.connect("build-finished", _build_finished)
    app.connect("build-finished", _absolute_404)
    app.add_css_file("readerview.css")
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
