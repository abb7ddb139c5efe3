"""Tests of the book's image data: the renderer, the image forgeries, the datasets and the real faces
(yangbook.deepfake.render, .forgeries, .datasets, .realdata; pages under book/deepfake/).

The references are outside the code under test: pixel colours of the drawn image for the landmarks,
the colours the renderer was asked to draw, set membership for the splits, and the rank statistic
(AUC) between real and forged samples for the artifact measures.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from yangbook.deepfake import clips as C
from yangbook.deepfake import datasets as DS
from yangbook.deepfake import forgeries as F
from yangbook.deepfake import render as R
from yangbook.deepfake import speech as S


def _auc(real, fake):
    r, f = np.asarray(real)[:, None], np.asarray(fake)[None, :]
    return float((f > r).mean() + 0.5 * (f == r).mean())


def _face(i, size=256, population=5, **kw):
    r = np.random.default_rng([population, i])
    return R.render_face(R.Identity.sample(i, population), R.Scene.sample(r), R.Pose.sample(r), size,
                         mouth_open=r.uniform(0, 0.3), noise_seed=i, **kw)


# --- determinism ---------------------------------------------------------------------------------

def test_same_seed_gives_identical_bytes():
    a, la = _face(3)
    b, lb = _face(3)
    assert a.tobytes() == b.tobytes() and la.tobytes() == lb.tobytes()
    c, _ = _face(4)
    assert a.tobytes() != c.tobytes()
    for method in ("self_blend", "swap", "nearest", "zero"):
        x = DS.FaceForgeryDataset("train", method, length=4, size=64, seed=1, cache=False)
        y = DS.FaceForgeryDataset("train", method, length=4, size=64, seed=1, cache=False)
        # access order must not matter: y starts with the fake of pair 1, x with the real
        y3 = y[3]
        x_all = [x[i] for i in range(4)]
        assert torch.equal(x_all[3]["image"], y3["image"])
        assert torch.equal(x_all[3]["mask"], y3["mask"])
        z = DS.FaceForgeryDataset("train", method, length=4, size=64, seed=2, cache=False)
        assert not torch.equal(x_all[0]["image"], z[0]["image"])


# --- landmarks on the drawn features ------------------------------------------------------------

def _clean_scene(seed=0):
    """A scene with no light gradient and no noise, a blue background and a green shirt."""
    s = R.Scene.sample(np.random.default_rng(seed))
    return dataclasses.replace(s, background=(0.0, 0.0, 255.0) * 9, clutter=0, shirt=(0.0, 255.0, 0.0),
                               light=0.0, noise=0.0)


@pytest.mark.parametrize("identity", [0, 1, 2, 3, 11])
def test_landmarks_lie_on_rendered_features(identity):
    ident = R.Identity.sample(identity)
    ident = dataclasses.replace(ident, hair_style=0)  # keep hair off the jaw line
    skin = np.array(ident.skin)
    img, L = R.render_face(ident, _clean_scene(identity), R.Pose(), 256, eye_open=1.0, mouth_open=1.0)
    img = img.astype(float)

    def near_skin(p, r):
        x, y = np.round(p).astype(int)
        win = img[y - r:y + r + 1, x - r:x + r + 1].reshape(-1, 3)
        d = np.abs(win - skin).max(1)
        return (d <= 3).any(), (d > 20).any()

    # every jaw point from 2 to 14 sits on the border between skin and something else
    for k in range(2, 15):
        on_skin, off_skin = near_skin(L[k], 2)
        assert on_skin and off_skin, f"jaw landmark {k} at {L[k]} is not on the face outline"
    # the eye centres are eye (iris, pupil or white), not skin
    for eye in (slice(36, 42), slice(42, 48)):
        x, y = np.round(L[eye].mean(0)).astype(int)
        assert np.abs(img[y, x] - skin).max() > 30
    # the eye corners and the lid points lie on the eye's outline: skin on one side, eye on the other
    for k in range(36, 48):
        on_skin, off_skin = near_skin(L[k], 2)
        assert on_skin and off_skin, f"eye landmark {k} at {L[k]} is not on the eye's outline"
    # between facing lid points (37-41, 38-40, 43-47, 44-46) lies the eye, not skin
    for a, b in ((37, 41), (38, 40), (43, 47), (44, 46)):
        x, y = np.round((L[a] + L[b]) / 2).astype(int)
        assert np.abs(img[y, x] - skin).max() > 30, f"no eye between landmarks {a} and {b}"
    # an open mouth: the middle of the inner lips is the dark mouth interior (55, 18, 22)
    x, y = np.round(L[60:68].mean(0)).astype(int)
    assert np.abs(img[y, x] - [55, 18, 22]).max() < 25
    # the nose tip lies on skin (the bridge line is drawn 15 % darker than the skin)
    x, y = np.round(L[30]).astype(int)
    assert np.abs(img[y - 3:y + 4, x - 3:x + 4] - skin).max(-1).min() < 40


def test_eye_aspect_ratio_follows_openness():
    ident, scene = R.Identity.sample(9), _clean_scene(9)
    ears = [float(C.eye_aspect_ratio(R.face_landmarks(ident, scene, R.Pose(), 256, o))) for o in (1.0, 0.5, 0.0)]
    assert 0.2 < ears[0] < 0.45
    assert ears[2] < 0.02
    assert abs(ears[1] - ears[0] / 2) < 0.02  # linear in openness
    # a closed eye shows no white: no bright pixel inside the eye's landmark box
    img, L = R.render_face(ident, scene, R.Pose(), 256, eye_open=0.0)
    x0, y0 = np.floor(L[36:42].min(0)).astype(int)
    x1, y1 = np.ceil(L[36:42].max(0)).astype(int)
    assert img[y0 - 1:y1 + 2, x0 + 3:x1 - 2].min(-1).max() < 200


# --- masks ---------------------------------------------------------------------------------------

def test_masks_in_unit_interval_and_feathered():
    img, L = _face(1)
    donor, dl = _face(2)
    for fake, mask in (F.blend_forgery(img, L, seed=0), F.blend_forgery(img, L, donor, dl, seed=1),
                       F.upsample_forgery(img, L)):
        assert mask.dtype == np.float32 and mask.shape == img.shape[:2]
        assert mask.min() >= 0.0 and mask.max() <= 1.0
        assert (mask > 0.99).sum() > 1000 and (mask < 0.01).sum() > 10000
        soft = ((mask > 0.05) & (mask < 0.95)).sum()
        assert soft > 500, "the edge should be a band, not a line"
        step = max(np.abs(np.diff(mask, axis=0)).max(), np.abs(np.diff(mask, axis=1)).max())
        assert step < 0.25, f"a feathered mask changes gradually, got a step of {step:.2f}"
        # outside the mask the fake is the target
        out = mask < 1e-4
        assert np.abs(fake[out].astype(int) - img[out].astype(int)).max() <= 1
    x = F.xray(mask)
    assert x.max() <= 1.0 + 1e-6 and x[mask > 0.999].max() < 0.01


# --- each measure sees its own artifact and not the others ---------------------------------------

def test_image_measures_separate_only_their_own_forgery():
    n = 24
    faces = [_face(100 + i, population=7) for i in range(n)]
    donors = [_face(200 + i, population=7) for i in range(n)]
    forgeries = {
        "blend": lambda im, l, i: F.blend_forgery(im, l, *donors[i], strength=0.3, seed=i)[0],
        "self_blend": lambda im, l, i: F.blend_forgery(im, l, seed=i)[0],
        "upsample": lambda im, l, i: F.upsample_forgery(im, l, mode=("nearest", "zero")[i % 2])[0],
        "jpeg": lambda im, l, i: F.jpeg(im, ("c23", "c40")[i % 2]),
    }
    measures = {"blend": F.boundary_gradient, "upsample": F.upsampling_peak,
                "jpeg": lambda im, l: F.blockiness(im)}
    own = {"blend": "blend", "self_blend": "blend", "upsample": "upsample", "jpeg": "jpeg"}
    real = {m: [f(im, l) for im, l in faces] for m, f in measures.items()}
    for name, forge in forgeries.items():
        fakes = [forge(im, l, i) for i, (im, l) in enumerate(faces)]
        for m, f in measures.items():
            a = _auc(real[m], [f(x, l) for x, (_, l) in zip(fakes, faces)])
            if own[name] == m:
                assert a > 0.85, f"{m} should separate real from {name}: AUC {a:.2f}"
            else:
                assert a < 0.75, f"{m} should not flag {name}: AUC {a:.2f}"


def test_spectral_peak_only_after_upsampling():
    img, L = _face(5)
    base = F.upsampling_peak(img, L)
    for mode in ("nearest", "zero"):
        assert F.upsampling_peak(F.upsample_forgery(img, L, mode=mode)[0], L) > base + 0.3
    assert F.upsampling_peak(F.blend_forgery(img, L, seed=0)[0], L) < base + 0.15
    # strength 0 changes nothing
    same, _ = F.upsample_forgery(img, L, strength=0.0)
    assert np.array_equal(same, img)


# --- splits and datasets -------------------------------------------------------------------------

def test_splits_share_no_identity():
    seen = {}
    for split in DS.SPLITS:
        ids = set(DS.identity_split(split))
        ds = DS.FaceForgeryDataset(split, "swap", length=40, size=64, cache=False)
        got = {ds[i]["identity"] for i in range(40)}
        assert got <= ids
        seen[split] = ids
        clips = DS.FaceClipDataset(split, "blink", length=4, frames=4, size=32, draw_frames=False)
        assert {clips[i]["identity"] for i in range(4)} <= ids
    assert not (seen["train"] & seen["val"]) and not (seen["train"] & seen["test"]) \
        and not (seen["val"] & seen["test"])
    assert sum(len(v) for v in seen.values()) == 1000


def test_sample_format_and_labels():
    ds = DS.FaceForgeryDataset("test", "all", length=8, size=64, compression="c23")
    for i in range(8):
        s = ds[i]
        assert s["image"].shape == (3, 64, 64) and s["image"].dtype == torch.float32
        assert 0 <= s["image"].min() and s["image"].max() <= 1
        assert s["label"] == i % 2 and (s["method"] == "real") == (i % 2 == 0)
        assert s["landmarks"].shape == (68, 2) and s["mask"].shape == (1, 64, 64)
        assert (s["mask"].max() > 0) == (i % 2 == 1)
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=4)))
    assert batch["image"].shape == (4, 3, 64, 64) and batch["label"].tolist() == [0, 1, 0, 1]
    clips = DS.FaceClipDataset("train", "flicker", length=2, frames=5, size=48)
    v = clips[1]
    assert v["video"].shape == (5, 3, 48, 48) and v["landmarks"].shape == (5, 68, 2) and v["method"] == "flicker"
    lips = DS.FaceClipDataset("train", "lipsync", length=2, frames=25, size=48)[1]
    assert lips["audio"].shape == (S.SAMPLE_RATE,) and lips["method"] in ("shift", "other_audio", "dubbed")
    assert lips["mfcc"].shape == (13, 100) and lips["eyes"].shape == (25, 2, 3, 32, 32)
    assert lips["mouth"].shape == (25, 3, 48, 48) and lips["video"].shape == (25, 3, 48, 48)


def test_bad_input_is_rejected_with_clear_errors():
    img, L = _face(0, size=64)
    with pytest.raises(ValueError, match="method"):
        DS.FaceForgeryDataset(method="gan")
    with pytest.raises(ValueError, match="split"):
        DS.identity_split("training")
    with pytest.raises(ValueError, match="quality"):
        F.jpeg(img, "c99")
    with pytest.raises(ValueError, match="landmarks"):
        F.face_mask(L[:60], 64)
    with pytest.raises(ValueError, match="uint8"):
        F.blend_forgery(img.astype(float), L)
    with pytest.raises(ValueError, match="divide"):
        F.upsample_forgery(img[:63, :63], L, factor=2)
    with pytest.raises(ValueError, match="size"):
        R.render_face(R.Identity.sample(0), _clean_scene(), size=16)
    with pytest.raises(IndexError):
        DS.FaceForgeryDataset(length=2, size=64)[2]
    with pytest.raises(ValueError, match="seeds"):
        R.Identity.sample(-1)
    # a face outside the image is an error, not an unmodified copy that a dataset would label fake
    with pytest.raises(ValueError, match="outside"):
        F.blend_forgery(img, L + 500)
    with pytest.raises(ValueError, match="empty"):
        F.face_crop(np.zeros((0, 0, 3), np.uint8), L)
    from yangbook.deepfake import realdata as RD
    with pytest.raises(ValueError, match="non-empty"):
        RD.detect_faces(np.zeros((0, 10, 3), np.uint8))
    with pytest.raises(ValueError, match="empty"):
        RD.crop_face(np.zeros((0, 0, 3), np.uint8), (0, 0, 10, 10))
    with pytest.raises(ValueError, match="outside"):
        RD.crop_face(img, (100, 100, 10, 10))


def test_blend_of_a_non_square_image():
    """A 64 x 96 image: the mask has the image's shape and the blend stays on the face."""
    r = np.random.default_rng([5, 0])
    img, L = R.render_face(R.Identity.sample(0, 5), R.Scene.sample(r), R.Pose.sample(r), 64, noise_seed=0)
    wide = np.concatenate([img, img[:, :32]], axis=1)  # (64, 96, 3): the face stays where it was
    fake, mask = F.blend_forgery(wide, L, seed=1)
    assert mask.shape == (64, 96) and fake.shape == wide.shape
    ys, xs = np.nonzero(mask > 0.01)
    margin = 0.3 * F.face_scale(L)
    assert L[:, 0].min() - margin < xs.min() and xs.max() < L[:, 0].max() + margin  # on the face ...
    assert L[17:27, 1].min() - 2 * margin < ys.min() and ys.max() < L[:, 1].max() + margin
    assert np.array_equal(fake[:, 64:], wide[:, 64:])  # ... and the added strip is untouched
    assert np.abs(fake.astype(int) - wide).max() > 10   # the face was blended


# --- real faces (yangbook.deepfake.realdata) ---------------------------------------------------------

def test_blazeface_finds_the_astronauts_face_and_eyes():
    from skimage import data as skdata

    from yangbook.deepfake import realdata as RD
    img = skdata.astronaut()
    faces = RD.detect_faces(img)
    assert len(faces) == 1 and faces[0].score > 0.8
    x, y, w, h = faces[0].box
    # Eileen Collins's face: the box must contain the centre of her face, at about (225, 115)
    assert x < 225 < x + w and y < 115 < y + h and 70 < w < 130
    assert faces[0].keypoints.shape == (6, 2)
    (lx, ly), (rx, ry) = faces[0].eyes  # her right eye first: on the left of the photograph
    assert lx < x + w / 2 < rx and abs(ly - ry) < 10 and y < ly < y + h / 2
    # the FaceForensics++ crop: 1.3 times the box, square, centred
    cx, cy, s, s2 = RD.enlarge_box(faces[0].box, img.shape)
    assert s == s2 == int(1.3 * max(w, h)) and abs(cx + s / 2 - (x + w / 2)) <= 1
    # a greyscale copy finds the same face; a blank image none; the box follows the image's size
    assert RD.detect_faces(img.mean(axis=2).astype(np.uint8))[0].side == pytest.approx(w, abs=6)
    assert RD.detect_faces(np.zeros((64, 64, 3), np.uint8)) == []
    with pytest.raises(ValueError, match="min_score"):
        RD.detect_faces(img, min_score=0.2)
    with pytest.raises(TypeError, match="Face"):
        RD.template_landmarks((x, y, w, h))


def test_the_one_video_reader(ffpp_tree, tmp_path):
    from yangbook.deepfake import realdata as RD
    path = ffpp_tree / "original_sequences/youtube/c23/videos/000.mp4"
    every = [k for k, _ in RD.iter_frames(path)]
    assert every == list(range(len(every))) and len(every) >= 6
    picks = [k for k, _ in RD.iter_frames(path, 4)]
    assert picks == np.linspace(0, len(every) - 1, 4).round().astype(int).tolist()
    frames, fps = RD.read_video(path)
    # the sampled frames are exactly the frames of a full decode
    for k, frame in RD.iter_frames(path, 3):
        assert np.array_equal(frame, frames[k])
    assert fps > 0 and frames.dtype == np.uint8
    assert len(list(RD.iter_frames(path, 3 * len(every), distinct=True))) == len(every)
    with pytest.raises(FileNotFoundError, match="no such video"):
        list(RD.iter_frames(tmp_path / "missing.mp4"))
    (tmp_path / "notes.mp4").write_text("not a video")
    with pytest.raises(ValueError, match="notes.mp4: cannot be read as a video"):
        list(RD.iter_frames(tmp_path / "notes.mp4"))


def test_enlarge_box_stays_inside_the_image():
    from yangbook.deepfake import realdata as RD
    x0, y0, s, _ = RD.enlarge_box((0, 0, 50, 50), (60, 100, 3))
    assert x0 == 0 and y0 == 0 and s <= 60
    x0, y0, s, _ = RD.enlarge_box((80, 30, 20, 20), (60, 100, 3))
    assert x0 + s <= 100 and y0 + s <= 60


def test_real_faces_load_offline_with_sources():
    from yangbook.deepfake import realdata as RD
    faces = RD.load_real_faces(n_lfw=5)
    assert [f["name"] for f in faces[:2]] == ["astronaut", "grace_hopper"] and len(faces) == 7
    for f in faces:
        assert f["image"].dtype == np.uint8 and f["image"].ndim == 3 and f["source"] and f["licence"]
    ds = RD.RealFaceForgeryDataset(size=64, n_lfw=5)
    assert ds.names[:2] == ["astronaut", "grace_hopper"]
    real, fake = ds[0], ds[1]
    assert real["label"] == 0 and fake["label"] == 1 and real["image"].shape == (3, 64, 64)
    assert not torch.equal(real["image"], fake["image"]) and fake["mask"].max() > 0.9


# --- the FaceForensics++ loader on a tiny tree written here --------------------------------------

def test_ffpp_loader_reads_the_fixture_tree(ffpp_tree):
    from yangbook.deepfake import realdata as RD
    ds = RD.FaceForensicsPP(ffpp_tree, "train", "c23", methods=("Deepfakes",), frames_per_video=3, size=64)
    assert len(ds) == (4 + 4) * 3
    labels = [ds[i]["label"] for i in range(0, len(ds), 3)]
    assert labels.count(0) == 4 and labels.count(1) == 4
    s = ds[len(ds) - 1]
    assert s["image"].shape == (3, 64, 64) and s["method"] == "Deepfakes" and s["label"] == 1
    assert s["identity"] in (0, 1, 2, 3) and 0 <= s["image"].min() and s["image"].max() <= 1
    clips = RD.FaceForensicsPP(ffpp_tree, "train", "c23", methods=("Deepfakes",), frames_per_video=4,
                              size=48, clips=True)
    assert len(clips) == 8 and clips[0]["video"].shape == (4, 3, 48, 48)
    frames = RD.read_frames(ffpp_tree / "original_sequences/youtube/c23/videos/000.mp4", 6)
    assert frames.shape == (6, 128, 128, 3)


def test_ffpp_loader_rejects_broken_trees(ffpp_tree, tmp_path):
    import shutil

    from yangbook.deepfake import realdata as RD
    with pytest.raises(FileNotFoundError, match="not a folder"):
        RD.FaceForensicsPP(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="split file"):
        RD.FaceForensicsPP(ffpp_tree, "test", methods=("Deepfakes",))
    with pytest.raises(FileNotFoundError, match="NeuralTextures"):  # that manipulation is not in the tree
        RD.FaceForensicsPP(ffpp_tree, "train", methods=("Deepfakes", "NeuralTextures"))
    with pytest.raises(ValueError, match="compression"):
        RD.FaceForensicsPP(ffpp_tree, "train", compression="c30")
    broken = tmp_path / "broken"
    shutil.copytree(ffpp_tree, broken)
    (broken / "splits" / "val.json").write_text('{"000": "001"}')
    with pytest.raises(ValueError, match="val.json"):
        RD.FaceForensicsPP(broken, "val", methods=("Deepfakes",))
    (broken / "splits" / "val.json").write_text("[[\"000\", ")
    with pytest.raises(ValueError, match="val.json"):
        RD.FaceForensicsPP(broken, "val", methods=("Deepfakes",))
    missing = broken / "original_sequences/youtube/c23/videos/002.mp4"
    missing.unlink()
    with pytest.raises(FileNotFoundError, match="002.mp4"):
        RD.FaceForensicsPP(broken, "train", methods=("Deepfakes",))
    missing.write_bytes(b"this is not a video")
    ds = RD.FaceForensicsPP(broken, "train", methods=("Deepfakes",), frames_per_video=2)
    with pytest.raises(ValueError, match="002.mp4"):
        ds[4]


def test_ffpp_runs_through_the_one_loop(ffpp_tree):
    """FaceForensics++ frames and clips go through train_detector and evaluate unchanged."""
    from torch import nn
    from torch.utils.data import DataLoader

    from yangbook.deepfake import realdata as RD
    from yangbook.deepfake.detector import Detector
    from yangbook.deepfake.metrics import evaluate
    from yangbook.deepfake.train import train_detector

    class Tiny(nn.Module):
        head_convention = "logit-fake"

        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Conv2d(3, 2, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 1))

        def forward(self, x):
            return self.net(x)

    torch.manual_seed(0)
    detector = Detector(Tiny())
    clips = RD.FaceForensicsPP(ffpp_tree, "train", "c23", methods=("Deepfakes",), frames_per_video=3, size=32,
                               clips=True)
    history = train_detector(detector, DataLoader(clips, batch_size=4), DataLoader(clips, batch_size=4),
                             epochs=1, verbose=False)
    assert np.isfinite(history[0]["val_video_auc"])
    res = evaluate(detector, DataLoader(clips, batch_size=4))
    assert len(res.scores) == 8 * 3 and len(np.unique(res.videos)) == 8
    frames = RD.FaceForensicsPP(ffpp_tree, "train", "c23", methods=("Deepfakes",), frames_per_video=3, size=32)
    per_frame = evaluate(detector, DataLoader(frames, batch_size=6))
    assert len(np.unique(per_frame.videos)) == 8  # frames pooled into their videos by video_id
    np.testing.assert_allclose(np.sort(per_frame.video_level()[1]), np.sort(res.video_level()[1]), rtol=1e-4)


def test_align_face_puts_the_eyes_where_the_training_faces_have_them():
    from yangbook.deepfake import realdata as RD
    T = RD._mean_template()
    # a synthetic photograph: the template moved, turned and shrunk, with one bright dot on the nose tip
    angle, scale, shift = 0.2, 0.6, np.array([40.0, 25.0])
    R = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    lm = T @ R.T + shift
    image = np.zeros((300, 300, 3), np.uint8)
    nose = lm[30].round().astype(int)
    image[nose[1] - 1:nose[1] + 2, nose[0] - 1:nose[0] + 2] = 255
    crop, moved = RD.align_face(image, lm, size=128)
    assert crop.shape == (128, 128, 3) and crop.dtype == np.uint8
    # the landmarks come back onto the template, scaled to the crop (the similarity is exact here) ...
    np.testing.assert_allclose(moved, T * 128 / 256, atol=1e-3)
    # ... and the pixels went where the landmarks say: the dot is at the moved nose tip
    y, x = np.unravel_index(crop[..., 0].argmax(), crop.shape[:2])
    assert abs(x - moved[30, 0]) <= 1.5 and abs(y - moved[30, 1]) <= 1.5
    with pytest.raises(ValueError, match="68, 2"):
        RD.align_face(image, lm[:5])


def test_real_swaps_take_another_person_of_the_same_kind():
    from yangbook.deepfake import realdata as RD
    ds = RD.RealFaceForgeryDataset(size=64, method="swap", n_lfw=6, n_carphone=6)
    assert ds.persons[:2] == ["astronaut", "grace_hopper"] and "carphone" in ds.persons
    for k in range(len(ds.faces)):
        d = ds._donor(k)
        assert ds.persons[d] != ds.persons[k] and ds.colour[d] == ds.colour[k]
    assert sum(ds.colour) == sum(p in ("astronaut", "grace_hopper", "carphone") for p in ds.persons)
    with pytest.raises(ValueError, match="0..120"):
        RD.load_real_faces(n_lfw=0, n_carphone=121)
    unaligned = RD.RealFaceForgeryDataset(size=64, n_lfw=6, n_carphone=0, align=False)
    eye_gap = lambda lm: float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))  # noqa: E731
    aligned = RD.RealFaceForgeryDataset(size=64, n_lfw=6, n_carphone=0)
    target = eye_gap(RD._mean_template() * 64 / 256)
    assert all(abs(eye_gap(lm) - target) < 1e-3 for _, _, lm in aligned.faces)
    assert np.median([eye_gap(lm) for _, _, lm in unaligned.faces]) > 1.3 * target   # Haar crops are tighter
