"""End-to-end throughput of `yangbook detect` (yangbook.detect): files read, faces found, cropped as
FaceForensics++ does, scored by Meso-4 with the released weights; before and after the face detector
changed, on the same machine in the same run.

"before": the earlier edition's pipeline, OpenCV's Haar cascade (windows from 24 px) in place of
BlazeFace, everything else the same (the same crop and the same model, called the same way).
"after": `detect_file` as the command runs it (BlazeFace's near and far models).

Images per second over the book's real photographs (the astronaut, Grace Hopper and 20 LFW crops
enlarged to 250 x 250) written as PNG files, and over the astronaut at 2048 x 2048; frames per second
on a video.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from yangbook.deepfake.realdata import crop_face, load_real_faces
from yangbook.detect import input_size, load_detector, read_image, detect_file

_HAAR = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"))


def haar_detect_file(detector, path) -> int:
    """The earlier edition's `detect` on one image: Haar boxes, each cropped and scored; faces found."""
    image = read_image(path)
    boxes = np.asarray(_HAAR.detectMultiScale(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), 1.1, 5,
                                              minSize=(24, 24))).reshape(-1, 4)
    if len(boxes):
        size = input_size(detector)
        crops = np.stack([crop_face(image, b, size=size)[0] for b in boxes])
        with torch.no_grad():
            detector.p_fake(torch.from_numpy(crops.transpose(0, 3, 1, 2).copy()).float() / 255)
    return len(boxes)


def _best(fn, paths, repeats=3):
    fn(paths[0])  # warm-up
    best, faces = float("inf"), 0
    for _ in range(repeats):
        start = time.perf_counter()
        faces = sum(fn(p) for p in paths)
        best = min(best, time.perf_counter() - start)
    return best, faces


def main() -> None:
    detector = load_detector("meso4-df")
    pipelines = {
        "before (Haar)": lambda p: haar_detect_file(detector, p),
        "after (BlazeFace)": lambda p: len(detect_file(detector, p)["faces"]),
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = []
        for f in load_real_faces(n_lfw=20, lfw_size=250):
            paths.append(root / f"{f['name']}.png")
            cv2.imwrite(str(paths[-1]), f["image"][..., ::-1])
        astro = load_real_faces(n_lfw=0)[0]["image"]
        large = root / "astronaut_2048.png"
        cv2.imwrite(str(large), cv2.resize(astro, (2048, 2048), interpolation=cv2.INTER_CUBIC)[..., ::-1])
        video = root / "clip.mp4"
        out = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (512, 512))
        for k in range(64):
            out.write(np.ascontiguousarray(np.roll(astro, k, axis=1)[..., ::-1]))
        out.release()
        print("| pipeline | input | threads | files | faces | seconds | per second |")
        print("|---|---|---|---|---|---|---|")
        for threads in sorted({1, torch.get_num_threads()}):
            torch.set_num_threads(threads)
            cv2.setNumThreads(threads)
            for name, fn in pipelines.items():
                for label, files in ((f"images (PNG, {len(paths)})", paths), ("astronaut 2048 x 2048", [large])):
                    best, faces = _best(fn, files)
                    print(f"| {name} | {label} | {threads} | {len(files)} | {faces} | {best:.2f} | "
                          f"{len(files) / best:.1f} images/s |")
            start = time.perf_counter()
            r = detect_file(detector, video, frames=32)
            dt = time.perf_counter() - start
            print(f"| after (BlazeFace) | video 512 x 512, 32 of 64 frames | {threads} | 1 | {len(r['faces'])} | "
                  f"{dt:.2f} | {32 / dt:.1f} frames/s |")


if __name__ == "__main__":
    main()
