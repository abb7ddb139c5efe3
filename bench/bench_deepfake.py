"""Inference throughput of the spatial detectors on a CPU: Meso-4, MesoInception-4 and the full-size
FaceForensics++ Xception, batch 32 at each model's own input size (256 and 299).

A few batches per model (a small warm-up batch, then the median of three timed batches of 32;
one for Xception, which takes seconds per batch); images/s printed, nothing
asserted. Run alone with ``python bench/run.py deepfake``.
"""
from __future__ import annotations

import os
import statistics
import time

import torch

from yangbook.deepfake.mesonet import Meso4, MesoInception4
from yangbook.deepfake.xception import Xception

BATCH = 32


def throughput(model: torch.nn.Module, size: int, repeats: int = 3) -> float:
    """Images per second of ``model`` in evaluation mode on a batch of 32 random images."""
    model.eval()
    x = torch.rand(BATCH, 3, size, size)                    # (32, 3, size, size)
    times = []
    with torch.inference_mode():
        model(x[:2])                                        # warm-up on a small batch
        for _ in range(repeats):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    return BATCH / statistics.median(times)


def main() -> None:
    torch.manual_seed(0)
    previous = torch.get_num_threads()
    torch.set_num_threads(os.cpu_count() or 1)   # all cores, whatever an earlier benchmark set
    try:
        _table()
    finally:
        torch.set_num_threads(previous)


def _table() -> None:
    print(f"batch {BATCH}, {torch.get_num_threads()} threads, median of 3 timed batches (1 for Xception) after a warm-up")
    print(f"{'model':24s} {'input':>9s} {'images/s':>10s}")
    for name, model, size, repeats in (("Meso-4", Meso4(), 256, 3),
                                       ("MesoInception-4", MesoInception4(), 256, 3),
                                       ("Xception (FF++, full)", Xception(num_classes=2), 299, 1)):
        print(f"{name:24s} {size:>4d}x{size:<4d} {throughput(model, size, repeats):10.1f}")


if __name__ == "__main__":
    main()
