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


def book_pages() -> list[Path]:
    """Every page of the book in reading order (the toctree walk that `make code` uses)."""
    import tangle
    return tangle.pages_in_order(BOOK)


def front_matter(page: Path) -> dict:
    """A page's YAML front matter (empty without one)."""
    import yaml
    text = page.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        return {}
    return yaml.safe_load(text[4:text.index("\n---\n", 4)]) or {}


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


# --- a tiny FaceForensics++ tree of procedural videos (the loader tests and the clip models' tests) ---

def _write_video(path, frames):
    import cv2
    import numpy as np
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = frames.shape[1:3]
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (w, h))
    assert out.isOpened(), "OpenCV cannot write mp4v here"
    for f in frames:
        out.write(np.ascontiguousarray(f[..., ::-1]))
    out.release()


@pytest.fixture(scope="session")
def ffpp_tree(tmp_path_factory):
    import json

    import numpy as np

    from yangbook.deepfake import clips as C
    from yangbook.deepfake import render as R
    root = tmp_path_factory.mktemp("ffpp")
    pairs = [["000", "001"], ["002", "003"]]
    (root / "splits").mkdir()
    (root / "splits" / "train.json").write_text(json.dumps(pairs))
    for k in range(4):
        r = np.random.default_rng(k)
        c = C.render_clip(R.Identity.sample(k), R.Scene.sample(r), C.head_motion(6, 25, r), size=128)
        frames, lms = c["frames"], c["landmarks"]
        _write_video(root / "original_sequences/youtube/c23/videos" / f"{k:03d}.mp4", frames)
        fake = C.flicker_forgery(frames, lms)[0]
        other = {0: 1, 1: 0, 2: 3, 3: 2}[k]
        _write_video(root / "manipulated_sequences/Deepfakes/c23/videos" / f"{k:03d}_{other:03d}.mp4", fake)
    return root
