"""The book's glossary as data, and the Chinese search that keeps its terms whole.

``book/glossary.md`` holds one table: English term, Chinese term, meaning, first use. ``terms()``
reads it (the tests use it too). For the Chinese edition, the extension writes the Chinese terms as a
jieba user dictionary and points Sphinx's Chinese search at it (``html_search_options["dict"]``):
jieba's own dictionary cuts 深度伪造 into 深度 and 伪造, so the search index would not hold the term a
reader types whole; with the user dictionary, the index holds the whole term as well as its parts.
"""
from __future__ import annotations

import re
from pathlib import Path

GLOSSARY = Path(__file__).resolve().parents[1] / "glossary.md"
_ROW = re.compile(r"^\|([^|]+)\|([^|]+)\|([^|]+)\|([^|]+)\|\s*$")


def terms(path: Path = GLOSSARY) -> list[tuple[str, str, str, str]]:
    """(English, Chinese, meaning, first-use link) for every row of the glossary's table."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _ROW.match(line.strip())
        if not m:
            continue
        cells = tuple(c.strip() for c in m.groups())
        if cells[0] in ("English", "") or set(cells[0]) <= set("-: "):
            continue  # the header and the rule under it
        rows.append(cells)
    if not rows:
        raise ValueError(f"{path}: no glossary table found")
    return rows


def _search_dictionary(app, config) -> None:
    if not (config.language or "").startswith("zh"):
        return
    target = Path(app.doctreedir) / "jieba-glossary.txt"
    target.parent.mkdir(parents=True, exist_ok=True)
    words = sorted({zh for _, zh, _, _ in terms() if re.search(r"[\u4e00-\u9fff]", zh) and " " not in zh})
    text = "".join(f"{w} 100000 n\n" for w in words)  # frequent enough that jieba keeps each word whole
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
    config.html_search_options = {**(config.html_search_options or {}), "dict": str(target)}


def setup(app):
    app.connect("config-inited", _search_dictionary)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
