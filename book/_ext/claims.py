"""The book's claims: a sentence that this machine's numbers do not bear out becomes a note on its page.

A hidden cell next to a comparative sentence calls ``yangbook.utils.claim``. When the numbers bear the
sentence out, the cell shows nothing. When they do not, it prints one line, ``yangbook-claim:`` and a
JSON record of the sentence and the measured numbers; this extension finds that output in the page,
replaces it by a note in the page's language (the sentence's Chinese comes from
``locales/zh_CN/LC_MESSAGES/_ext/claims.po``) and keeps it for the end of the build:

* a reader's build (the default) prints a summary of every note and succeeds;
* with ``YANGBOOK_CLAIMS=strict`` (CI, ``make check-claims``) it prints one line per claim -- page,
  sentence, measured numbers -- and the build fails.

``python book/_ext/claims.py pot DIR`` writes ``DIR/_ext/claims.pot``, every sentence passed to ``claim`` in
the pages' code cells (``make po`` runs it, so that sphinx-intl adds them to ``claims.po``).
"""
from __future__ import annotations

import ast
import json
import os
import re
import sys
from pathlib import Path

MARKER = "yangbook-claim:"  # yangbook.utils.CLAIM_MARKER (a test checks that the two agree)
CATALOGUE = "_ext/claims"  # the extension's own catalogue (``_ext`` holds no pages), as rss.py's
TITLE = {"en": "A claim this machine does not bear out",
         "zh_CN": "本机的结果未能证实书中的一句话"}
MEASURED = {"en": "Measured on this machine:", "zh_CN": "本机测得："}
EXPLAIN = {"en": ("This sentence of the page is checked when the book is built. On this machine the "
                  "numbers do not bear it out; read the page with that in mind (see \"What the book may "
                  "claim\" in \"Running the code\")."),
           "zh_CN": "构建本书时会检查本页的这句话。在这台机器上，测得的数字不支持它，请带着这一点阅读本页"
                    "（见“运行代码”一章的“本书可以下什么结论”）。"}
_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```\s*$", re.S | re.M)


def strict() -> bool:
    mode = os.environ.get("YANGBOOK_CLAIMS", "reader").strip().lower() or "reader"
    if mode not in ("reader", "strict"):
        raise ValueError(f"YANGBOOK_CLAIMS must be 'reader' or 'strict', got {mode!r}")
    return mode == "strict"


def sentences_in(text: str, where: str = "<page>") -> list[str]:
    """The sentences passed to ``claim(...)`` in the code cells of a MyST notebook's text."""
    out = []
    for cell in _CELL.findall(text):
        body = "\n".join(line for line in cell.splitlines() if not line.startswith(":"))
        try:
            tree = ast.parse(body)
        except SyntaxError:  # IPython magics: such a cell makes no claim
            continue
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "claim"
                    and node.args):
                first = node.args[0]
                if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                    raise ValueError(f"{where}: claim() at line {first.lineno} of a cell needs its sentence "
                                     f"as a plain string literal, so that it can be translated")
                out.append(" ".join(first.value.split()))
    return out


def book_sentences(book: Path) -> dict[str, list[str]]:
    """Every claimed sentence of the book, with the pages that claim it."""
    found: dict[str, list[str]] = {}
    for page in sorted(book.rglob("*.md")):
        if any(part.startswith(("_", ".")) or part == "locales" for part in page.relative_to(book).parts):
            continue
        rel = page.relative_to(book).as_posix()
        for sentence in sentences_in(page.read_text(encoding="utf-8"), rel):
            found.setdefault(sentence, []).append(rel)
    return found


def write_pot(book: Path, outdir: Path) -> Path:
    import polib

    pot = polib.POFile()
    pot.metadata = {"Content-Type": "text/plain; charset=UTF-8", "MIME-Version": "1.0",
                    "Content-Transfer-Encoding": "8bit"}
    for sentence, pages in book_sentences(book).items():
        pot.append(polib.POEntry(msgid=sentence, msgstr="", occurrences=[(p, "") for p in pages]))
    outdir.mkdir(parents=True, exist_ok=True)
    path = outdir / f"{CATALOGUE}.pot"
    path.parent.mkdir(parents=True, exist_ok=True)
    pot.save(str(path))
    return path


def _translations(app) -> dict[str, str]:
    lang = app.config.language or "en"
    if lang == "en":
        return {}
    import polib

    for locale_dir in app.config.locale_dirs:
        path = Path(app.srcdir, locale_dir, lang, "LC_MESSAGES", f"{CATALOGUE}.po")
        if path.exists():
            return {e.msgid: e.msgstr for e in polib.pofile(str(path)) if e.msgstr and not e.fuzzy}
    return {}


def _notes(app, doctree) -> None:
    from docutils import nodes

    lang = app.config.language or "en"
    lang = lang if lang in TITLE else "en"
    found = []
    for block in list(doctree.findall(nodes.literal_block)):
        text = block.astext().strip()
        if not text.startswith(MARKER):
            continue
        try:
            record = json.loads(text[len(MARKER):])
        except json.JSONDecodeError:
            continue
        sentence = " ".join(str(record.get("sentence", "")).split())
        measured = str(record.get("measured", ""))
        shown = _translations(app).get(sentence, sentence) if lang != "en" else sentence
        note = nodes.admonition(classes=["warning", "yangbook-claim"])
        note += nodes.title(text=TITLE[lang])
        note += nodes.paragraph(text=f"“{shown}”")
        note += nodes.paragraph(text=f"{MEASURED[lang]} {measured}")
        note += nodes.paragraph(text=EXPLAIN[lang])
        block.replace_self(note)
        found.append({"sentence": sentence, "measured": measured})
    store = app.env.__dict__.setdefault("yangbook_claims", {})
    if found:
        store[app.env.docname] = found
    else:
        store.pop(app.env.docname, None)


def _purge(app, env, docname) -> None:
    env.__dict__.setdefault("yangbook_claims", {}).pop(docname, None)


def _merge(app, env, docnames, other) -> None:
    mine = env.__dict__.setdefault("yangbook_claims", {})
    for doc, found in getattr(other, "yangbook_claims", {}).items():
        if doc in docnames:
            mine[doc] = found


def _summary(app, exception) -> None:
    if exception is not None:
        return
    failed = getattr(app.env, "yangbook_claims", {})
    lines = [(doc, c["sentence"], c["measured"]) for doc in sorted(failed) for c in failed[doc]]
    if not lines:
        return
    if strict():
        for doc, sentence, measured in lines:
            sys.stderr.write(f"claim failed: {doc}.md: \"{sentence}\" measured: {measured}\n")
        sys.stderr.write(f"{len(lines)} claim(s) not borne out (YANGBOOK_CLAIMS=strict)\n")
        app.statuscode = 1
        return
    bar = "=" * 78
    out = [bar, f"{len(lines)} sentence(s) of the book are not borne out by this machine's numbers;",
           "each page shows a note where the sentence stands (YANGBOOK_CLAIMS=strict fails instead):"]
    for doc, sentence, measured in lines:
        out.append(f"  {doc}: \"{sentence}\"")
        out.append(f"      measured: {measured}")
    out.append(bar)
    sys.stdout.write("\n".join(out) + "\n")


def setup(app):
    strict()  # a bad YANGBOOK_CLAIMS fails at once, not after the execution
    app.connect("doctree-read", _notes)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("build-finished", _summary)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "pot":
        sys.exit("usage: python book/_ext/claims.py pot OUTDIR")
    print(write_pot(Path(__file__).resolve().parents[1], Path(sys.argv[2])))
