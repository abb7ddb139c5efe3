"""Generation throughput of the forgery datasets (yangbook.deepfake.data).

The issue's target: 2,000 images of 256x256 (1,000 real, 1,000 blended) in at most 10 s on 2 cores.
Measured in one process and with a DataLoader of two worker processes.
"""
from __future__ import annotations

import time

import torch
from torch.utils.data import DataLoader

from yangbook.deepfake.data import FaceForgeryDataset


def _run(num_workers: int, n: int = 2000, method: str = "blend") -> float:
    ds = FaceForgeryDataset("train", method, length=n, size=256, cache=False)
    start = time.perf_counter()
    if num_workers == 0:
        for i in range(n):
            ds[i]
    else:
        # contiguous chunks per worker, so that a pair's fake reuses its real's rendering
        loader = DataLoader(ds, batch_size=50, num_workers=num_workers, shuffle=False)
        for _ in loader:
            pass
    return time.perf_counter() - start


def main() -> None:
    torch.set_num_threads(1)
    print("| method | processes | images | seconds | images/s |")
    print("|---|---|---|---|---|")
    for method in ("blend", "upsample"):
        for workers in (0, 2):
            dt = _run(workers, method=method)
            print(f"| {method} | {max(workers, 1)} | 2000 | {dt:.1f} | {2000 / dt:.0f} |")


if __name__ == "__main__":
    main()
