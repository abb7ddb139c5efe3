"""The Chinese edition's notebooks in Chinese: its downloads and its Colab link carry the translated prose.

The pages are translated by gettext: Sphinx replaces each paragraph, heading, list item and table cell of
the English source by its ``msgstr`` from ``book/locales/zh_CN/LC_MESSAGES/<page>.po`` while it builds
the HTML. The notebooks a reader takes away (the ``.md`` source and the executed ``.ipynb`` of the
download menu, and the ``.ipynb`` that Colab opens from GitHub) are files, not HTML, and would stay
English. This extension writes them in Chinese from the same catalogues, block by block:

* a markdown cell is cut into blocks (headings, paragraphs, list items, table cells); a block whose text,
  with its lines joined as Sphinx joins them, is a ``msgid`` of the page's catalogue is replaced by its
  ``msgstr``; markup that gettext does not see (the ``#`` of a heading, a list's bullet and indent, a
  table's bars) is kept; code cells, directives' fences and everything not in the catalogue stay as
  they are, so the code is shared by both editions;
* at the start of a Chinese HTML build, ``book/locales/zh_CN/notebooks/<page>.ipynb`` (no outputs,
  stable cell ids) is written for every notebook page when its content changed; the files are
  committed, so the Colab link, which this extension points there, resolves on GitHub;
* at the end of the build, the download menu's ``_sources/<page>.md`` and ``_sources/<page>.ipynb``
  (the executed notebook, outputs kept) are rewritten in Chinese in the output folder.
"""
from __future__ import annotations

import re
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

__version__ = "1.0"
logger = logging.getLogger(__name__)

ZH = "zh_CN"
NOTEBOOK_DIR = Path("locales") / ZH / "notebooks"     # relative to the book's source folder

_HEADING = re.compile(r"^(#{1,6}\s+)(.*)$")
_ITEM = re.compile(r"^(\s*(?:[*+-]|\d+[.)])\s+)(.*)$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_DIRECTIVE = re.compile(r"^\s*(?::::|:[a-z][a-z-]*:(?:\s|$))")
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)


def load_catalog(po_path: Path) -> dict[str, str]:
    """``{msgid: msgstr}`` of the translated, non-fuzzy entries of a ``.po`` file (empty if it is missing)."""
    if not po_path.is_file():
        return {}
    import polib

    return {e.msgid: e.msgstr for e in polib.pofile(str(po_path))
            if e.msgstr and not e.obsolete and "fuzzy" not in e.flags}


def _lookup(lines: list[str], catalog: dict[str, str]) -> str | None:
    text = " ".join(line.strip() for line in lines).strip()
    return catalog.get(text)


def _translate_math(block: list[str], catalog: dict[str, str]) -> list[str] | None:
    """A ``$$ ... $$`` block whose formula (its lines kept) is a msgid (a ``\\text{}`` to translate)."""
    one = block[0].strip()
    if len(block) == 1 and len(one) > 4 and one.startswith("$$") and one.endswith("$$"):   # $$ ... $$ on one line
        found = catalog.get(one[2:-2].strip())
        return None if found is None else ["$$" + found + "$$"]
    if len(block) < 3 or block[0].strip() != "$$" or not block[-1].strip().startswith("$$"):
        return None
    found = catalog.get("\n".join(block[1:-1]).strip())
    return None if found is None else [block[0], *found.split("\n"), block[-1]]


def translate_markdown(text: str, catalog: dict[str, str]) -> tuple[str, int, int]:
    """The markdown ``text`` with every block found in ``catalog`` translated.

    Returns the new text, the number of prose blocks seen and the number translated.
    """
    out: list[str] = []
    seen = done = 0
    lines = text.split("\n")
    i, in_fence, fence = 0, False, ""

    def flush(block: list[str], prefix: str = "", indent: str = "") -> None:
        nonlocal seen, done
        if not block:
            return
        seen += 1
        if block[0].strip().startswith("$$"):    # display math: translated only where a msgid has it
            math = _translate_math(block, catalog)
            done += math is not None
            out.extend(math if math is not None else block)
            return
        found = _lookup(block, catalog)
        if found is None:
            out.extend(([prefix + block[0].lstrip()] if prefix else [block[0]]) + block[1:])
            return
        done += 1
        first, *rest = found.split("\n")
        out.append(prefix + first)
        out.extend(indent + r for r in rest)

    block: list[str] = []
    item_prefix, item_indent = "", ""
    while i < len(lines):
        line = lines[i]
        fm = _FENCE.match(line)
        if in_fence or fm:
            flush(block, item_prefix, item_indent)
            block, item_prefix, item_indent = [], "", ""
            if fm and not in_fence:
                in_fence, fence = True, fm.group(1)
            elif fm and line.strip().startswith(fence) and line.strip().strip(fence[0]) == "":
                in_fence = False
            out.append(line)
            i += 1
            continue
        if not line.strip():
            flush(block, item_prefix, item_indent)
            block, item_prefix, item_indent = [], "", ""
            out.append(line)
        elif (m := _HEADING.match(line)):
            flush(block, item_prefix, item_indent)
            block, item_prefix, item_indent = [], "", ""
            seen += 1
            found = catalog.get(m.group(2).strip())
            done += found is not None
            out.append(m.group(1) + (found if found is not None else m.group(2)))
        elif _DIRECTIVE.match(line):  # a colon fence (:::{glue:figure} ...) or one of its options
            flush(block, item_prefix, item_indent)
            block, item_prefix, item_indent = [], "", ""
            out.append(line)
        elif line.lstrip().startswith("|"):
            flush(block, item_prefix, item_indent)
            block, item_prefix, item_indent = [], "", ""
            cells = line.split("|")
            for k in range(1, len(cells) - 1):
                cell = cells[k].strip()
                if cell and not set(cell) <= set("-: "):
                    seen += 1
                    if cell in catalog:
                        done += 1
                        cells[k] = " " + catalog[cell] + " "
            out.append("|".join(cells))
        elif (m := _ITEM.match(line)):
            flush(block, item_prefix, item_indent)
            item_prefix, item_indent = m.group(1), " " * len(m.group(1))
            block = [m.group(2)]
        else:
            block.append(line)
        i += 1
    flush(block, item_prefix, item_indent)
    return "\n".join(out), seen, done


def translate_notebook(notebook, catalog: dict[str, str]) -> tuple[int, int]:
    """Translate the markdown cells of an nbformat notebook in place, and its ``description``
    (the page's front matter, which jupytext keeps in the metadata); (blocks seen, translated)."""
    description = notebook.metadata.get("description")
    if isinstance(description, str) and description.strip() in catalog:
        notebook.metadata["description"] = catalog[description.strip()].replace("\n", " ")
    seen = done = 0
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        cell.source, s, d = translate_markdown(cell.source, catalog)
        seen, done = seen + s, done + d
    return seen, done


def translate_front_matter(text: str, catalog: dict[str, str]) -> str:
    """The page's ``description:`` in its front matter, translated when the catalogue has it."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return text
    head = match.group(1)
    m = re.search(r"^description: (.*)$", head, re.M)
    if m and m.group(1).strip() in catalog:
        head = head[:m.start(1)] + catalog[m.group(1).strip()].replace("\n", " ") + head[m.end(1):]
    return f"---\n{head}\n---\n" + text[match.end():]


def _catalog_for(app: Sphinx, docname: str) -> dict[str, str]:
    return load_catalog(Path(app.srcdir) / "locales" / ZH / "LC_MESSAGES" / f"{docname}.po")


def _is_zh_html(app: Sphinx) -> bool:
    return app.builder.format == "html" and (app.config.language or "en") == ZH


def _write_colab_notebooks(app: Sphinx) -> None:
    """``locales/zh_CN/notebooks/<page>.ipynb`` from each notebook page's ``.ipynb`` twin, translated."""
    from readerview import cached_values, notebook_pages, paste_notebook, twin_notebook, writes_twins

    if not _is_zh_html(app) or not writes_twins():
        return
    import nbformat

    src = Path(app.srcdir)
    changed = 0
    for md in notebook_pages(src):
        docname = md.relative_to(src).with_suffix("").as_posix()
        notebook = twin_notebook(md)                    # the English twin before its values are pasted
        translate_notebook(notebook, _catalog_for(app, docname))
        paste_notebook(notebook, cached_values(app, md))   # the translations quote the same keys
        target = src / NOTEBOOK_DIR / f"{docname}.ipynb"
        text = nbformat.writes(notebook) + "\n"
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        changed += 1
    if changed:
        logger.info("zhnotebooks: wrote %d Chinese notebook(s) for Colab", changed)


def _colab_link(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Point a Chinese page's Colab button at its Chinese notebook."""
    if not _is_zh_html(app) or "header_buttons" not in context:
        return
    docs = app.config.html_theme_options.get("path_to_docs", "").strip("/")
    root = f"/{docs}" if docs else ""
    english, chinese = f"{root}/{pagename}.ipynb", f"{root}/{NOTEBOOK_DIR.as_posix()}/{pagename}.ipynb"

    def walk(buttons):
        for button in buttons:
            if isinstance(button.get("buttons"), list):
                walk(button["buttons"])
            url = button.get("url", "")
            if "colab.research.google.com" in url and url.endswith(english):
                button["url"] = url[: -len(english)] + chinese
    walk(context["header_buttons"])


def _translate_downloads(app: Sphinx, exception) -> None:
    """Rewrite the download menu's ``_sources/<page>.md`` and ``.ipynb`` of the Chinese build in Chinese,
    and the Colab notebooks again (on a cold build the cache held no values when the build began)."""
    if exception is not None or not _is_zh_html(app):
        return
    _write_colab_notebooks(app)
    import nbformat

    from readerview import cached_values, notebook_pages, paste_glue, paste_notebook

    src, out = Path(app.srcdir), Path(app.outdir) / "_sources"
    for md in notebook_pages(src):
        docname = md.relative_to(src).with_suffix("").as_posix()
        catalog = _catalog_for(app, docname)
        values = cached_values(app, md)
        source = out / f"{docname}.md"
        if source.exists():
            text = translate_front_matter(md.read_text(encoding="utf-8"), catalog)
            head = _FRONT_MATTER.match(text)
            body, _, _ = translate_markdown(text[head.end():] if head else text, catalog)
            source.write_text(paste_glue((text[:head.end()] if head else "") + body, values), encoding="utf-8")
        executed = out / f"{docname}.ipynb"
        if executed.exists():
            notebook = nbformat.read(executed, as_version=4)
            translate_notebook(notebook, catalog)
            paste_notebook(notebook, values)
            nbformat.write(notebook, executed)


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", _write_colab_notebooks, priority=600)   # after readerview's twins
    app.connect("html-page-context", _colab_link, priority=900)           # after the theme's buttons
    app.connect("build-finished", _translate_downloads)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
