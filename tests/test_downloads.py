"""The notebooks a reader takes away carry the build's numbers, not myst-nb's roles.

The prose quotes computed numbers through ``{glue:text}`key```; the HTML shows the values, and so must
the download menu's ``.md`` and ``.ipynb`` and the ``.ipynb`` that Colab opens (book/_ext/readerview.py,
book/_ext/zhnotebooks.py). The reference is what the HTML page shows: myst-nb pastes each role as a
``<span class="pasted-text">``, in the order of the page's text.
"""
from __future__ import annotations

import html
import re

import nbformat
import pytest
from conftest import BOOK

import readerview
import zhnotebooks

ROLE = re.compile(r"\{glue:text\}`([^`]+)`")
SPAN = re.compile(r'<span class="pasted-text">(.*?)</span>', re.S)
CJK = re.compile(r"[\u4e00-\u9fff]")


def _glued_pages() -> list[str]:
    return [md.relative_to(BOOK).with_suffix("").as_posix() for md in readerview.notebook_pages(BOOK)
            if ROLE.search(md.read_text(encoding="utf-8"))]


def test_paste_glue_formats_as_myst_nb():
    """Hand-made values as a notebook stores them: a string's repr, a float, a format spec."""
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("glue(...)")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"application/papermill.record/text/plain": "'0.93 ± 0.02'"},
                               metadata={"scrapbook": {"name": "auc", "mime_prefix": "application/papermill.record/"}}),
        nbformat.v4.new_output("display_data", data={"text/plain": "0.123456"},
                               metadata={"scrapbook": {"name": "loss", "mime_prefix": ""}}),
        nbformat.v4.new_output("stream", name="stdout", text="not glued\n"),
    ]
    notebook.cells = [cell, nbformat.v4.new_markdown_cell(
        "AUC {glue:text}`auc`, loss {glue:text}`loss:.2f`, raw {glue:text}`loss`, unknown {glue:text}`gone`.")]
    values = readerview.glue_values(notebook)
    assert values == {"auc": "'0.93 ± 0.02'", "loss": "0.123456"}
    readerview.paste_notebook(notebook, values)
    assert notebook.cells[1].source == "AUC 0.93 ± 0.02, loss 0.12, raw 0.123456, unknown {glue:text}`gone`."


def test_english_downloads_show_the_pages_numbers(html_dir):
    pages = _glued_pages()
    assert len(pages) >= 10, pages
    for doc in pages:
        source = (BOOK / f"{doc}.md").read_text(encoding="utf-8")
        shown = iter(html.unescape(s) for s in SPAN.findall((html_dir / "en" / f"{doc}.html").read_text(encoding="utf-8")))
        expected = ROLE.sub(lambda m: next(shown), source)
        download = (html_dir / "en" / "_sources" / f"{doc}.md").read_text(encoding="utf-8")
        assert download == expected, f"en/_sources/{doc}.md does not show the page's numbers"
        executed = nbformat.read(html_dir / "en" / "_sources" / f"{doc}.ipynb", as_version=4)
        prose = "".join(c.source for c in executed.cells if c.cell_type == "markdown")
        assert not ROLE.search(prose), f"en/_sources/{doc}.ipynb keeps glue roles"


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_colab_notebooks_and_downloads_carry_no_glue_role(html_dir, lang):
    for doc in _glued_pages():
        twin = BOOK / (f"{doc}.ipynb" if lang == "en" else f"{zhnotebooks.NOTEBOOK_DIR}/{doc}.ipynb")
        files = [twin, html_dir / lang / "_sources" / f"{doc}.ipynb"]
        for path in files:
            notebook = nbformat.read(path, as_version=4)
            prose = "".join(c.source for c in notebook.cells if c.cell_type == "markdown")
            left = ROLE.findall(prose)
            assert not left, f"{path}: glue roles left in the prose: {left[:5]}"
        download = (html_dir / lang / "_sources" / f"{doc}.md").read_text(encoding="utf-8")
        assert not ROLE.search(download), f"{lang}/_sources/{doc}.md keeps glue roles"
        if lang == "zh_CN":  # the values the Chinese page shows are the ones its notebook shows
            shown = {html.unescape(s) for s in SPAN.findall((html_dir / lang / f"{doc}.html").read_text(encoding="utf-8"))}
            missing = [v for v in shown if v not in download]
            assert not missing, f"zh_CN/_sources/{doc}.md lacks values its page shows: {missing[:5]}"


def test_chinese_notebooks_describe_themselves_in_chinese(html_dir):
    described = 0
    for md in readerview.notebook_pages(BOOK):
        doc = md.relative_to(BOOK).with_suffix("").as_posix()
        for path in (BOOK / zhnotebooks.NOTEBOOK_DIR / f"{doc}.ipynb", html_dir / "zh_CN" / "_sources" / f"{doc}.ipynb"):
            description = nbformat.read(path, as_version=4).metadata.get("description")
            if description:
                described += 1
                assert CJK.search(description), f"{path}: description stays English: {description[:60]}"
    assert described >= 20, f"only {described} Chinese notebooks carry a description"


def test_another_machines_build_leaves_the_committed_twins_alone(monkeypatch):
    """make check-claims builds with its own cache (YANGBOOK_CACHE): its numbers are not the edition's,
    so it must not rewrite book/*.ipynb or the Chinese Colab notebooks (it did, before this test)."""
    monkeypatch.delenv("YANGBOOK_CACHE", raising=False)
    assert readerview.writes_twins()
    monkeypatch.setenv("YANGBOOK_CACHE", "/elsewhere/.jupyter_cache")
    assert not readerview.writes_twins()
