"""Tables and figures in both languages: the ``tr`` role, figures' alt text, outputs out of the page catalogues.

``yangbook.utils.Table`` writes a cell's table as MyST Markdown (``text/markdown``, which myst-nb
parses as MyST: ``nb_render_markdown_format = "myst"`` in conf.py), with every label -- the headers
and the cells of the label columns -- written as ``{tr}`label```. This extension

* defines the role: in English it is the label itself; in another language the label's translation
  from ``locales/<lang>/LC_MESSAGES/_ext/labels.po``, and a warning (an error under ``-W``) naming the
  page and the label where the catalogue has none;
* translates a figure's alt text from the same catalogue (``{glue:figure}`` makes its image after the
  pages' messages are read, so Sphinx's own translation never sees it), with the same warning;
* writes, in a gettext build, every label and alt text it met to ``_ext/labels.pot``, so that
  ``make po`` adds the new ones to ``labels.po`` (sphinx-intl), as for the claims' sentences;
* gives a table with such labels the class ``yang-results`` (the CSS sets its numbers on one line);
* keeps the text of cell outputs out of the pages' own catalogues: an output's numbers depend on the
  machine, and the labels have their catalogue above.

The numbers are never translated; a label is translated as a whole.
"""
from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from sphinx.util import logging

logger = logging.getLogger(__name__)

CATALOGUE = "_ext/labels"  # beside _ext/claims: a catalogue of the book that holds no page
_ALT = re.compile(r"^:alt:[ \t]*(.+?)[ \t]*$", re.M)  # a figure directive's alt option
_catalogue: dict[str, dict[str, str]] = {}  # language -> label -> translation
_app = None
LABEL_CLASS = "yang-label"  # a translated label
TABLE_CLASS = "yang-results"  # a table with such labels: a table of results (CSS, tests)


def translations(srcdir, locale_dirs, language: str) -> dict[str, str]:
    """The labels' translations for ``language`` (empty for English or a missing catalogue)."""
    if language in ("", "en"):
        return {}
    import polib

    for locale_dir in locale_dirs:
        path = Path(srcdir, locale_dir, language, "LC_MESSAGES", f"{CATALOGUE}.po")
        if path.exists():
            return {e.msgid: e.msgstr for e in polib.pofile(str(path)) if e.msgstr and not e.fuzzy}
    return {}


def _docname(inliner) -> str:
    env = getattr(inliner.document.settings, "env", None)
    return getattr(env, "docname", "") if env is not None else ""


def _label(text: str) -> nodes.inline:
    return nodes.inline(text, text, classes=[LABEL_CLASS])


def tr_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """``{tr}`label```: the label in the page's language."""
    label = " ".join(text.split())
    app = _app
    if app is None:
        return [_label(label)], []
    if app.builder.name == "gettext":
        # kept in the environment, per page, so that an incremental build keeps the unchanged pages'
        env = app.env
        page = getattr(env, "docname", "") or _docname(inliner) or "?"
        labels = getattr(env, "yang_labels", None)
        if labels is None:
            labels = env.yang_labels = {}
        labels.setdefault(page, set()).add(label)
        return [_label(label)], []
    language = app.config.language or "en"
    if language == "en":
        return [_label(label)], []
    if language not in _catalogue:
        _catalogue[language] = translations(app.srcdir, app.config.locale_dirs, language)
    translated = _catalogue[language].get(label)
    if translated is None:
        logger.warning(
            "table label %r has no %s translation in locales/%s/LC_MESSAGES/%s.po (run `make po` "
            "and translate it)", label, language, language, CATALOGUE,
            location=_docname(inliner) or None, type="yangbook", subtype="table_label",
        )
        translated = label
    return [_label(translated)], []


def _outputs_untranslatable(app, doctree, docname) -> None:
    """Tables of results get their class; in a gettext build, the text of a cell's outputs is no
    message of the page."""
    for table in doctree.findall(nodes.table):
        if any(LABEL_CLASS in n.get("classes", []) for n in table.findall(nodes.inline)):
            table["classes"].append(TABLE_CLASS)
    if app.builder.name != "gettext":
        _translate_alt(app, doctree, docname)
        return
    for container in doctree.findall(nodes.container):
        if container.get("nb_element") not in ("cell_code_output", "mime_bundle"):
            continue
        for node in container.findall(nodes.TextElement):
            node["translatable"] = False


def _translate_alt(app, doctree, docname) -> None:
    language = app.config.language or "en"
    if language == "en":
        return
    if language not in _catalogue:
        _catalogue[language] = translations(app.srcdir, app.config.locale_dirs, language)
    for image in doctree.findall(nodes.image):
        alt = " ".join(image.get("alt", "").split())
        if not alt:
            continue
        if alt in _catalogue[language]:
            image["alt"] = _catalogue[language][alt]
        else:
            logger.warning("alt text %r has no %s translation in locales/%s/LC_MESSAGES/%s.po (run "
                           "`make po` and translate it)", alt, language, language, CATALOGUE,
                           location=docname, type="yangbook", subtype="alt_text")


def _write_pot(app, exception) -> None:
    if exception is not None or app.builder.name != "gettext":
        return
    import polib

    path = Path(app.outdir, f"{CATALOGUE}.pot")
    _seen: dict[str, set[str]] = {}  # label -> pages
    for page, labels in getattr(app.env, "yang_labels", {}).items():
        if page in app.env.found_docs:
            for label in labels:
                _seen.setdefault(label, set()).add(page)
    # alt texts from the pages' sources: a gettext build draws no images, so its doctrees hold none
    for docname in sorted(app.env.found_docs):
        source = Path(app.env.doc2path(docname))
        if source.suffix == ".md" and source.exists():
            for match in _ALT.finditer(source.read_text(encoding="utf-8")):
                _seen.setdefault(" ".join(match.group(1).split()), set()).add(docname)
    if not _seen:
        return
    pot = polib.POFile()
    pot.metadata = {"Content-Type": "text/plain; charset=UTF-8", "MIME-Version": "1.0",
                    "Content-Transfer-Encoding": "8bit"}
    for label in sorted(_seen):
        pot.append(polib.POEntry(msgid=label, msgstr="",
                                 occurrences=[(page, "") for page in sorted(_seen[label])]))
    path.parent.mkdir(parents=True, exist_ok=True)
    pot.save(str(path))


def _purge(app, env, docname) -> None:
    getattr(env, "yang_labels", {}).pop(docname, None)


def _merge(app, env, docnames, other) -> None:
    labels = getattr(env, "yang_labels", None)
    if labels is None:
        labels = env.yang_labels = {}
    for docname in docnames:
        if docname in getattr(other, "yang_labels", {}):
            labels[docname] = other.yang_labels[docname]


def setup(app):
    global _app
    _app = app
    app.add_role("tr", tr_role)
    app.connect("doctree-resolved", _outputs_untranslatable)
    app.connect("build-finished", _write_pot)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": False}
