"""The command line (yangbook.cli and yangbook.detect, page book/tool.md): `yangbook detect` on images,
videos and folders.

The reference for a score is the model called directly on the same FaceForensics++ crop; the files are
the book's real photographs (which scikit-image and matplotlib ship), written here, copies of them at
other sizes, a video made of them, and broken files.
"""
from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from yangbook import cli, detect
from yangbook.deepfake.mesonet import Meso4, load_keras_weights, released_weights
from yangbook.deepfake.realdata import crop_face, detect_faces, load_real_faces
from yangbook.deepfake.detector import Detector


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
        faces = detect_faces(image)
        assert [f["box"] for f in r["faces"]] == [list(f.box) for f in faces]
        crop = crop_face(image, faces[0], size=256, scale=1.3)[0]
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
    detect.save_checkpoint(tmp_path / "m.pt", model, {"input_size": 256}, epoch=3)
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


def test_same_verdict_at_every_size(files, tmp_path, capsys):
    """The astronaut and Grace Hopper, enlarged to 1024, 2048 and 4000 px: one face each, in proportion,
    and the same verdict as at their own size (the Haar cascade of the earlier edition flipped it)."""
    for name in ("astronaut", "grace_hopper"):
        image = cv2.imread(str(files[name]))
        paths = [files[name]]
        for side in (1024, 2048, 4000):
            paths.append(tmp_path / f"{name}_{side}.png")
            scale = side / max(image.shape[:2])
            cv2.imwrite(str(paths[-1]), cv2.resize(image, None, fx=scale, fy=scale,
                                                   interpolation=cv2.INTER_CUBIC))
        status, results = _run(capsys, *paths)
        assert status == 0
        assert [len(r["faces"]) for r in results] == [1, 1, 1, 1]
        shares = [r["faces"][0]["side"] / cv2.imread(r["path"]).shape[1] for r in results]
        assert max(shares) - min(shares) < 0.02
        assert {r["verdict"] for r in results} == {"real"}, [(r["p_fake"], r["verdict"]) for r in results]


def test_small_faces_are_reported_but_not_judged(files, tmp_path, capsys):
    """The astronaut shrunk to 256 px has a face of about 48 px: reported, warned about, undecided;
    --min-face lower judges it; the verdict follows --threshold."""
    small = tmp_path / "small.png"
    cv2.imwrite(str(small), cv2.resize(cv2.imread(str(files["astronaut"])), (256, 256),
                                       interpolation=cv2.INTER_AREA))
    status, (r,) = _run(capsys, small)
    assert status == 0 and len(r["faces"]) == 1 and not r["faces"][0]["judged"]
    assert r["p_fake"] is None and r["verdict"] == "undecided" and "too small" in r["note"]
    assert len(r["warnings"]) == 1 and "below the 80-px minimum" in r["warnings"][0]
    assert cli.main(["detect", str(small)]) == 0
    captured = capsys.readouterr()
    assert "warning" in captured.err and "small.png" in captured.err and "undecided" in captured.out
    status, (r,) = _run(capsys, small, "--min-face", "20")
    assert r["faces"][0]["judged"] and r["p_fake"] == r["faces"][0]["p_fake"]
    p = r["p_fake"]
    for threshold, expected in ((0.0, "fake"), (1.0, "fake" if p >= 1.0 else "real")):
        _, (r,) = _run(capsys, small, "--min-face", "20", "--threshold", str(threshold))
        assert r["verdict"] == expected
    assert detect.verdict(None) == "undecided" and detect.verdict(0.1, 0.1) == "fake"
    assert detect.verdict(0.0999, 0.1) == "real"


def test_folders_are_searched_and_bad_options_refused(files, tmp_path, capsys):
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.png").write_bytes(files["astronaut"].read_bytes())
    (folder / "sub" / "b.png").write_bytes(files["grace_hopper"].read_bytes())
    (folder / "readme.txt").write_text("not an image")
    status, results = _run(capsys, folder)
    assert status == 0 and [r["path"] for r in results] == [str(folder / "a.png"), str(folder / "sub" / "b.png")]
    (tmp_path / "empty").mkdir()
    assert cli.main(["detect", str(tmp_path / "empty")]) == 1
    assert "empty" in capsys.readouterr().err
    assert detect.detect_file(None, folder)["error"].endswith("is a folder (give it to `yangbook detect` to search it)")
    for bad in (["--min-face", "0"], ["--threshold", "1.5"]):
        with pytest.raises(SystemExit) as exit_:
            cli.main(["detect", str(files["astronaut"]), *bad])
        assert exit_.value.code == 2 and bad[0] in capsys.readouterr().err


def test_native_libraries_stay_quiet(files, tmp_path):
    """A truncated PNG and a damaged video: the command prints its own error, naming the file, and
    nothing of libpng's, FFmpeg's or TensorFlow Lite's."""
    png = tmp_path / "truncated.png"
    png.write_bytes(files["astronaut"].read_bytes()[:2000])
    video = tmp_path / "damaged.mp4"
    video.write_bytes(files["video"].read_bytes()[:3000])
    proc = subprocess.run([sys.executable, "-m", "yangbook", "detect", str(png), str(video), str(files["astronaut"])],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "astronaut.png" in proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines and all(ln.startswith("yangbook detect: ") for ln in lines), proc.stderr
    assert any("truncated.png" in ln for ln in lines) and any("damaged.mp4" in ln for ln in lines)


def test_help_needs_no_torch():
    """`yangbook --help` and `yangbook detect --help` import neither PyTorch, OpenCV nor MediaPipe, and
    the defaults that --help states are those of yangbook.detect."""
    code = ("import sys, contextlib, io; from yangbook import cli\n"
            "for argv in (['--help'], ['detect', '--help']):\n"
            "    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
            "        cli.main(argv)\n"
            "print(sorted(m for m in ('torch', 'cv2', 'mediapipe', 'numpy') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"
    assert (cli.DEFAULT_MIN_FACE, cli.DEFAULT_THRESHOLD) == (detect.MIN_FACE, detect.THRESHOLD)
    assert set(cli.RELEASED_NAMES) == set(detect.RELEASED)
    proc = subprocess.run([sys.executable, "-m", "yangbook", "detect", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "--min-face" in proc.stdout and "--threshold" in proc.stdout
    assert "--no-progress" in proc.stdout


def test_the_package_rooms_have_no_import_circle():
    """The modules of yangbook import each other (at module level) without a circle; the command line
    imports none of them until it has parsed its arguments; the tool's modules import no private name
    of another module; and the training machinery and Part I live in modules named for what they hold."""
    import ast
    import importlib
    from pathlib import Path

    import yangbook

    root = Path(yangbook.__file__).parent
    modules = {".".join(p.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__"): p
               for p in root.rglob("*.py")}
    graph, private = {}, []
    for name, path in modules.items():
        deps = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("yangbook"):
                deps.add(node.module)
                deps.update(f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in modules)
                if name in ("yangbook.cli", "yangbook.detect", "yangbook.fullscale"):
                    private += [f"{name}: {node.module}.{a.name}" for a in node.names
                                if a.name.startswith("_") and node.module in ("yangbook.cli", "yangbook.detect",
                                                                             "yangbook.fullscale")]
        graph[name] = {d for d in deps if d in modules and d not in (name, "yangbook")}
    done, active = set(), []

    def visit(n):
        assert n not in active, "import circle: " + " -> ".join(active[active.index(n):] + [n])
        if n in done:
            return
        active.append(n)
        for d in sorted(graph[n]):
            visit(d)
        active.pop()
        done.add(n)

    for n in sorted(graph):
        visit(n)
    assert graph["yangbook.cli"] == set() and "yangbook.cli" not in graph["yangbook.fullscale"]
    assert not private, private
    homes = {"yangbook.deepfake.detector": "Detector", "yangbook.deepfake.loss": "detector_loss",
             "yangbook.deepfake.metrics": "evaluate", "yangbook.deepfake.train": "train_detector",
             "yangbook.deepfake.plots": "plot_roc", "yangbook.deepfake.store": "trained",
             "yangbook.transformer.model": "Transformer", "yangbook.transformer.data": "number_task",
             "yangbook.transformer.batching": "length_batches", "yangbook.transformer.training": "transformer_lr",
             "yangbook.transformer.decoding": "beam_search", "yangbook.transformer.scoring": "score"}
    for module, name in homes.items():
        assert hasattr(importlib.import_module(module), name), (module, name)
