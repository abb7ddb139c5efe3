"""The Chinese edition: complete catalogues, Chinese pages, and a switcher between the languages."""
from __future__ import annotations

import json
import sys
import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import polib
import pytest
from sphinx.errors import ConfigError

from conftest import BOOK, HTML, ROOT

import langswitch
import tangle

LOCALE = BOOK / "locales" / "zh_CN" / "LC_MESSAGES"
CJK = re.compile(r"[\u4e00-\u9fff]")
ROLE = re.compile(r"\{[a-z:-]+\}`[^`]*`")
MATH = re.compile(r"\$[^$]+\$")
# a glued value may be pasted in its Chinese twin, the key with "_zh": a verdict in Chinese
# (yangbook.utils.glue_verdict), a count in 万 and 亿 (the benchmark's bm_*_mmacs_zh, model_*_count_zh)
ZH_TWIN = re.compile(r"(\{glue:text\}`[a-z0-9_]+)_zh`")


def catalogues() -> list[Path]:
    return sorted(LOCALE.rglob("*.po"))


def page_catalogues() -> list[Path]:
    """Catalogues of pages; those under _ext/ hold the extensions' own messages (the feeds')."""
    return [p for p in catalogues() if p.relative_to(LOCALE).parts[0] != "_ext"]


def test_one_catalogue_per_page():
    have = {p.relative_to(LOCALE).with_suffix("").as_posix() for p in page_catalogues()}
    want = {p.relative_to(BOOK.resolve()).with_suffix("").as_posix() for p in tangle.pages_in_order(BOOK)}
    want.add("404")  # outside the contents (orphan), served for a missing address (sphinx-notfound-page)
    assert want <= have, f"pages without a catalogue (run `make po`): {sorted(want - have)}"
    assert not have - want, f"catalogues of pages that no longer exist: {sorted(have - want)}"


@pytest.mark.parametrize("po_path", catalogues(), ids=lambda p: p.relative_to(LOCALE).as_posix())
def test_catalogue_is_complete(po_path):
    po = polib.pofile(str(po_path))
    assert len(po) > 0
    untranslated = [e.msgid[:70] for e in po.untranslated_entries()]
    fuzzy = [e.msgid[:70] for e in po.fuzzy_entries()]
    obsolete = [e.msgid[:70] for e in po.obsolete_entries()]
    assert not untranslated, f"untranslated: {untranslated}"
    assert not fuzzy, f"fuzzy (check the translation, then drop the flag): {fuzzy}"
    assert not obsolete, f"obsolete entries (delete them): {obsolete}"
    for e in po.translated_entries():
        # roles (citations, references) and inline math must survive translation unchanged
        # a glued verdict may be pasted in its Chinese twin, the key with "_zh" (yangbook.utils.glue_verdict),
        # and so may a glued count that Chinese writes in 万 (the benchmark's bm_*_mmacs_zh)
        zh_twin = [ZH_TWIN.sub(r"\1`", r) for r in ROLE.findall(e.msgstr)]
        assert sorted(ROLE.findall(e.msgid)) == sorted(zh_twin), f"roles changed in: {e.msgid[:70]}"
        assert sorted(MATH.findall(e.msgid)) == sorted(MATH.findall(e.msgstr)), f"math changed in: {e.msgid[:70]}"
        if e.msgstr == e.msgid and ROLE.search(e.msgid):
            continue  # a cited work's own (English) title
        if CJK.search(e.msgid) is None and len(e.msgid.split()) > 6 and "\\" not in e.msgid:
            assert CJK.search(e.msgstr), f"an English sentence left in English: {e.msgid[:70]}"


class _Text(HTMLParser):
    """Collects the <title>, the <h1> and the article's text of a built page."""

    def __init__(self):
        super().__init__()
        self.stack, self.title, self.h1, self.body = [], "", "", []

    def handle_starttag(self, tag, attrs):
        self.stack.append((tag, dict(attrs).get("class", "")))

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data):
        tags = [t for t, _ in self.stack]
        if "title" in tags:
            self.title += data
        if "h1" in tags:
            self.h1 += data
        # a folded cell's summary names the code it folds (test_readerview.py checks its Chinese)
        if "article" in tags and not {"pre", "script", "style", "summary"} & set(tags):
            self.body.append(data)


def _parse(path: Path) -> _Text:
    p = _Text()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def _content_pages(lang: str) -> list[Path]:
    return [HTML / lang / p.relative_to(BOOK.resolve()).with_suffix(".html") for p in tangle.pages_in_order(BOOK)]


def test_zh_pages_are_in_chinese(html_dir):
    for page in _content_pages("zh_CN"):
        text = _parse(page)
        assert CJK.search(text.title), f"{page.name}: <title> has no Chinese: {text.title!r}"
        assert CJK.search(text.h1), f"{page.name}: heading has no Chinese: {text.h1!r}"
        body = "".join(text.body)
        assert len(CJK.findall(body)) > 20, f"{page.name}: body has almost no Chinese"
    html = (html_dir / "zh_CN" / "index.html").read_text(encoding="utf-8")
    assert 'lang="zh-CN"' in html and "搜索" in html  # the theme's chrome is translated too


def test_en_pages_are_in_english(html_dir):
    for page in _content_pages("en"):
        if page.name == "glossary.html" and page.parent.name == "en":
            continue  # the glossary gives every term in both languages, in both editions
        text = _parse(page)
        body = "".join(text.body)
        assert not CJK.search(text.h1)
        # Chinese examples are quoted in English prose (the translation task of Part I), but a page
        # whose translation leaked into the English edition would be mostly Chinese
        share = len(CJK.findall(body)) / max(1, len(body))
        assert share < 0.03, f"{page.name}: {share:.0%} of the English edition's text is Chinese"


def test_translations_reach_the_pages(html_dir):
    """A translation that Sphinx cannot apply is dropped silently; find English left on zh pages."""
    for po_path in page_catalogues():
        page = html_dir / "zh_CN" / po_path.relative_to(LOCALE).with_suffix(".html")
        text = _parse(page)
        shown = " ".join(" ".join(text.body).split())
        shown = re.sub(r"\\\(.*?\\\)|\\\[.*?\\\]", " ", shown)   # math, such as d_{model}, is not prose
        for e in polib.pofile(str(po_path)).translated_entries():
            plain = e.msgid
            if e.msgstr == plain or re.search(r"[`$*\[\]{}\\]", plain):
                continue  # markup is rendered differently; compare plain text only
            assert plain not in shown, f"{page.name}: shows the English {plain!r} (translation not applied)"


def test_zh_search_index_has_chinese_terms(html_dir):
    text = (html_dir / "zh_CN" / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(text[text.index("(") + 1: text.rindex(")")])
    terms = [t for t in index["terms"] if CJK.search(t)]
    assert len(terms) > 50, f"{len(terms)} Chinese terms in the search index (is jieba installed?)"


def test_language_switcher_on_every_page(html_dir):
    for lang, other in (("en", "zh_CN"), ("zh_CN", "en")):
        for page in (html_dir / lang).rglob("*.html"):
            if page.relative_to(html_dir / lang).parts[0].startswith("_"):
                continue  # theme assets, not pages
            html = page.read_text(encoding="utf-8")
            m = re.search(r'<a class="yang-lang" href="([^"]+)" hreflang="([^"]+)"', html)
            assert m, f"{lang}/{page.relative_to(html_dir / lang)}: no language switcher"
            assert m.group(2) == other.replace("_", "-")
            href = m.group(1)  # 404.html links absolutely (it is served at any depth): "/zh_CN/404.html"
            target = (html_dir / href.lstrip("/") if href.startswith("/") else page.parent / href).resolve()
            assert target == (html_dir / other / page.relative_to(html_dir / lang)).resolve()
            assert target.exists(), f"{page}: switcher leads to a missing page {target}"


def test_switcher_urls_on_read_the_docs():
    config = SimpleNamespace(
        langswitch_base_urls={}, langswitch_languages={"en": "English", "zh_CN": "简体中文"},
        language="zh_CN", html_baseurl="https://yang.readthedocs.io/zh-cn/latest/")
    assert langswitch.language_base_urls(config) == {
        "en": "https://yang.readthedocs.io/en/latest/", "zh_CN": "https://yang.readthedocs.io/zh-cn/latest/"}
    config.html_baseurl = "https://example.org/docs/"
    with pytest.raises(ConfigError, match="example.org/docs"):
        langswitch.language_base_urls(config)
    config.html_baseurl = ""
    assert langswitch.language_base_urls(config) == {}


class _Prose(HTMLParser):
    """The article's running text: no code, no cell output, no mathematics."""
    SKIP = {"pre", "code", "script", "style", "kbd", "samp"}

    def __init__(self):
        super().__init__()
        self.stack, self.text = [], []

    def handle_starttag(self, tag, attrs):
        cls = dict(attrs).get("class", "") or ""
        self.stack.append((tag, "math" in cls.split() or "MathJax" in cls))

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data):
        tags = {t for t, _ in self.stack}
        if "article" in tags and not self.SKIP & tags and not any(m for _, m in self.stack):
            self.text.append(data)


def test_no_literal_emphasis_markers(html_dir):
    """Markdown that did not become emphasis shows its asterisks: a closing ** right after full-width
    punctuation followed by a Chinese character, or an unbalanced * in a translation."""
    bad = []
    for lang in ("en", "zh_CN"):
        for page in _content_pages(lang):
            p = _Prose()
            p.feed(page.read_text(encoding="utf-8"))
            for chunk in p.text:
                text = re.sub(r"\\\(.*?\\\)|\\\[.*?\\\]|\$[^$]*\$", "", chunk)  # inline mathematics
                for m in re.finditer(r"\*\*|(?<![\s\w])\*(?=\w)|(?<=\w)\*(?![\s\w])|(?<=[\u3000-\u303f\uff00-\uffef])\*", text):
                    bad.append(f"{lang}/{page.name}: {text[max(0, m.start() - 20):m.end() + 20]!r}")
    assert not bad, "literal emphasis markers in the built pages:\n" + "\n".join(bad[:20])


def _glossary():
    sys.path.insert(0, str(BOOK / "_ext"))
    import glossary
    return glossary.terms()


# Glossary rows whose English word has other senses in the book, or whose old renderings must not come
# back. "en" is the sense to look for; "other" the phrasings of the other senses, removed from the
# English before the search (both case-insensitive); "zh" the rendering the message must use (a regular
# expression; the glossary's Chinese term if absent); "not_zh" old renderings it must not use. Every
# other row is looked for as its English term is written.
SENSES = {
    "head": dict(  # the output layers of a classifier, not an attention head of Part I
        en=r"\bheads?\b",
        other=r"multi-head|talking-head|\bhead[- ](?:start|motion|moves|shifting)\b"
              r"|\b(?:one|two|four|eight|sixteen|several|many|single|\d+) heads?\b|\b(?:each|every) head\b"
              r"|\ba head (?:does|picking)\b|\bheads? of (?:the )?(?:first|last|every) layer\b|\blayer's heads\b"
              r"|\bper layer and head\b|\bper head and layer\b"
              r"|\b(?:number|batch|average) of (?:several )?heads\b|\bover (?:the )?heads\b|\bbase's heads\b"
              r"|\bseparates the heads\b|\bheads of width\b|\bheads, key size\b|\bhead counts?\b",
        not_zh=r"头部|分类头"),
    "protocol": dict(en=r"\bprotocols?\b", not_zh=r"规程"),
    "full size, full scale": dict(en=r"\bfull[- ](?:size|sized|scale|scaled)\b", not_zh=r"全规模|全尺寸"),
    "family": dict(en=r"\bfamil(?:y|ies)\b"),
    "stream": dict(  # a sub-network of a two-stream model (F3-Net, SyncNet), not a program's output stream
        en=r"\bstreams?\b|\btwo-stream\b",
        other=r"\b(?:error|output|input|byte|media) streams?\b|\bstreams? of (?:a|the) (?:file|container)\b",
        zh=r"(?<![交主潮])流(?![水程行畅传])",   # not 交流, 流水线, 流程, …
        not_zh=r"分支流"),
    "core": dict(  # of a CPU, not the core of an idea
        en=r"\bcores?\b|\bdual-core\b",
        other=r"\bcore (?:content|mechanism|idea|problem)s?\b|\bat its core\b",
        zh=r"核(?!心)", not_zh=r"(?:个|双|CPU ?)核心"),
    "post-LN": dict(en=r"\bpost-LN\b", not_zh=r"(?i)\bpost-LN\b"),
    "pre-LN": dict(en=r"\bpre-LN\b", not_zh=r"(?i)\bpre-LN\b"),
}


def _term_checks():
    """(English term, Chinese term, sense, other senses, required rendering, forbidden rendering) per
    glossary row with a Chinese term."""
    rows = {en: zh for en, zh, _, _ in _glossary()}
    assert set(SENSES) <= set(rows), f"SENSES names terms the glossary lacks: {sorted(set(SENSES) - set(rows))}"
    checks = []
    for en, zh in rows.items():
        if not CJK.search(zh):
            continue
        sense = SENSES.get(en)
        if sense:
            rx = re.compile(sense["en"], re.I)
            other = re.compile(sense["other"], re.I) if "other" in sense else None
            want = re.compile(sense.get("zh", re.escape(zh)))
            never = re.compile(sense["not_zh"]) if "not_zh" in sense else None
        else:
            words = re.escape(en).replace(r"\-", "[- ]?").replace("isation", "i[sz]ation")
            # lower case anywhere, or capitalised at the start: a capitalised word inside a sentence
            # is a name (the "Deepfake" dataset, the "Deepfakes" method)
            rx = re.compile(rf"(?:\b{words}|^{words[0].upper()}{words[1:]})(?:s|es)?\b")
            other, want, never = None, re.compile(re.escape(zh)), None
        checks.append((en, zh, rx, other, want, never))
    return checks


def test_glossary_renderings_are_used_everywhere():
    """Every translated message whose English uses a glossary term, in the glossary's sense, renders it
    as the glossary says, and not in a rendering the book has given up (SENSES)."""
    strip = re.compile(r"\{[a-z:-]+\}`[^`]*`|`[^`]*`|\$[^$]*\$|\"[^\"]*\"|“[^”]*”|\([^)]*\.md\)")
    bad = []
    checks = _term_checks()
    for po_path in sorted(LOCALE.rglob("*.po")):
        if po_path.name == "glossary.po":
            continue
        for e in polib.pofile(str(po_path)).translated_entries():
            text = strip.sub(" ", e.msgid)
            if e.msgstr == e.msgid or "\\" in text:
                continue  # names, titles and code kept as they are; display mathematics (inline math is stripped)
            for en, zh, rx, other, want, never in checks:
                if not rx.search(other.sub(" ", text) if other else text):
                    continue
                if not want.search(e.msgstr):
                    bad.append(f"{po_path.relative_to(LOCALE)}: '{en}' is not {zh}: {e.msgstr[:60]}")
                elif never and never.search(e.msgstr):
                    bad.append(f"{po_path.relative_to(LOCALE)}: '{en}' is rendered "
                               f"{never.search(e.msgstr).group(0)!r}, not {zh}: {e.msgstr[:60]}")
    assert not bad, "\n".join(bad)


def test_glossary_terms_are_searchable(tmp_path):
    """The Chinese search can find every Chinese glossary term. A term is indexed whole only if it has
    no space: glossary.py gives jieba the terms without one as a user dictionary. A term with a space
    (a Chinese word beside a Latin one, 后置 LN) is searched for as its words, so each Chinese word of it
    must be one word for jieba on its own, and no space may fall between two Chinese characters. The
    index is the one the build makes: the book's Chinese search language (searchfix.py) on jieba."""
    pytest.importorskip("jieba")
    import glossary
    import searchfix
    from sphinx.search.zh import SearchChinese
    config = SimpleNamespace(language="zh_CN", html_search_options={})
    glossary._search_dictionary(SimpleNamespace(doctreedir=str(tmp_path)), config)
    classes = [c for c in vars(searchfix).values()
               if isinstance(c, type) and issubclass(c, SearchChinese) and c is not SearchChinese]
    lang = (classes[0] if classes else SearchChinese)(config.html_search_options)
    bad = []
    for en, zh, _, _ in _glossary():
        if not CJK.search(zh):
            continue
        if re.search(r"[\u4e00-\u9fff]\s+[\u4e00-\u9fff]", zh):
            bad.append(f"{en}: {zh!r} has a space between Chinese characters")
            continue
        indexed = {w for w in (lang.stem(word).lower() for word in lang.split(zh)) if lang.word_filter(w)}
        missing = [part for part in zh.split() if CJK.search(part) and part not in indexed]
        if missing:
            bad.append(f"{en}: {zh!r} would not be in the Chinese search index as {missing}")
    assert not bad, "\n".join(bad)


def test_zh_search_index_keeps_glossary_terms_whole(html_dir):
    text = (html_dir / "zh_CN" / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(text[text.index("(") + 1: text.rindex(")")])["terms"]
    # a term with a space (后置 LN) is searched for as its words: each Chinese word of it must be there
    missing = [zh for _, zh, _, _ in _glossary()
               if any(CJK.search(part) and part not in index for part in zh.split())]
    assert not missing, f"not in the Chinese search index as whole words: {missing}"


# --- the Chinese edition's notebooks (book/_ext/zhnotebooks.py) -----------------------------------

def test_translate_markdown_keeps_the_markup_gettext_does_not_see():
    import zhnotebooks as Z
    catalog = {"A title": "标题", "One paragraph over two lines.": "一段话。", "an item that goes on": "一项",
               "cell": "格", "x = \\text{mean}": "x = \\text{均值}"}
    text = ("## A title\n\nOne paragraph\nover two lines.\n\n* an item\n  that goes on\n* not in the catalogue\n\n"
            "| cell | 2 |\n|---|---|\n\n```{code-cell} ipython3\nOne paragraph over two lines.\n```\n\n"
            "$$\nx = \\text{mean}\n$$")
    out, seen, done = Z.translate_markdown(text, catalog)
    assert out == ("## 标题\n\n一段话。\n\n* 一项\n* not in the catalogue\n\n| 格 | 2 |\n|---|---|\n\n"
                   "```{code-cell} ipython3\nOne paragraph over two lines.\n```\n\n$$\nx = \\text{均值}\n$$")
    assert (seen, done) == (7, 5)   # heading, paragraph, two items, two cells, the formula


def _cells(notebook_path):
    import nbformat
    return nbformat.read(notebook_path, as_version=4).cells


def test_chinese_notebooks_for_colab_are_committed_translated_and_share_the_code(html_dir):
    import zhnotebooks as Z
    from readerview import notebook_pages
    for md in notebook_pages(BOOK):
        docname = md.relative_to(BOOK).with_suffix("").as_posix()
        zh = BOOK / Z.NOTEBOOK_DIR / f"{docname}.ipynb"
        assert zh.is_file(), f"{zh} is missing: `make html` writes it, and it must be committed"
        en_cells, zh_cells = _cells(md.with_suffix(".ipynb")), _cells(zh)
        assert [c.cell_type for c in en_cells] == [c.cell_type for c in zh_cells]
        assert [c.source for c in en_cells if c.cell_type == "code"] == \
               [c.source for c in zh_cells if c.cell_type == "code"], f"{zh}: code cells differ from the English"
        prose = "".join(c.source for c in zh_cells if c.cell_type == "markdown")
        assert len(CJK.findall(prose)) > 0.3 * len(re.sub(r"\s", "", prose)) or len(CJK.findall(prose)) > 500, \
            f"{zh}: the markdown cells are not in Chinese"
        # and the built page's Colab button opens it
        page = (html_dir / "zh_CN" / f"{docname}.html").read_text(encoding="utf-8")
        colab = re.findall(r'href="(https://colab\.research\.google\.com/[^"]+)"', page)
        assert colab and all(u.endswith(f"/book/locales/zh_CN/notebooks/{docname}.ipynb") for u in colab), colab
        en_page = (html_dir / "en" / f"{docname}.html").read_text(encoding="utf-8")
        assert re.search(rf'href="https://colab\.research\.google\.com/[^"]+/book/{re.escape(docname)}\.ipynb"', en_page)


def _cells_notebook(path: Path):
    import nbformat
    return nbformat.read(path, as_version=4)


def test_chinese_downloads_carry_the_chinese_prose(html_dir):
    import readerview
    import zhnotebooks as Z
    from readerview import notebook_pages
    for md in notebook_pages(BOOK):
        docname = md.relative_to(BOOK).with_suffix("").as_posix()
        catalog = Z.load_catalog(LOCALE / f"{docname}.po")
        # the downloads show the glued values where the messages hold glue roles (readerview.paste_glue)
        values = readerview.glue_values(_cells_notebook(html_dir / "zh_CN" / "_sources" / f"{docname}.ipynb"))
        catalog = {k: readerview.paste_glue(v, values) for k, v in catalog.items()}
        source = (html_dir / "zh_CN" / "_sources" / f"{docname}.md").read_text(encoding="utf-8")
        english = md.read_text(encoding="utf-8")
        body = english[Z._FRONT_MATTER.match(english).end():]     # the description is metadata, not a cell
        # every paragraph-sized message of the page is there in Chinese, not in English
        long = [(k, v) for k, v in catalog.items() if len(k) > 80 and "\n" not in k and k in " ".join(body.split())]
        assert long, docname
        missing = [k for k, v in long if v not in source]
        assert len(missing) <= len(long) // 20, f"{docname}.md download: {len(missing)} of {len(long)} left in English"
        executed = _cells(html_dir / "zh_CN" / "_sources" / f"{docname}.ipynb")
        assert any(c.get("outputs") for c in executed if c.cell_type == "code"), f"{docname}.ipynb lost its outputs"
        prose = "".join(c.source for c in executed if c.cell_type == "markdown")
        assert sum(v in prose for _, v in long) >= len(long) - len(long) // 20, f"{docname}.ipynb download is English"
    en = (html_dir / "en" / "_sources" / "deepfake" / "mesonet.md").read_text(encoding="utf-8")
    assert not CJK.search(en.split("```")[0]), "the English download must stay English"


def test_back_matter_caption_names_what_it_holds(html_dir):
    """The contents' last group holds the glossary and the references; its Chinese caption says both
    (参考资料 alone read as "the references")."""
    page = (html_dir / "zh_CN" / "index.html").read_text(encoding="utf-8")
    caption = re.search(r'<p aria-level="2" class="caption"[^>]*>\s*<span class="caption-text">([^<]*)</span>'
                        r'(?:(?!caption-text).)*?href="glossary\.html"', page, re.S)
    assert caption, "no contents caption above the glossary's link on the zh cover"
    assert "术语" in caption.group(1) and "参考文献" in caption.group(1), caption.group(1)
