"""Tests of the recurrent detector of Güera and Delp (yangbook.deepfake.temporal; book/deepfake/temporal.md).

The references are outside the code under test: the parameter counts of Keras's InceptionV3 without
top and of the paper's LSTM head (Keras and PyTorch, ../shared/research/deepfake.md §3.2), the grid
sizes of InceptionV3's stages in Szegedy et al. (2016), Table 1, the LSTM's definition (its running
score after the last frame is its output), a task only order can solve, and the flicker energy of the
clips chapter for the steady control.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from yangbook.deepfake import temporal as TM
from yangbook.utils import count_parameters


def test_full_size_counts_match_keras_and_the_paper():
    encoder = TM.InceptionV3Features()
    assert count_parameters(encoder) == 21_768_352          # Keras InceptionV3(include_top=False), trainable
    n_bn = sum(m.num_features for m in encoder.modules() if isinstance(m, nn.BatchNorm2d))
    assert n_bn == 17_216                                    # one gamma each in a PyTorch-style count
    assert all(m.weight is None and m.bias is not None for m in encoder.modules() if isinstance(m, nn.BatchNorm2d))
    head = TM.RecurrentDetector(feature_size=2048)
    assert count_parameters(head) == 34_620_930              # Keras: 34,612,738 with one LSTM bias
    assert count_parameters(head.lstm) - 4 * 2048 == 33_562_624
    full = TM.RecurrentDetector(encoder)
    assert count_parameters(full) == 21_768_352 + 34_620_930


def test_stage_sizes_follow_the_paper():
    """Szegedy et al. (2016), Table 1: 35x35x288, 17x17x768 and 8x8x2048 for a 299x299 input."""
    encoder = TM.InceptionV3Features().eval()
    shapes = []
    hooks = [encoder.mixed[i].register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape[1:])))
             for i in (2, 7, 10)]
    with torch.no_grad():
        out = encoder(torch.zeros(1, 3, 299, 299))
    for h in hooks:
        h.remove()
    assert shapes == [(288, 35, 35), (768, 17, 17), (2048, 8, 8)]
    assert out.shape == (1, 2048)


def test_running_score_ends_at_the_output():
    torch.manual_seed(0)
    model = TM.RecurrentDetector(TM.InceptionV3Features(width=1 / 16, input_size=76), hidden=8, fc=4).eval()
    video = torch.rand(2, 5, 3, 76, 76) * 2 - 1
    with torch.no_grad():
        running, out = model.running(video), model(video)
    assert running.shape == (2, 5, 2) and out.shape == (2, 2)
    torch.testing.assert_close(running[:, -1], out)
    # the running score after t frames is the output on the first t frames
    with torch.no_grad():
        torch.testing.assert_close(running[:, 2], model(video[:, :3]))


def test_bad_inputs_name_the_shapes():
    model = TM.RecurrentDetector(TM.InceptionV3Features(width=1 / 16, input_size=76), hidden=8, fc=4, min_frames=3)
    cases = [(torch.rand(4, 3, 76, 76), r"\(N, T, 3, 76, 76\).*got \(4, 3, 76, 76\)"),
             (torch.rand(1, 4, 1, 76, 76), r"got \(1, 4, 1, 76, 76\)"),
             (torch.rand(1, 4, 3, 64, 64), r"got \(1, 4, 3, 64, 64\)"),
             (torch.rand(1, 2, 3, 76, 76), r"2 frames, fewer than the 3")]
    for x, match in cases:
        with pytest.raises(ValueError, match=match):
            model(x)
    on_features = TM.RecurrentDetector(feature_size=16, hidden=8, fc=4)
    with pytest.raises(ValueError, match=r"\(N, T, 16\).*got \(2, 5, 12\)"):
        on_features(torch.rand(2, 5, 12))
    with pytest.raises(ValueError, match="feature_size"):
        TM.RecurrentDetector()
    with pytest.raises(ValueError, match="input_size >= 75"):
        TM.InceptionV3Features(input_size=64)
    with pytest.raises(ValueError, match=r"\(N, T, F\)"):
        TM.FeatureClips(torch.rand(4, 16), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="no clips of method 'swap'"):
        TM.FeatureClips(torch.rand(2, 3, 4), [0, 1], ["flicker", "flicker"]).select("swap")


def _train(model, x, y, steps=300):
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    for _ in range(steps):
        opt.zero_grad()
        z = model(x)
        nn.functional.cross_entropy(z, y).backward()
        opt.step()
    with torch.no_grad():
        return (model.eval()(x).argmax(1) == y).float().mean().item()


def test_only_the_lstm_can_use_the_order_of_frames():
    """Real clips hold one value for half the clip and its negative for the other half; fakes alternate
    between the two every frame. Each frame of a fake looks like a frame of a real clip and every clip
    averages to zero: averaged frame scores cannot tell them apart, an LSTM can."""
    g = torch.Generator().manual_seed(0)
    n, t = 64, 8
    a = (torch.rand(2 * n, 1, generator=g) + 0.5) * (torch.randint(0, 2, (2 * n, 1), generator=g) * 2 - 1)
    halves = torch.where(torch.arange(t) < t // 2, 1.0, -1.0)
    alternating = torch.where(torch.arange(t) % 2 == 0, 1.0, -1.0)
    x = torch.cat([a[:n] * halves, a[n:] * alternating])[..., None]          # (2n, t, 1)
    y = torch.cat([torch.zeros(n), torch.ones(n)]).long()
    torch.manual_seed(0)
    lstm_acc = _train(TM.RecurrentDetector(feature_size=1, hidden=8, fc=8, dropout=0.0), x, y)
    avg_acc = _train(TM.FrameAverage(1), x, y)
    assert lstm_acc > 0.95 and avg_acc < 0.6, (lstm_acc, avg_acc)


def test_steady_control_does_not_flicker():
    from yangbook.deepfake import clips as C
    from yangbook.deepfake import render as R
    r = np.random.default_rng(3)
    c = C.render_clip(R.Identity.sample(3), R.Scene.sample(r), C.head_motion(12, 25, r, 0.5), size=96, noise_seed=3)
    flicker, _ = C.flicker_forgery(c["frames"], c["landmarks"], strength=1.0, seed=1)
    steady, masks = C.flicker_forgery(c["frames"], c["landmarks"], strength=1.0, seed=1, steady=True)
    e = {k: C.flicker_energy(v, c["landmarks"]) for k, v in (("real", c["frames"]), ("flicker", flicker),
                                                             ("steady", steady))}
    assert e["flicker"] > 20 * e["real"] and e["steady"] < 3 * e["real"] + 1.0, e
    assert np.abs(steady.astype(int) - c["frames"]).max() > 20   # it is a forgery all the same
    from yangbook.deepfake.datasets import FaceClipDataset
    ds = FaceClipDataset("train", "flicker", length=4, size=48, methods=("steady",))
    assert ds[1]["method"] == "steady" and ds[1]["label"] == 1
    assert FaceClipDataset("train", "flicker", length=4).methods == ("flicker",)   # a control only when asked


def test_encode_clips_keeps_the_pairs():
    torch.manual_seed(0)
    encoder = TM.InceptionV3Features(width=1 / 16, input_size=76)
    items = [{"video": torch.rand(3, 3, 76, 76), "label": i % 2, "method": ("real", m)[i % 2]}
             for i, m in enumerate(["flicker", "flicker", "steady", "steady"])]
    fc = TM.encode_clips(encoder.train(), items)
    assert encoder.training                                  # its mode is restored
    assert fc.features.shape == (4, 3, encoder.num_features)
    assert list(fc.methods) == ["flicker", "flicker", "steady", "steady"]
    with torch.no_grad():
        direct = encoder.eval()(items[2]["video"] * 2 - 1)   # [0, 1] -> the encoder's [-1, 1]
    torch.testing.assert_close(fc.features[2], direct)
    short = fc.select("steady", frames=2)
    assert len(short) == 2 and short[0]["features"].shape == (2, encoder.num_features)


def test_real_clips_train_and_score_by_video(ffpp_tree):
    """FaceForensics++ clips (the loader's clips=True) go through the one training loop."""
    from torch.utils.data import DataLoader

    from yangbook.deepfake.realdata import FaceForensicsPP
    from yangbook.deepfake.detector import Detector
    from yangbook.deepfake.metrics import evaluate
    from yangbook.deepfake.train import train_detector

    torch.manual_seed(0)
    clips = FaceForensicsPP(ffpp_tree, "train", "c23", methods=("Deepfakes",), frames_per_video=4, size=76,
                            clips=True)
    model = TM.RecurrentDetector(TM.InceptionV3Features(width=1 / 16, input_size=76, bn_momentum=0.1),
                                 hidden=8, fc=4, min_frames=4)
    detector = Detector(model)
    assert detector.scores_clips
    history = train_detector(detector, DataLoader(clips, batch_size=4, shuffle=True), DataLoader(clips, batch_size=4),
                             epochs=1, verbose=False)
    assert np.isfinite(history[0]["val_video_auc"])
    res = evaluate(detector, DataLoader(clips, batch_size=4))
    assert res.level == "clip" and len(res.scores) == 8 and np.isfinite(res.video_auc)
    assert 0 <= res.scores.min() and res.scores.max() <= 1
    short = FaceForensicsPP(ffpp_tree, "train", "c23", methods=("Deepfakes",), frames_per_video=2, size=76,
                            clips=True)
    with pytest.raises(ValueError, match="2 frames, fewer than the 4"):
        evaluate(detector, DataLoader(short, batch_size=4))
