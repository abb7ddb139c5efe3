"""The landing page's contents: every chapter of the book, in reading order, with one line on each.

The landing page's toctrees build the sidebar and the PDF's parts; on the page itself a toctree can
show either the part pages' own sections or nothing. The directive ``{chapters}`` puts a list there
instead: for each captioned toctree of the page, its caption, then each page it includes with, under a
part page, that part's chapters, in the order of the table of contents. Each entry is the page's title
(a link) and the ``description`` of its front matter, translated through the page's own catalogue
(where the feed's descriptions are translated, ``book/_ext/rss.py``; the gettext builder adds the
description of every page, dated or not, to its catalogue).

HTML builders only; elsewhere (the PDF has its own table of contents) the list is dropped.
"""
from __future__ import annotations

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.i18n import docname_to_domain

from rss import _translate

__version__ = "1.0"


class chapters_node(nodes.General, nodes.Element):
    """Where the list goes; replaced when the page is resolved."""


class ChaptersDirective(SphinxDirective):
    has_content = False

    def run(self):
        return [chapters_node()]


def _groups(doctree) -> list[tuple[str, list[str]]]:
    """(caption, entries) of each toctree of a page, in order."""
    groups = []
    for toctree in doctree.findall(addnodes.toctree):
        groups.append((toctree.get("caption") or "", [doc for _, doc in toctree["entries"]]))
    return groups


def _remember(app: Sphinx, doctree) -> None:
    """doctree-read: the captions (already translated) and entries of the page's toctrees."""
    if any(True for _ in doctree.findall(chapters_node)):
        store = getattr(app.env, "yang_chapter_groups", {})
        store[app.env.docname] = _groups(doctree)
        app.env.yang_chapter_groups = store


def _entry(app: Sphinx, fromdoc: str, doc: str, depth: int) -> nodes.list_item:
    env = app.env
    title = env.titles[doc].astext() if doc in env.titles else doc
    ref = nodes.reference("", title, internal=True, refuri=app.builder.get_relative_uri(fromdoc, doc))
    paragraph = nodes.paragraph("", "", nodes.strong("", "", ref))
    description = (env.metadata.get(doc, {}).get("description") or "").strip()
    if description:
        domain = docname_to_domain(doc, app.config.gettext_compact)
        paragraph += nodes.Text(" — " if app.config.language in (None, "en") else "——")
        paragraph += nodes.inline("", _translate(app, domain, description), classes=["yang-chapter-line"])
    item = nodes.list_item("", paragraph, classes=[f"yang-chapter-depth-{depth}"])
    children = env.toctree_includes.get(doc, [])
    if children:
        item += nodes.bullet_list("", *(_entry(app, fromdoc, child, depth + 1) for child in children))
    return item


def _resolve(app: Sphinx, doctree, fromdoc: str) -> None:
    """doctree-resolved: the list, or nothing outside HTML."""
    for node in list(doctree.findall(chapters_node)):
        if app.builder.format != "html":
            node.parent.remove(node)
            continue
        container = nodes.container(classes=["yang-chapters"])
        for caption, entries in getattr(app.env, "yang_chapter_groups", {}).get(fromdoc, []):
            if caption:
                container += nodes.rubric("", caption)
            container += nodes.bullet_list("", *(_entry(app, fromdoc, doc, 0) for doc in entries))
        node.replace_self(container)


def _catalogue(app: Sphinx, doctree, docname: str) -> None:
    """doctree-resolved, gettext builder only: a page's description joins its catalogue (rss.py adds
    the dated pages')."""
    if app.builder.name != "gettext":
        return
    from rss import _Origin

    meta = app.env.metadata.get(docname, {})
    description = (meta.get("description") or "").strip()
    if description and "date" not in meta:  # a dated page's: rss.py
        domain = docname_to_domain(docname, app.config.gettext_compact)
        app.builder.catalogs[domain].add(description, _Origin(app.env.doc2path(docname).as_posix()))


def _purge(app: Sphinx, env, docname: str) -> None:
    getattr(env, "yang_chapter_groups", {}).pop(docname, None)


def _merge(app: Sphinx, env, docnames, other) -> None:
    env.yang_chapter_groups = {**getattr(env, "yang_chapter_groups", {}),
                               **getattr(other, "yang_chapter_groups", {})}


def _outdated(app: Sphinx, env, added, changed, removed) -> list[str]:
    """env-get-outdated: a page with the list is read again whenever another page changes (a title or
    a description it shows may have)."""
    if not (added or changed or removed):
        return []
    return [doc for doc in getattr(env, "yang_chapter_groups", {}) if doc not in changed]


def setup(app: Sphinx) -> dict:
    app.add_node(chapters_node)
    app.add_directive("chapters", ChaptersDirective)
    app.connect("doctree-read", _remember)
    app.connect("doctree-resolved", _resolve)
    app.connect("doctree-resolved", _catalogue)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True,
            "env_version": 1}
