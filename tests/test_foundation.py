"""The foundation of the book: layout, literate code, execution, citations, pinned environment."""
from __future__ import annotations

import datetime as dt
import filecmp
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest
import yaml
from pybtex.database import parse_file

from conftest import BOOK, ROOT, book_pages, front_matter, sphinx_env

import tangle

CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")


def notebook_pages() -> list[Path]:
    """Pages that myst-nb executes: those whose front matter names a kernel."""
    return [p for p in book_pages() if "kernelspec" in tangle._read(p).metadata]


# --- layout ----------------------------------------------------------------------------------------

def test_layout():
    for rel in ["README.md", "Makefile", "conf.py", "references.bib", "environment.yml", "pyproject.toml",
                "requirements.txt", ".ci/run", ".gitignore", "book/index.md", "book/references.md",
                "code/yangbook/__init__.py"]:
        assert (ROOT / rel).exists(), f"{rel} is missing"
    assert not (ROOT / "code" / "__init__.py").exists(), "code/ must not be a package (it shadows `code`)"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```bash\n(.*?)```", readme, re.S).group(1)
    assert [l.split("#")[0].strip() for l in first_block.strip().splitlines()] == ["make html", "make test"]


def test_every_page_is_in_the_toc():
    reachable = {p.resolve() for p in book_pages()}
    on_disk = {p.resolve() for p in BOOK.rglob("*.md") if "_" not in p.relative_to(BOOK).parts[0][:1]}
    outside = on_disk - reachable
    # the one page meant to sit outside the contents: the 404 page, served for a missing address
    assert {p.relative_to(BOOK.resolve()).as_posix() for p in outside} <= {"404.md"}, "pages outside every toctree"
    for p in outside:
        assert front_matter(p).get("orphan") is True, f"{p.name} is outside the contents but not marked orphan"


# --- literate code ---------------------------------------------------------------------------------

def test_package_is_generated_from_the_book(tmp_path):
    out = tmp_path / "yangbook"
    assert tangle.main(["--book", str(BOOK), "--out", str(out)]) == 0
    committed = ROOT / "code" / "yangbook"
    generated = {p.relative_to(out).as_posix() for p in out.rglob("*.py")}
    for rel in generated:
        assert (committed / rel).exists(), f"code/yangbook/{rel} is missing: run `make code` and commit"
        assert filecmp.cmp(out / rel, committed / rel, shallow=False), \
            f"code/yangbook/{rel} differs from the book: run `make code` and commit"
    stale = {p.relative_to(committed).as_posix() for p in committed.rglob("*.py")
             if p.read_text(encoding="utf-8").startswith(tangle.HEADER)} - generated
    assert not stale, f"generated files that no page exports any more: {sorted(stale)}"
    for rel in generated:
        text = (out / rel).read_text(encoding="utf-8")
        assert text.startswith(tangle.HEADER) and "# Page: book/" in text


def _tiny_book(tmp_path, index_extra="", page_front="export: demo\n"):
    book = tmp_path / "book"
    book.mkdir()
    (book / "index.md").write_text("# Home\n\n```{toctree}\npage\n" + index_extra + "```\n", encoding="utf-8")
    (book / "page.md").write_text(
        "---\njupytext:\n  text_representation:\n    format_name: myst\n"
        "kernelspec:\n  name: python3\n  display_name: Python 3\n" + page_front + "---\n\n# Page\n\n"
        "```{code-cell} ipython3\n:tags: [export]\n\ndef f():\n    return 1\n```\n", encoding="utf-8")
    return book


def test_tangle_writes_modules_with_a_header(tmp_path):
    book = _tiny_book(tmp_path)
    out = tmp_path / "pkg"
    assert tangle.main(["--book", str(book), "--out", str(out)]) == 0
    text = (out / "demo.py").read_text(encoding="utf-8")
    assert text.startswith(tangle.HEADER) and "# Page: book/page.md" in text and "def f():" in text
    ns = {}
    exec(text, ns)
    assert ns["f"]() == 1
    # a module that no page exports any more is removed
    (book / "page.md").write_text((book / "page.md").read_text().replace("export: demo", "export: other"))
    assert tangle.main(["--book", str(book), "--out", str(out)]) == 0
    assert not (out / "demo.py").exists() and (out / "other.py").exists()


def test_a_cell_can_name_its_own_module(tmp_path):
    book = _tiny_book(tmp_path)
    page = book / "page.md"
    page.write_text(page.read_text() + "\n```{code-cell} ipython3\n:tags: [export]\n:module: __main__\n\n"
                    "print('main')\n```\n", encoding="utf-8")
    out = tmp_path / "pkg"
    assert tangle.main(["--book", str(book), "--out", str(out)]) == 0
    assert "def f():" in (out / "demo.py").read_text() and "print('main')" not in (out / "demo.py").read_text()
    main = (out / "__main__.py").read_text(encoding="utf-8")
    assert main.startswith(tangle.HEADER) and "print('main')" in main


def test_tangle_errors_name_the_page(tmp_path, capsys):
    book = _tiny_book(tmp_path, page_front="")
    assert tangle.main(["--book", str(book), "--out", str(tmp_path / "pkg")]) == 2
    err = capsys.readouterr().err
    assert "book/page.md" in err and "export" in err
    shutil.rmtree(book)
    book = _tiny_book(tmp_path, index_extra="missing-page\n")
    assert tangle.main(["--book", str(book), "--out", str(tmp_path / "pkg")]) == 2
    assert "missing-page" in capsys.readouterr().err


# --- the utilities the foundation exports ------------------------------------------------------------

def test_run_in_workers_keeps_the_order_runs_on_one_thread_and_refuses_what_a_worker_cannot_import():
    import math

    import torch
    from yangbook.utils import one_thread, run_in_workers

    assert run_in_workers(math.pow, [(2, 10), (3, 2), (10, 0)]) == [1024.0, 9.0, 1.0]
    assert run_in_workers(torch.get_num_threads, [(), ()]) == [1, 1]
    threads = torch.get_num_threads()
    with one_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == threads
    with pytest.raises(TypeError, match="cannot import '.*<lambda>'"):
        run_in_workers(lambda x: x, [(1,)])


def test_count_parameters_against_formulas():
    import torch
    from torch import nn
    from yangbook.utils import count_parameters, format_count

    i, h = 7, 5
    lstm = nn.LSTM(i, h)
    assert count_parameters(lstm) == 4 * (h * i + h * h + 2 * h)  # PyTorch's two bias vectors
    emb, lin = nn.Embedding(11, h), nn.Linear(h, 11)
    lin.weight = emb.weight
    tied = nn.ModuleList([emb, lin])
    assert count_parameters(tied) == 11 * h + 11  # the tied matrix once, plus the bias
    bn = nn.BatchNorm2d(3)
    assert count_parameters(bn) == 6  # running mean/var are buffers, not parameters
    lstm.requires_grad_(False)
    assert count_parameters(lstm) == 0
    assert count_parameters(lstm, trainable_only=False) == 4 * (h * i + h * h + 2 * h)
    assert format_count(27_977) == "28.0K" and format_count(63_078_400) == "63.1M" and format_count(12) == "12"
    with pytest.raises(TypeError, match="Module"):
        count_parameters(torch.zeros(3))
    with pytest.raises(ValueError, match="-1"):
        format_count(-1)


def test_set_seed_repeats_all_three_generators():
    import random

    import numpy as np
    import torch
    from yangbook.utils import set_seed

    def draw():
        return random.random(), float(np.random.rand()), float(torch.rand(1))

    set_seed(3); a = draw()
    set_seed(3); b = draw()
    set_seed(4); c = draw()
    assert a == b and all(x != y for x, y in zip(a, c))
    with pytest.raises(ValueError, match="-5"):
        set_seed(-5)
    with pytest.raises(TypeError, match="float"):
        set_seed(1.5)


# --- posts ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("page,date", [("transformer/index.md", "2026-03-06T20:00:00+08:00"),
                                       ("deepfake/index.md", "2026-03-06T21:35:00+08:00")])
def test_part_openings_carry_the_posts_front_matter(page, date):
    text = (BOOK / page).read_text(encoding="utf-8")
    assert f'date: "{date}"' in text, "the date must be a quoted string (unquoted YAML dates crash jupyter-cache)"
    meta = front_matter(BOOK / page)
    when = dt.datetime.fromisoformat(meta["date"])
    assert when.utcoffset() == dt.timedelta(hours=8)
    assert meta["tags"] == ["deep-learning"]
    assert meta["description"].count(".") == 1 and meta["description"].endswith(".")


# --- citations -----------------------------------------------------------------------------------------

def test_every_citation_resolves():
    keys = set(parse_file(str(ROOT / "references.bib")).entries)
    sources = list(BOOK.rglob("*.md")) + list(BOOK.rglob("*.po"))
    cited = {}
    for path in sources:
        for group in CITE.findall(path.read_text(encoding="utf-8")):
            for key in group.split(","):
                cited.setdefault(key.strip(), path)
    assert cited, "the book cites nothing?"
    unknown = {k: str(p.relative_to(ROOT)) for k, p in cited.items() if k not in keys}
    assert not unknown, f"citation keys missing from references.bib: {unknown}"


def test_bibliography_entries_are_complete():
    db = parse_file(str(ROOT / "references.bib"))
    for key, entry in db.entries.items():
        f = entry.fields
        assert entry.persons.get("author"), f"{key}: no authors"
        assert "title" in f and "year" in f, f"{key}: no title or year"
        assert {"booktitle", "journal", "institution", "publisher"} & set(f), f"{key}: no venue"
    ffpp = db.entries["roessler2019faceforensicspp"].fields
    assert ffpp["eprint"] == "1901.08971", "FaceForensics++ is arXiv 1901.08971, not the post's 1901.00596"


# --- the environment ------------------------------------------------------------------------------------

def _pins(lines):
    pins = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if not line or line.startswith("-"):
            continue
        name, version = line.split("==")
        pins[name.strip().lower()] = version.strip()
    return pins


def test_environment_yml_mirrors_requirements():
    req = _pins((ROOT / "requirements.txt").read_text().splitlines())
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert _pins(pip) == req
    assert "python=3.11" in env["dependencies"]
    assert req["torch"] == "2.13.0"
    assert all(v for v in req.values()), "every requirement is pinned with =="


# --- execution -------------------------------------------------------------------------------------------

def test_no_notebook_output_holds_an_error(html_dir):
    """Every notebook page has a record in the execution cache, and no output in it is an error."""
    from jupyter_cache import get_cache

    cache = get_cache(str(ROOT / "_build" / ".jupyter_cache"))
    for page in notebook_pages():
        record = cache.match_cache_notebook(tangle._read(page))  # raises KeyError when not cached
        nb = cache.get_cache_bundle(record.pk).nb
        code = [c for c in nb.cells if c.cell_type == "code"]
        run = [c for c in code if "skip-execution" not in c.metadata.get("tags", [])]  # e.g. the package's __main__
        assert run and all(c.execution_count is not None for c in run), f"{page.name}: cells not executed"
        for cell in code:
            for out in cell.outputs:
                assert out.output_type != "error", f"{page.name}: {out.get('ename')}: {out.get('evalue')}"
                if out.output_type == "stream":
                    assert "Traceback (most recent call last)" not in out.text, f"{page.name}: a traceback"


def _build(src: Path, out: Path, *extra: str) -> str:
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-c", str(ROOT), "-W", "--keep-going",
           *extra, str(src), str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=sphinx_env(), cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def test_prose_edit_and_zh_build_execute_nothing(html_dir, tmp_path):
    """Read myst-nb's log: every notebook comes from the cache, none is executed."""
    n = len(notebook_pages())
    # the Chinese build of the unchanged book
    log = _build(BOOK, tmp_path / "zh", "-D", "language=zh_CN")
    assert "Executing notebook" not in log
    assert log.count("Using cached notebook") == n
    # a prose-only edit of every notebook page
    copy = tmp_path / "book"
    shutil.copytree(BOOK, copy, ignore=shutil.ignore_patterns("*.mo"))
    for page in notebook_pages():
        target = copy / page.relative_to(BOOK)
        text = target.read_text(encoding="utf-8")
        target.write_text(text.rstrip() + "\n\nAn added sentence of prose.\n", encoding="utf-8")
    log = _build(copy, tmp_path / "en")
    assert "Executing notebook" not in log
    assert log.count("Using cached notebook") == n
    assert "An added sentence of prose." in (tmp_path / "en" / "running.html").read_text(encoding="utf-8")


def test_build_is_reproducible(html_dir, rebuilt_en):
    """Building again gives the same HTML as `make html` did."""
    differ = []
    for page in (html_dir / "en").rglob("*.html"):
        again = rebuilt_en / page.relative_to(html_dir / "en")
        if page.read_bytes() != again.read_bytes():
            differ.append(str(page.relative_to(html_dir)))
    assert not differ, f"pages that differ between two builds: {differ}"


# --- fonts: the figures' Chinese text draws on a machine without CJK fonts -----------------------------

def test_shipped_font_covers_every_chinese_numeral_and_draws_without_warnings(caplog):
    """Reference: the characters cn2an writes for integers of every magnitude the book uses (up to
    nine digits), against the font file's own character map (fontTools), then a real draw with the
    family name the figures use, in which matplotlib must neither miss a glyph nor fall back."""
    import logging
    import warnings

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from cn2an import an2cn
    from fontTools.ttLib import TTFont
    from matplotlib import font_manager

    from yangbook.utils import CJK_FONT, FONT_DIR, register_fonts

    numbers = list(range(0, 10_000)) + [10 ** k + j for k in range(4, 9) for j in (0, 1, 10, 1001, 90_009)]
    numbers += [int("9" * k) for k in range(1, 10)] + [421305, 100_000_001, 20_300_040]
    used = set("".join(an2cn(n) for n in numbers))
    (path,) = sorted(FONT_DIR.glob("*.otf"))
    cmap = {chr(c) for c in TTFont(path).getBestCmap()}
    assert used <= cmap, f"the shipped font lacks {sorted(used - cmap)}"
    assert register_fonts() == [CJK_FONT]
    found = font_manager.findfont(font_manager.FontProperties(family=CJK_FONT), fallback_to_default=False)
    assert Path(found).resolve() == path.resolve()
    fig, ax = plt.subplots()
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        ax.set_yticks(range(3), ["<bos>", "".join(sorted(used)), an2cn(421305)], fontfamily=[CJK_FONT, "sans-serif"])
        fig.canvas.draw()
    plt.close(fig)
    assert not [str(w.message) for w in caught], [str(w.message) for w in caught]
    assert not [r.getMessage() for r in caplog.records if "findfont" in r.getMessage() or "Glyph" in r.getMessage()]


def test_no_executed_cell_wrote_to_stderr(html_dir):
    """No page carries noise: no executed cell of the built book has a stderr output (conf.py's
    nb_output_stderr = "error" also stops the build on one). The outputs are read from the execution
    cache that the build filled."""
    from jupyter_cache import get_cache
    cache = get_cache(str(ROOT / "_build" / ".jupyter_cache"))
    records = cache.list_cache_records()
    assert len(records) >= 20, f"only {len(records)} executed notebooks in the execution cache"
    noisy = []
    for record in records:
        nb = cache.get_cache_bundle(record.pk).nb
        for i, cell in enumerate(nb.cells):
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream" and out.get("name") == "stderr":
                    noisy.append(f"{record.uri} cell {i}: {''.join(out['text'])[:120]!r}")
    assert not noisy, noisy
