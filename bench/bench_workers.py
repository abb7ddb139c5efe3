"""Training small networks two at a time in one-thread worker processes (``run_in_workers``, used by
the benchmark and the Xception chapter) against one after another in one process on two threads.

The 24 main runs of the benchmark's protocol (its four image detectors, three seeds, two levels):
first in this process on two threads in the default memory layout, as the pages trained before,
then through ``run_in_workers`` as the benchmark trains them (two processes of one thread each,
channels-last tensors, into a temporary store). Prints both wall times and their ratio; nothing
asserted. Run alone with ``python bench/run.py workers``.
"""
from __future__ import annotations

import os
import tempfile
import time

import torch

from yangbook.deepfake.benchmark import IMAGE_DETECTORS, PROTOCOL, image_set, store_image_detector
from yangbook.deepfake.frequency import recalibrate_batch_norm
from yangbook.deepfake.detector import Detector
from yangbook.deepfake.train import ImageBatches, train_detector
from yangbook.utils import run_in_workers, set_seed


def main() -> None:
    p = PROTOCOL
    data = {level: image_set("train", "all", level, p["train_images"], p["size"]) for level in p["levels"]}
    jobs = [(name, "all", level, seed, p, data[level]) for name in IMAGE_DETECTORS for level in p["levels"]
            for seed in p["seeds"]]
    torch.set_num_threads(2)
    start = time.perf_counter()
    for name, _, _, seed, _, (x, y, _) in jobs:
        set_seed(seed)
        detector = Detector(IMAGE_DETECTORS[name](p["size"]))
        train_detector(detector, ImageBatches(x, y, p["batch_size"], shuffle=True, seed=seed), None,
                       epochs=p["epochs"], lr=p["lr"], verbose=False)
        recalibrate_batch_norm(detector, ImageBatches(x, y, 64, shuffle=True, seed=seed))
    one = time.perf_counter() - start
    before = os.environ.get("YANGBOOK_STORE")
    with tempfile.TemporaryDirectory() as store:
        os.environ["YANGBOOK_STORE"] = store      # an empty store, so that every run trains
        try:
            start = time.perf_counter()
            run_in_workers(store_image_detector, jobs)
            two = time.perf_counter() - start
        finally:
            if before is None:
                del os.environ["YANGBOOK_STORE"]
            else:
                os.environ["YANGBOOK_STORE"] = before
    print(f"| {len(jobs)} benchmark runs | wall time (s) |")
    print("|---|---|")
    print(f"| one process, two threads | {one:.1f} |")
    print(f"| two one-thread workers, channels-last (process start included) | {two:.1f} |")
    print(f"speed-up {one / two:.2f}x")


if __name__ == "__main__":
    main()
