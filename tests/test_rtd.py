"""Read the Docs: `.readthedocs.yaml` is valid, and its own commands build HTML and one PDF.

The build test runs the file's install and build commands with `bash -c` in the repository, as Read
the Docs runs them, with READTHEDOCS_OUTPUT, READTHEDOCS_LANGUAGE (`en`, `zh-cn`) and
READTHEDOCS_CANONICAL_URL set. The PyTorch CPU-wheel step is skipped where its index cannot be reached
(torch is then the one already installed). The notebooks come from the execution cache, as in every
build here, so a language takes well under a minute; it needs the TeX tools (`make pdf-deps`).

A cold build (a fresh copy of the tracked files, empty execution cache), timed, the way the issue note
measures it:

    .venv/bin/python tests/test_rtd.py --cold en
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import ROOT, SHARED, VENV_BIN  # noqa: E402

CONFIG = ROOT / ".readthedocs.yaml"
SCHEMA = SHARED / "reference" / "readthedocs-config-v2.schema.json"
CPU_INDEX_HOST = "download.pytorch.org"
HOST = "https://yangbook.readthedocs.io"
TEX_TOOLS = ("xelatex", "latexmk")


def load_config() -> dict:
    return yaml.safe_load(CONFIG.read_text(encoding="utf-8"))


def index_reachable(host: str = CPU_INDEX_HOST, timeout: float = 3.0) -> bool:
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def rtd_env(output: Path, rtd_lang: str) -> dict:
    env = dict(os.environ)
    env["PATH"] = str(VENV_BIN) + os.pathsep + env.get("PATH", "")
    env.pop("PYTHONPATH", None)  # the commands set what they need, as on Read the Docs
    env.update(
        READTHEDOCS="True",
        READTHEDOCS_OUTPUT=str(output),
        READTHEDOCS_LANGUAGE=rtd_lang,
        READTHEDOCS_VERSION="latest",
        READTHEDOCS_CANONICAL_URL=f"{HOST}/{rtd_lang}/latest/",
    )
    return env


def run_jobs(workdir: Path, output: Path, rtd_lang: str, install: bool = True) -> dict[str, float]:
    """Run the config's install and build commands in ``workdir``; returns seconds per step."""
    jobs = load_config()["build"]["jobs"]
    steps = []
    if install:
        for cmd in jobs.get("install", []):
            if CPU_INDEX_HOST in cmd and not index_reachable():
                print(f"[rtd] skipped (index unreachable): {cmd}")
                continue
            steps.append(("install", cmd))
    for fmt in ("html", "pdf"):
        steps += [(fmt, cmd) for cmd in jobs["build"].get(fmt, [])]
    env = rtd_env(output, rtd_lang)
    timings: dict[str, float] = {}
    for step, cmd in steps:
        start = time.perf_counter()
        proc = subprocess.run(["bash", "-c", cmd], cwd=workdir, env=env, capture_output=True, text=True)
        timings[step] = timings.get(step, 0.0) + time.perf_counter() - start
        if proc.returncode != 0:
            raise AssertionError(
                f"[{rtd_lang}] `{cmd}` failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            )
    return timings


def test_config_validates_against_schema():
    jsonschema = pytest.importorskip("jsonschema")
    if not SCHEMA.exists():
        pytest.skip(f"the schema {SCHEMA} is not here (../shared is absent outside the project's machines)")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    config = load_config()
    jsonschema.validate(config, schema)
    # and the choices the book depends on
    assert config["formats"] == ["pdf"]
    assert config["build"]["tools"]["python"] == "3.11"  # Sphinx 9 needs 3.11 or later
    install = " ".join(config["build"]["jobs"]["install"])
    assert "download.pytorch.org/whl/cpu" in install and "torch==2.13.0" in install


def test_schema_rejects_a_broken_config():
    """The validation above can fail: an unknown key and a wrong format are refused."""
    jsonschema = pytest.importorskip("jsonschema")
    if not SCHEMA.exists():
        pytest.skip(f"the schema {SCHEMA} is not here")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    for broken in ({**load_config(), "formats": ["docx"]}, {**load_config(), "sphinx_version": 9}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, schema)


def test_language_mapping_in_conf(tmp_path):
    """conf.py turns READTHEDOCS_LANGUAGE into Sphinx's code and refuses an unknown one."""
    code = "import runpy; print(runpy.run_path('conf.py')['language'])"
    for rtd, sphinx in (("en", "en"), ("zh-cn", "zh_CN")):
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                             env={**os.environ, "READTHEDOCS_LANGUAGE": rtd}, check=True)
        assert out.stdout.strip() == sphinx
    bad = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "READTHEDOCS_LANGUAGE": "fr"})
    assert bad.returncode != 0 and "READTHEDOCS_LANGUAGE='fr'" in bad.stderr


@pytest.mark.parametrize("rtd_lang,html_lang", [("en", "en"), ("zh-cn", "zh-CN")])
def test_rtd_commands_build_html_and_one_pdf(tmp_path, rtd_lang, html_lang):
    missing = [tool for tool in TEX_TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"the TeX tools are not installed ({', '.join(missing)}): run `make pdf-deps`")
    output = tmp_path / "out"
    timings = run_jobs(ROOT, output, rtd_lang)
    print(f"[rtd] {rtd_lang}: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    index = output / "html" / "index.html"
    assert index.exists(), f"{index} was not written"
    pdfs = list((output / "pdf").iterdir())
    assert len(pdfs) == 1 and pdfs[0].suffix == ".pdf", f"expected one PDF, found {pdfs}"
    assert pdfs[0].read_bytes()[:5] == b"%PDF-"
    html = index.read_text(encoding="utf-8")
    assert f'lang="{html_lang}"' in html
    # absolute links derived from the canonical URL: the other language, and the PDF download
    other = "zh-cn" if rtd_lang == "en" else "en"
    assert f'href="{HOST}/{other}/latest/index.html"' in html
    assert f'href="{HOST}/_/downloads/{rtd_lang}/latest/pdf/"' in html
    assert f'<link rel="canonical" href="{HOST}/{rtd_lang}/latest/' in html


def _cold(rtd_lang: str) -> None:
    """Time the build jobs of one language on a fresh copy of the tracked files (install excluded)."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    with tempfile.TemporaryDirectory(prefix="rtd-cold-") as tmp:
        work, output = Path(tmp) / "checkout", Path(tmp) / "out"
        for rel in filter(None, files.decode().split("\0")):
            src = ROOT / rel
            if src.is_file():
                (work / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, work / rel)
        # the install jobs that are not package installs (the fetched test clip, matplotlib's font
        # cache) leave files the build needs; run them untimed, as the install is excluded from the budget
        env = rtd_env(output, rtd_lang)
        for cmd in load_config()["build"]["jobs"].get("install", []):
            if "pip install" not in cmd:
                subprocess.run(["bash", "-c", cmd], cwd=work, env=env, check=True, capture_output=True)
        start = time.perf_counter()
        timings = run_jobs(work, output, rtd_lang, install=False)
        total = time.perf_counter() - start
        pdf = next((output / "pdf").iterdir())
        print(f"cold Read the Docs build, {rtd_lang}, install excluded: "
              + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
              + f"; total {total:.1f} s ({total / 60:.1f} min); {pdf.name}")
        # the other budget, from the same build: the pages' execution times, as jupyter-cache recorded them
        from jupyter_cache import get_cache

        records = get_cache(str(work / "_build" / ".jupyter_cache")).list_cache_records()
        pages = sorted(((r.data["execution_seconds"], "/".join(Path(r.uri).parts[-2:]))
                        for r in records), reverse=True)
        print(f"execution_seconds summed over {len(pages)} pages: {sum(s for s, _ in pages):.1f} s "
              f"({sum(s for s, _ in pages) / 60:.1f} min)")
        for seconds, page in pages:
            print(f"  {seconds:6.1f} s  {page}")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "--cold" or sys.argv[2] not in ("en", "zh-cn"):
        sys.exit("usage: python tests/test_rtd.py --cold en|zh-cn")
    _cold(sys.argv[2])
