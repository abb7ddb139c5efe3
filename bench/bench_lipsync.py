"""Throughput of SyncNet's offset search (yangbook.deepfake.lipsync) on a CPU.

Clips per second of the whole search (embedding every window of a 2-second clip at 25 fps with both
streams, then the distance curve over +-15 frames), at full size (the released syncnet_v2 model on
224 x 224 mouth frames) and at the reduced size the chapter trains (width 1/16, 64 x 64, 64-d
embeddings). Median of timed runs after a warm-up; nothing asserted. Run alone with
``python bench/run.py lipsync``.
"""
from __future__ import annotations

import torch
from timing import median_seconds, use_all_cores

from yangbook.deepfake.lipsync import SyncNet, clip_embeddings, distance_curve


def search_seconds(model, size: int, clips: int, repeats: int) -> float:
    data = [(torch.rand(50, 3, size, size), torch.randn(13, 200)) for _ in range(clips)]

    def run():
        for v, a in clip_embeddings(model, data, batch=64):
            distance_curve(v, a, 15)

    return median_seconds(run, repeats)


def main() -> None:
    torch.manual_seed(0)
    print(f"{use_all_cores()} threads, median of timed runs after a warm-up")
    print("| model | mouth frames | clips/s (2 s, 46 windows, +-15 frames) |")
    print("|---|---|---|")
    s = search_seconds(SyncNet().eval(), 224, clips=1, repeats=2)
    print(f"| SyncNet, full (syncnet_v2) | 224² | {1 / s:.2f} |")
    s = search_seconds(SyncNet(1 / 16, 64, 64, normalize=True).eval(), 64, clips=8, repeats=3)
    print(f"| SyncNet, reduced (width 1/16) | 64² | {8 / s:.1f} |")


if __name__ == "__main__":
    main()
