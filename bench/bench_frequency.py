"""Inference throughput of F3-Net (yangbook.deepfake.frequency) on a CPU.

Images per second at full size (two Xceptions with FAD, LFS and two MixBlocks at 299 x 299) and at the
reduced size the chapter trains (width 1/16, 2 middle blocks, 48 x 48), for the full model and for
the plain Xception of the same size; also FAD and LFS alone at 299. Median of timed batches after a
warm-up; nothing asserted. Run alone with ``python bench/run.py frequency``.
"""
from __future__ import annotations

import os
import statistics
import time

import torch

from yangbook.deepfake.frequency import FAD, LFS, F3Net


def images_per_second(model: torch.nn.Module, x: torch.Tensor, repeats: int) -> float:
    model.eval()
    times = []
    with torch.inference_mode():
        model(x[:1])                                        # warm-up
        for _ in range(repeats):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    return len(x) / statistics.median(times)


def main() -> None:
    torch.manual_seed(0)
    previous = torch.get_num_threads()
    torch.set_num_threads(os.cpu_count() or 1)
    try:
        print(f"{torch.get_num_threads()} threads, median of timed batches after a warm-up")
        print("| model | input | batch | images/s |")
        print("|---|---|---|---|")
        full = torch.rand(4, 3, 299, 299) * 2 - 1
        for mode, name in (("mix", "F3-Net, full"), ("rgb", "Xception, full")):
            rate = images_per_second(F3Net(mode=mode), full, repeats=3)
            print(f"| {name} | 299² | 4 | {rate:.2f} |")
        for head, name in ((FAD(299), "FAD alone"), (LFS(299), "LFS alone")):
            rate = images_per_second(head, full, repeats=3)
            print(f"| {name} | 299² | 4 | {rate:.1f} |")
        small = torch.rand(256, 3, 48, 48) * 2 - 1
        for mode, name in (("mix", "F3-Net, reduced"), ("rgb", "Xception, reduced")):
            rate = images_per_second(F3Net(2, 1 / 16, 2, 48, mode), small, repeats=5)
            print(f"| {name} (width 1/16, 2 middle blocks) | 48² | 256 | {rate:.0f} |")
    finally:
        torch.set_num_threads(previous)


if __name__ == "__main__":
    main()
