"""Tests of the video and sound data: clips, eye and mouth crops, landmark noise, eSpeak NG speech,
visemes, audio features and the temporal and lip-sync forgeries (yangbook.deepfake.clips, .speech,
.datasets; pages book/deepfake/clips.md, speech.md, datasets.md).

References outside the code under test: pixel colours of the drawn crops, librosa's features on a
recorded utterance (tests/reference/librosa_features.npz, see its README), the clip's own audio for
the lip-sync forgeries, the blink parameters that were asked for, and AUCs between real and forged clips.
"""
from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from yangbook.deepfake import clips as C
from yangbook.deepfake import datasets as DS
from yangbook.deepfake import forgeries as F
from yangbook.deepfake import render as R
from yangbook.deepfake import speech as S

REFERENCE = Path(__file__).parent / "reference"


def _auc(real, fake):
    r, f = np.asarray(real)[:, None], np.asarray(fake)[None, :]
    return float((f > r).mean() + 0.5 * (f == r).mean())


def _person(i=3):
    r = np.random.default_rng([40, i])
    return R.Identity.sample(i), R.Scene.sample(r), R.Pose.sample(r)


# --- crops at their own resolution ---------------------------------------------------------------

def _eye_contrast(eye):
    """How much of an eye crop differs from its skin: summed colour distance from the crop's median."""
    e = eye.astype(float)
    return float(np.abs(e - np.median(e.reshape(-1, 3), 0)).sum())


def _mouth_interior(mouth):
    """Pixels of the dark mouth opening (55, 18, 22)."""
    return int((np.abs(mouth.astype(int) - [55, 18, 22]).max(-1) < 30).sum())


@pytest.mark.parametrize("i", [0, 3, 7, 11])
def test_crop_pixels_follow_the_openness(i):
    ident, scene, pose = _person(i)
    eye, inside = [], []
    for o in (1.0, 0.75, 0.5, 0.25, 0.0):
        eyes, mouth = R.render_crops(ident, scene, pose, eye_open=o, mouth_open=1 - o)
        assert eyes.shape == (2, 32, 32, 3) and mouth.shape == (48, 48, 3) and eyes.dtype == np.uint8
        eye.append(_eye_contrast(eyes[0]) + _eye_contrast(eyes[1]))
        inside.append(_mouth_interior(mouth))
    # the visible eye (white, iris, pupil) shrinks as the lids close, leaving skin and the lid line
    assert all(a > b for a, b in zip(eye, eye[1:])), eye
    assert eye[-1] < 0.7 * eye[0], eye
    # the mouth's dark opening grows with the opening (mouth_open = 1 - o)
    assert all(a < b for a, b in zip(inside, inside[1:])), inside
    assert inside[-1] > 4 * inside[0] + 150, inside


def test_crops_show_what_the_frame_cannot():
    """At 64 px the eye is a few pixels; its crop resolves the lid: the white covers many pixels."""
    ident, scene, pose = _person(5)
    frame, L = R.render_face(ident, scene, pose, 64)
    eye_w = np.linalg.norm(L[45] - L[42])
    assert eye_w < 7  # the frame's eye is a handful of pixels wide
    crop_w = []
    for o in (1.0, 0.0):
        eyes, _ = R.render_crops(ident, scene, pose, 64, eye_open=o)
        crop_w.append(eyes[1])
    # in the crop the eye spans two thirds of 32 pixels, and open and shut differ over dozens of pixels
    changed = (np.abs(crop_w[0].astype(int) - crop_w[1]).max(-1) > 40).sum()
    assert changed > 40, changed


def test_mouth_width_rounds_and_spreads_the_lips():
    ident, scene, pose = _person(2)
    lips = []
    for w in (0.7, 1.0, 1.2):
        L = R.face_landmarks(ident, scene, pose, 256, mouth_open=0.4, mouth_width=w)
        lips.append(np.linalg.norm(L[54] - L[48]))
    assert lips[0] < lips[1] < lips[2]
    assert abs(lips[0] / lips[1] - 0.7) < 0.02 and abs(lips[2] / lips[1] - 1.2) < 0.02


def test_render_clip_returns_crops_and_exact_landmarks():
    ident, scene, pose = _person(1)
    r = np.random.default_rng(0)
    poses = C.head_motion(6, 25, r)
    c = C.render_clip(ident, scene, poses, 64, eye_open=np.linspace(1, 0, 6), crops=True, draw=4)
    assert c["frames"].shape == (4, 64, 64, 3) and c["landmarks"].shape == (6, 68, 2)
    assert c["eyes"].shape == (6, 2, 32, 32, 3) and c["mouth"].shape == (6, 48, 48, 3)  # crops of every frame
    for k in range(6):  # the landmarks are the renderer's own
        assert np.allclose(c["landmarks"][k], R.face_landmarks(ident, scene, poses[k], 64, np.linspace(1, 0, 6)[k]))


# --- landmark noise, blinks, exposure ----------------------------------------------------------------

def test_landmark_noise_has_the_stated_size():
    ident, scene, pose = _person(4)
    L = np.stack([R.face_landmarks(ident, scene, pose, 128)] * 400)
    noisy = C.landmark_noise(L, np.random.default_rng(1))
    scale = np.linalg.norm(L[0, 45] - L[0, 36])
    sd = (noisy - L).std() / scale
    assert abs(sd - C.LANDMARK_JITTER) < 0.1 * C.LANDMARK_JITTER
    assert np.abs((noisy - L).mean(0)).max() < 0.3 * C.LANDMARK_JITTER * scale  # no bias
    assert np.array_equal(C.landmark_noise(L, np.random.default_rng(1), jitter=0.0), L)


def test_blinks_are_natural_and_the_forgeries_as_asked():
    r = np.random.default_rng(0)
    rates, durations = [], []
    for _ in range(40):
        _, blinks = C.blink_openness(25 * 60, 25.0, r)
        rates.append(len(blinks))
        durations += [d for _, d in blinks]
    assert 14 <= np.mean(rates) <= 21
    assert 0.1 <= min(durations) and max(durations) <= 0.4
    o, blinks = C.blink_openness(25 * 60, 25.0, r, *C.blink_pattern("missing", 1.0))
    assert blinks == [] and o.min() == 1.0
    (r0, r1), _ = C.blink_pattern("missing", 0.5)
    assert (r0, r1) == (7.5, 10.0)
    (r0, r1), (d0, d1) = C.blink_pattern("slow", 1.0)
    assert (r0, r1, d0, d1) == (2.0, 4.0, 0.8, 1.5)


def test_exposure_changes_the_frame_brightness_only():
    ident, scene, pose = _person(6)
    a, La = R.render_face(ident, scene, pose, 64, noise_seed=3)
    b, Lb = R.render_face(ident, scene, pose, 64, noise_seed=3, exposure=1.05)
    assert np.array_equal(La, Lb)
    ratio = b.astype(float).mean() / a.astype(float).mean()
    assert 1.03 < ratio < 1.06
    g = C.camera_exposure(1000, 25, np.random.default_rng(0))
    assert abs(np.diff(g).std() / np.sqrt(2) - C.EXPOSURE_JITTER) < 0.1 * C.EXPOSURE_JITTER


# --- speech ----------------------------------------------------------------------------------------

def test_espeak_speaks_with_phoneme_timings():
    u = S.synthesize("Mama made a map.", S.Voice("en-us", 150, 50))
    assert u.audio.dtype == np.float32 and 0.8 < u.duration < 3.0
    assert 0.05 < np.abs(u.audio).max() <= 1.0
    times = [t for t, _ in u.phonemes]
    assert times == sorted(times) and 0 <= times[0] and times[-1] < u.duration
    names = [n.lstrip("',") for _, n in u.phonemes]
    assert names.count("m") >= 3 and "p" in names
    # deterministic: the same sentence in the same voice is the same waveform
    S._UTTERANCES.clear()
    again = S.synthesize("Mama made a map.", S.Voice("en-us", 150, 50))
    assert np.array_equal(again.audio, u.audio)
    # the voice changes the sound
    other = S.synthesize("Mama made a map.", S.Voice("en-us+f3", 150, 70))
    assert len(other.audio) != len(u.audio) or not np.array_equal(other.audio, u.audio)


def test_espeak_is_deterministic_across_processes():
    """The same sentence in the same (breathy) voice gives the same waveform in two fresh processes."""
    code = ("import hashlib; from yangbook.deepfake import speech as S; "
            "u = S.synthesize('One rabbit across the camera.', S.Voice('en-us+f2', 154, 37)); "
            "print(hashlib.sha256(u.audio.tobytes()).hexdigest())")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)]
    here = hashlib.sha256(S.synthesize("One rabbit across the camera.", S.Voice("en-us+f2", 154, 37)).audio.tobytes())
    assert runs[0] == runs[1] == here.hexdigest() + "\n"


def test_the_lips_close_on_bilabials_and_open_on_vowels():
    u = S.synthesize("Papa bought my map.", S.Voice("en-us", 120, 50))
    fps = 100.0  # a fine frame rate, to read the track at each phoneme
    opening, width = S.mouth_track(u, int(u.duration * fps), fps)
    at = lambda t: opening[min(int(t * fps), len(opening) - 1)]  # noqa: E731
    ends = [t for t, _ in u.phonemes[1:]] + [u.duration]
    by_class = {}
    for (t, name), e in zip(u.phonemes, ends):
        by_class.setdefault(S.viseme_class(name), []).append(at(0.5 * (t + e)))
    assert max(by_class["bilabial"]) < min(by_class["open"])
    assert np.mean(by_class["bilabial"]) < 0.25 and np.mean(by_class["open"]) > 0.5
    assert S.viseme_class("'aI") == "open" and S.viseme_class("p") == "bilabial"
    assert S.viseme_class("u:") == "rounded" and S.viseme_class("_:") == "rest"


def test_features_match_librosa():
    ref = np.load(REFERENCE / "librosa_features.npz")
    lm, mf = S.log_mel(ref["audio"]), S.mfcc(ref["audio"])
    assert lm.shape == ref["logmel"].shape == (40, 1 + len(ref["audio"]) // 160)
    assert np.abs(lm - ref["logmel"]).max() < 1e-3       # dB
    assert np.abs(mf - ref["mfcc"]).max() < 1e-3


def test_features_are_aligned_with_the_video():
    """A tone burst in video frame 10 (400-440 ms at 25 fps) lights feature frames 40-43."""
    t = np.arange(S.SAMPLE_RATE) / S.SAMPLE_RATE
    audio = np.where((t >= 0.4) & (t < 0.44), np.sin(2 * np.pi * 1000 * t), 0).astype(np.float32)
    energy = S.log_mel(audio).max(0)
    loud = np.flatnonzero(energy > energy.max() - 20)
    assert loud.min() >= 39 and loud.max() <= 45 and {40, 41, 42, 43} <= set(loud)
    assert S.log_mel(audio).shape[1] == 4 * 25 + 1


# --- the lip-sync forgeries: checked against the real clip's own audio and mouth ---------------------

def _lips(forgery=None, **kw):
    ident, scene, _ = _person(9)
    return S.talking_clip(ident, scene, 50, np.random.default_rng(9), draw=0, forgery=forgery, **kw)


def test_shift_moves_the_audio_by_whole_frames():
    real = _lips()
    per = S.SAMPLE_RATE // 25
    for k in (3, -4):
        fake = _lips("shift", shift=k)
        assert fake["shift"] == k and np.array_equal(fake["mouth_open"], real["mouth_open"])
        if k > 0:  # the sound comes late: the fake's audio is the real one delayed by k frames
            assert np.allclose(fake["audio"][k * per:], real["audio"][:-k * per], atol=1e-6)
        else:
            assert np.allclose(fake["audio"][:k * per], real["audio"][-k * per:], atol=1e-6)
    shifts = set()
    for i in range(30):
        ident, scene, _ = _person(i)
        c = S.talking_clip(ident, scene, 30, np.random.default_rng(i), draw=0, forgery="shift", strength=0.2)
        shifts.add(c["shift"])
    assert shifts <= {-3, -2, -1, 1, 2, 3} and len(shifts) >= 4


def test_other_audio_and_dubbing_change_only_their_part():
    real = _lips()
    other = _lips("other_audio", strength=0.5)
    assert np.array_equal(other["mouth_open"], real["mouth_open"])
    changed = np.abs(other["audio"] - real["audio"]) > 1e-6
    n = len(real["audio"])
    span = np.flatnonzero(changed)
    assert span.max() - span.min() + 1 <= n // 2 and changed.sum() > n // 10  # one stretch of half the clip
    dubbed = _lips("dubbed", strength=1.0)
    assert np.array_equal(dubbed["audio"], real["audio"])
    assert np.abs(dubbed["mouth_open"] - real["mouth_open"]).mean() > 0.05
    half = _lips("dubbed", strength=0.5)
    assert np.allclose(half["mouth_open"], 0.5 * (real["mouth_open"] + dubbed["mouth_open"]), atol=1e-6)


# --- the measures at full strength see their own forgery and not the others -------------------------

def test_clip_measures_separate_only_their_own_forgery():
    fps, T, n = 25.0, 100, 10
    keys = ("real", "flicker", "missing", "slow", "shift", "other_audio", "dubbed")
    scores = {k: [] for k in keys}

    def clip(i, **kw):
        ident, scene, _ = _person(600 + i)
        return S.talking_clip(ident, scene, T, np.random.default_rng([41, i]), draw=8, **kw)

    def measure(c):
        L = C.landmark_noise(c["landmarks"], np.random.default_rng(0))
        return [C.flicker_energy(c["frames"], L[:len(c["frames"])]),
                -C.blink_rate(C.eye_aspect_ratio(L), fps),
                1 - S.av_sync(c["audio"], S.mouth_aspect_ratio(L))[1]]

    for i in range(n):
        real = clip(i)
        scores["real"].append(measure(real))
        scores["flicker"].append(measure(dict(real, frames=C.flicker_forgery(real["frames"], real["landmarks"],
                                                                               1.0, seed=i)[0])))
        scores["missing"].append(measure(clip(i, blinks="missing", blink_strength=1.0)))
        scores["slow"].append(measure(clip(i, blinks="slow", blink_strength=1.0)))
        scores["shift"].append(measure(clip(i, forgery="shift", strength=1.0)))
        scores["other_audio"].append(measure(clip(i, forgery="other_audio", strength=1.0)))
        scores["dubbed"].append(measure(clip(i, forgery="dubbed", strength=1.0)))
    s = {k: np.array(v) for k, v in scores.items()}
    own = {"flicker": 0, "missing": 1, "slow": 1, "shift": 2, "other_audio": 2, "dubbed": 2}
    for k, j_own in own.items():
        for j in range(3):
            a = _auc(s["real"][:, j], s[k][:, j])
            if j == j_own:
                assert a > 0.85, f"measure {j} should separate real from {k} at full strength: AUC {a:.2f}"
            else:
                assert a < 0.8, f"measure {j} should not flag {k}: AUC {a:.2f}"


# --- datasets ------------------------------------------------------------------------------------

def test_clip_dataset_is_deterministic_and_paired():
    a = DS.FaceClipDataset("val", "lipsync", length=2, frames=8, seed=3, cache=False)
    b = DS.FaceClipDataset("val", "lipsync", length=2, frames=8, seed=3, cache=False)
    x, y = a[1], b[1]
    for k in ("video", "eyes", "mouth", "audio", "mfcc", "landmarks"):
        assert torch.equal(x[k], y[k]), k
    real = a[0]
    assert real["identity"] == x["identity"] and real["label"] == 0 and x["label"] == 1
    fl = DS.FaceClipDataset("train", "flicker", length=2, frames=6, cache=False)
    r, f = fl[0], fl[1]
    assert r["video"].shape == (6, 3, 64, 64) and "eyes" not in r
    assert not torch.equal(r["video"], f["video"]) and f["method"] == "flicker"
    bl = DS.FaceClipDataset("train", "blink", length=2, frames=5, cache=False)[1]
    assert bl["eyes"].shape == (5, 2, 3, 32, 32) and bl["mouth"].shape == (5, 3, 48, 48)
    assert bl["method"] in C.BLINK_FORGERIES and 0 <= bl["eyes"].min() and bl["eyes"].max() <= 1


def test_clip_landmarks_are_noisy_not_exact():
    ds = DS.FaceClipDataset("train", "blink", length=2, frames=5, draw_frames=False, crops=False, cache=False)
    clean = DS.FaceClipDataset("train", "blink", length=2, frames=5, draw_frames=False, crops=False, jitter=0.0,
                               cache=False)
    d = (ds[0]["landmarks"] - clean[0]["landmarks"]).numpy()
    scale = np.linalg.norm(clean[0]["landmarks"][0, 45] - clean[0]["landmarks"][0, 36])
    assert 0.5 * C.LANDMARK_JITTER < d.std() / float(scale) < 1.5 * C.LANDMARK_JITTER


# --- bad input -----------------------------------------------------------------------------------

def test_bad_video_and_audio_input_gets_named_errors():
    r = np.random.default_rng(0)
    with pytest.raises(ValueError, match="fps"):
        C.blink_openness(10, 0, r)
    with pytest.raises(ValueError, match="fps"):
        C.head_motion(10, -25, r)
    with pytest.raises(ValueError, match="positive int"):
        C.blink_openness(-5, 25, r)
    with pytest.raises(ValueError, match="non-empty"):
        C.blink_rate([], 25)
    with pytest.raises(ValueError, match="16000 Hz"):
        S.log_mel(np.zeros(22050, np.float32), sr=22050)
    with pytest.raises(ValueError, match="16000 Hz"):
        S.mfcc(np.zeros(100, np.float32), sr=8000)
    with pytest.raises(ValueError, match="16000 Hz"):
        S.loudness(np.zeros(100, np.float32), 4, sr=44100)
    with pytest.raises(ValueError, match="non-empty"):
        S.synthesize("   ")
    with pytest.raises(ValueError, match="voice"):
        S.synthesize("hello", S.Voice("no-such-voice"))
    with pytest.raises(ValueError, match="forgery"):
        _lips("lipstick")
    with pytest.raises(ValueError, match="strength"):
        C.blink_pattern("slow", 1.5)
    with pytest.raises(ValueError, match="methods"):
        DS.FaceClipDataset(kind="blink", methods=("flicker",))
    with pytest.raises(ValueError, match="eye_size"):
        R.render_crops(*_person(0), eye_size=8)
    ident, scene, pose = _person(0)
    with pytest.raises(ValueError, match="one value per pose"):
        C.render_clip(ident, scene, [pose] * 3, eye_open=[1.0, 1.0])
