"""Tests of the lip-sync check (yangbook.deepfake.lipsync; book/deepfake/lipsync.md).

The references are outside the code under test: the parameter count of the authors' released
syncnet_v2 model (13,631,616 and 8,640 batch-norm statistics; ../shared/research/deepfake.md §5.1), its
streams' output sizes (512 x 1 x 1 before the fully connected layers), the contrastive loss evaluated
by hand, a distance curve built from embeddings whose true offset is known, and the datasets' clips.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from yangbook.deepfake import lipsync as LS
from yangbook.utils import count_parameters


def test_full_size_counts_and_shapes_match_syncnet_v2():
    net = LS.SyncNet().eval()
    assert count_parameters(net) == 13_631_616
    assert sum(b.numel() for n, b in net.named_buffers() if "running" in n) == 8_640
    assert count_parameters(net.audio) == 4_875_712 and count_parameters(net.video) == 7_177_920
    with torch.no_grad():
        assert net.audio(torch.zeros(1, 1, 13, 20)).shape == (1, 512, 1, 1)
        assert net.video(torch.zeros(1, 3, 5, 224, 224)).shape == (1, 512, 1, 1, 1)
        assert net.embed_audio(torch.zeros(2, 1, 13, 20)).shape == (2, 1024)


@pytest.mark.parametrize("size", [64, 96, 128])
def test_reduced_versions_end_in_one_pixel(size):
    net = LS.SyncNet(1 / 16, size, 32, normalize=True).eval()
    with torch.no_grad():
        v = net.embed_video(torch.zeros(2, 3, 5, size, size))
    assert v.shape == (2, 32) and torch.allclose(v.norm(dim=1), torch.ones(2), atol=1e-5)
    with pytest.raises(ValueError, match="mouth_size"):
        LS.SyncNet(mouth_size=48)


def test_contrastive_loss_by_hand():
    d = torch.tensor([0.5, 0.2, 1.5])
    y = torch.tensor([1, 0, 0])
    # positives: d^2 = 0.25; negatives: max(1 - 0.2, 0)^2 = 0.64 and max(1 - 1.5, 0)^2 = 0
    assert LS.contrastive_loss(d, y).item() == pytest.approx(0.5 * (0.25 + 0.64 + 0) / 3)


def test_offset_search_finds_a_known_shift():
    rng = np.random.default_rng(0)
    T, shift = 40, 6
    video = torch.from_numpy(rng.normal(size=(T, 8))).float()
    audio = torch.from_numpy(rng.normal(size=(T, 8))).float()
    audio[shift:] = video[:-shift]                     # audio window t + shift carries video window t: late sound
    curve = LS.distance_curve(video, audio, 15)
    offset, confidence = LS.sync_offset(curve)
    assert offset == shift and curve.argmin() == 15 + shift and confidence > 0
    assert LS.sync_offset(LS.distance_curve(video, video, 15))[0] == 0
    with pytest.raises(ValueError, match="more than 40"):
        LS.distance_curve(video, audio, 40)
    with pytest.raises(ValueError, match="odd"):
        LS.sync_offset(np.zeros(4))


def test_zero_shift_fit_scores_the_clip_as_it_is():
    """The fit at shift 0 is the curve's median minus its distance at 0: high when the dip sits at 0,
    negative when the sound is shifted (the dip elsewhere), whatever the confidence of that dip."""
    in_sync = np.array([2.0, 2.0, 1.0, 2.0, 3.0])       # median 2, distance 1 at shift 0
    shifted = np.array([0.5, 2.0, 3.0, 2.0, 2.0])       # a clear dip, at shift -2
    assert LS.zero_shift_fit(in_sync) == 1.0
    assert LS.zero_shift_fit(shifted) == -1.0 and LS.sync_offset(shifted) == (-2, 1.5)
    with pytest.raises(ValueError, match="odd"):
        LS.zero_shift_fit(np.zeros(6))


def test_clip_windows_follow_the_frames_and_the_mfcc_steps():
    T = 12
    mouth = torch.arange(T, dtype=torch.float32).view(T, 1, 1, 1).expand(T, 3, 64, 64) / T
    mfcc = torch.arange(4 * T, dtype=torch.float32).expand(13, 4 * T)
    video, audio = LS.clip_windows(mouth, mfcc)
    assert video.shape == (T - 4, 3, 5, 64, 64) and audio.shape == (T - 4, 1, 13, 20)
    assert torch.allclose(video[3, 0, :, 0, 0], (torch.arange(3, 8) / T) * 2 - 1)
    assert audio[3, 0, 0].tolist() == list(range(12, 32))          # 4 MFCC steps per frame, 0.2 s
    net = LS.SyncNet(1 / 16, 64, 16, normalize=True)
    (v, a), = LS.clip_embeddings(net, [(mouth, mfcc)])
    assert v.shape == a.shape == (T - 4, 16) and net.training       # the model's mode is restored


def test_bad_clips_name_the_fault():
    mouth, mfcc = torch.zeros(50, 3, 64, 64), torch.zeros(13, 200)
    LS.check_clip(mouth, mfcc, audio=np.zeros(32_000))
    with pytest.raises(ValueError, match="16000 Hz"):
        LS.check_clip(mouth, mfcc, audio=np.zeros(16_000), sr=8_000)
    with pytest.raises(ValueError, match="audio has 16000 samples"):
        LS.check_clip(mouth, mfcc, audio=np.zeros(16_000))
    with pytest.raises(ValueError, match=r"\(13, 200\)"):
        LS.check_clip(mouth, mfcc[:, :120])
    with pytest.raises(ValueError, match="at least 5 frames"):
        LS.check_clip(mouth[:3], mfcc[:, :12])
    with pytest.raises(ValueError, match=r"\(N, 1, 13, 20\)"):
        LS.SyncNet(1 / 16, 64, 8).embed_audio(torch.zeros(2, 13, 20))


def test_fit_syncnet_refuses_windows_that_are_not_whole_clips():
    net = LS.SyncNet(1 / 16, 64, 32, normalize=True)
    video, audio = torch.zeros(92, 3, 5, 64, 64), torch.zeros(92, 1, 13, 20)
    with pytest.raises(ValueError, match="whole clips of 40 windows"):
        LS.fit_syncnet(net, video, audio, 40, epochs=1, lr=1e-3, batch_size=8)
    with pytest.raises(ValueError, match="more than twice max_shift"):
        LS.fit_syncnet(net, video, audio, 46, epochs=1, lr=1e-3, batch_size=8, max_shift=30)
    with pytest.raises(ValueError, match="91 audio windows"):
        LS.fit_syncnet(net, video, audio[:91], 46, epochs=1, lr=1e-3, batch_size=8)


def test_a_synced_clip_of_the_datasets_fits_its_own_sound_best_for_a_trained_model():
    """A short training on 16 of the datasets' real clips already finds the offset (0) within a frame on
    held-out clips far more often than chance, 3 in 31 per clip."""
    from yangbook.deepfake.datasets import FaceClipDataset
    torch.manual_seed(0)
    ds = FaceClipDataset("train", "lipsync", length=48, draw_frames=False, crops=True, cache=False)
    clips = [ds[i] for i in range(0, 48, 2)]
    all_mfcc = torch.cat([c["mfcc"] for c in clips[:16]], 1)
    mean, std = all_mfcc.mean(1, keepdim=True), all_mfcc.std(1, keepdim=True)
    prep = [(torch.nn.functional.interpolate(c["mouth"], size=64, mode="bilinear", align_corners=False).clamp(0, 1),
             (c["mfcc"] - mean) / std) for c in clips]
    train, held = prep[:16], prep[16:]
    windows = [LS.clip_windows(m, f) for m, f in train]
    video, audio = torch.cat([v for v, _ in windows]), torch.cat([a for _, a in windows])
    n = len(windows[0][0])
    net = LS.SyncNet(1 / 16, 64, 32, normalize=True)
    history = LS.fit_syncnet(net, video, audio, len(windows[0][0]), epochs=6, lr=1e-3, batch_size=64, seed=0)
    assert len(history) == 6 and history[-1]["train_loss"] < history[0]["train_loss"]
    offsets = [LS.sync_offset(LS.distance_curve(v, a, 15))[0] for v, a in LS.clip_embeddings(net, held)]
    assert sum(abs(o) <= 1 for o in offsets) >= 3, offsets            # chance: about 3 in 31 per clip
