"""One loop for frames, clips and sound (yangbook.deepfake.train, page book/deepfake/training.md).

Tiny models read image, clip and clip-plus-audio batches of the book's datasets through the same
``Detector``, ``train_detector`` and ``evaluate``; the video-level scores are checked against a
mean of frame probabilities computed by hand and scikit-learn's AUC.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from yangbook.deepfake.datasets import FaceClipDataset, FaceForgeryDataset
from yangbook.deepfake.train import Detector, EvalResult, detector_loss, evaluate, train_detector
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
