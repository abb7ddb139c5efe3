"""A language switcher on every page that leads to the same page in the other language.

Locally the languages are sibling folders (``_build/html/en`` and ``_build/html/zh_CN``), so the
link is relative. On Read the Docs each language is its own project, served under
``/<rtd-language>/<version>/``; the link is then absolute, derived from the canonical URL of the
current build (``READTHEDOCS_CANONICAL_URL``, which Sphinx sees as ``html_baseurl``).
"""
from __future__ import annotations

import re

from sphinx.application import Sphinx
from sphinx.errors import ConfigError

__version__ = "1.0"

# Read the Docs' language codes are lower case with a dash (zh_CN -> zh-cn).
def rtd_code(lang: str) -> str:
    return lang.replace("_", "-").lower()


def language_base_urls(config) -> dict[str, str]:
    """Base URL of every language's build, for the switcher (and for the RSS feeds' alternates).

    Returns ``{}`` when the build is local (no ``html_baseurl``); links are relative then.
    """
    if config.langswitch_base_urls:
        return dict(config.langswitch_base_urls)
    base = config.html_baseurl
    if not base:
        return {}
    base = base if base.endswith("/") else base + "/"
    current = rtd_code(config.language or "en")
    # RTD canonical URLs look like https://host/<lang>/<version>/
    pattern = re.compile(rf"/{re.escape(current)}/")
    if not pattern.search(base):
        raise ConfigError(
            f"langswitch: html_baseurl {base!r} has no /{current}/ segment, so the other languages' "
            "URLs cannot be derived; set langswitch_base_urls = {language: url} in conf.py"
        )
    return {
        lang: pattern.sub(f"/{rtd_code(lang)}/", base, count=1) for lang in config.langswitch_languages
    }


def _page_context(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    config = app.config
    current = config.language or "en"
    bases = language_base_urls(config)
    entries = []
    for lang, label in config.langswitch_languages.items():
        if bases:
            url = bases[lang] + pagename + ".html"
        else:  # sibling output folders of a local build
            url = "../" * (pagename.count("/") + 1) + lang + "/" + pagename + ".html"
        entries.append({"code": lang, "label": label, "url": url, "current": lang == current})
    context["langswitch"] = entries


def _check(app: Sphinx, config) -> None:
    lang = config.language or "en"
    if lang not in config.langswitch_languages:
        raise ConfigError(
            f"langswitch: language {lang!r} is not one of langswitch_languages "
            f"{sorted(config.langswitch_languages)}"
        )


def setup(app: Sphinx) -> dict:
    # Languages the book is published in, code -> the name shown in the switcher.
    app.add_config_value("langswitch_languages", {"en": "English", "zh_CN": "简体中文"}, "html")
    # Explicit base URLs per language; default: derived from html_baseurl (Read the Docs), or
    # relative links between sibling folders when html_baseurl is empty.
    app.add_config_value("langswitch_base_urls", {}, "html")
    app.connect("config-inited", _check)
    app.connect("html-page-context", _page_context)
    app.add_css_file("langswitch.css")
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
