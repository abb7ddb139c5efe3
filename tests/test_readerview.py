"""The reader's view of the built book: a landing page that lists the book, one search box, outputs that
do not leak the build. (The checks that need a browser's layout are in test_browser.py.)"""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from conftest import BOOK, LANGS, book_pages, front_matter

pytestmark = pytest.mark.usefixtures("html_dir")


def _page(html_dir, lang: str, rel: str) -> str:
    return (html_dir / lang / rel).read_text(encoding="utf-8")


def _article(text: str) -> str:
    match = re.search(r"<article.*?</article>", text, re.S)
    assert match, "no <article> in the page"
    return match.group(0)


@pytest.mark.parametrize("lang", LANGS)
def test_landing_page_lists_every_chapter_in_reading_order(html_dir, lang):
    """Every page of the contents but the landing page, in the order of the toctree walk, once each,
    each with its one-line description (translated in the Chinese edition)."""
    page = _page(html_dir, lang, "index.html")
    block = re.search(r'<div class="yang-chapters[^"]*">(.*?)</div>', page, re.S)
    assert block, "the landing page has no list of chapters"
    links = re.findall(r'<a class="reference internal" href="([^"#]+)\.html"', block.group(1))
    expected = [p.relative_to(BOOK).with_suffix("").as_posix() for p in book_pages()]
    expected = [p for p in expected if p != "index"]
    assert links == expected, f"chapters listed {links}, contents {expected}"
    lines = re.findall(r'<span class="yang-chapter-line">(.*?)</span>', block.group(1), re.S)
    described = [p for p in book_pages() if p != BOOK / "index.md" and front_matter(p).get("description")]
    assert len(lines) == len(described), "a chapter's description is missing from the list"
    if lang == "zh_CN":
        english = [html.unescape(l) for l in lines if not re.search(r"[\u4e00-\u9fff]", l)]
        assert not english, f"descriptions left in English: {english}"


@pytest.mark.parametrize("lang", LANGS)
def test_sidebar_titles_are_not_doubled(html_dir, lang):
    """A part's caption in the sidebar does not repeat the title of a page under it (the back matter's
    caption names the glossary and the references it holds, on purpose)."""
    page = _page(html_dir, lang, "index.html")
    nav = re.search(r'<nav class="[^"]*bd-docs-nav.*?</nav>', page, re.S).group(0)
    captions = [html.unescape(c) for c in re.findall(r'<span class="caption-text">([^<]*)</span>', nav)]
    assert len([c for c in captions if "—" in c]) >= 3, captions
    titles = [html.unescape(re.sub(r"<[^>]+>", "", t)) for t in
              re.findall(r'<li class="toctree-l1[^"]*"><a [^>]*>(.*?)</a>', nav, re.S)]
    for caption in [c for c in captions if "—" in c]:  # a part's caption names it after the dash
        name = caption.split("—")[-1].strip().lower()
        for title in titles:
            head = re.split(r"[—：:]", title)[0].strip().lower()
            assert name not in title.lower() and head not in caption.lower(), \
                f"caption {caption!r} repeats the title {title!r}"


@pytest.mark.parametrize("lang", LANGS)
def test_one_search_box(html_dir, lang):
    """The header's search button is the page's only search entry; the sidebar has no second field."""
    page = _page(html_dir, lang, "transformer/attention.html")
    sidebar = re.search(r'class="bd-sidebar-primary.*?class="sidebar-primary-items__end', page, re.S)
    assert sidebar, "no primary sidebar"
    assert "search-button-field" not in sidebar.group(0), "a second search box in the sidebar"
    assert "search-button" in page, "no search button in the header"


class _ReaderText(HTMLParser):
    """The text of an article as the reader reads it, without the code cells' source."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.depth, self.skip_at = [], 0, None

    def handle_starttag(self, tag, attrs):
        if tag in ("br", "img", "hr", "input", "meta", "link"):
            return
        self.depth += 1
        classes = dict(attrs).get("class") or ""
        if self.skip_at is None and ("cell_input" in classes.split() or tag in ("script", "style")):
            self.skip_at = self.depth

    def handle_endtag(self, tag):
        if tag in ("br", "img", "hr", "input", "meta", "link"):
            return
        if self.skip_at == self.depth:
            self.skip_at = None
        self.depth -= 1

    def handle_data(self, data):
        if self.skip_at is None:
            self.parts.append(data)


def reader_text(page: str) -> str:
    parser = _ReaderText()
    parser.feed(_article(page))
    return re.sub(r"\s+", " ", " ".join(parser.parts))


# What a page's outputs must not show: where the book was built, and how long a cell took.
LEAKS = {
    "a machine path": re.compile(r"(/work/|/home/|/tmp/|/root/|/usr/|site-packages)"),
    "timing chatter": re.compile(r"\b(executed|measured|trained|took|ran) in [\d.]+ ?(s|ms|min)\b|\bin \d+(\.\d+)? s\b"),
    "a range of one": re.compile(r"\b(\d+)[-–]\1\b(?![.,]\d)"),
}


@pytest.mark.parametrize("lang", LANGS)
def test_outputs_do_not_leak_the_build(html_dir, lang):
    """No output block or paragraph names a machine path, a cell's timing, or a range like 42-42."""
    found = []
    for path in sorted((html_dir / lang).rglob("*.html")):
        rel = path.relative_to(html_dir / lang).as_posix()
        if rel.startswith(("_", "genindex", "search", "404")):
            continue
        # the code itself may name paths and durations; only what the reader is told is checked
        text = reader_text(path.read_text(encoding="utf-8"))
        for what, pattern in LEAKS.items():
            for match in pattern.finditer(text):
                found.append(f"{rel}: {what}: …{text[max(0, match.start() - 60):match.end() + 30]}…")
    assert not found, "\n".join(found[:30])


# --- code that serves the prose -------------------------------------------------------------------

def test_code_cells_are_formatted_at_88_columns():
    """ruff formats every code cell at 88 columns (`make format` does it); a long string or comment that
    the formatter cannot break wraps inside the box (book/_static/readerview.css)."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(BOOK / "_ext" / "formatcells.py"), "--book", str(BOOK), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _folded_sources(page: str) -> list[tuple[str, str]]:
    """(summary, code) of each folded code cell of an HTML page."""
    out = []
    for block in re.findall(r'<details class="admonition hide above-input">(.*?)</details>', page, re.S):
        summary = re.search(r'<p class="collapsed admonition-title">(.*?)</p>', block, re.S)
        code = html.unescape(re.sub(r"<[^>]+>", "", "".join(re.findall(r"<pre>(.*?)</pre>", block, re.S))))
        out.append((html.unescape(summary.group(1)) if summary else "", code))
    return out


def _cells(page):
    import jupytext

    return [c for c in jupytext.read(page).cells if c.cell_type == "code"]


@pytest.mark.parametrize("lang", LANGS)
def test_long_exported_cells_fold_with_what_they_define(html_dir, lang):
    """An exported cell of more than 40 lines is folded, and its summary names its definitions."""
    import ast

    checked = 0
    for md in book_pages():
        long = [c for c in _cells(md) if "export" in c.metadata.get("tags", []) and len(c.source.splitlines()) > 40]
        if not long:
            continue
        folded = _folded_sources(_page(html_dir, lang, md.relative_to(BOOK).with_suffix(".html").as_posix()))
        for cell in long:
            first = next(l for l in cell.source.splitlines() if l.strip())
            match = [s for s, code in folded if code.strip() == cell.source.strip()]
            assert match, f"{md.name}: the exported cell starting {first!r} is shown whole"
            defined = [n.name for n in ast.parse(cell.source).body
                       if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and not n.name.startswith("_")]
            expected = ("显示代码" if lang == "zh_CN" else "Show the code") + (
                f"（{len(cell.source.splitlines())} 行）" if lang == "zh_CN" else f" ({len(cell.source.splitlines())} lines)")
            assert match[0].startswith(expected), (md.name, match[0])
            assert not defined or defined[0] in match[0], f"{md.name}: summary {match[0]!r} does not name {defined[0]}"
            checked += 1
    assert checked > 20, checked


PRINT_ONLY = 'print(f"{x:.3f}")\nfor k in range(3):\n    print(k)\n'
DRAW_ONLY = "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot([1, 2])\nplt.show()\n"


def test_cells_that_only_show_are_recognised():
    """The rule that folds a cell: it only prints, glues or draws; a cell that computes stays open."""
    import sys

    sys.path.insert(0, str(BOOK / "_ext"))
    from codecells import only_shows

    assert only_shows(PRINT_ONLY) and only_shows(DRAW_ONLY)
    assert only_shows('glue("n", f"{n:,}", display=False)\n')
    assert not only_shows("model = train(3)\nprint(model)\n")
    assert not only_shows("x = 1\n")
    assert not only_shows("%timeit f()\n")


@pytest.mark.parametrize("lang", LANGS)
def test_results_sections_open_with_prose_not_code(html_dir, lang):
    """The benchmark's results cells (they print, glue and draw) are folded, their outputs in view."""
    page = _page(html_dir, lang, "deepfake/benchmark.html")
    folded = [code for _, code in _folded_sources(page)]
    assert any(code.lstrip().startswith('rows = ["all four"]') for code in folded), "the matrix cell is shown whole"
    assert any(code.lstrip().startswith("names = list(IMAGE_DETECTORS)") for code in folded)
