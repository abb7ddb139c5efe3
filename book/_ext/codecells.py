"""Code that serves the prose: long definitions folded, cells that only show something folded away.

In the HTML of a notebook page, before myst-nb wraps hidden inputs in a ``<details>`` element:

* an **exported cell longer than** ``codecells_fold_lines`` (40) lines is folded, and its summary line
  says what it defines: "Show the code (85 lines): defines MultiHeadAttention, attention";
* a cell that **only prints, glues or draws** (every statement a call of ``print``, ``glue``, ``glue_figure``,
  ``display`` or of a figure's ``plt``/``fig``/``ax``, an import, or a loop of such calls) is folded with
  the summary "Show the code"; its output stays in view;
* a cell tagged ``hide-input`` by hand gets the same summary.

The summaries are translated: the two phrases below are in this extension's catalogue
(``_ext/locale/<lang>/LC_MESSAGES/codecells.po``, read with polib), the names are code and stay as
they are.
"""
from __future__ import annotations

import ast
from pathlib import Path

import polib

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform

__version__ = "1.0"
CATALOGUE = "codecells"
LOCALE = Path(__file__).parent / "locale"
SHOW_CALLS = {"print", "glue", "glue_figure", "display", "use_book_style", "plt", "fig", "ax", "axes", "axs"}
HIDDEN_TAGS = {"hide-input", "hide-cell", "remove-input", "remove-cell"}


def _root(node) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _shows(stmt) -> bool:
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        return _root(stmt.value.func) in SHOW_CALLS
    if isinstance(stmt, (ast.For, ast.If, ast.With)):
        body = stmt.body + list(getattr(stmt, "orelse", []))
        return any(_shows(s) for s in body) and all(_shows(s) or _quiet(s) for s in body)
    return False


def _quiet(stmt) -> bool:
    """A statement that computes nothing a reader needs to see: an import, a figure made, a string."""
    if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.Pass)):
        return True
    if isinstance(stmt, ast.Assign):
        value = stmt.value
        return isinstance(value, (ast.JoinedStr, ast.Constant)) or (
            isinstance(value, ast.Call) and _root(value.func) in SHOW_CALLS)
    return False


def only_shows(source: str) -> bool:
    """Whether a cell only prints, glues or draws (see the module's docstring)."""
    try:
        body = ast.parse(source).body
    except SyntaxError:  # IPython syntax: not ours to judge
        return False
    return bool(body) and any(_shows(s) for s in body) and all(_shows(s) or _quiet(s) for s in body)


def defined_names(source: str) -> list[str]:
    """The top-level names a cell defines: its functions and classes, else its assignments."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return []
    defs = [s.name for s in body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    if defs:
        public = [n for n in defs if not n.startswith("_")]
        return public or defs
    names = []
    for s in body:
        for target in getattr(s, "targets", [getattr(s, "target", None)]):
            if isinstance(target, ast.Name) and target.id not in names:
                names.append(target.id)
    return names


def summary(names: list[str], lines: int, _) -> str:
    """The summary line of a folded exported cell: its length and (the first four of) its names."""
    shown = _(", ").join(names[:4]) + (_(" and {n} more").format(n=len(names) - 4) if len(names) > 4 else "")
    text = _("Show the code ({lines} lines)").format(lines=lines)
    return text + (_(": defines {names}").format(names=shown) if names else "")


def translator(language: str | None):
    """gettext for this extension's phrases in ``language`` (English: the phrases themselves)."""
    po = LOCALE / (language or "en") / "LC_MESSAGES" / f"{CATALOGUE}.po"
    table = {e.msgid: e.msgstr for e in polib.pofile(str(po)) if e.msgstr} if po.exists() else {}
    return lambda message: table.get(message, message)


def _source(cell) -> str:
    for child in cell.findall(nodes.literal_block):
        return child.astext()
    return ""


class FoldCells(SphinxPostTransform):
    default_priority = 198  # before myst-nb's HideInputCells (199) wraps what is hidden
    formats = ("html",)

    def run(self, **kwargs) -> None:
        _ = translator(self.config.language)
        fold_at = self.config.codecells_fold_lines
        for cell in self.document.findall(nodes.container):
            if cell.get("nb_element") != "cell_code" or not cell.children:
                continue
            if cell.children[0].get("nb_element") != "cell_code_source":
                continue
            tags = set((cell.get("cell_metadata") or {}).get("tags", []))
            source = _source(cell)
            lines = len(source.splitlines())
            if "export" in tags and lines > fold_at and not tags & HIDDEN_TAGS:
                prompt = summary(defined_names(source), lines, _)
            elif cell.get("hide_mode") == "input" or (not tags & HIDDEN_TAGS and only_shows(source)):
                prompt = _("Show the code")
            else:
                continue
            cell["hide_mode"] = "input"
            cell["prompt_show"] = prompt
            cell["prompt_hide"] = _("Hide the code")


def setup(app: Sphinx) -> dict:
    app.add_config_value("codecells_fold_lines", 40, "html", types=[int])
    app.add_post_transform(FoldCells)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
