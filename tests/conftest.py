"""Shared paths for the tests. `make test` builds the book first, so the built HTML is there."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
BUILD = ROOT / "_build"
HTML = BUILD / "html"
SHARED = ROOT.parent / "shared"
LANGS = ("en", "zh_CN")
VENV_BIN = Path(sys.executable).parent

# tests import the package from this tree, like the book does
sys.path.insert(0, str(ROOT / "code"))
sys.path.insert(0, str(BOOK / "_ext"))


@pytest.fixture(scope="session")
def html_dir():
    """The built HTML of both languages; skips (with the reason) when `make html` has not run."""
    missing = [lang for lang in LANGS if not (HTML / lang / "index.html").exists()]
    if missing:
        pytest.skip(f"the book is not built for {missing}: run `make html` (make test does)")
    return HTML


def sphinx_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "code") + os.pathsep + env.get("PYTHONPATH", "")
    env["PATH"] = str(VENV_BIN) + os.pathsep + env.get("PATH", "")
    return env
