"""End-to-end throughput of `yangbook detect` (yangbook.cli): files read, faces found with the Haar
cascade, cropped as FaceForensics++ does, scored by Meso-4 with the released weights.

Images per second over the book's real photographs (the astronaut, Grace Hopper and 20 LFW crops
enlarged to 250 x 250), written as PNG files, in one process; and frames per second on a video.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from yangbook.cli import detect_file, load_detector
from yangbook.deepfake.realdata import load_real_faces


def main() -> None:
    detector = load_detector("meso4-df")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = []
        for f in load_real_faces(n_lfw=20, lfw_size=250):
            paths.append(root / f"{f['name']}.png")
            cv2.imwrite(str(paths[-1]), f["image"][..., ::-1])
        video = root / "clip.mp4"
        astro = load_real_faces(n_lfw=0)[0]["image"]
        out = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (512, 512))
        for k in range(64):
            out.write(np.ascontiguousarray(np.roll(astro, k, axis=1)[..., ::-1]))
        out.release()
        print("| input | threads | files | faces | seconds | per second |")
        print("|---|---|---|---|---|---|")
        for threads in (1, torch.get_num_threads()):
            torch.set_num_threads(threads)
            detect_file(detector, paths[0])  # warm-up
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                results = [detect_file(detector, p) for p in paths]
                best = min(best, time.perf_counter() - start)
            faces = sum(len(r["faces"]) for r in results)
            print(f"| images (PNG, {len(paths)}) | {threads} | {len(paths)} | {faces} | {best:.2f} | "
                  f"{len(paths) / best:.1f} images/s |")
            start = time.perf_counter()
            r = detect_file(detector, video, frames=32)
            dt = time.perf_counter() - start
            print(f"| video 512 x 512, 32 of 64 frames | {threads} | 1 | {len(r['faces'])} | {dt:.2f} | "
                  f"{32 / dt:.1f} frames/s |")


if __name__ == "__main__":
    main()
