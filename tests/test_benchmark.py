"""The benchmark of the detectors (yangbook.deepfake.benchmark, page book/deepfake/benchmark.md).

The per-forgery AUC is checked against scikit-learn on a set whose scores are known, the protocol's
checks against bad values, and the whole benchmark, on a tiny protocol, against itself read back from
the store (the hit path must give the numbers the miss path measured).
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from yangbook.deepfake import benchmark
from yangbook.deepfake.benchmark import PROTOCOL, check_protocol, method_aucs, run_benchmark
from yangbook.deepfake.detector import Detector


class Oracle(nn.Module):
    """Scores an image by its mean pixel: the tests below put the answer there."""
    head_convention = "logit-fake"

    def forward(self, x):
        return x.mean(dim=(1, 2, 3))[:, None] * 8 - 4 + 0 * self.w

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(()))


def test_method_aucs_score_each_forgery_against_all_the_real_faces():
    rng = np.random.default_rng(0)
    methods = np.array(["real"] * 8 + ["self_blend"] * 4 + ["swap"] * 4 + ["nearest"] * 4 + ["zero"] * 4)
    brightness = np.where(methods == "real", rng.uniform(0.2, 0.6, len(methods)), 0.0)
    brightness[methods == "swap"] = 0.9                      # found perfectly
    brightness[methods == "self_blend"] = [0.1, 0.3, 0.5, 0.95]
    brightness[methods == "nearest"] = rng.uniform(0.2, 0.6, 4)
    brightness[methods == "zero"] = 0.05                     # scored as the realest of all
    x = torch.tensor(brightness, dtype=torch.float32)[:, None, None, None].expand(-1, 3, 4, 4).contiguous()
    y = torch.tensor((methods != "real").astype(int))
    got = method_aucs(Detector(Oracle()), x, y, methods)
    real = brightness[methods == "real"]
    for m in ("self_blend", "swap", "nearest", "zero"):
        fake = brightness[methods == m]
        want = roc_auc_score(np.r_[np.zeros(len(real)), np.ones(len(fake))], np.r_[real, fake])
        assert got[m] == pytest.approx(want)
    assert got["swap"] == 1.0 and got["zero"] == 0.0
    assert got["all"] == pytest.approx(roc_auc_score(y.numpy(), brightness))


@pytest.mark.parametrize("change, message", [
    ({"size": 48}, "multiple of 32"),
    ({"seeds": [0, 1]}, "at least 3 seeds"),
    ({"epochs": 0}, "'epochs' must be a positive integer"),
    ({"test_images": 20}, "multiple of 8"),
    ({"matrix": ["Meso-5"]}, "unknown detectors ['Meso-5']"),
    ({"clip_train_levels": ["c30"]}, "'clip_train_levels' must be some of the levels"),
    ({"blink_train_clips": 0}, "'blink_train_clips' must be a positive integer"),
])
def test_bad_protocols_are_refused_with_the_entry_named(change, message):
    with pytest.raises(ValueError) as err:
        check_protocol({**PROTOCOL, **change})
    assert message in str(err.value)
    with pytest.raises(KeyError, match="missing entries"):
        check_protocol({k: v for k, v in PROTOCOL.items() if k != "lr"})


def test_a_tiny_benchmark_reads_back_what_it_measured(tmp_path, monkeypatch):
    monkeypatch.setenv("YANGBOOK_STORE", str(tmp_path))
    tiny = {**PROTOCOL, "train_images": 16, "test_images": 16, "epochs": 1, "train_clips": 4, "test_clips": 4,
            "blink_clips": 4, "blink_train_clips": 4, "lipsync_train_clips": 2, "lipsync_test_clips": 4}
    first = run_benchmark(tiny, verbose=False)
    assert not first["hit"]
    stored = sorted(p.name for p in tmp_path.iterdir())
    # 4 detectors x 3 seeds x 2 levels, Xception x 4 forgeries x 3 seeds, LRCN and SyncNet x 3 seeds, and the results
    assert len([n for n in stored if n.endswith(".pt")]) == 24 + 12 + 3 + 3
    assert len([n for n in stored if n.startswith("benchmark-")]) == 1
    again = run_benchmark(tiny, verbose=False)
    assert again["hit"]
    assert json.dumps({**first, "hit": None}, sort_keys=True) == json.dumps({**again, "hit": None}, sort_keys=True)
    # every entry the page reads is there, three seeds each, AUCs in [0, 1]
    for name in benchmark.IMAGE_DETECTORS:
        for train in ("c23", "c40"):
            for test in ("c23", "c40"):
                runs = first["auc"][f"{name}|{train}|{test}"]
                assert len(runs) == 3 and all(0 <= r[m] <= 1 for r in runs for m in r)
        assert len(first["video"][name]) == 3 and first["params"][name] > 0
    assert set(first["recurrent"]) == {"frame average", "LSTM"} and len(first["ear"]["blink"]) == 3
    for kind, keys in (("lrcn", ("frame", "video")), ("syncnet", ("video",))):
        runs = first[kind]["c23"]
        assert runs["params"] > 0 and len(runs["train_seconds"]) == 3
        for key in keys:
            for test in ("c23", "c40"):
                values = runs[key][f"c23|{test}"]
                assert len(values) == 3
                flat = [v for r in values for v in (r.values() if isinstance(r, dict) else [r])]
                assert all(0 <= v <= 1 for v in flat), (kind, key, test, values)
    # the runs read from the store give the same numbers as the runs that trained: with the results
    # file gone, every run is a hit, and only the timings of this call differ
    for path in tmp_path.glob("benchmark-*.json"):
        path.unlink()
    reread = run_benchmark(tiny, verbose=False)
    assert not reread["hit"] and len(list(tmp_path.glob("*.pt"))) == 42

    def numbers(r):
        r = json.loads(json.dumps(r))
        for key in ("hit", "seconds", "images_per_second"):
            r.pop(key)
        for kind in ("lrcn", "syncnet"):
            r[kind]["c23"].pop("frames_per_second")
        return r
    assert numbers(reread) == numbers(first)
    # a changed protocol is another key: measured again, not read
    assert not run_benchmark({**tiny, "lr": 1e-3}, verbose=False)["hit"]
