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
"""
from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

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


def write_ipynb(md: Path) -> bool:
    """Write ``md``'s ``.ipynb`` twin (no outputs) with jupytext; True when the file changed."""
    import jupytext

    notebook = jupytext.read(md)
    # nbformat gives every cell a random id; a stable one keeps the committed file unchanged
    for index, cell in enumerate(notebook.cells):
        digest = hashlib.sha1(f"{cell.cell_type}\n{cell.source}".encode("utf-8")).hexdigest()[:8]
        cell["id"] = f"c{index:03d}-{digest}"
    text = jupytext.writes(notebook, fmt="ipynb")
    target = md.with_suffix(".ipynb")
    if target.exists() and target.read_text(encoding="utf-8") == text:
        return False
    target.write_text(text, encoding="utf-8")
    return True


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


def _builder_inited(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    changed = [md for md in notebook_pages(Path(app.srcdir)) if write_ipynb(md)]
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


def setup(app: Sphinx) -> dict:
    # Where `make pdf` leaves the PDFs (relative to the conf dir).
    app.add_config_value("readerview_pdf_dir", "_build/pdf", "html")
    app.connect("builder-inited", _builder_inited)
    app.connect("doctree-read", _restore_outputs)
    app.connect("html-page-context", _page_context)
    app.connect("build-finished", _build_finished)
    app.add_css_file("readerview.css")
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
