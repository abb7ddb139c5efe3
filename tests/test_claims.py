"""The book's claims standard: the comparison helper on hand-made cases, the seed base, the simulated
other machine, and the notes a claim that fails leaves in a reader's build (both languages) and the
line it prints in a strict one."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import claims as claims_ext  # noqa: E402  (book/_ext/claims.py)
from yangbook.utils import (CLAIM_LEVEL, CLAIM_MARKER, ClaimFailed, auc_standard_error, book_seed,  # noqa: E402
                            claim, compare, proportion_standard_error, seed_base, set_seed)

PY = sys.executable


# --- the helper on hand-made cases ------------------------------------------------------------------

def test_welch_interval_matches_scipy_without_items():
    """With seeds alone, the interval is Welch's: the same as SciPy's ttest_ind(equal_var=False)."""
    a, b = [0.71, 0.74, 0.69, 0.77], [0.62, 0.70, 0.66]
    ours = compare(a, b, names=("a", "b"))
    ref = stats.ttest_ind(a, b, equal_var=False).confidence_interval(CLAIM_LEVEL)
    assert ours.low == pytest.approx(ref.low, abs=1e-9) and ours.high == pytest.approx(ref.high, abs=1e-9)
    assert ours.diff == pytest.approx(np.mean(a) - np.mean(b))


def test_hanley_mcneil_against_simulation():
    """Hanley and McNeil's standard error against the spread of AUCs of simulated binormal test sets."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(7)
    n_pos, n_neg, shift = 60, 80, 1.2
    aucs = []
    for _ in range(3000):
        s = np.r_[rng.normal(shift, 1, n_pos), rng.normal(0, 1, n_neg)]
        aucs.append(roc_auc_score(np.r_[np.ones(n_pos), np.zeros(n_neg)], s))
    true_auc = stats.norm.cdf(shift / math.sqrt(2))
    se = auc_standard_error(true_auc, n_pos, n_neg)
    assert se == pytest.approx(np.std(aucs), rel=0.08), (se, np.std(aucs))
    # the paper's formula at chance on 50 + 50 items, worked by hand: sqrt(8.4167 / 2500)
    assert auc_standard_error(0.5, 50, 50) == pytest.approx(math.sqrt((0.25 + 2 * 49 * (1 / 3 - 0.25)) / 2500))
    assert auc_standard_error(1.0, 50, 50) > 0  # a perfect AUC is not certain


def test_verdicts_on_hand_made_cases():
    """A clear gap is a finding; a small one on a small test set is not, even when every seed of one
    is above every seed of the other; equal results are indistinguishable; the sign is kept."""
    clear = compare([0.91, 0.89, 0.90], [0.79, 0.81, 0.80], items=(200, 200))
    close = compare([0.825, 0.82, 0.815], [0.805, 0.80, 0.795], items=(200, 200))
    same = compare([0.80, 0.82, 0.78], [0.80, 0.82, 0.78], items=(200, 200))
    assert clear.verdict == "higher" and clear.higher
    assert close.verdict == "indistinguishable" and close.indistinguishable
    assert min([0.825, 0.82, 0.815]) > max([0.805, 0.80, 0.795])
    assert same.verdict == "indistinguishable" and same.diff == 0
    assert compare([0.79, 0.81, 0.80], [0.91, 0.89, 0.90], items=(200, 200)).verdict == "lower"
    # the same gap on a test set 25 times larger is a finding
    assert compare([0.825, 0.82, 0.815], [0.805, 0.80, 0.795], items=(5000, 5000)).higher


def test_items_widen_the_interval_and_a_fixed_number_is_certain():
    seeds_only = compare([0.60, 0.61, 0.62], 0.5)
    with_items = compare([0.60, 0.61, 0.62], 0.5, items=(40, 40))
    assert seeds_only.higher and with_items.half_width > seeds_only.half_width
    assert with_items.indistinguishable  # 0.61 on 80 items cannot be told from chance
    acc = compare([1.0], 0.9, items=20)  # a perfect accuracy on 20 items: not certain
    assert acc.indistinguishable and proportion_standard_error(1.0, 20) > 0


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="'a'.*one seed and no item count"):
        compare([0.7], [0.6, 0.65], names=("a", "b"))
    with pytest.raises(ValueError, match="finite value"):
        compare([0.7, float("nan")], [0.6, 0.65])
    with pytest.raises(TypeError, match="items of 'A'"):
        compare([0.7, 0.8], [0.6, 0.65], items="many")
    with pytest.raises(ValueError, match=r"lies in \[0, 1\]"):
        auc_standard_error(1.2, 10, 10)


def test_claim_outside_a_notebook_raises_one_line():
    assert claim("Two is more than one.", 2 > 1, "2 vs 1") is None   # shows nothing at the end of a cell
    with pytest.raises(ClaimFailed, match=r"'One is more than two.'; measured: 1 vs 2"):
        claim("One is more than two.", 1 > 2, "1 vs 2")
    with pytest.raises(TypeError):
        claim("", True)


def test_marker_is_shared():
    assert claims_ext.MARKER == CLAIM_MARKER


# --- the seed base ------------------------------------------------------------------------------------

def test_seed_base(monkeypatch):
    import torch

    monkeypatch.delenv("YANGBOOK_SEED_BASE", raising=False)
    assert seed_base() == 0 and book_seed(3) == 3 and book_seed([1, 2]) == [1, 2]
    set_seed(0)
    default = torch.rand(3)
    monkeypatch.setenv("YANGBOOK_SEED_BASE", "1000")
    assert book_seed(3) == 1003 and book_seed([1, 2]) == [1, 2, 1000]
    set_seed(0)
    assert not torch.equal(torch.rand(3), default)
    monkeypatch.setenv("YANGBOOK_SEED_BASE", "many")
    with pytest.raises(ValueError, match="YANGBOOK_SEED_BASE.*'many'"):
        seed_base()


def test_the_store_tells_the_machines_apart(monkeypatch):
    from yangbook.deepfake.store import run_key

    monkeypatch.delenv("YANGBOOK_SEED_BASE", raising=False)
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    key = run_key({"model": "x"})
    monkeypatch.setenv("YANGBOOK_SEED_BASE", "1000")
    other_seeds = run_key({"model": "x"})
    monkeypatch.delenv("YANGBOOK_SEED_BASE")
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    assert len({key, other_seeds, run_key({"model": "x"})}) == 3


# --- the simulated other machine really is another machine -------------------------------------------

ADAM_STEPS = textwrap.dedent("""
    import hashlib, torch
    from yangbook.deepfake.mesonet import Meso4
    torch.set_num_threads(int(__import__("sys").argv[1]))
    torch.manual_seed(0)
    net = Meso4()
    x, y = torch.rand(8, 3, 256, 256), torch.randint(0, 2, (8,)).float()
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    for _ in range(5):
        opt.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(net(x).squeeze(1), y).backward()
        opt.step()
    w = torch.cat([p.detach().flatten() for p in net.parameters()])
    print(hashlib.sha256(w.numpy().tobytes()).hexdigest())
""")


def _weights_digest(threads: int, **env) -> str:
    full = {k: v for k, v in os.environ.items() if k not in ("ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY")}
    full.update(env, PYTHONPATH=str(ROOT / "code"))
    out = subprocess.run([PY, "-c", ADAM_STEPS, str(threads)], env=full, capture_output=True, text=True,
                         timeout=300, check=True)
    return out.stdout.strip()


def _has_avx512() -> bool:
    try:
        return "avx512f" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def test_one_thread_changes_the_trained_weights():
    """Five Adam steps of Meso-4 on one batch end with other weights on one thread than on two."""
    assert _weights_digest(2) == _weights_digest(2)  # repeatable on one machine
    assert _weights_digest(1) != _weights_digest(2)


@pytest.mark.skipif(not _has_avx512(), reason="this CPU has no AVX-512: capping the kernels at AVX2 changes nothing")
def test_avx2_kernels_change_the_trained_weights():
    """oneDNN capped at AVX2 (torch's convolutions), with ATen's kernels at AVX2 too, changes them."""
    assert _weights_digest(2, ONEDNN_MAX_CPU_ISA="AVX2", ATEN_CPU_CAPABILITY="avx2") != _weights_digest(2)


def test_check_claims_builds_the_other_machine():
    """`make check-claims` sets all four (and builds cold, strict, beside the reader's cache)."""
    out = subprocess.run(["make", "-n", "check-claims"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for setting in ("YANGBOOK_SEED_BASE=1000", "OMP_NUM_THREADS=1", "ONEDNN_MAX_CPU_ISA=AVX2",
                    "ATEN_CPU_CAPABILITY=avx2", "YANGBOOK_CLAIMS=strict", "rm -rf _build/other-machine"):
        assert setting in out, setting
    assert "check-claims" in (ROOT / ".ci" / "run").read_text()


# --- a false claim in a scratch book --------------------------------------------------------------------

SCRATCH_PAGE = textwrap.dedent('''\
    ---
    jupytext:
      text_representation:
        extension: .md
        format_name: myst
    kernelspec:
      display_name: Python 3
      language: python
      name: python3
    ---

    # Scratch

    One is more than two.

    ```{code-cell} ipython3
    :tags: [remove-input]
    from yangbook.utils import claim, compare

    claim("One is more than two.", compare([1.0, 1.1], [2.0, 2.1], names=("one", "two")).higher,
          compare([1.0, 1.1], [2.0, 2.1], names=("one", "two")))
    claim("Two is more than one.", 2 > 1, "")
    ```
    ''')

SCRATCH_PO = textwrap.dedent('''\
    msgid ""
    msgstr ""
    "Content-Type: text/plain; charset=UTF-8\\n"

    msgid "One is more than two."
    msgstr "一比二大。"
    ''')


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    src = tmp_path_factory.mktemp("scratch")
    (src / "index.md").write_text(SCRATCH_PAGE, encoding="utf-8")
    (src / "locales" / "zh_CN" / "LC_MESSAGES" / "_ext").mkdir(parents=True)
    (src / "locales" / "zh_CN" / "LC_MESSAGES" / "_ext" / "claims.po").write_text(SCRATCH_PO, encoding="utf-8")
    (src / "conf.py").write_text(textwrap.dedent(f'''\
        import sys
        sys.path.insert(0, {str(ROOT / "book" / "_ext")!r})
        extensions = ["myst_nb", "claims"]
        exclude_patterns = ["_build", "locales"]
        locale_dirs = ["locales"]
        nb_execution_mode = "force"
        nb_execution_raise_on_error = True
        '''), encoding="utf-8")
    return src


def _build(src: Path, out: Path, *args, **env):
    full = {**os.environ, "PYTHONPATH": str(ROOT / "code"), **env}
    full.pop("YANGBOOK_CLAIMS", None) if "YANGBOOK_CLAIMS" not in env else None
    return subprocess.run([PY, "-m", "sphinx", "-b", "html", "-q", "-W", *args, str(src), str(out)],
                          env=full, capture_output=True, text=True, timeout=600)


def test_a_false_claim_is_a_note_in_a_readers_build(scratch, tmp_path):
    en = _build(scratch, tmp_path / "en")
    zh = _build(scratch, tmp_path / "zh", "-D", "language=zh_CN")
    for run in (en, zh):
        assert run.returncode == 0, run.stderr
        assert "1 sentence(s) of the book are not borne out" in run.stdout and "One is more than two." in run.stdout
    html_en = (tmp_path / "en" / "index.html").read_text(encoding="utf-8")
    html_zh = (tmp_path / "zh" / "index.html").read_text(encoding="utf-8")
    assert claims_ext.TITLE["en"] in html_en and "One is more than two." in html_en
    assert "one 1.050 - two 2.050 = -1.000" in html_en  # the numbers measured
    assert CLAIM_MARKER not in html_en and CLAIM_MARKER not in html_zh
    assert claims_ext.TITLE["zh_CN"] in html_zh and "一比二大。" in html_zh and claims_ext.MEASURED["zh_CN"] in html_zh
    assert "Two is more than one." not in html_en  # a claim that holds shows nothing
    assert ">True<" not in html_en and ">False<" not in html_en


def test_a_false_claim_fails_a_strict_build_in_one_line(scratch, tmp_path):
    run = _build(scratch, tmp_path / "strict", YANGBOOK_CLAIMS="strict")
    assert run.returncode != 0
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    failed = [line for line in lines if line.startswith("claim failed:")]
    assert len(failed) == 1, run.stderr
    assert failed[0].startswith('claim failed: index.md: "One is more than two." measured: one 1.050 - two 2.050')
    assert "Traceback" not in run.stderr and len(lines) <= 3, run.stderr


# --- the book's own claims ------------------------------------------------------------------------------

def test_every_claimed_sentence_is_translated():
    import polib

    sentences = claims_ext.book_sentences(ROOT / "book")
    assert len(sentences) > 20
    po = ROOT / "book" / "locales" / "zh_CN" / "LC_MESSAGES" / "_ext" / "claims.po"
    done = {e.msgid: e.msgstr for e in polib.pofile(str(po)) if e.msgstr and not e.fuzzy}
    missing = [s for s in sentences if s not in done]
    assert not missing, f"claims.po lacks (run make po and translate): {missing[:5]}"


def test_claim_sentences_are_literal():
    with pytest.raises(ValueError, match="plain string literal"):
        claims_ext.sentences_in("```{code-cell} ipython3\nclaim(f'{x} wins', True)\n```\n")
    assert claims_ext.sentences_in("```{code-cell} ipython3\nclaim('A  wins', True)\n```\n") == ["A wins"]
