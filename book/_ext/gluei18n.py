"""Glue roles inside translated messages.

myst-nb's glue roles (``{glue:text}`key```) look the key up in the notebook renderer of the page
being parsed, which myst-nb keeps on the document only while it parses the page. Sphinx's i18n
transform parses each translated message later, into a fresh document of its own, with the plain
MyST parser, so in the Chinese build every glued number in a translated paragraph becomes "No key ...
found in glue data" and the build fails. This extension keeps the renderer of each page while the page
is read and lends it to the documents of the page's translated messages, so that the English source
and its translation paste the same executed value.

Checked against myst-nb 1.4.0 (requirements.txt pins it); the Chinese build of the data pages, which
glue numbers into translated paragraphs, fails without it.
"""
from __future__ import annotations

from myst_nb import sphinx_ as nb_sphinx
from myst_nb.ext.glue import directives as glue_directives
from myst_nb.ext.glue import roles as glue_roles
from myst_nb.ext.glue import utils as glue_utils

_RENDERERS: dict = {}  # docname -> the NbElementRenderer of the page being read
_CREATED: list = []    # renderers made by the parse in progress
_PATCHED = "_yangbook_gluei18n"


def _patch() -> None:
    if getattr(nb_sphinx.Parser, _PATCHED, False):
        return
    parse, retrieve, load_renderer = (nb_sphinx.Parser.parse, glue_utils.retrieve_glue_data,
                                      nb_sphinx.load_renderer)

    def recording_load_renderer(name):
        cls = load_renderer(name)

        def make(*args, **kwargs):
            renderer = cls(*args, **kwargs)
            _CREATED.append(renderer)
            return renderer
        return make

    def remembering_parse(self, inputstring, document):
        translated = str(document.current_source or "").endswith("<translated>")
        _CREATED.clear()
        parse(self, inputstring, document)
        env = getattr(document.settings, "env", None)
        if not translated and env is not None and _CREATED:
            _RENDERERS[env.docname] = _CREATED[-1]
        _CREATED.clear()

    def retrieve_with_page(document, key):
        if "nb_renderer" in document:
            return retrieve(document, key)
        env = getattr(document.settings, "env", None)  # a translated message: paste from its page's notebook
        page = _RENDERERS.get(env.docname) if env is not None else None
        if page is None:
            return retrieve(document, key)
        document["nb_renderer"] = page
        try:
            return retrieve(document, key)
        finally:  # the message's nodes join the page's doctree, which is pickled: leave no renderer on it
            del document["nb_renderer"]

    nb_sphinx.load_renderer = recording_load_renderer
    nb_sphinx.Parser.parse = remembering_parse
    glue_roles.retrieve_glue_data = retrieve_with_page
    glue_directives.retrieve_glue_data = retrieve_with_page
    setattr(nb_sphinx.Parser, _PATCHED, True)


def _forget(app, doctree) -> None:
    _RENDERERS.pop(app.env.docname, None)


def setup(app):
    _patch()
    app.connect("doctree-read", _forget)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
