"""The interface of the theme in the book's languages (HTML).

pydata-sphinx-theme and sphinx-book-theme ship partial Chinese catalogues (and a Taiwanese "列印成 PDF"),
and some of their strings are not translatable at all. This extension, for a language that has
catalogues in ``book/_ext/locale/<lang>/LC_MESSAGES/``:

* compiles ``sphinx.po`` and ``booktheme.po`` there (polib) and registers them before the themes load
  theirs, so that the book's translations come first: Sphinx's template domain ``sphinx`` (the
  pydata theme's search, colour-mode and footer strings, and the sidebar toggles of the book's own
  template overrides ``book/_templates/toggle-*-sidebar.html``) and sphinx-book-theme's ``booktheme``;
* sets the search box's text (a theme option, not a message) from the ``sphinx`` catalogue;
* corrects, in the written pages, the two landmark labels the theme hard-codes (``LABELS``);
* rewrites the launch buttons' tooltips, which the theme builds as ``translate("Launch on") + " Colab"``
  and so cannot be ordered naturally in Chinese: a tooltip listed under ``TOOLTIPS`` is replaced whole
  (so "Launch on" is deliberately left out of ``booktheme.po``).
"""
from __future__ import annotations

from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parent / "locale"
CATALOGS = ("sphinx", "booktheme")
TOOLTIPS = {"zh_CN": {"Launch on Colab": "在 Colab 中打开"}}
# Labels that sphinx-book-theme's templates hard-code (the landmarks a screen reader announces): the
# written pages are corrected after the build, attribute by attribute.
LABELS = {"zh_CN": {'aria-label="Main"': 'aria-label="全书导航"', 'aria-label="Page"': 'aria-label="本页导航"'}}


def _compile(lang: str) -> Path | None:
    folder = LOCALE / lang / "LC_MESSAGES"
    if not folder.is_dir():
        return None
    for name in CATALOGS:
        po = folder / f"{name}.po"
        if po.exists():
            polib.pofile(str(po)).save_as_mofile(str(folder / f"{name}.mo"))
    return LOCALE


def _config_inited(app, config):
    lang = config.language or "en"
    root = _compile(lang)
    if root is None:
        return
    for name in CATALOGS:
        app.add_message_catalog(name, str(root))
    po = polib.pofile(str(LOCALE / lang / "LC_MESSAGES" / "sphinx.po"))
    search = po.find("Search...")
    if search is not None and search.msgstr:
        config.html_theme_options = {**config.html_theme_options, "search_bar_text": search.msgstr}


def _rewrite(buttons, table):
    for button in buttons or []:
        if isinstance(button, dict):
            if button.get("tooltip") in table:
                button["tooltip"] = table[button["tooltip"]]
            _rewrite(button.get("buttons"), table)


def _page_context(app, pagename, templatename, context, doctree):
    table = TOOLTIPS.get(app.config.language or "en")
    if table:
        _rewrite(context.get("header_buttons"), table)


def _build_finished(app, exception):
    table = LABELS.get(app.config.language or "en")
    if exception is not None or not table or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        fixed = text
        for old, new in table.items():
            fixed = fixed.replace(old, new)
        if fixed != text:
            page.write_text(fixed, encoding="utf-8")


def setup(app):
    app.connect("config-inited", _config_inited, priority=600)
    app.connect("build-finished", _build_finished)
    app.connect("html-page-context", _page_context, priority=900)   # after the theme builds its buttons
    return {"parallel_read_safe": True, "parallel_write_safe": True}
