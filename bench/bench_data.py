"""Generation throughput of the forgery datasets (yangbook.deepfake.datasets).

Images: 2,000 of 256x256 (1,000 real, 1,000 blended) in at most 10 s on 2 cores, measured in one
process and with a DataLoader of two worker processes.
Clips: 600 clips of 16 frames at 64x64 with their eye and mouth crops in at most 15 s in one process,
for each kind of clip dataset (lip-sync clips also synthesize their speech and its MFCCs; a last row
leaves out the frames, which a lip-sync model does not read).
"""
from __future__ import annotations

import multiprocessing as mp
import time

import torch
from torch.utils.data import DataLoader

from yangbook.deepfake.datasets import FaceClipDataset, FaceForgeryDataset


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


def _half(method: str, lo: int, hi: int, n: int) -> None:
    ds = FaceForgeryDataset("train", method, length=n, size=256, cache=False)
    for i in range(lo, hi):
        ds[i]


def _run_pool(n: int = 2000, method: str = "blend") -> float:
    """Two forked processes, each generating one contiguous half (generation only, nothing sent back)."""
    ctx = mp.get_context("fork")  # fork: the children need no pickling and no re-import
    procs = [ctx.Process(target=_half, args=(method, k * n // 2, (k + 1) * n // 2, n)) for k in range(2)]
    start = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    dt = time.perf_counter() - start
    if any(p.exitcode != 0 for p in procs):
        raise RuntimeError(f"a generating process failed: exit codes {[p.exitcode for p in procs]}")
    return dt


def _clips(kind: str, n: int = 600, frames: int = 16, draw_frames: bool = True) -> float:
    ds = FaceClipDataset("train", kind, length=n, frames=frames, size=64, crops=True, draw_frames=draw_frames,
                         cache=False)
    start = time.perf_counter()
    for i in range(n):
        ds[i]
    return time.perf_counter() - start


def main() -> None:
    torch.set_num_threads(1)
    print("| clips (16 frames, 64x64, 32x32 eyes, 48x48 mouth) | how | clips | seconds | clips/s |")
    print("|---|---|---|---|---|")
    for kind in ("flicker", "blink", "lipsync"):
        dt = _clips(kind)
        print(f"| {kind} | 1 process | 600 | {dt:.1f} | {600 / dt:.0f} |")
    dt = _clips("lipsync", draw_frames=False)  # what a lip-sync model reads: crops, sound, landmarks
    print(f"| lipsync, crops and sound only (no frames) | 1 process | 600 | {dt:.1f} | {600 / dt:.0f} |")
    print()
    print("| method | how | images | seconds | images/s |")
    print("|---|---|---|---|---|")
    for method in ("blend", "upsample"):
        for how, fn in (("1 process", lambda: _run(0, method=method)),
                        ("2 processes, halves", lambda: _run_pool(method=method)),
                        ("DataLoader, 2 workers, batch 50", lambda: _run(2, method=method))):
            dt = fn()
            print(f"| {method} | {how} | 2000 | {dt:.1f} | {2000 / dt:.0f} |")


if __name__ == "__main__":
    main()
