"""The PDF editions: built by `make pdf` (Sphinx LaTeX + xelatex), checked with poppler's tools.

Each test reads the PDF that `make pdf` left in _build/pdf/. Where the TeX tools or poppler are missing
(a reader's machine) the tests skip and say how to install them: `make pdf-deps`; where the PDFs have
not been built they skip and say `make pdf` (.ci/run builds them before the tests).

What depends on the Chinese translation (book/locales): the zh chapter titles are expected as the .po
files translate them (the English title where a title has no translation yet), and the Chinese body
text is taken from the first translated paragraph; until a page is translated only the Chinese that
the PDF's own chrome produces (目录, 第 1 章, 参考文献, the title) is checked.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import BOOK, BUILD, ROOT, front_matter

PDF_DIR = BUILD / "pdf"
LATEX = BUILD / "latex"
TOOLS = ("xelatex", "latexmk", "pdftotext", "pdffonts", "pdfinfo", "pdfimages")
CJK = re.compile(r"[\u4e00-\u9fff]")
TITLE_ZH = "Yang 的深度学习"


def _squash(text: str) -> str:
    """Letters, digits and CJK only: pdftotext breaks lines wherever the PDF does, and quotes and
    dashes come out typographic (' -> ’)."""
    return re.sub(r"[\W_]+", "", text)


@pytest.fixture(scope="module")
def pdfs():
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"the PDF toolchain is not installed ({', '.join(missing)} missing): run `make pdf-deps`")
    paths = {lang: PDF_DIR / f"yangbook-{lang}.pdf" for lang in ("en", "zh_CN")}
    absent = [str(p.relative_to(ROOT)) for p in paths.values() if not p.exists()]
    if absent:  # `make test` builds only the HTML; .ci/run runs `make pdf` first
        pytest.skip(f"{absent} not built: run `make pdf` before the tests")
    return paths


def _run(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def _text(pdf: Path) -> str:
    return _run("pdftotext", "-enc", "UTF-8", str(pdf), "-")


def _fonts(pdf: Path) -> list[dict]:
    """pdffonts' table as dicts (name, type); the type column may hold spaces ("CID Type 0C")."""
    lines = _run("pdffonts", str(pdf)).splitlines()[2:]
    rows = []
    for line in lines:
        match = re.match(r"(\S+)\s+(.+?)\s{2,}(\S+)\s+(yes|no)\s+(yes|no)\s+(yes|no)", line)
        if match:
            rows.append({"name": match.group(1), "type": match.group(2).strip(), "uni": match.group(6)})
    return rows


def _pages(pdf: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", _run("pdfinfo", str(pdf)), re.M).group(1))


def _images(pdf: Path) -> int:
    """Images drawn in the PDF (pdfimages -list; soft masks of PNG transparency not counted)."""
    rows = _run("pdfimages", "-list", str(pdf)).splitlines()[2:]
    return sum(1 for row in rows if row.split()[2] == "image")


def _chapter_pages() -> list[Path]:
    """The pages of the book that become chapters: every page reached from the toctrees."""
    pages = []
    for md in sorted(BOOK.rglob("*.md")):
        rel = md.relative_to(BOOK)
        if rel.parts[0].startswith("_") or rel.parts[0] == "locales" or rel.name == "index.md" and rel.parent == Path("."):
            continue
        if md.stem == "references" and rel.parent == Path("."):
            continue  # its citations become the final chapter, 参考文献 / References
        if front_matter(md).get("orphan"):
            continue  # outside the contents (the 404 page): the HTML edition's, not a chapter
        pages.append(md)
    return pages


def _title(md: Path) -> str:
    for line in md.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    raise AssertionError(f"{md} has no '# ' title")


def _translation(md: Path, msgid: str) -> str | None:
    import polib

    po = BOOK / "locales" / "zh_CN" / "LC_MESSAGES" / md.relative_to(BOOK).with_suffix(".po")
    if not po.exists():
        return None
    for entry in polib.pofile(str(po)):
        if entry.msgid == msgid and entry.msgstr and "fuzzy" not in entry.flags:
            return entry.msgstr
    return None


def _executed_image_outputs() -> int:
    """PNG/JPEG outputs of the book's notebook pages, shown or glued, read from the execution cache (the figures the
    PDF must show; myst-nb's jupyter_execute/ copies lack the outputs that came from the cache)."""
    import jupytext
    from jupyter_cache import get_cache
    from readerview import notebook_pages

    cache = get_cache(str(BUILD / ".jupyter_cache"))
    count = 0
    for page in notebook_pages(BOOK):
        try:
            record = cache.match_cache_notebook(jupytext.read(page))
        except KeyError:
            raise AssertionError(f"{page} has no record in the execution cache: run `make pdf`")
        for cell in cache.get_cache_bundle(record.pk).nb.cells:
            for out in cell.get("outputs", []):
                data = out.get("data", {})
                # a glued figure (yangbook.show.glue_figure) is kept as application/papermill.record/image/png
                count += any(key.endswith(("image/png", "image/jpeg")) for key in data)
    return count


def _latex_log(lang: str) -> str:
    return (LATEX / lang / "yangbook.log").read_text(encoding="utf-8", errors="replace")


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_pdf_built_and_reported(pdfs, lang, capsys):
    pdf = pdfs[lang]
    pages, images, expected = _pages(pdf), _images(pdf), _executed_image_outputs()
    # the figures are vector PDFs (yangbook.show.use_book_style), which pdfimages does not list, so the
    # figures the PDF shows are counted where LaTeX includes them, and their captions in its text
    tex = (LATEX / lang / "yangbook.tex").read_text(encoding="utf-8")
    included = len(re.findall(r"\\sphinxincludegraphics", tex))
    vector = len(re.findall(r"\\sphinxincludegraphics(?:\[[^]]*\])?\{\{[^}]*\}\.pdf\}", tex))
    with capsys.disabled():
        print(f"\n[pdf] {pdf.name}: {pages} pages, {included} figures ({vector} vector), {images} raster "
              f"images (executed notebooks have {expected} image outputs), {pdf.stat().st_size // 1024} KiB")
    assert pages >= 10, f"{pdf.name} has only {pages} pages"
    assert included >= expected, f"{pdf.name} includes {included} figures; the notebooks produced {expected}"
    assert vector >= expected // 2, f"only {vector} of the {included} figures are vector graphics"


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_every_glyph_is_set(pdfs, lang):
    """xelatex logs 'Missing character' for every glyph the font lacks; the PDF then has a hole."""
    missing = sorted(set(re.findall(r"Missing character: There is no (.+?) in font", _latex_log(lang))))
    assert not missing, f"{lang} PDF lacks glyphs: {missing}"


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_no_line_runs_off_the_page(pdfs, lang):
    """An overfull line of more than the margin (about 1 inch) sticks out of the paper."""
    overfull = [float(x) for x in re.findall(r"Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide\)", _latex_log(lang))]
    assert not overfull or max(overfull) < 60, f"{lang}: a line is {max(overfull)}pt too wide"


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_math_is_typeset(pdfs, lang):
    sources = " ".join(p.read_text(encoding="utf-8") for p in BOOK.rglob("*.md"))
    if "$" not in sources:
        pytest.skip("the book has no math")
    names = " ".join(font["name"] for font in _fonts(pdfs[lang]))
    assert re.search(r"CMMI|CMSY|CMEX|MSBM", names), f"{lang} PDF embeds no math font: {names}"


def test_en_chapter_titles(pdfs):
    text = _squash(_text(pdfs["en"]))
    for md in _chapter_pages():
        assert _squash(_title(md)) in text, f"chapter {_title(md)!r} ({md.name}) is not in the English PDF"
    for word in ("Preface", "References", "CONTENTS"):
        assert word in text, f"{word!r} is missing from the English PDF"


def test_zh_chapter_titles_and_chinese_chrome(pdfs):
    raw = _text(pdfs["zh_CN"])
    text = _squash(raw)
    for md in _chapter_pages():
        title = _title(md)
        expected = _translation(md, title) or title
        assert _squash(expected) in text, f"chapter {expected!r} ({md.name}) is not in the Chinese PDF"
    # produced by conf.py's Chinese preamble and the Chinese title, whatever the translation state
    for chrome in ("目录", "前言", "第1章", "参考文献", _squash(TITLE_ZH)):  # whitespace squashed
        assert chrome in text, f"{chrome!r} is missing from the Chinese PDF"
    # the English chrome is gone (the body may still be English until it is translated)
    assert "Bibliography" not in raw and "CHAPTER" not in raw and not re.search(r"Chapter \d", raw)


def test_zh_body_text(pdfs):
    """A translated paragraph appears in the Chinese PDF (needs the translated .po files)."""
    import polib

    text = _squash(_text(pdfs["zh_CN"]))
    # front-matter descriptions: the feeds' and the HTML meta's, not the PDF's
    descriptions = {front_matter(md).get("description") for md in BOOK.rglob("*.md")}
    candidates = []
    for po in sorted((BOOK / "locales" / "zh_CN" / "LC_MESSAGES").rglob("*.po")):
        if po.parent.name == "_ext":
            continue  # the extensions' own messages (a feed's title, a claim's note), not the PDF's text
        if po.stem == "404":
            continue  # the 404 page is the HTML edition's only (orphan, not in the PDF)
        for entry in polib.pofile(str(po)):
            plain = entry.msgstr
            if entry.msgid in descriptions:
                continue
            if len(CJK.findall(plain)) >= 12 and "fuzzy" not in entry.flags and not re.search(r"[`{$*\[]", plain):
                candidates.append(plain)
    if not candidates:
        pytest.skip("no page is translated yet (book/locales/zh_CN): only the chrome is checked")
    snippet = _squash(candidates[0])[:12]
    assert snippet in text, f"translated text {snippet!r} is not in the Chinese PDF"


def test_zh_fonts_are_noto_cjk(pdfs):
    fonts = _fonts(pdfs["zh_CN"])
    names = [font["name"] for font in fonts]
    assert any("NotoSerifCJK" in n or "NotoSansCJK" in n for n in names), f"no Noto CJK font: {names}"
    assert not [n for n in names if "fandol" in n.lower()], f"Fandol fonts are embedded: {names}"
    type3 = [font["name"] for font in fonts if font["type"].startswith("Type 3")]
    assert not type3, f"Type 3 fonts (bitmap, not searchable): {type3}"
    no_unicode = [font["name"] for font in fonts if "CJK" in font["name"] and font["uni"] != "yes"]
    assert not no_unicode, f"CJK fonts without a ToUnicode map (copy and search break): {no_unicode}"


def test_bibliography_complete(pdfs):
    """Every entry of references.bib (the references page lists them all) appears in both PDFs."""
    bib = (ROOT / "references.bib").read_text(encoding="utf-8")
    titles = re.findall(r"^\s*title\s*=\s*[{\"](.+?)[}\"],?\s*$", bib, re.M | re.I)
    assert titles, "references.bib has no titles"
    for lang, pdf in pdfs.items():
        text = _squash(_text(pdf)).lower()
        for title in titles:
            words = _squash(title).lower()[:30]
            assert words in text, f"{lang} PDF lacks the reference {title!r}"


def test_en_latin_text_not_in_cjk_fonts(pdfs):
    """xeCJK would set curly quotes and dashes in the CJK font (full width); English sets them in Latin."""
    text = _text(pdfs["en"])
    names = [font["name"] for font in _fonts(pdfs["en"])]
    if CJK.search(text):
        pytest.skip("the English PDF contains Chinese text, which rightly uses the CJK font")
    assert not [n for n in names if "CJK" in n], f"the English PDF sets Latin text in CJK fonts: {names}"


def _part_captions() -> list[str]:
    """Captions of the landing page's toctrees that become parts (not the back matter's)."""
    index = (BOOK / "index.md").read_text(encoding="utf-8")
    captions = []
    for block in re.findall(r"```\{toctree\}\n(.*?)```", index, re.S):
        caption = re.search(r"^:caption:\s*(.+)$", block, re.M)
        entries = [line.strip() for line in block.splitlines() if line.strip() and not line.startswith(":")]
        if caption and entries != ["references"]:
            captions.append(caption.group(1).strip())
    return captions


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_parts_named_by_toctree_captions(pdfs, lang):
    text = _squash(_text(pdfs[lang]))
    captions = _part_captions()
    assert captions, "book/index.md has no captioned toctree"
    for caption in captions:
        expected = (_translation(BOOK / "index.md", caption) if lang == "zh_CN" else None) or caption
        assert _squash(expected) in text, f"part {expected!r} is not in the {lang} PDF"


def test_running_heads_and_dates(pdfs):
    """The Chinese running head keeps a space between 第 N 章 and the title (xeCJK drops an ordinary
    one), and neither edition prints a leading zero in its date."""
    zh = _text(pdfs["zh_CN"])
    heads = re.findall(r"第 (\d+) 章(\s*)(\S)", zh)
    assert heads and all(gap for _, gap, _ in heads), f"running heads without a space: {heads[:5]}"
    assert re.search(r"\d{4} 年 [1-9]\d? 月 [1-9]\d? 日", zh[:2000]), "no date without leading zeros on the title page"
    assert not re.search(r"年 0\d 月|月 0\d 日", zh[:2000])
    months = "January|February|March|April|May|June|July|August|September|October|November|December"
    assert re.search(rf"({months}) [1-9]\d?, \d{{4}}", _text(pdfs["en"])[:2000])
