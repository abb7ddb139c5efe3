"""RSS 2.0 feeds of the book, in the URL scheme of the blog it grew from.

For every language build the HTML builder gets

* a site feed ``index.xml`` at the root of the output,
* one feed per tag at ``tags/<tag>/index.xml`` (the blog's own scheme, so the blog's
  ``/en/tags/deep-learning/index.xml`` has a direct successor), and
* in the ``<head>`` of every page a ``<link rel="alternate" type="application/rss+xml">`` to the
  site feed and, on a tagged page, to the feeds of its tags.

The items are the pages whose front matter has a ``date``: an ISO 8601 date and time *with* a UTC
offset, e.g. ``date: "2026-03-06T20:00:00+08:00"`` (quote it: myst-nb cannot cache an unquoted
YAML timestamp). ``tags`` (a list) become ``<category>`` elements and select the tag feeds;
``description`` is the item's description (else the page's first paragraph).

Translation keeps one source, the catalogues under ``locale_dirs``: ``make po`` (the gettext
builder) adds each dated page's ``description`` to that page's own catalogue, and the channel
description (``rss_description``) to a catalogue of this extension, ``_ext/rss``. A translated
build looks them up there; the page titles come translated from the doctrees. Fuzzy or missing
translations fall back to English, like the rest of Sphinx.

The feeds depend only on the sources: ``lastBuildDate`` is the newest item's date, never the build
time, so two builds give byte-identical files.

Configuration (``conf.py``):

``rss_base_url`` (default ``None``: use ``html_baseurl``)
    Absolute URL of the root of this language's build, with its language and version path, e.g.
    ``https://deep-learning-on-yang.readthedocs.io/en/latest/``. Either a string or a dict
    ``{language: url}``. RSS needs absolute links, so a build without any base URL stops.
``rss_feed_length`` (default ``20``)
    Most items per feed, newest first; ``None`` for all.
``rss_full_text`` (default ``False``)
    Also put each page's full HTML body into the item (``content:encoded``).
``rss_tags`` (default ``None``: every tag of a dated page)
    The tags that get a feed. A listed tag that no dated page has is a warning
    (``rss.unknown_tag``) and gets no feed.
``rss_title`` (default ``None``: ``project``)
    The channel title.
``rss_description`` (default ``"Recent content in {title}"``)
    The channel description; translated through the ``_ext/rss`` catalogue, then ``{title}`` is
    replaced by the channel title (of the site feed, or of the tag's feed).
``rss_tag_names`` (default ``{}``)
    ``{tag: name}``: the name a tag's feed shows, e.g. ``{"deepfake-detection": "Deepfake
    Detection"}``; translated through the ``_ext/rss`` catalogue. A tag without one shows itself.
``rss_tag_title`` (default ``"{title} – {tag}"``)
    The title of a tag's channel (and of its ``<link>`` in the pages' head), translated through the
    ``_ext/rss`` catalogue; ``{tag}`` is replaced by the tag's translated name and ``{title}`` by
    the site channel's title. The blog's own scheme is ``"{tag} on Yang"``.
``rss_language`` (default ``None``: ``en`` -> ``en-US``, otherwise ``language`` with a dash,
``zh_CN`` -> ``zh-CN``)
    The channel's ``<language>``.
"""
from __future__ import annotations

import datetime as dt
import gettext
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

import sphinx
from docutils import nodes
from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from sphinx.application import Sphinx
from sphinx.errors import SphinxError
from sphinx.util import logging
from sphinx.util.i18n import docname_to_domain
from sphinx.util.osutil import relative_uri

__version__ = "1.1"

logger = logging.getLogger(__name__)

FEED_FILE = "index.xml"
TAG_DIR = "tags"
CATALOGUE = "_ext/rss"  # the extension's own message catalogue (``_ext`` holds no pages)
FEED_BUILDERS = ("html", "dirhtml")
BODY_START, BODY_END = "<!-- rss:body -->", "<!-- /rss:body -->"
GENERATOR = f"Sphinx {sphinx.__display_version__} with python-feedgen (book/_ext/rss.py)"
NONE_TYPE = type(None)


class FeedError(SphinxError, ValueError):
    """Bad input for the feeds: a date, a base URL, a tag. Stops the build."""

    category = "RSS feed error"


@dataclass(frozen=True)
class Post:
    docname: str
    date: dt.datetime
    tags: tuple[str, ...]
    description: str | None  # the front matter's, untranslated; None: use the first paragraph


@dataclass
class Plan:
    base_url: str
    posts: list[Post]  # newest first
    tag_feeds: dict[str, str] = field(default_factory=dict)  # tag -> its folder under tags/


# -- reading the front matter ---------------------------------------------------------------------
def parse_date(value, docname: str) -> dt.datetime:
    """The front matter's ``date`` as an aware datetime.

    Args:
        value: an ISO 8601 date and time with a UTC offset (a string, or a datetime from YAML).
        docname: the page, for the error message.

    Raises:
        FeedError: naming the page and the value, if it does not parse or has no UTC offset.
    """
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise FeedError(
                f"page {docname!r}: front matter date {value!r} is not an ISO 8601 date and time; "
                'write e.g. date: "2026-03-06T20:00:00+08:00"'
            ) from None
        if "T" not in value and " " not in value.strip():
            # a bare date parses as midnight without an offset; say what is really missing
            raise FeedError(
                f"page {docname!r}: front matter date {value!r} has no time and no UTC offset; "
                'write e.g. date: "2026-03-06T20:00:00+08:00"'
            )
    else:
        raise FeedError(
            f"page {docname!r}: front matter date {value!r} ({type(value).__name__}) is not an "
            'ISO 8601 string; write e.g. date: "2026-03-06T20:00:00+08:00"'
        )
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise FeedError(
            f"page {docname!r}: front matter date {value!r} has no UTC offset, so the feed cannot "
            'give its time; write e.g. date: "2026-03-06T20:00:00+08:00"'
        )
    return parsed


def parse_tags(value, docname: str) -> tuple[str, ...]:
    """The front matter's ``tags``: a YAML list (which myst hands over as a JSON string), or one
    string of comma- or space-separated tags."""
    if value is None:
        return ()
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                raise FeedError(f"page {docname!r}: front matter tags {value!r} do not parse") from None
        else:
            value = [t for t in re.split(r"[,\s]+", text) if t]
    if not isinstance(value, (list, tuple)) or not all(isinstance(t, str) and t.strip() for t in value):
        raise FeedError(f"page {docname!r}: front matter tags {value!r} are not a list of names")
    seen: dict[str, None] = {}
    for tag in value:
        seen.setdefault(tag.strip(), None)
    return tuple(seen)


def tag_folder(tag: str) -> str:
    """The folder of a tag's feed: lower case, runs of anything but letters, digits, ``_`` and
    ``-`` become one ``-`` ("Deep Learning" -> "deep-learning")."""
    slug = re.sub(r"[^\w-]+", "-", tag.strip().lower()).strip("-")
    if not slug:
        raise FeedError(f"tag {tag!r} has no letters or digits for its feed's URL")
    return slug


def rss_language(config) -> str:
    if config.rss_language:
        return config.rss_language
    lang = config.language or "en"
    return "en-US" if lang == "en" else lang.replace("_", "-")


def base_url(config) -> str:
    """The absolute URL of this language's build root, ending in ``/``."""
    lang = config.language or "en"
    value = config.rss_base_url if config.rss_base_url is not None else config.html_baseurl
    if isinstance(value, dict):
        if lang not in value:
            raise FeedError(
                f"rss_base_url has no entry for language {lang!r} (it has {sorted(value)})"
            )
        value = value[lang]
    if not value:
        raise FeedError(
            "the feeds need absolute links, but neither rss_base_url nor html_baseurl is set; "
            "set rss_base_url to the published URL of this language's book, e.g. "
            "'https://example.readthedocs.io/en/latest/'"
        )
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FeedError(f"base URL {value!r} of the feeds is not an absolute http(s) URL")
    return value if value.endswith("/") else value + "/"


# -- translation ---------------------------------------------------------------------------------
def _translator(app: Sphinx, domain: str) -> gettext.NullTranslations:
    """The compiled catalogue ``domain`` of this build's language (Sphinx compiles the .mo files
    before it reads the sources); a NullTranslations (English) where there is none."""
    lang = app.config.language
    translator = gettext.NullTranslations()
    if not lang or lang == "en":
        return translator
    for directory in app.config.locale_dirs:
        try:
            found = gettext.translation(domain, Path(app.srcdir, directory), languages=[lang])
        except OSError:
            continue
        found.add_fallback(translator)
        translator = found
    return translator


def _translate(app: Sphinx, domain: str, message: str) -> str:
    return _translator(app, domain).gettext(message)


# -- events --------------------------------------------------------------------------------------
def _feeds_wanted(app: Sphinx) -> bool:
    return app.builder is not None and app.builder.name in FEED_BUILDERS


def _check_config(app: Sphinx) -> None:
    """builder-inited: a missing base URL fails before any page is read."""
    if _feeds_wanted(app):
        base_url(app.config)
        if app.config.rss_feed_length is not None and app.config.rss_feed_length < 1:
            raise FeedError(
                f"rss_feed_length must be a positive number or None, not {app.config.rss_feed_length!r}"
            )


def _plan(app: Sphinx, env) -> None:
    """env-updated: collect the dated pages (the front matter is in ``env.metadata``) and decide
    which feeds there are; bad dates and unknown tags are reported here, before anything is
    written."""
    if not _feeds_wanted(app):
        if getattr(app.builder, "name", None) == "gettext":
            for message in (app.config.rss_description, app.config.rss_tag_title,
                            *app.config.rss_tag_names.values()):
                app.builder.catalogs[CATALOGUE].add(message, _Origin("conf.py"))
        return
    posts = []
    for docname in sorted(env.found_docs):
        meta = env.metadata.get(docname, {})
        if "date" not in meta:
            continue
        posts.append(
            Post(
                docname=docname,
                date=parse_date(meta["date"], docname),
                tags=parse_tags(meta.get("tags"), docname),
                description=(meta.get("description") or "").strip() or None,
            )
        )
    # newest first; the page name breaks ties, so the order never depends on the file system
    posts.sort(key=lambda p: (-p.date.timestamp(), p.docname))
    used = sorted({tag for post in posts for tag in post.tags})
    wanted = used if app.config.rss_tags is None else list(app.config.rss_tags)
    tag_feeds: dict[str, str] = {}
    for tag in wanted:
        if tag not in used:
            logger.warning(
                "rss_tags names the tag %r, which no dated page has; it gets no feed "
                "(tags in use: %s)",
                tag, ", ".join(used) or "none", type="rss", subtype="unknown_tag",
            )
            continue
        folder = tag_folder(tag)
        clash = [t for t, f in tag_feeds.items() if f == folder]
        if clash:
            raise FeedError(
                f"tags {clash[0]!r} and {tag!r} would share the feed folder tags/{folder}/"
            )
        tag_feeds[tag] = folder
    app.builder._rss_plan = Plan(base_url=base_url(app.config), posts=posts, tag_feeds=tag_feeds)
    if not posts:
        logger.info("rss: no page has a front-matter date; no feeds are written")


class _Origin:
    """Where a message of the gettext builder comes from (``gettext_location`` may show it)."""

    def __init__(self, source: str, line: int = 1) -> None:
        self.source, self.line, self.uid = source, line, ""


def _extract(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """doctree-resolved, gettext builder only: a dated page's description joins its catalogue."""
    if getattr(app.builder, "name", None) != "gettext":
        return
    meta = app.env.metadata.get(docname, {})
    description = (meta.get("description") or "").strip()
    if "date" in meta and description:
        domain = docname_to_domain(docname, app.config.gettext_compact)
        app.builder.catalogs[domain].add(description, _Origin(app.env.doc2path(docname).as_posix()))


def _head_links(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """html-page-context: the feeds' <link rel="alternate"> in the head (relative hrefs, so they
    work locally and on Read the Docs); on a dated page with full text on, mark the body."""
    plan: Plan | None = getattr(app.builder, "_rss_plan", None)
    if plan is None or not plan.posts:
        return
    title = channel_title(app)
    here = app.builder.get_target_uri(pagename)
    links = [(title, FEED_FILE)]
    tags = parse_tags(app.env.metadata.get(pagename, {}).get("tags"), pagename)
    links += [
        (tag_channel_title(app, tag), f"{TAG_DIR}/{plan.tag_feeds[tag]}/{FEED_FILE}")
        for tag in tags
        if tag in plan.tag_feeds
    ]
    tags_html = "".join(
        f'<link rel="alternate" type="application/rss+xml" title="{html.escape(t)}" '
        f'href="{html.escape(quote(relative_uri(here, target)))}" />\n'
        for t, target in links
    )
    context["metatags"] = context.get("metatags", "") + tags_html
    is_post = any(p.docname == pagename for p in plan.posts)
    if app.config.rss_full_text and "body" in context and is_post:
        context["body"] = BODY_START + context["body"] + BODY_END


# -- writing -------------------------------------------------------------------------------------
def channel_title(app: Sphinx) -> str:
    return app.config.rss_title or app.config.project


def tag_channel_title(app: Sphinx, tag: str) -> str:
    """The title of ``tag``'s channel: its translated name in the translated ``rss_tag_title``."""
    name = app.config.rss_tag_names.get(tag)
    name = _translate(app, CATALOGUE, name) if name else tag
    template = _translate(app, CATALOGUE, app.config.rss_tag_title)
    title = template.replace("{tag}", name).replace("{title}", channel_title(app))
    if (app.config.language or "").startswith("zh"):  # a space between Chinese and Latin words
        title = re.sub(r"([\u4e00-\u9fff])([A-Za-z0-9])", r"\1 \2", title)
        title = re.sub(r"([A-Za-z0-9])([\u4e00-\u9fff])", r"\1 \2", title)
    return title


def _absolute(node: nodes.Node, page_url: str) -> nodes.Node:
    """A copy of ``node`` whose links are absolute (a feed is read away from the page)."""
    node = node.deepcopy()
    for ref in list(node.findall(nodes.reference)):
        if ref.get("refuri"):
            ref["refuri"] = urljoin(page_url, ref["refuri"])
        elif ref.get("refid"):
            ref["refuri"] = f"{page_url}#{ref['refid']}"
            del ref["refid"]
    for image in list(node.findall(nodes.image)):  # an excerpt is text
        image.parent.remove(image)
    return node


def _first_paragraph(app: Sphinx, docname: str, page_url: str) -> str:
    doctree = app.env.get_and_resolve_doctree(docname, app.builder)
    for para in doctree.findall(nodes.paragraph):
        # a paragraph of the text itself, not of an admonition, a table, a sidebar or a toctree
        parents, parent = [], para.parent
        while parent is not None and not isinstance(parent, nodes.document):
            parents.append(parent)
            parent = parent.parent
        if all(isinstance(p, nodes.section) for p in parents) and para.astext().strip():
            return app.builder.render_partial(_absolute(para, page_url))["fragment"].strip()
    return ""


_URL_ATTR = re.compile(r'\b(href|src)="([^"]*)"')


def _full_text(app: Sphinx, docname: str, page_url: str) -> str:
    """The page's rendered body (marked in html-page-context), with absolute links."""
    text = Path(app.builder.get_outfilename(docname)).read_text(encoding="utf-8")
    start, end = text.find(BODY_START), text.find(BODY_END)
    if start < 0 or end < start:
        raise FeedError(f"page {docname!r}: its HTML has no body marked for the full-text feed")
    body = text[start + len(BODY_START):end]

    def absolute(match: re.Match) -> str:
        url = urljoin(page_url, html.unescape(match[2]))
        return f'{match[1]}="{html.escape(url)}"'

    return _URL_ATTR.sub(absolute, body).strip()


def _write_feeds(app: Sphinx, exception) -> None:
    """build-finished: write the site feed and the tag feeds."""
    if exception is not None or not _feeds_wanted(app):
        return
    plan: Plan | None = getattr(app.builder, "_rss_plan", None)
    if plan is None or not plan.posts:
        return
    description = _translate(app, CATALOGUE, app.config.rss_description)
    items = {post.docname: _item(app, plan, post) for post in plan.posts}
    outdir = Path(app.outdir)
    feeds = {FEED_FILE: (channel_title(app), plan.posts)}
    for tag, folder in plan.tag_feeds.items():
        feeds[f"{TAG_DIR}/{folder}/{FEED_FILE}"] = (
            tag_channel_title(app, tag), [p for p in plan.posts if tag in p.tags])
    for path, (title, posts) in feeds.items():
        posts = posts[: app.config.rss_feed_length]
        fg = FeedGenerator()
        fg.title(title)
        fg.description(description.replace("{title}", title))
        # feedgen uses the last link as the RSS <link>, and the rel="self" one as <atom:link>
        fg.link(href=plan.base_url + quote(path), rel="self", type="application/rss+xml")
        fg.link(href=plan.base_url, rel="alternate")
        fg.language(rss_language(app.config))
        fg.generator(GENERATOR)
        fg.lastBuildDate(posts[0].date)  # the newest item's date: reproducible, unlike the clock
        for post in reversed(posts):  # add_entry prepends, so this leaves them newest first
            fg.add_entry(items[post.docname])
        target = outdir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(fg.rss_str(pretty=True))
    logger.info(
        "rss: wrote %d feed(s) with %d item(s) under %s", len(feeds), len(plan.posts), plan.base_url
    )


def _item(app: Sphinx, plan: Plan, post: Post):
    link = plan.base_url + quote(app.builder.get_target_uri(post.docname))
    title_node = app.env.titles.get(post.docname)
    title = title_node.astext() if title_node is not None else post.docname
    if post.description:
        domain = docname_to_domain(post.docname, app.config.gettext_compact)
        text = _translate(app, domain, post.description)
        summary = "<p>" + html.escape(text, quote=False) + "</p>"
    else:
        summary = _first_paragraph(app, post.docname, link)
    entry = FeedEntry()
    entry.title(title)
    entry.link(href=link)
    entry.guid(link, permalink=True)  # the permalink: the same in every build
    entry.pubDate(post.date)  # feedgen keeps the offset: "Fri, 06 Mar 2026 21:35:00 +0800"
    entry.description(summary or html.escape(title, quote=False))
    if app.config.rss_full_text:
        entry.content(_full_text(app, post.docname, link), type="CDATA")
    for tag in post.tags:
        entry.category(term=tag)
    return entry


def setup(app: Sphinx) -> dict:
    app.add_config_value(
        "rss_base_url", None, "html", types=(str, dict, NONE_TYPE),
        description="absolute URL of this language's build root, or {language: url}; "
        "default html_baseurl",
    )
    app.add_config_value("rss_feed_length", 20, "html", types=(int, NONE_TYPE),
                         description="most items per feed; None for all")
    app.add_config_value("rss_full_text", False, "html", types=(bool,),
                         description="also put the full page into each item (content:encoded)")
    app.add_config_value("rss_tags", None, "html", types=(list, tuple, NONE_TYPE),
                         description="tags that get a feed; default every tag of a dated page")
    app.add_config_value("rss_title", None, "html", types=(str, NONE_TYPE),
                         description="channel title; default project")
    app.add_config_value("rss_description", "Recent content in {title}", "html", types=(str,),
                         description="channel description, translated via the _ext/rss catalogue")
    app.add_config_value("rss_tag_names", {}, "html", types=(dict,),
                         description="{tag: name shown by its feed}, translated via _ext/rss")
    app.add_config_value("rss_tag_title", "{title} – {tag}", "html", types=(str,),
                         description="a tag channel's title, translated via _ext/rss")
    app.add_config_value("rss_language", None, "html", types=(str, NONE_TYPE),
                         description="channel language; default en-US for en, "
                         "else language with a dash")
    app.connect("builder-inited", _check_config)
    app.connect("env-updated", _plan)
    app.connect("doctree-resolved", _extract)
    app.connect("html-page-context", _head_links)
    app.connect("build-finished", _write_feeds)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
