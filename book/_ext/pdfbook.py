"""Give the PDF the shape of a book: a preface, parts, one chapter per page, one bibliography.

The landing page ``index.md`` is written for the web: a few sections about the book, with the table of
contents inside the last of them. Handed to LaTeX as it is, its sections become chapters 1-3 and every
page of the book becomes a *section* of chapter 3. This extension changes the doctrees of the LaTeX
builder only (the HTML is untouched):

* the landing page's own text becomes one unnumbered chapter, "Preface";
* each captioned toctree of the landing page becomes an unnumbered part, titled by its caption (the
  captions carry their own "Part I" and are translated with the page);
* every toctree is lifted out of the section it sits in, so every page is a chapter of its own;
* the pages named in ``pdfbook_backmatter`` (the bibliography page) contribute only their bibliography:
  LaTeX gathers all citations into one chapter at the end anyway, titled ``\\bibname``; without this
  the page would leave an empty chapter before it.
"""
from __future__ import annotations

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx

__version__ = "1.0"

PREFACE = {"en": "Preface", "zh_CN": "前言"}

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "%": r"\%", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}


def latex_escape(text: str) -> str:
    """Escape the characters that are special in LaTeX (for a part title taken from a caption)."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def _raw(tex: str) -> nodes.raw:
    return nodes.raw("", tex, format="latex")


def _toctree_wrappers(tree: nodes.Node) -> list[nodes.Element]:
    """The ``toctree-wrapper`` compounds (or bare toctrees) of a doctree, in document order."""
    found = []
    for toctree in tree.findall(addnodes.toctree):
        parent = toctree.parent
        wrapper = parent if "toctree-wrapper" in parent.get("classes", []) else toctree
        found.append(wrapper)
    return found


def _is_backmatter(toctree: addnodes.toctree, backmatter: set[str]) -> bool:
    docs = [ref for _title, ref in toctree["entries"]]
    return bool(docs) and all(doc in backmatter for doc in docs)


def _restructure_root(app: Sphinx, doctree: nodes.document) -> None:
    root = next(iter(doctree.findall(nodes.section)), None)
    if root is None:
        return
    wrappers = _toctree_wrappers(doctree)
    for wrapper in wrappers:
        wrapper.parent.remove(wrapper)
    title = root[0] if root.children and isinstance(root[0], nodes.title) else None
    body = [child for child in root.children if child is not title]
    lang = app.config.language or "en"
    preface = nodes.section(ids=["pdfbook-preface"], names=["pdfbook-preface"])
    name = PREFACE.get(lang, PREFACE["en"])
    preface += nodes.title("", name)
    # The running head of an unnumbered chapter would read "Chapter 0"; name it plainly.
    preface += _raw(rf"\markboth{{{latex_escape(name)}}}{{}}")
    for child in body:
        root.remove(child)
        preface += child
    # An unnumbered chapter that still enters the table of contents: secnumdepth -1 around it.
    root += _raw(r"\edef\pdfbooksecnumdepth{\arabic{secnumdepth}}\setcounter{secnumdepth}{-1}")
    root += preface
    root += _raw(r"\setcounter{secnumdepth}{\pdfbooksecnumdepth}")
    backmatter = set(app.config.pdfbook_backmatter)
    for wrapper in wrappers:
        toctree = wrapper if isinstance(wrapper, addnodes.toctree) else next(
            iter(wrapper.findall(addnodes.toctree))
        )
        caption = toctree.get("caption")
        # Sphinx names the table of contents after the first caption; it should say "Contents".
        toctree.attributes.pop("caption", None)
        if caption and not _is_backmatter(toctree, backmatter):
            part = latex_escape(caption)
            root += _raw(
                r"\cleardoublepage\phantomsection"
                rf"\addcontentsline{{toc}}{{part}}{{{part}}}\part*{{{part}}}"
            )
        root += wrapper


def _lift_toctrees(doctree: nodes.document) -> None:
    """Move the toctrees of a page to the top level, so the pages they list become chapters."""
    for wrapper in _toctree_wrappers(doctree):
        if wrapper.parent is not doctree:
            wrapper.parent.remove(wrapper)
            doctree += wrapper


def _backmatter_only(doctree: nodes.document) -> None:
    """Keep only the bibliography of a back-matter page (its citations go to the final chapter)."""
    from sphinxcontrib.bibtex.nodes import bibliography

    keep = list(doctree.findall(bibliography))
    for bib in keep:
        bib.parent.remove(bib)
    doctree.children = []
    for bib in keep:
        doctree += bib


def _doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    if app.builder is None or app.builder.format != "latex":
        return
    docname = app.env.docname
    if docname == app.config.root_doc:
        _restructure_root(app, doctree)
    elif docname in app.config.pdfbook_backmatter:
        _backmatter_only(doctree)
    else:
        _lift_toctrees(doctree)


def setup(app: Sphinx) -> dict:
    # Pages whose only part in the PDF is their bibliography.
    app.add_config_value("pdfbook_backmatter", [], "env")
    # After Sphinx's own collectors (titles, toctrees) have read the page.
    app.connect("doctree-read", _doctree_read, priority=900)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
