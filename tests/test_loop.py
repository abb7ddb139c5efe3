"""One loop for frames, clips and sound (yangbook.deepfake.train, page book/deepfake/training.md).

Tiny models read image, clip and clip-plus-audio batches of the book's datasets through the same
``Detector``, ``train_detector`` and ``evaluate``; the video-level scores are checked against a
mean of frame probabilities computed by hand and scikit-learn's AUC.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from yangbook.deepfake.datasets import FaceClipDataset, FaceForgeryDataset
from yangbook.deepfake.detector import Detector
from yangbook.deepfake.loss import detector_loss
from yangbook.deepfake.metrics import EvalResult, evaluate
from yangbook.deepfake.train import ImageBatches, train_detector
from yangbook.utils import set_seed


class FrameNet(nn.Module):
    """A tiny image model: reads ``image`` (N, 3, H, W), one fake logit per image."""
    head_convention = "logit-fake"

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                                 nn.Flatten(), nn.Linear(4, 1))

    def forward(self, x):
        return self.net(x)  # (N, 1)


class ClipNet(nn.Module):
    """A tiny clip model: reads ``video`` (N, T, 3, H, W), one softmax pair per clip."""
    head_convention = "softmax-index1-fake"
    inputs = ("video",)
    input_range = (-1.0, 1.0)

    def __init__(self):
        super().__init__()
        self.frame = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(8, 2)

    def forward(self, video):
        f = self.frame(video.flatten(0, 1)).view(video.shape[0], video.shape[1], -1)   # (N, T, 4)
        d = (f[:, 1:] - f[:, :-1]).abs().mean(1)                                          # change over time
        return self.head(torch.cat([f.mean(1), d], 1))                                     # (N, 2)


class SyncNetTiny(nn.Module):
    """A tiny audio-visual model: reads ``mouth`` (N, T, 3, h, w) and ``mfcc`` (N, 13, 4T)."""
    head_convention = "logit-fake"
    inputs = ("mouth", "mfcc")

    def __init__(self):
        super().__init__()
        self.v = nn.Linear(3, 8)
        self.a = nn.Linear(13 * 4, 8)
        self.out = nn.Linear(1, 1)

    def forward(self, mouth, mfcc):
        n, t = mouth.shape[:2]
        v = self.v(mouth.mean((3, 4)))                                        # (N, T, 8)
        a = self.a(mfcc.view(n, 13, t, 4).permute(0, 2, 1, 3).flatten(2))     # (N, T, 8)
        sim = nn.functional.cosine_similarity(v, a, dim=-1).mean(1, keepdim=True)  # (N, 1)
        return self.out(sim)


def test_image_batches_from_a_dataset():
    set_seed(0)
    ds = FaceForgeryDataset("train", "self_blend", length=16, size=64)
    detector = Detector(FrameNet())
    history = train_detector(detector, DataLoader(ds, batch_size=8), DataLoader(ds, batch_size=8), epochs=2,
                             verbose=False)
    assert len(history) == 2 and np.isnan(history[0]["val_video_auc"])
    res = evaluate(detector, DataLoader(ds, batch_size=8))
    assert res.level == "frame" and res.videos is None and len(res.scores) == 16
    with torch.no_grad():
        expect = torch.sigmoid(detector(torch.stack([ds[i]["image"] for i in range(16)]))).numpy()
    np.testing.assert_allclose(res.scores, expect, rtol=1e-5)


def test_a_frame_model_scores_every_frame_of_a_clip():
    set_seed(0)
    ds = FaceClipDataset("train", "flicker", length=8, frames=4, cache=True)
    detector = Detector(FrameNet())
    train_detector(detector, DataLoader(ds, batch_size=4), epochs=1, verbose=False)
    res = evaluate(detector, DataLoader(ds, batch_size=4))
    assert res.level == "frame" and len(res.scores) == 8 * 4 and len(np.unique(res.videos)) == 8
    # the video score is the mean P(fake) of the clip's frames, computed here by hand
    with torch.no_grad():
        p = [torch.sigmoid(detector(ds[i]["video"])).mean().item() for i in range(8)]
    labels, scores = res.video_level()
    np.testing.assert_array_equal(labels, [0, 1] * 4)
    np.testing.assert_allclose(scores, p, rtol=1e-5)
    assert res.video_auc == pytest.approx(roc_auc_score(labels, p))
    assert res.frame_auc == pytest.approx(roc_auc_score(np.repeat([0, 1] * 4, 4), res.scores))


def test_a_clip_model_gives_its_own_clip_score():
    set_seed(0)
    ds = FaceClipDataset("train", "flicker", length=8, frames=5)
    detector = Detector(ClipNet())
    history = train_detector(detector, DataLoader(ds, batch_size=4), DataLoader(ds, batch_size=4), epochs=2,
                             verbose=False)
    res = evaluate(detector, DataLoader(ds, batch_size=4))
    assert res.level == "clip" and len(res.scores) == 8 and np.isnan(res.frame_auc)
    with torch.no_grad():
        z = ClipNet.forward(detector.model, torch.stack([ds[i]["video"] for i in range(8)]) * 2 - 1)
    np.testing.assert_allclose(res.scores, torch.softmax(z, 1)[:, 1].numpy(), rtol=1e-5)
    assert res.video_auc == pytest.approx(roc_auc_score([0, 1] * 4, res.scores))
    assert history[-1]["val_auc"] == pytest.approx(history[-1]["val_video_auc"])


def test_clip_and_audio_batches():
    set_seed(0)
    ds = FaceClipDataset("train", "lipsync", length=6, frames=10, draw_frames=False)
    batch = next(iter(DataLoader(ds, batch_size=3)))
    assert batch["mouth"].shape == (3, 10, 3, 48, 48) and batch["mfcc"].shape == (3, 13, 40)
    detector = Detector(SyncNetTiny())
    history = train_detector(detector, DataLoader(ds, batch_size=3), epochs=2, verbose=False)
    assert np.isfinite(history[-1]["train_loss"])
    res = evaluate(detector, DataLoader(ds, batch_size=3))
    assert res.level == "clip" and len(res.scores) == 6


def test_tuples_still_work_and_frames_pool_by_video_id():
    x = torch.rand(12, 3, 32, 32)
    y = torch.tensor([0, 0, 0, 1, 1, 1] * 2)
    vid = torch.arange(12) // 3
    res = evaluate(Detector(FrameNet()), DataLoader(TensorDataset(x, y, vid), batch_size=5))
    assert len(np.unique(res.videos)) == 4
    labels, scores = res.video_level()
    np.testing.assert_allclose(scores, res.scores.reshape(4, 3).mean(1), rtol=1e-6)


def test_bad_batches_get_named_errors():
    detector = Detector(FrameNet())
    with pytest.raises(TypeError, match="FrameNet.*uint8"):
        detector(torch.zeros(2, 3, 32, 32, dtype=torch.uint8))
    with pytest.raises(ValueError, match="255"):
        detector(torch.full((2, 3, 32, 32), 200.0))
    with pytest.raises(KeyError, match="mfcc"):
        Detector(SyncNetTiny())({"mouth": torch.rand(1, 2, 3, 8, 8), "label": torch.tensor([0])})
    with pytest.raises(KeyError, match="label"):
        evaluate(detector, [{"image": torch.rand(2, 3, 32, 32)}])
    with pytest.raises(ValueError, match="0 \\(real\\) or 1 \\(fake\\)"):
        detector_loss(torch.zeros(3), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="no batches"):
        evaluate(detector, [])
    with pytest.raises(ValueError, match="epochs"):
        train_detector(detector, [], epochs=0)


def test_float64_images_are_not_silently_wrong():
    """A float64 batch is a dtype the model cannot take: the error names the model, not PyTorch's internals."""
    x = torch.rand(2, 3, 32, 32, dtype=torch.float64)
    with pytest.raises(TypeError, match="FrameNet.*float64.*float32"):
        Detector(FrameNet())(x)
    assert isinstance(EvalResult(np.array([0, 1]), np.array([0.2, 0.8])).summary(), str)


# --- the store of trained detectors (yangbook.deepfake.store.trained) -----------------------------

def _toy_run(tmp_path, monkeypatch):
    """A tiny detector trained through the store: (config, build, train, test images)."""
    monkeypatch.setenv("YANGBOOK_STORE", str(tmp_path / "store"))
    g = torch.Generator().manual_seed(5)
    x = torch.rand(64, 3, 16, 16, generator=g)
    y = torch.arange(64) % 2
    x[y == 1, :, 4:12, 4:12] += 0.2        # fakes carry a brighter square
    x = x.clamp(0, 1)
    data = TensorDataset(x, y)
    config = {"model": "FrameNet", "data": "test_loop toy", "epochs": 2, "lr": 1e-2, "seed": 3}

    def build():
        return Detector(FrameNet())

    def train(d):
        return train_detector(d, DataLoader(data, batch_size=16, shuffle=True), DataLoader(data, batch_size=64),
                              epochs=2, lr=1e-2, verbose=False)
    return config, build, train, x


def test_the_store_gives_the_same_detector_whether_it_trains_or_reads(tmp_path, monkeypatch):
    from yangbook.deepfake.store import store_dir, trained

    config, build, train, x = _toy_run(tmp_path, monkeypatch)
    calls = []
    counting = lambda d: calls.append(1) or train(d)  # noqa: E731
    first, rec1 = trained(config, build, counting)
    second, rec2 = trained(config, build, counting)
    assert (rec1["hit"], rec2["hit"], len(calls)) == (False, True, 1)
    assert rec1["key"] == rec2["key"] and repr(rec1["history"]) == repr(rec2["history"])  # NaN != NaN
    assert list(store_dir().glob("*.pt")) == [store_dir() / f"{rec1['key']}.pt"]
    # the path that reads and the path that trains give the same detector: empty the store and retrain
    (store_dir() / f"{rec1['key']}.pt").unlink()
    third, rec3 = trained(config, build, counting)
    assert rec3["hit"] is False and len(calls) == 2
    for a, b in ((first, second), (first, third)):
        sa, sb = a.state_dict(), b.state_dict()
        assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
        with torch.no_grad():
            assert torch.equal(a(x), b(x))
    # and training without the store at all, seeded the same way, is the same run
    set_seed(3)
    plain = build()
    train(plain)
    assert all(torch.equal(plain.state_dict()[k], first.state_dict()[k]) for k in plain.state_dict())


def test_the_store_key_follows_the_configuration_the_code_and_the_threads(tmp_path, monkeypatch):
    from yangbook.deepfake import store as train_module

    config, build, train, _ = _toy_run(tmp_path, monkeypatch)
    key = train_module.run_key(config)
    assert train_module.run_key(dict(reversed(list(config.items())))) == key     # order does not matter
    assert train_module.run_key({**config, "seed": 4}) != key
    assert train_module.run_key({**config, "lr": 2e-2}) != key
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1 if threads != 1 else 2)
        assert train_module.run_key(config) != key
    finally:
        torch.set_num_threads(threads)
    monkeypatch.setattr(train_module, "code_digest", lambda: "another version of the code")
    assert train_module.run_key(config) != key


def test_the_code_digest_follows_every_module_but_the_presentation_one(tmp_path, monkeypatch):
    """A copy of the package: editing a model's module changes the digest, editing yangbook/show.py
    (tables and the figures' style) does not."""
    import shutil
    import types

    import yangbook
    from yangbook.deepfake import store as train_module

    copy = tmp_path / "yangbook"
    shutil.copytree(Path(yangbook.__file__).parent, copy, ignore=shutil.ignore_patterns("data", "weights", "__pycache__"))
    monkeypatch.setitem(sys.modules, "yangbook", types.SimpleNamespace(__file__=str(copy / "__init__.py")))
    before = train_module.code_digest()
    (copy / "show.py").write_text((copy / "show.py").read_text() + "\n# a comment\n")
    assert train_module.code_digest() == before
    (copy / "deepfake" / "mesonet.py").write_text((copy / "deepfake" / "mesonet.py").read_text() + "\n# a comment\n")
    assert train_module.code_digest() != before


def test_the_store_rejects_what_it_cannot_key(tmp_path, monkeypatch):
    from yangbook.deepfake.store import trained

    config, build, train, _ = _toy_run(tmp_path, monkeypatch)
    with pytest.raises(TypeError, match="plain JSON"):
        trained({**config, "data": torch.zeros(2)}, build, train)
    with pytest.raises(ValueError, match="seed"):
        trained({k: v for k, v in config.items() if k != "seed"}, build, train)


def test_image_batches_cover_the_data_and_repeat():
    x, y = torch.arange(10.0).view(10, 1, 1, 1), torch.arange(10) % 2
    a = [b["image"].flatten().tolist() for b in ImageBatches(x, y, 4, shuffle=True, seed=3)]
    b = [b["image"].flatten().tolist() for b in ImageBatches(x, y, 4, shuffle=True, seed=3)]
    assert a == b and sorted(sum(a, [])) == list(range(10)) and [len(c) for c in a] == [4, 4, 2]
    assert len(ImageBatches(x, y, 4)) == 3
    with pytest.raises(ValueError, match="labels"):
        ImageBatches(x, y[:5])


def test_a_fresh_process_trains_the_same_detector_bit_for_bit(tmp_path, monkeypatch):
    """What the MesoNet chapter says of its run: the same seed and thread count give the same weights,
    in another process too. A child process trains the toy run into an empty store of its own."""
    import hashlib
    import os
    import subprocess
    import sys
    from pathlib import Path

    from yangbook.deepfake.store import trained

    config, build, train, _ = _toy_run(tmp_path, monkeypatch)
    here, _ = trained(config, build, train)
    digest = lambda sd: hashlib.sha256(b"".join(sd[k].numpy().tobytes() for k in sorted(sd))).hexdigest()  # noqa: E731
    root = Path(__file__).resolve().parent
    child = f"""
import hashlib, sys, torch
sys.path[:0] = [{str(root)!r}, {str(root.parent / 'code')!r}]
torch.set_num_threads({torch.get_num_threads()})
from test_loop import _toy_run
from yangbook.deepfake.store import trained
class Patch:
    def setenv(self, k, v):
        import os; os.environ[k] = v
from pathlib import Path
config, build, train, _ = _toy_run(Path({str(tmp_path / 'child')!r}), Patch())
d, record = trained(config, build, train)
sd = d.state_dict()
print(record["hit"], hashlib.sha256(b"".join(sd[k].numpy().tobytes() for k in sorted(sd))).hexdigest())
"""
    out = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONHASHSEED": "0"})
    assert out.returncode == 0, out.stderr[-2000:]
    hit, child_digest = out.stdout.split()[-2:]
    assert hit == "False" and child_digest == digest(here.state_dict())


def test_dataset_tensors_stack_each_key():
    from yangbook.deepfake.train import dataset_tensors
    ds = FaceForgeryDataset("test", "blend", length=6, size=32)
    x, y, methods = dataset_tensors(ds, ("image", "label", "method"))
    assert x.shape == (6, 3, 32, 32) and y.tolist() == [ds[i]["label"] for i in range(6)]
    assert list(methods) == [ds[i]["method"] for i in range(6)] and methods[0] == "real"
    with pytest.raises(KeyError, match="no \\['colour'\\]"):
        dataset_tensors(ds, ("image", "colour"))
    with pytest.raises(ValueError, match="empty"):
        dataset_tensors(TensorDataset(torch.zeros(0, 3)))
