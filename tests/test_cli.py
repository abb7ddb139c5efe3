"""The command line (yangbook.cli, page book/tool.md): `yangbook detect` on images and videos.

The reference for a score is the model called directly on the same FaceForensics++ crop; the files are
the book's real photographs, written here, a video made of them, and broken files.
"""
from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from yangbook import cli
from yangbook.deepfake.mesonet import Meso4, load_keras_weights, released_weights
from yangbook.deepfake.realdata import crop_face, detect_faces, load_real_faces
from yangbook.deepfake.train import Detector


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("detect")
    photos = load_real_faces(n_lfw=0)
    paths = {}
    for f in photos:
        paths[f["name"]] = root / f"{f['name']}.png"
        cv2.imwrite(str(paths[f["name"]]), f["image"][..., ::-1])
    rng = np.random.default_rng(0)
    paths["noise"] = root / "noise.jpg"
    cv2.imwrite(str(paths["noise"]), rng.integers(0, 256, (120, 160, 3), dtype=np.uint8))
    paths["broken"] = root / "broken.jpg"
    paths["broken"].write_bytes(b"not a jpeg")
    paths["text"] = root / "notes.txt"
    paths["text"].write_text("hello")
    # a video of 12 frames: the astronaut, slightly shifted from frame to frame
    astro = photos[0]["image"]
    paths["video"] = root / "astronaut.mp4"
    out = cv2.VideoWriter(str(paths["video"]), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (512, 512))
    assert out.isOpened()
    for k in range(12):
        out.write(np.ascontiguousarray(np.roll(astro, k, axis=1)[..., ::-1]))
    out.release()
    return paths


def _run(capsys, *args):
    status = cli.main(["detect", *map(str, args), "--json"])
    return status, json.loads(capsys.readouterr().out)


def test_score_equals_the_model_on_the_same_crop(files, capsys):
    status, results = _run(capsys, files["astronaut"], files["grace_hopper"])
    assert status == 0 and [r["kind"] for r in results] == ["image", "image"]
    model = Detector(load_keras_weights(Meso4(), released_weights("Meso4_DF"))).eval()
    for r in results:
        image = cv2.imread(r["path"])[..., ::-1]
        boxes = detect_faces(image)
        assert [f["box"] for f in r["faces"]] == boxes.tolist()
        crop = crop_face(image, boxes[0], size=256, scale=1.3)[0]
        x = torch.from_numpy(np.ascontiguousarray(crop.transpose(2, 0, 1)))[None].float() / 255
        assert r["faces"][0]["p_fake"] == pytest.approx(model.p_fake(x).item(), abs=1e-6)
        assert r["p_fake"] == max(f["p_fake"] for f in r["faces"])


def test_videos_are_scored_per_frame_and_per_video(files, capsys):
    status, (r,) = _run(capsys, files["video"], "--frames", "4")
    assert status == 0 and r["kind"] == "video"
    assert [f["frame"] for f in r["frames"]] == [0, 4, 7, 11]  # four frames sampled evenly from 12
    assert all(f["p_fake"] is not None for f in r["frames"])
    assert r["p_fake"] == pytest.approx(np.mean([f["p_fake"] for f in r["frames"]]))


def test_no_face_and_bad_files(files, capsys):
    status, results = _run(capsys, files["noise"], files["broken"], files["text"], files["astronaut"],
                           files["astronaut"].with_name("missing.png"))
    noise, broken, text, astro, missing = results
    assert noise["note"] == "no face found" and noise["error"] is None and noise["p_fake"] is None
    assert "broken.jpg" in broken["error"] and "cannot be read" in broken["error"]
    assert "notes.txt" in text["error"] and "unsupported" in text["error"]
    assert "missing.png" in missing["error"]
    assert astro["error"] is None and astro["p_fake"] is not None  # the run went on after the errors
    assert status == 1
    assert cli.main(["detect", str(files["noise"])]) == 0  # no face is not an error
    table = capsys.readouterr().out
    assert "no face found" in table and "noise.jpg" in table


def test_other_detectors_and_checkpoints(files, tmp_path, capsys):
    status, (r,) = _run(capsys, files["astronaut"], "--detector", "mesoinception-f2f")
    assert status == 0 and 0 <= r["p_fake"] <= 1
    model = Meso4()
    torch.manual_seed(0)
    cli.save_checkpoint(tmp_path / "m.pt", model, {"input_size": 256}, epoch=3)
    status, (c,) = _run(capsys, files["astronaut"], "--checkpoint", tmp_path / "m.pt")
    x = torch.from_numpy(np.ascontiguousarray(crop_face(cv2.imread(str(files["astronaut"]))[..., ::-1],
                                                        c["faces"][0]["box"], size=256)[0].transpose(2, 0, 1)))
    assert c["p_fake"] == pytest.approx(Detector(model).p_fake(x[None].float() / 255).item(), abs=1e-6)
    (tmp_path / "junk.pt").write_bytes(b"junk")
    assert cli.main(["detect", str(files["astronaut"]), "--checkpoint", str(tmp_path / "junk.pt")]) == 1
    assert "junk.pt" in capsys.readouterr().err


def test_python_dash_m_and_usage_errors(files):
    proc = subprocess.run([sys.executable, "-m", "yangbook", "detect", str(files["astronaut"])],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "astronaut.png" in proc.stdout and "P(fake)" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "yangbook", "detect", str(files["astronaut"]), "--frames", "0"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "--frames" in proc.stderr


def test_train_and_extract_errors_name_the_file(tmp_path, capsys):
    assert cli.main(["train", str(tmp_path / "missing.toml")]) == 1
    assert "missing.toml" in capsys.readouterr().err
    assert cli.main(["extract-faces", "ffpp", str(tmp_path / "nowhere"), str(tmp_path / "out")]) == 1
    assert "nowhere" in capsys.readouterr().err
