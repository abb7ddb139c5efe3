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
    """Two real photographs at 256 x 256 and a blended copy of each (a face the detector finds)."""
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
    # a shipped configuration is found by its name, with or without .toml; an unknown name lists them
    assert FS.find_config("meso4") == FS.CONFIGS / "meso4.toml" == FS.find_config("meso4.toml")
    with pytest.raises(FileNotFoundError, match="meso4, mesoinception4, xception"):
        FS.find_config("meso5")
    # MesoNet's schedule, against the paper: /10 every 1,000 iterations of 75 images on its 12,361
    # training faces (5,111 forged, 7,250 real) is every 6 epochs, down to 10^-6
    for name in ("meso4", "mesoinception4"):
        t = FS.load_config(FS.CONFIGS / f"{name}.toml")["train"]
        assert t["lr_step_unit"] == "epoch" and t["lr_step"] == round(1000 * 75 / (5111 + 7250))
        assert (t["lr"], t["lr_gamma"], t["lr_min"], t["batch_size"]) == (1e-3, 0.1, 1e-6, 75)
    # Xception starts from ImageNet weights, as FaceForensics++ did
    assert FS.load_config(FS.CONFIGS / "xception.toml")["model"]["init"].endswith("xception-b0b7af25.pth")
    bad = tmp_path / "bad.toml"
    for text, match in (("[model]\nname = 'Meso4'\n[train]\nepochs = 1\nbatch_size = 2\nlr = 1e-3\n[output]\ndir = 'x'\n",
                         "missing \\[data\\] dataset"),
                        ("[model]\nname = 'Meso4'\nsize = 3\n", "unknown key \\[model\\] size"),
                        ("[model]\nname = 'Meso4'\n[train]\nepochs = 'ten'\n", "epochs must be int"),
                        ("[model\n", "not valid TOML"),
                        ("[model]\nname = 'Meso4'\n[data]\ndataset = 'synthetic'\n[train]\nepochs = 1\nbatch_size = 2\n"
                         "lr = 1e-3\nlr_step_unit = 'week'\n[output]\ndir = 'x'\n", "lr_step_unit must be")):
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
    # the loss falls below the first epoch's (16 crops in batches of 2 per process: it is noisy, so not
    # necessarily at the last epoch)
    assert min(r["train_loss"] for r in rows[1:]) < rows[0]["train_loss"]
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
    from yangbook.detect import load_detector
    assert load_detector(checkpoint=full / "last.pt").model.input_size == 64
    # validation: each process scored its share, and the gathered AUC is the whole split's, scored
    # here again in one process from the last checkpoint
    from yangbook.deepfake.metrics import evaluate
    import torch
    val = FS.FaceCrops("ffpp", ffpp, crops, "val", methods=("Deepfakes",), frames_per_video=100)
    res = evaluate(load_detector(checkpoint=full / "last.pt"), torch.utils.data.DataLoader(val, batch_size=4))
    assert rows[-1]["val_items"] == len(val) == 16
    assert rows[-1]["val_auc"] == pytest.approx(res.auc, abs=1e-6)
    best = max(rows, key=lambda r: r["val_auc"])
    assert torch.load(full / "best.pt", weights_only=False)["epoch"] == best["epoch"]


def _synthetic(path: Path, out: Path, epochs: int, name: str = "Meso4", lr: float = 1e-3, extra: str = "") -> Path:
    path.write_text(f'[model]\nname = "{name}"\nkwargs = {{ input_size = 64 }}\n[data]\ndataset = "synthetic"\n'
                    f'length = 64\nsize = 64\n[train]\nepochs = {epochs}\nbatch_size = 16\nlr = {lr}\nseed = 0\n'
                    f'{extra}[output]\ndir = "{out}"\n')
    return path


def test_training_talks_keeps_the_best_and_protects_its_run(tmp_path, capsys):
    out = tmp_path / "run"
    cfg = _synthetic(tmp_path / "a.toml", out, 3, extra='lr_step = 1\nlr_gamma = 0.1\nlr_step_unit = "epoch"\n')
    FS.train(cfg, progress=True)
    said = capsys.readouterr()
    assert "epoch 3/3: 100%" in said.err and "images/s" in said.err           # the bar of each epoch
    summaries = [line for line in said.out.splitlines() if line.startswith("epoch ")]
    assert len(summaries) == 3 and all("val AUC" in line and "best" in line for line in summaries)
    assert "best.pt" in said.out.splitlines()[-1]
    # strict JSON: a bare NaN would not parse here
    def no_constants(name):
        raise AssertionError(f"metrics.jsonl holds {name}")
    rows = [json.loads(line, parse_constant=no_constants) for line in (out / "metrics.jsonl").read_text().splitlines()]
    # stepped once an epoch: 10^-3, then /10 per epoch
    assert [r["lr"] for r in rows] == pytest.approx([1e-3, 1e-4, 1e-5])
    import torch
    best = max(rows, key=lambda r: r["val_auc"])
    assert torch.load(out / "best.pt", weights_only=False)["epoch"] == best["epoch"]
    # started again: finished, nothing trained
    FS.train(cfg)
    assert "this run is finished (3 of 3 epochs" in capsys.readouterr().out
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 3
    # another recipe, or another detector, in the same folder: refused, with what differs
    with pytest.raises(ValueError, match=r"\[train\] lr: 0.001 there, 0.002 here"):
        FS.train(_synthetic(tmp_path / "b.toml", out, 3, lr=2e-3, extra='lr_step = 1\nlr_gamma = 0.1\nlr_step_unit = "epoch"\n'))
    with pytest.raises(ValueError, match="holds a run of Meso4, not of MesoInception4"):
        FS.train(_synthetic(tmp_path / "c.toml", out, 3, name="MesoInception4"))
    # the command line: a shipped configuration by name; an unknown one named, with the shipped ones
    from yangbook.cli import main
    assert main(["train", "meso5"]) == 1
    assert "no such configuration: meso5" in capsys.readouterr().err


def test_metrics_are_strict_json():
    row = FS._json_safe({"epoch": 1, "val_auc": float("nan"), "val_loss": float("inf"), "lr": 1e-3})
    assert json.dumps(row, allow_nan=False) == '{"epoch": 1, "val_auc": null, "val_loss": null, "lr": 0.001}'


def test_init_loads_by_name_and_by_order(tmp_path):
    import torch
    from yangbook.deepfake.mesonet import Meso4
    from yangbook.deepfake.xception import Xception

    def small(seed, classes=2):
        torch.manual_seed(seed)
        return Xception(num_classes=classes, width=0.125, middle_blocks=2, input_size=96)

    source = small(1)
    torch.save(source.state_dict(), tmp_path / "same.pt")
    target = small(2)
    n, left, how = FS.load_init(target, tmp_path / "same.pt")
    assert how == "name" and left == [] and FS.weights_digest(target) == FS.weights_digest(source)
    # a port with other names, 2-D pointwise kernels, no batch-norm counters and a 1,000-class head
    imagenet = small(3, classes=1000).state_dict()
    port = {}
    for k, (name, v) in enumerate(imagenet.items()):
        if name.endswith("num_batches_tracked"):
            continue
        port[f"layer{k}"] = v[:, :, 0, 0] if "pointwise" in name else v
    torch.save(port, tmp_path / "port.pt")
    target = small(4)
    n, left, how = FS.load_init(target, tmp_path / "port.pt")
    assert how == "order" and left == ["fc.bias", "fc.weight"]
    mine = target.state_dict()
    for name, v in imagenet.items():
        if not name.startswith("fc.") and not name.endswith("num_batches_tracked"):
            assert torch.equal(mine[name], v), name
    # another network, and a missing file: named errors
    torch.save(Meso4().state_dict(), tmp_path / "meso.pt")
    with pytest.raises(ValueError, match="not the same network"):
        FS.load_init(small(5), tmp_path / "meso.pt")
    with pytest.raises(FileNotFoundError, match="no such file: .*absent.pt"):
        FS.load_init(small(5), tmp_path / "absent.pt")
