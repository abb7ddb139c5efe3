"""The RSS feeds (book/_ext/rss.py).

Two kinds of tests: the real feeds of the built book (both languages, checked with feedparser and
against the blog's own feed in ../shared/seed), and throw-away projects in tmp_path that exercise
the extension's options and its errors, built with sphinx-build in a subprocess.
"""
from __future__ import annotations

import re
import subprocess
import textwrap
from html import unescape
from pathlib import Path
from xml.etree import ElementTree

import feedparser
import pytest
from conftest import BOOK, LANGS, SHARED, VENV_BIN, book_pages, front_matter, sphinx_env

from langswitch import rtd_code

SEED = SHARED / "seed" / "deep-learning-feed.xml"
TAG_FEED = "tags/deep-learning/index.xml"
CJK = re.compile(r"[\u4e00-\u9fff]")
HEAD_LINK = re.compile(r'<link rel="alternate" type="application/rss\+xml" title="([^"]*)" href="([^"]*)" />')


def feeds_of(html_dir: Path, lang: str) -> list[Path]:
    return sorted((html_dir / lang).glob("index.xml")) + sorted((html_dir / lang).glob("tags/*/index.xml"))


def parse(path: Path):
    parsed = feedparser.parse(path.read_bytes())
    assert parsed.bozo == 0, f"{path}: {parsed.get('bozo_exception')!r}"
    assert parsed.version == "rss20", path
    return parsed


def self_link(parsed) -> str:
    (href,) = [link.href for link in parsed.feed.links if link.rel == "self"]
    return href


def page_of(url: str, base: str, root: Path) -> Path:
    """The built file that a feed URL names: the base URL prefix maps onto the language's folder."""
    assert url.startswith(base), f"{url} is not under the base URL {base}"
    rel = url[len(base):].split("#")[0]
    if rel == "" or rel.endswith("/"):
        rel += "index.html"
    return root / rel


def part_tag(page: Path) -> str:
    """The tag a built page should carry: the Part pages continue the blog's deep-learning posts,
    chapters are tagged by their part."""
    if page.name == "index.html" and len(page.parts) == 2:
        return "deep-learning"
    return {"transformer": "transformer", "deepfake": "deepfake-detection"}.get(
        page.parts[0], "getting-started" if page.name == "running.html" else "appendix")


# pages that are not chapters: the cover, the back matter
UNDATED = {"index.md", "references.md", "glossary.md"}


# -- the book's feeds ----------------------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
def test_every_feed_parses(html_dir, lang):
    feeds = feeds_of(html_dir, lang)
    assert [f.relative_to(html_dir / lang).as_posix() for f in feeds][:1] == ["index.xml"]
    assert html_dir / lang / TAG_FEED in feeds
    for feed in feeds:
        parsed = parse(feed)
        assert parsed.entries, f"{feed} has no items"


def test_tag_feed_succeeds_the_blogs(html_dir):
    """Same posts, same pubDates (offset kept), same order and channel as the seed's tag feed."""
    if not SEED.exists():
        pytest.skip(f"the blog's feed {SEED} is absent (it lives in ../shared beside the project)")
    seed = feedparser.parse(SEED.read_bytes())
    ours = parse(html_dir / "en" / TAG_FEED)
    assert ours.feed.title == seed.feed.title == "Deep Learning on Yang"
    assert ours.feed.subtitle == seed.feed.subtitle == "Recent content in Deep Learning on Yang"
    assert ours.feed.language == seed.feed.language == "en-US"
    # the raw RFC 822 strings, not parsed times: the +0800 must survive
    assert ours.feed.updated == seed.feed.updated == "Fri, 06 Mar 2026 21:35:00 +0800"
    assert [e.published for e in ours.entries] == [e.published for e in seed.entries]
    assert len(ours.entries) == len(seed.entries) == 2
    # the Part pages carry the posts' own titles
    assert [e.title for e in ours.entries] == [e.title for e in seed.entries]


@pytest.mark.parametrize("lang", LANGS)
def test_items_are_the_pages(html_dir, lang):
    """Titles are the built pages' titles (translated in zh); links are absolute, include the
    language path and resolve to built pages; guid is the permalink."""
    root = html_dir / lang
    site = parse(root / "index.xml")
    base = self_link(site)[: -len("index.xml")]
    assert base.startswith("https://") and f"/{rtd_code(lang)}/" in base
    for feed in feeds_of(html_dir, lang):
        parsed = parse(feed)
        assert page_of(self_link(parsed), base, root) == feed
        assert page_of(parsed.feed.link, base, root).is_file()
        dates = [e.published_parsed for e in parsed.entries]
        assert dates == sorted(dates, reverse=True), f"{feed}: not newest first"
        assert parsed.feed.updated == parsed.entries[0].published
        guids = ElementTree.parse(feed).findall("channel/item/guid")
        assert len(guids) == len(parsed.entries)
        assert all(g.get("isPermaLink") == "true" for g in guids), feed
        for entry in parsed.entries:
            page = page_of(entry.link, base, root)
            assert page.is_file(), entry.link
            assert entry.id == entry.link
            html_title = unescape(re.search(r"<title>(.*?)</title>", page.read_text("utf-8"), re.S)[1])
            assert html_title.startswith(entry.title), (entry.title, html_title)
            assert [t.term for t in entry.tags] == [part_tag(page.relative_to(root))]
            assert entry.summary.startswith("<p>") and len(re.sub(r"<[^>]+>", "", entry.summary)) > 20  # a sentence


def _toc_pages() -> list[str]:
    """Every page of the book, in reading order, relative to book/."""
    return [p.relative_to(BOOK).as_posix() for p in book_pages()]


def test_chapters_have_distinct_dates_in_reading_order():
    """A feed reader orders items by their dates: no two chapters share one, and chapters that
    appeared together (within a minute) are dated in the book's reading order."""
    from rss import parse_date
    dated = [(rel, parse_date(front_matter(BOOK / rel)["date"], rel))
             for rel in _toc_pages() if rel not in UNDATED]
    seen: dict = {}
    for rel, date in dated:
        assert date not in seen, f"{rel} and {seen[date]} share the date {date.isoformat()}"
        seen[date] = rel
    for i, (a, da) in enumerate(dated):
        for b, db in dated[i + 1:]:
            if abs((db - da).total_seconds()) < 60:
                assert da < db, f"{a} comes before {b} in the book but is dated after it ({da} > {db})"


@pytest.mark.parametrize("lang", LANGS)
def test_tag_channels_are_named_for_their_tags(html_dir, lang):
    """Each tag's channel has its own title, the tag's name in the edition's language (the blog's
    scheme, "Deep Learning on Yang"); the pages' head links carry the same titles."""
    root = html_dir / lang
    titles = {f.relative_to(root).as_posix(): parse(f).feed.title for f in feeds_of(html_dir, lang)}
    tags = {path: title for path, title in titles.items() if path.startswith("tags/")}
    assert len(set(tags.values())) == len(tags), f"{lang}: tag channels share a title: {tags}"
    # the book is named for the blog's deep-learning tag, so that channel alone bears the book's title
    same = [path for path, title in tags.items() if title == titles["index.xml"]]
    assert same == [TAG_FEED], f"{lang}: tag channels titled like the book: {same}"
    expected = {"en": {"tags/deepfake-detection/index.xml": "Deepfake Detection on Yang",
                       "tags/deep-learning/index.xml": "Deep Learning on Yang"},
                "zh_CN": {"tags/deepfake-detection/index.xml": "Yang 的深度伪造检测",
                          "tags/deep-learning/index.xml": "Yang 的深度学习",
                          "tags/transformer/index.xml": "Yang 的 Transformer"}}[lang]
    assert {k: titles[k] for k in expected} == expected
    for path, title in titles.items():
        description = parse(root / path).feed.subtitle
        assert title in description, (path, description)
        if lang == "zh_CN":
            assert CJK.search(title) and not re.search(r"\bon\b|Appendix|Getting", title), title
    page = (root / "deepfake" / "mesonet.html").read_text(encoding="utf-8")
    heads = {unescape(t) for t, _ in HEAD_LINK.findall(page)}
    assert titles["tags/deepfake-detection/index.xml"] in heads, heads


def test_every_chapter_is_dated_and_tagged():
    """A new chapter reaches subscribers: every page but the cover and the back matter has a date
    with an offset and its part's tag in its front matter."""
    from rss import parse_date, parse_tags
    for rel in _toc_pages():
        if rel in UNDATED:
            continue
        front = front_matter(BOOK / rel)
        assert "date" in front and "tags" in front, f"{rel}: no date or no tags in the front matter"
        assert isinstance(front["date"], str), f"{rel}: quote the date (myst-nb cannot cache a YAML timestamp)"
        parse_date(front["date"], rel)
        assert list(parse_tags(front["tags"], rel)) == [part_tag(Path(rel).with_suffix(".html"))], rel


@pytest.mark.parametrize("lang", LANGS)
def test_feeds_carry_every_chapter_in_full(html_dir, lang):
    """The site feed has every dated page; each item carries the page's whole content
    (content:encoded) with absolute links that resolve to built files; each part has its feed."""
    root = html_dir / lang
    site = parse(root / "index.xml")
    base = self_link(site)[: -len("index.xml")]
    dated = [p for p in _toc_pages() if p not in UNDATED]
    linked = {page_of(e.link, base, root).relative_to(root).as_posix() for e in site.entries}
    assert linked == {str(Path(p).with_suffix(".html")) for p in dated}
    for entry in site.entries:
        page = page_of(entry.link, base, root)
        (content,) = [c.value for c in entry.content]
        h1 = unescape(re.sub(r"<[^>]+>", "", re.search(r"<h1>(.*?)</h1>", page.read_text("utf-8"), re.S)[1]))
        assert h1.rstrip("#").strip() in unescape(re.sub(r"<[^>]+>", "", content)), entry.link
        urls = re.findall(r'\b(?:href|src)="([^"]*)"', content)
        assert urls, entry.link
        for url in map(unescape, urls):
            assert url.startswith(("https://", "http://", "mailto:")), f"{entry.link}: relative link {url}"
            if url.startswith(base):
                assert page_of(url, base, root).is_file(), f"{entry.link}: {url} names no built file"
        assert 'src="' + base + "_images/" in content or "<img" not in content, entry.link
    for tag, prefix in (("transformer", "transformer/"), ("deepfake-detection", "deepfake/")):
        feed = parse(root / "tags" / tag / "index.xml")
        assert {page_of(e.link, base, root).relative_to(root).as_posix() for e in feed.entries} == {
            str(Path(p).with_suffix(".html")) for p in dated if p.startswith(prefix) and not p.endswith("/index.md")}


def test_zh_feeds_are_chinese(html_dir):
    en = parse(html_dir / "en" / TAG_FEED)
    zh = parse(html_dir / "zh_CN" / TAG_FEED)
    assert zh.feed.language == "zh-CN"
    assert zh.feed.title == "Yang 的深度学习"
    assert CJK.search(zh.feed.subtitle) and "Yang" in zh.feed.subtitle
    assert [e.published for e in zh.entries] == [e.published for e in en.entries]
    for z, e in zip(zh.entries, en.entries):
        assert CJK.search(z.title) and z.title != e.title
        assert CJK.search(z.summary) and z.summary != e.summary


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_links_its_feeds(html_dir, lang):
    root = html_dir / lang
    pages = [p for p in root.rglob("*.html") if not p.relative_to(root).parts[0].startswith("_")]
    assert len(pages) >= 5
    for page in pages:
        text = page.read_text("utf-8")
        head = text[: text.index("</head>")]
        # 404.html links absolutely (it is served at any depth): "/en/index.xml" is under html_dir
        targets = [(html_dir / href.lstrip("/") if href.startswith("/") else page.parent / href).resolve()
                   for _, href in HEAD_LINK.findall(head)]
        assert (root / "index.xml").resolve() in targets, page
        assert all(t.is_file() for t in targets), page
    tagged = (root / "transformer" / "index.html").read_text("utf-8")
    assert "../" + TAG_FEED in [href for _, href in HEAD_LINK.findall(tagged)]


def test_book_feeds_are_reproducible(html_dir, rebuilt_en):
    """Rebuilding the English book (executions come from the cache) gives the same feed bytes."""
    for feed in feeds_of(html_dir, "en"):
        rel = feed.relative_to(html_dir / "en")
        assert (rebuilt_en / rel).read_bytes() == feed.read_bytes(), rel


# -- throw-away projects -------------------------------------------------------------------------
BASE = "https://example.org/en/latest/"

PAGES = {
    "index.md": """\
        # Tiny blog

        ```{toctree}
        one
        two
        three
        undated
        ```
        """,
    "one.md": """\
        ---
        date: "2026-03-06T20:00:00+08:00"
        tags: [deep-learning, notes]
        description: First & foremost.
        ---
        # Post one

        Body of one.
        """,
    "two.md": """\
        ---
        date: "2026-03-06T21:35:00+08:00"
        tags: [deep-learning]
        ---
        # Post two

        The *first* paragraph of two, citing [post one](one.md).

        A second paragraph, only in the full text, linking [back](#sec).

        (sec)=
        ## A section
        """,
    "three.md": """\
        ---
        date: "2025-12-31T23:00:00-05:00"
        tags: [notes]
        description: Third.
        ---
        # Post three

        Body.
        """,
    "undated.md": """\
        ---
        tags: [deep-learning]
        ---
        # Not a post

        No date, so no item.
        """,
}


def project(tmp_path: Path, conf: str = f"html_baseurl = {BASE!r}", pages: dict | None = None,
            files: dict | None = None) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(textwrap.dedent(f"""\
        import sys
        sys.path.insert(0, {str(BOOK / "_ext")!r})
        project = "Tiny blog"
        extensions = ["myst_parser", "rss"]
        exclude_patterns = ["_build", "locales"]
        locale_dirs = ["locales/"]
        gettext_compact = False
        """) + textwrap.dedent(conf) + "\n")
    for name, text in {**PAGES, **(pages or {}), **(files or {})}.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return src


def build(src: Path, out: Path, *options: str, builder: str = "html") -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_BIN / "sphinx-build"), "-b", builder, "-q", *options, str(src), str(out)],
        env=sphinx_env(), capture_output=True, text=True, timeout=300,
    )


def built(src: Path, out: Path, *options: str, builder: str = "html") -> subprocess.CompletedProcess:
    run = build(src, out, "-W", *options, builder=builder)
    assert run.returncode == 0, run.stderr
    return run


def test_items_channel_and_tag_feeds(tmp_path):
    out = tmp_path / "out"
    built(project(tmp_path), out)
    site = parse(out / "index.xml")
    assert [e.link for e in site.entries] == [BASE + "two.html", BASE + "one.html", BASE + "three.html"]
    assert [e.published for e in site.entries] == [
        "Fri, 06 Mar 2026 21:35:00 +0800", "Fri, 06 Mar 2026 20:00:00 +0800", "Wed, 31 Dec 2025 23:00:00 -0500"]
    assert site.feed.updated == "Fri, 06 Mar 2026 21:35:00 +0800"
    assert site.feed.title == "Tiny blog" and site.feed.subtitle == "Recent content in Tiny blog"
    assert site.feed.link == BASE and self_link(site) == BASE + "index.xml"
    assert site.feed.language == "en-US"
    one, two = site.entries[1], site.entries[0]
    assert one.title == "Post one" and one.summary == "<p>First &amp; foremost.</p>"
    assert [t.term for t in one.tags] == ["deep-learning", "notes"]
    # no description: the first paragraph, as HTML, with its link made absolute
    assert two.summary.startswith("<p>The <em>first</em> paragraph of two")
    assert f'href="{BASE}one.html"' in two.summary and "second paragraph" not in two.summary
    assert "content" not in two  # full text is off by default
    tags = {p.parent.name: parse(p) for p in (out / "tags").glob("*/index.xml")}
    assert sorted(tags) == ["deep-learning", "notes"]
    assert [e.title for e in tags["deep-learning"].entries] == ["Post two", "Post one"]
    assert [e.title for e in tags["notes"].entries] == ["Post one", "Post three"]
    assert tags["notes"].feed.updated == "Fri, 06 Mar 2026 20:00:00 +0800"
    assert self_link(tags["notes"]) == BASE + "tags/notes/index.xml"
    # heads: every page the site feed; a tagged page (even undated) its tag feeds too
    links = {p: [h for _, h in HEAD_LINK.findall((out / p).read_text("utf-8"))]
             for p in ("index.html", "one.html", "undated.html", "genindex.html")}
    assert links["index.html"] == links["genindex.html"] == ["index.xml"]
    assert links["one.html"] == ["index.xml", "tags/deep-learning/index.xml", "tags/notes/index.xml"]
    assert links["undated.html"] == ["index.xml", "tags/deep-learning/index.xml"]


def test_options(tmp_path):
    conf = f"""
        rss_base_url = {{"en": "https://books.example/en/v2", "zh_CN": "https://books.example/zh-cn/v2/"}}
        rss_feed_length = 1
        rss_full_text = True
        rss_tags = ["notes"]
        rss_title = "Notes of Yang"
        """
    out = tmp_path / "out"
    built(project(tmp_path, conf), out)
    site = parse(out / "index.xml")
    assert site.feed.title == "Notes of Yang" and site.feed.subtitle == "Recent content in Notes of Yang"
    (two,) = site.entries  # length 1: only the newest
    assert two.link == "https://books.example/en/v2/two.html"
    assert site.feed.updated == two.published
    full = two.content[0].value
    assert "second paragraph" in full and 'href="https://books.example/en/v2/two.html#sec"' in full
    assert sorted(p.parent.name for p in (out / "tags").glob("*/index.xml")) == ["notes"]


def test_unknown_tag_is_a_warning(tmp_path):
    src = project(tmp_path, f"html_baseurl = {BASE!r}\nrss_tags = ['notes', 'quantum']")
    run = build(src, tmp_path / "out")
    assert run.returncode == 0
    assert "'quantum'" in run.stderr and "WARNING" in run.stderr
    assert (tmp_path / "out" / "tags" / "notes" / "index.xml").is_file()
    assert not (tmp_path / "out" / "tags" / "quantum").exists()
    assert build(src, tmp_path / "strict", "-W").returncode != 0


@pytest.mark.parametrize("value, problem", [
    ("next tuesday", "not an ISO 8601"),
    ("2026-03-06T20:00:00", "no UTC offset"),
    ("2026-03-06", "no time and no UTC offset"),
    ("2026-02-30T20:00:00+08:00", "not an ISO 8601"),
])
def test_bad_date_stops_the_build(tmp_path, value, problem):
    page = f'---\ndate: "{value}"\n---\n# Post three\n\nBody.\n'
    run = build(project(tmp_path, pages={"three.md": page}), tmp_path / "out")
    assert run.returncode != 0
    assert "RSS feed error" in run.stderr
    assert f"page 'three'" in run.stderr and repr(value) in run.stderr and problem in run.stderr


def test_missing_base_url_is_an_error(tmp_path):
    run = build(project(tmp_path, conf=""), tmp_path / "out")
    assert run.returncode != 0
    assert "rss_base_url" in run.stderr and "html_baseurl" in run.stderr
    assert not (tmp_path / "out" / "index.xml").exists()


def test_two_builds_are_byte_identical(tmp_path):
    src = project(tmp_path)
    first, second = tmp_path / "first", tmp_path / "second"
    built(src, first)
    built(src, second)
    feeds = sorted(p.relative_to(first) for p in first.rglob("*.xml"))
    assert len(feeds) == 3
    assert [(second / f).read_bytes() for f in feeds] == [(first / f).read_bytes() for f in feeds]
    # an incremental rebuild that rereads only one page writes the same feeds again
    (src / "three.md").write_text((src / "three.md").read_text() + "\nMore.\n")
    built(src, first)
    assert [(second / f).read_bytes() for f in feeds] == [(first / f).read_bytes() for f in feeds]


ZH_PO = {
    "locales/zh_CN/LC_MESSAGES/one.po": {"Post one": "第一篇", "First & foremost.": "首要之事。"},
    "locales/zh_CN/LC_MESSAGES/_ext/rss.po": {"Recent content in {title}": "{title}最新内容"},
}


def po(entries: dict) -> str:
    head = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n"Language: zh_CN\\n"\n\n'
    return head + "".join(f'msgid "{k}"\nmsgstr "{v}"\n\n' for k, v in entries.items())


def test_translated_build(tmp_path):
    # rss_title follows the language, which -D sets after conf.py has run: hence the hook
    conf = """
        rss_base_url = {"en": "https://example.org/en/latest/", "zh_CN": "https://example.org/zh-cn/latest/"}

        def setup(app):
            def per_language(app, config):
                if config.language == "zh_CN":
                    config.rss_title = "小博客"
            app.connect("config-inited", per_language)
        """
    src = project(tmp_path, conf, files={name: po(e) for name, e in ZH_PO.items()})
    out = tmp_path / "zh"
    built(src, out, "-D", "language=zh_CN")
    site = parse(out / "index.xml")
    assert site.feed.language == "zh-CN"
    assert site.feed.title == "小博客" and site.feed.subtitle == "小博客最新内容"
    one = [e for e in site.entries if e.link.endswith("/one.html")][0]
    assert one.link == "https://example.org/zh-cn/latest/one.html"
    assert one.title == "第一篇" and one.summary == "<p>首要之事。</p>"
    # untranslated pages stay in English, like the rest of Sphinx
    assert [e.title for e in site.entries if e is not one] == ["Post two", "Post three"]


def test_make_po_extracts_descriptions(tmp_path):
    """The gettext builder puts a dated page's description into the page's own catalogue and the
    channel description into the extension's, so `make po` brings them to the translators."""
    out = tmp_path / "gettext"
    built(project(tmp_path), out, builder="gettext")
    assert 'msgid "First & foremost."' in (out / "one.pot").read_text("utf-8")
    assert 'msgid "Third."' in (out / "three.pot").read_text("utf-8")
    assert 'msgid "Recent content in {title}"' in (out / "_ext" / "rss.pot").read_text("utf-8")
