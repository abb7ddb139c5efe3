"""Format the code cells of the book's pages with ruff, at the book's line length (88 columns).

    python book/_ext/formatcells.py            # rewrite the pages (``make format``)
    python book/_ext/formatcells.py --check    # list the cells that are not formatted; exit 1 if any

Only the code between a ``{code-cell}`` fence and its closing fence changes; the options of the cell
(``:tags:`` lines or a YAML block) and the prose stay byte for byte. A cell with IPython syntax (a line
starting with ``%`` or ``!``) is left alone, since ruff reads Python only. ruff formats the exported
cells too, so the package (``make code``) follows.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

LINE_LENGTH = 88
CELL = re.compile(r"(^```\{code-cell\}[^\n]*\n)((?:---\n.*?\n---\n|(?::[a-z_-]+:[^\n]*\n)*))(.*?)(^```[ \t]*$)",
                  re.S | re.M)


def ruff() -> str:
    """The ruff executable beside this Python (the book's virtual environment), else on the PATH."""
    here = Path(sys.executable).with_name("ruff")
    return str(here) if here.exists() else "ruff"


def format_code(code: str, where: str) -> str:
    if re.search(r"^\s*[%!]", code, re.M):
        return code
    done = subprocess.run([ruff(), "format", "--line-length", str(LINE_LENGTH), "--stdin-filename", "cell.py", "-"],
                          input=code, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"formatcells: ruff cannot format a cell of {where}: {done.stderr.strip()}")
    return done.stdout


def unformatted(page: Path) -> tuple[str, list[int]]:
    """The page with its cells formatted, and the 1-based lines of the cells that changed."""
    text = page.read_text(encoding="utf-8")
    changed: list[int] = []

    def one(match: re.Match) -> str:
        code = format_code(match.group(3), str(page))
        if code != match.group(3):
            changed.append(text.count("\n", 0, match.start()) + 1)
        return match.group(1) + match.group(2) + code + match.group(4)

    return CELL.sub(one, text), changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--book", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--check", action="store_true", help="report, do not rewrite")
    args = parser.parse_args(argv)
    bad = []
    for page in sorted(args.book.rglob("*.md")):
        if "_" in page.relative_to(args.book).parts[0][:1]:
            continue
        formatted, changed = unformatted(page)
        if changed and args.check:
            bad += [f"{page.relative_to(args.book)}:{line}" for line in changed]
        elif changed:
            page.write_text(formatted, encoding="utf-8")
            print(f"formatcells: formatted {len(changed)} cells of {page.relative_to(args.book)}")
    if bad:
        print("formatcells: cells not formatted (run `make format`):\n  " + "\n  ".join(bad), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
