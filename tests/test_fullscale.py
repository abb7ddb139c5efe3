"""The full-scale path (yangbook.fullscale, page book/fullscale.md): face extraction, the loaders of
FaceForensics++, Celeb-DF v2 and DFDC on tiny trees written here, the configuration files, and
DistributedDataParallel training in two gloo processes started by torchrun.

References: the files the tests wrote (which videos, which labels, how many frames), the weights of
the two processes compared with each other, and an uninterrupted run compared with a resumed one.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from yangbook import fullscale as FS
from yangbook.deepfake.forgeries import blend_forgery
from yangbook.deepfake.realdata import detect_faces, load_real_faces, template_landmarks

ROOT = Path(__file__).resolve().parents[1]


def _write_video(path: Path, frames) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = frames[0].shape[:2]
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (w, h))
    assert out.isOpened()
    for f in frames:
        out.write(np.ascontiguousarray(f[..., ::-1]))
    out.release()


@pytest.fixture(scope="module")
def faces():
    """Two real photographs at 256 x 256 and a blended copy of each (a face the Haar cascade finds)."""
    out = []
    for f in load_real_faces(n_lfw=0):
        img = cv2.resize(f["image"], (256, 256), interpolation=cv2.INTER_AREA)
        lm = template_landmarks(detect_faces(img)[0])
        out.append((img, blend_forgery(img, lm, seed=1)[0]))
    return out


def _clip(img, k, n=6):
    return [np.roll(img, j - k, axis=1) for j in range(n)]


@pytest.fixture(scope="module")
def ffpp(tmp_path_factory, faces):
    root = tmp_path_factory.mktemp("ffpp")
    (root / "splits").mkdir()
    for split, pairs in (("train", [["000", "001"]]), ("val", [["002", "003"]]), ("test", [["004", "005"]])):
        (root / "splits" / f"{split}.json").write_text(json.dumps(pairs))
    for k in range(6):
        real, fake = faces[k % 2]
        _write_video(root / f"original_sequences/youtube/c23/videos/{k:03d}.mp4", _clip(real, k))
        other = k + 1 if k % 2 == 0 else k - 1
        _write_video(root / f"manipulated_sequences/Deepfakes/c23/videos/{k:03d}_{other:03d}.mp4", _clip(fake, k))
    return root


def test_ffpp_extraction_decodes_once_and_resumes(ffpp, tmp_path):
    crops = tmp_path / "crops"
    counts = FS.extract_faces("ffpp", ffpp, crops, frames=3, size=64, methods=("Deepfakes",), progress=False)
    assert counts == {"videos": 12, "skipped": 0, "crops": 12 * 3}
    index = json.loads((crops / "original_sequences/youtube/c23/videos/000/index.json").read_text())
    assert index["frames"] == 6 and [c["frame"] for c in index["crops"]] == [0, 2, 5]
    again = FS.extract_faces("ffpp", ffpp, crops, frames=3, size=64, methods=("Deepfakes",), progress=False,
                             workers=2)
    assert again == {"videos": 12, "skipped": 12, "crops": 0}  # nothing decoded twice
    ds = FS.FaceCrops("ffpp", ffpp, crops, "train", methods=("Deepfakes",))
    assert len(ds) == 4 * 3
    s = ds[len(ds) - 1]
    assert s["image"].shape == (3, 64, 64) and s["label"] == 1 and s["method"] == "Deepfakes"
    assert sorted({ds[i]["video_id"] for i in range(len(ds))}) == [0, 1, 2, 3]
    assert len(FS.FaceCrops("ffpp", ffpp, crops, "val", methods=("Deepfakes",), frames_per_video=2)) == 4 * 2
    with pytest.raises(FileNotFoundError, match="extract-faces"):
        FS.FaceCrops("ffpp", ffpp, tmp_path / "nothing", "train", methods=("Deepfakes",))


def test_celebdf_and_dfdc_trees(tmp_path, faces):
    real, fake = faces[0]
    cdf = tmp_path / "Celeb-DF-v2"
    for rel, img in (("Celeb-real/id0_0000.mp4", real), ("Celeb-real/id1_0000.mp4", real),
                     ("YouTube-real/00000.mp4", real), ("Celeb-synthesis/id0_id1_0000.mp4", fake),
                     ("Celeb-synthesis/id1_id0_0000.mp4", fake)):
        _write_video(cdf / rel, _clip(img, 0, 3))
    (cdf / "List_of_testing_videos.txt").write_text("1 Celeb-real/id1_0000.mp4\n0 Celeb-synthesis/id1_id0_0000.mp4\n")
    test = FS.video_list("celebdf", cdf, "test")
    assert sorted((r, y) for r, y, _, _ in test) == [("Celeb-real/id1_0000.mp4", 0), ("Celeb-synthesis/id1_id0_0000.mp4", 1)]
    rest = FS.video_list("celebdf", cdf, "train") + FS.video_list("celebdf", cdf, "val")
    assert len(rest) == 3 and {y for _, y, _, _ in rest} == {0, 1}
    dfdc = tmp_path / "dfdc"
    meta = {"a.mp4": {"label": "REAL"}, "b.mp4": {"label": "FAKE", "original": "a.mp4"},
            "c.mp4": {"label": "REAL"}, "d.mp4": {"label": "FAKE", "original": "c.mp4"}}
    for name, info in meta.items():
        _write_video(dfdc / "dfdc_train_part_0" / name, _clip(fake if info["label"] == "FAKE" else real, 0, 3))
    (dfdc / "dfdc_train_part_0" / "metadata.json").write_text(json.dumps(meta))
    splits = {s: FS.video_list("dfdc", dfdc, s) for s in ("train", "val", "test")}
    assert sum(len(v) for v in splits.values()) == 4
    for v in splits.values():  # a fake and its original fall in the same split
        names = {Path(r).name for r, *_ in v}
        assert ("b.mp4" in names) == ("a.mp4" in names) and ("d.mp4" in names) == ("c.mp4" in names)


def test_wrong_trees_name_the_path(tmp_path, ffpp):
    with pytest.raises(FileNotFoundError, match="not a folder"):
        FS.video_list("ffpp", tmp_path / "nowhere", "train")
    with pytest.raises(FileNotFoundError, match="split file"):
        FS.video_list("ffpp", tmp_path, "train")
    with pytest.raises(FileNotFoundError, match="NeuralTextures"):
        FS.video_list("ffpp", ffpp, "train", methods=("NeuralTextures",))
    with pytest.raises(FileNotFoundError, match="List_of_testing_videos"):
        FS.video_list("celebdf", tmp_path, "test")
    (tmp_path / "List_of_testing_videos.txt").write_text("")
    with pytest.raises(FileNotFoundError, match="Celeb-real"):
        FS.video_list("celebdf", tmp_path, "test")
    (tmp_path / "x").mkdir()
    with pytest.raises(FileNotFoundError, match="metadata.json"):
        FS.video_list("dfdc", tmp_path / "x", "train")
    (tmp_path / "x" / "metadata.json").write_text('{"a.mp4": {"label": "MAYBE"}}')
    with pytest.raises(ValueError, match="metadata.json.*a.mp4"):
        FS.video_list("dfdc", tmp_path / "x", "train")
    (tmp_path / "x" / "metadata.json").write_text('{"a.mp4": {"label": "REAL"}}')
    with pytest.raises(FileNotFoundError, match="a.mp4"):
        for s in ("train", "val", "test"):
            FS.video_list("dfdc", tmp_path / "x", s)


def test_shipped_configurations_are_valid(tmp_path):
    names = sorted(p.name for p in FS.CONFIGS.glob("*.toml"))
    assert names == ["meso4.toml", "mesoinception4.toml", "xception.toml"]
    for p in FS.CONFIGS.glob("*.toml"):
        cfg = FS.load_config(p)
        assert cfg["model"]["name"] in ("Meso4", "MesoInception4", "Xception") and cfg["data"]["dataset"] == "ffpp"
    assert FS.load_config(FS.CONFIGS / "xception.toml")["train"]["head_epochs"] == 3
    bad = tmp_path / "bad.toml"
    for text, match in (("[model]\nname = 'Meso4'\n[train]\nepochs = 1\nbatch_size = 2\nlr = 1e-3\n[output]\ndir = 'x'\n",
                         "missing \\[data\\] dataset"),
                        ("[model]\nname = 'Meso4'\nsize = 3\n", "unknown key \\[model\\] size"),
                        ("[model]\nname = 'Meso4'\n[train]\nepochs = 'ten'\n", "epochs must be int"),
                        ("[model\n", "not valid TOML")):
        bad.write_text(text)
        with pytest.raises(ValueError, match=match):
            FS.load_config(bad)


def _config(path: Path, out: Path, epochs: int, ffpp=None, crops=None) -> Path:
    data = (f'dataset = "ffpp"\nroot = "{ffpp}"\ncrops = "{crops}"\nmethods = ["Deepfakes"]\n' if ffpp
            else 'dataset = "synthetic"\nlength = 64\nsize = 64\n')
    path.write_text(f'[model]\nname = "Meso4"\nkwargs = {{ input_size = 64 }}\n[data]\n{data}'
                    f'[train]\nepochs = {epochs}\nbatch_size = 4\nlr = 1e-3\nseed = 0\n[output]\ndir = "{out}"\n')
    return path


def _torchrun(config: Path, *extra) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT / "code"))
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
                           "-m", "yangbook", "train", str(config), *extra], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_two_gloo_processes_train_and_resume_exactly(ffpp, tmp_path):
    crops = tmp_path / "crops"
    FS.extract_faces("ffpp", ffpp, crops, frames=4, size=64, methods=("Deepfakes",), progress=False)
    # an uninterrupted run of 4 epochs on the FaceForensics++ fixture, in two processes
    full = tmp_path / "full"
    _torchrun(_config(tmp_path / "full.toml", full, 4, ffpp, crops))
    rows = [json.loads(line) for line in (full / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4] and all(r["world_size"] == 2 for r in rows)
    assert rows[-1]["train_loss"] < rows[0]["train_loss"]  # the loss falls
    assert rows[0]["samples"] == 16  # every training crop once per epoch, shared between the processes
    assert (full / "weights-rank0.txt").read_text() == (full / "weights-rank1.txt").read_text()
    assert sorted(p.name for p in full.glob("epoch-*.pt")) == [f"epoch-00{k}.pt" for k in (1, 2, 3, 4)]
    # the same run stopped after one epoch, then started again: it resumes and ends with the same weights
    part = tmp_path / "part"
    cfg = _config(tmp_path / "part.toml", part, 4, ffpp, crops)
    _torchrun(cfg, "--stop-after", "1")
    assert len((part / "metrics.jsonl").read_text().splitlines()) == 1
    _torchrun(cfg)
    assert (part / "weights-rank0.txt").read_text() == (full / "weights-rank0.txt").read_text()
    assert (part / "weights-rank1.txt").read_text() == (full / "weights-rank1.txt").read_text()
    # the checkpoint is what `yangbook detect --checkpoint` reads
    from yangbook.cli import load_detector
    assert load_detector(checkpoint=full / "last.pt").model.input_size == 64
