"""Results as a reader would rather look at them: real tables with translated labels, and figures in one
house style with numbered, translated captions and alt text. (Widths in a browser: test_browser.py.)"""
from __future__ import annotations

import ast
import html
import re

import pytest

from conftest import BOOK, LANGS, book_pages

CJK = re.compile(r"[\u4e00-\u9fff]")
# the pages whose results a reviewer found printed as text (issue: the reader's view)
RESULT_PAGES = ["deepfake/benchmark", "transformer/experiments", "deepfake/blink", "deepfake/frequency", "tool"]


# -- the Table helper, against hand-written expectations ------------------------------------------
def test_table_writes_a_myst_table_with_labels_translatable_and_numbers_right_aligned():
    from yangbook.show import Table

    t = Table(["detector", "parameters", "test AUC", "verdict"], labels=(0, 3))
    t.add("Meso-4", 27_977, "0.912 ± 0.031", "higher")
    t.add("a|b", None, "x_y $5", "indistinguishable")
    lines = t._repr_markdown_().splitlines()
    assert lines[0] == "| {tr}`detector` | {tr}`parameters` | {tr}`test AUC` | {tr}`verdict` |"
    assert lines[1] == "| :-- | --: | --: | :-- |"
    # the ± holds its two numbers on one line (no-break spaces); thousands separated
    assert lines[2] == "| {tr}`Meso-4` | 27,977 | 0.912\u00a0±\u00a00.031 | {tr}`higher` |"
    # a value's Markdown specials are escaped; an empty cell stays empty
    assert lines[3] == "| {tr}`a|b` |  | x\\_y \\$5 | {tr}`indistinguishable` |"
    text = str(t).splitlines()
    assert text[0].startswith("detector") and text[2].endswith("higher")
    assert text[2].index("27,977") + len("27,977") == text[0].index("parameters") + len("parameters")
    assert "<th style=\"text-align:right\">parameters</th>" in t._repr_html_()


def test_table_refuses_what_it_cannot_show():
    from yangbook.show import Table

    t = Table(["a", "b"])
    with pytest.raises(ValueError, match="needs 2 cells"):
        t.add("only one")
    with pytest.raises(TypeError, match="format the number first"):
        t.add("x", 0.5)
    with pytest.raises(ValueError, match="backtick"):
        Table(["a"]).add("a `b`")._repr_markdown_()
    with pytest.raises(ValueError, match="must name columns"):
        Table(["a", "b"], labels=(0, 2))


# -- the built pages --------------------------------------------------------------------------------
def _page(html_dir, lang, rel):
    return (html_dir / lang / f"{rel}.html").read_text(encoding="utf-8")


def _output_tables(page: str) -> list[str]:
    """The tables of results on a page (yangbook.show.Table: class yang-results, book/_ext/tables.py)."""
    return re.findall(r'<table class="[^"]*\byang-results\b[^"]*">.*?</table>', page, re.S)


def _cells(table: str, tag: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(rf"<{tag}[^>]*>(.*?)</{tag}>", table, re.S)]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("rel", RESULT_PAGES)
def test_results_are_real_tables(html_dir, lang, rel):
    """Every results page shows its tables as tables; no output block is a table printed as text."""
    page = _page(html_dir, lang, rel)
    assert _output_tables(page), f"{rel}: no results table"
    for block in re.findall(r'<div class="cell_output docutils container">(.*?)</div>\s*</div>\s*</div>', page, re.S):
        for pre in re.findall(r"<pre>(.*?)</pre>", block, re.S):
            rows = [l for l in html.unescape(re.sub(r"<[^>]+>", "", pre)).splitlines()
                    if len(re.findall(r"\d\.\d{2,}", l)) >= 2]
            assert len(rows) < 3, f"{rel}: an output prints a table as text:\n" + "\n".join(rows[:4])


@pytest.mark.parametrize("rel", RESULT_PAGES)
def test_table_labels_are_chinese_in_the_chinese_edition(html_dir, rel):
    """A header or row label of two or more English words is translated; numbers stay as they are."""
    import polib

    catalogue = BOOK / "locales" / "zh_CN" / "LC_MESSAGES" / "_ext" / "labels.po"
    names = {e.msgid for e in polib.pofile(str(catalogue)) if e.msgstr == e.msgid}  # kept as they are
    english = []
    for table in _output_tables(_page(html_dir, "zh_CN", rel)):
        for label in _cells(table, "th") + [c for c in _cells(table, "td") if not re.search(r"\d", c)]:
            if not CJK.search(label) and len(re.findall(r"[A-Za-z]{3,}", label)) >= 2 and label not in names:
                english.append(label)
    assert not english, f"{rel}: labels left in English: {sorted(set(english))[:10]}"


@pytest.mark.parametrize("lang", LANGS)
def test_numbers_keep_their_interval_on_one_line(html_dir, lang):
    page = _page(html_dir, lang, "deepfake/benchmark")
    values = [c for t in _output_tables(page) for c in _cells(t, "td") if "±" in c]
    assert values, "the benchmark's tables show no mean ± interval"
    assert all(re.search(r"\d\u00a0±\u00a0\d", v) for v in values), values[:5]
    assert 'class="text-right"' in "".join(_output_tables(page))
    assert "pst-scrollable-table-container" in page  # the theme's sideways scroll, at 400 px


@pytest.mark.parametrize("lang", LANGS)
def test_every_figure_has_a_numbered_caption_and_alt_text(html_dir, lang):
    """Every image a page draws sits in a <figure> with a numbered caption and alt text in the page's
    language (the alt text is not the file's name)."""
    word = {"en": "Figure", "zh_CN": "图"}[lang]
    missing = []
    for path in book_pages():
        rel = path.relative_to(BOOK).with_suffix("").as_posix()
        page = _page(html_dir, lang, rel)
        article = re.search(r"<article.*?</article>", page, re.S).group(0)
        figures = re.findall(r"<figure.*?</figure>", article, re.S)
        in_figures = sum(f.count("<img") for f in figures)
        if article.count("<img") != in_figures:
            missing.append(f"{rel}: {article.count('<img') - in_figures} image(s) outside a figure")
        for fig in figures:
            alt = html.unescape(re.search(r'<img alt="([^"]*)"', fig).group(1))
            caption = html.unescape(re.sub(r"<[^>]+>", "", re.search(r"<figcaption>(.*?)</figcaption>", fig, re.S).group(1)))
            if not alt or alt.endswith(".png") or "_images/" in alt:
                missing.append(f"{rel}: a figure without alt text")
            if not re.match(rf"\s*{word}\s*\d+", caption):
                missing.append(f"{rel}: a caption without its number: {caption[:40]!r}")
            if lang == "zh_CN" and not (CJK.search(alt) and CJK.search(caption[3:])):
                missing.append(f"{rel}: alt text or caption in English: {alt[:40]!r}")
    assert not missing, "\n".join(missing[:20])


def test_every_page_draws_in_the_house_style():
    """The style file keeps labels at 9 pt or more at the shown size (100 px an inch, a figure at most
    7.6 in wide in a ~770 px column), and no page draws wider or sets a smaller font."""
    import matplotlib as mpl

    from yangbook.show import STYLE

    rc = mpl.rc_params_from_file(str(STYLE), use_default_template=False)
    assert rc["figure.dpi"] == 100 and rc["figure.figsize"][0] <= 7.6
    assert int(rc["pdf.fonttype"]) == 42  # the PDF's figures embed real fonts (test_pdf: no Type 3)
    for key in ("font.size", "axes.labelsize", "xtick.labelsize", "ytick.labelsize", "legend.fontsize",
                "axes.titlesize"):
        assert float(rc[key]) >= 9, (key, rc[key])
    problems = []
    for path in book_pages():
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(BOOK).as_posix()
        if "plt." not in text and "fig" not in text:
            continue
        if re.search(r"figure\.dpi|savefig\.dpi", text):
            problems.append(f"{rel}: sets its own dpi")
        for m in re.finditer(r"figsize=\(\s*([0-9.]+)\s*,", text):
            if float(m.group(1)) > 7.6:
                problems.append(f"{rel}: figsize width {m.group(1)} in")
        for m in re.finditer(r"\b(?:fontsize|labelsize|titlesize)=([0-9.]+)\b|[\"']size[\"']:\s*([0-9.]+)", text):
            size = float(m.group(1) or m.group(2))
            if size < 9:
                problems.append(f"{rel}: a font of {size:g} pt")
        if ("plt.subplots" in text or "plt.figure" in text) and "use_book_style()" not in text:
            problems.append(f"{rel}: draws without use_book_style()")
    assert not problems, "\n".join(problems)


def test_the_published_numbers_of_the_figure_are_those_of_the_table():
    """The benchmark's dot plot of ours against DeepfakeBench quotes the numbers of the page's table."""
    text = (BOOK / "deepfake" / "benchmark.md").read_text(encoding="utf-8")
    tree = ast.parse(re.search(r"^PUBLISHED = \{.*?^\}", text, re.S | re.M).group(0))
    published = ast.literal_eval(tree.body[0].value)
    for name, levels in published.items():
        row = re.search(rf"^\| {re.escape(name)} \|.*?\| ([0-9.]+) \| ([0-9.]+) \| frame-level AUC", text, re.M)
        assert row, f"no DeepfakeBench row for {name}"
        assert (float(row.group(1)), float(row.group(2))) == (levels["c23"], levels["c40"]), name
