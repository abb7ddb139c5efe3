"""Timing helpers shared by the benchmark modules (``bench/bench_*.py``, run through ``bench/run.py``,
which puts this folder on the import path and restores the thread count after each module)."""
from __future__ import annotations

import os
import statistics
import time

import torch


def use_all_cores() -> int:
    """Let torch use every core of the machine (the benchmarks measure the machine, not the pages'
    two threads); returns the thread count."""
    torch.set_num_threads(os.cpu_count() or 1)
    return torch.get_num_threads()


def median_seconds(fn, repeats: int) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls, after one untimed warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def items_per_second(model: torch.nn.Module, x: torch.Tensor, repeats: int) -> float:
    """Inputs of the batch ``x`` per second through ``model`` in evaluation mode, without autograd."""
    model.eval()
    with torch.inference_mode():
        return len(x) / median_seconds(lambda: model(x), repeats)
