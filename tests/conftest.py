"""Shared paths for the tests. `make test` builds the book first, so the built HTML is there."""
from __future__ import annotations

import os
import subprocess
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


@pytest.fixture(scope="session")
def rebuilt_en(html_dir, tmp_path_factory):
    """The English book built a second time, into a temporary folder (executions from the cache).

    Shared by the tests that compare two builds (HTML, feeds), so the book is rebuilt only once.
    """
    out = tmp_path_factory.mktemp("rebuild") / "en"
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-c", str(ROOT), "-W", "--keep-going", "-q",
           str(BOOK), str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=sphinx_env(), cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out
