"""Inference throughput of F3-Net (yangbook.deepfake.frequency) on a CPU.

Images per second at full size (two Xceptions with FAD, LFS and two MixBlocks at 299 x 299) and at the
reduced size the chapter trains (width 1/16, 2 middle blocks, 48 x 48), for the full model and for
the plain Xception of the same size; also FAD and LFS alone at 299. Median of timed batches after a
warm-up; nothing asserted. Run alone with ``python bench/run.py frequency``.
"""
from __future__ import annotations

import torch
from timing import items_per_second, use_all_cores

from yangbook.deepfake.frequency import FAD, LFS, F3Net


def main() -> None:
    torch.manual_seed(0)
    print(f"{use_all_cores()} threads, median of timed batches after a warm-up")
    print("| model | input | batch | images/s |")
    print("|---|---|---|---|")
    full = torch.rand(4, 3, 299, 299) * 2 - 1
    for mode, name in (("mix", "F3-Net, full"), ("rgb", "Xception, full")):
        rate = items_per_second(F3Net(mode=mode), full, repeats=3)
        print(f"| {name} | 299² | 4 | {rate:.2f} |")
    for head, name in ((FAD(299), "FAD alone"), (LFS(299), "LFS alone")):
        rate = items_per_second(head, full, repeats=3)
        print(f"| {name} | 299² | 4 | {rate:.1f} |")
    small = torch.rand(256, 3, 48, 48) * 2 - 1
    for mode, name in (("mix", "F3-Net, reduced"), ("rgb", "Xception, reduced")):
        rate = items_per_second(F3Net(2, 1 / 16, 2, 48, mode), small, repeats=5)
        print(f"| {name} (width 1/16, 2 middle blocks) | 48² | 256 | {rate:.0f} |")


if __name__ == "__main__":
    main()
