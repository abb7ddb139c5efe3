"""Throughput of blink detection (yangbook.deepfake.blink) on a CPU.

MediaPipe's face mesh on the real carphone clip (frames per second, tracking mode, frames enlarged
twice), and the LRCN of In Ictu Oculi at full size (VGG16 on 224 x 224 eye crops, 8-frame sequences) and
at the reduced size the chapter trains (width 1/16, 32 x 32 crops, 150-frame clips). Median of timed
runs after a warm-up; nothing asserted. Run alone with ``python bench/run.py blink``.
"""
from __future__ import annotations

import torch
from timing import median_seconds, use_all_cores

from yangbook.deepfake.blink import LRCN, carphone_path, face_mesh_landmarks
from yangbook.deepfake.realdata import read_video


def main() -> None:
    torch.manual_seed(0)
    print(f"{use_all_cores()} threads, median of timed runs after a warm-up")
    print("| stage | input | frames/s |")
    print("|---|---|---|")
    frames, _ = read_video(carphone_path())
    s = median_seconds(lambda: face_mesh_landmarks(frames), repeats=3)
    print(f"| MediaPipe face mesh (tracking) | {frames.shape[2]}x{frames.shape[1]}, x2 | {len(frames) / s:.0f} |")
    with torch.inference_mode():
        full = LRCN().eval()
        x = torch.rand(1, 8, 3, 224, 224) * 2 - 1
        s = median_seconds(lambda: full(x), repeats=2)
        print(f"| LRCN, full (VGG16 + LSTM 256) | 8 x 224² | {8 / s:.1f} |")
        small = LRCN(width=1 / 16, input_size=32, fc6=64, hidden=32).eval()
        x = torch.rand(8, 150, 3, 32, 32) * 2 - 1
        s = median_seconds(lambda: small(x), repeats=3)
        print(f"| LRCN, reduced (width 1/16, LSTM 32) | 8 x 150 x 32² | {8 * 150 / s:.0f} |")


if __name__ == "__main__":
    main()
