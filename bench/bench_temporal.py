"""Inference throughput of the recurrent detector of Güera and Delp (yangbook.deepfake.temporal) on a CPU.

Clips per second at full size (InceptionV3 at 299 x 299 with the 2,048-unit LSTM, clips of 20 frames,
the paper's shortest) and at the reduced size the chapter trains (width 1/8, 76 x 76, LSTM 64, clips of
16 frames); for the reduced model also the sequence model alone on precomputed features, which is what
the chapter trains. Median of timed batches after a warm-up; nothing asserted. Run alone with
``python bench/run.py temporal``.
"""
from __future__ import annotations

import torch
from timing import items_per_second, use_all_cores

from yangbook.deepfake.temporal import InceptionV3Features, RecurrentDetector


def main() -> None:
    torch.manual_seed(0)
    print(f"{use_all_cores()} threads, median of timed batches after a warm-up")
    print("| model | clip | batch | clips/s | frames/s |")
    print("|---|---|---|---|---|")
    full = RecurrentDetector(InceptionV3Features(), min_frames=20)
    rate = items_per_second(full, torch.rand(2, 20, 3, 299, 299) * 2 - 1, repeats=1)
    print(f"| full (InceptionV3 + LSTM 2048) | 20 x 299² | 2 | {rate:.2f} | {20 * rate:.1f} |")
    del full
    encoder = InceptionV3Features(width=1 / 8, input_size=76, bn_momentum=0.1)
    reduced = RecurrentDetector(encoder, hidden=64, fc=16)
    rate = items_per_second(reduced, torch.rand(32, 16, 3, 76, 76) * 2 - 1, repeats=3)
    print(f"| reduced (width 1/8 + LSTM 64) | 16 x 76² | 32 | {rate:.1f} | {16 * rate:.0f} |")
    head = RecurrentDetector(feature_size=encoder.num_features, hidden=64, fc=16)
    rate = items_per_second(head, torch.randn(256, 16, encoder.num_features), repeats=5)
    print(f"| reduced LSTM on features | 16 x {encoder.num_features} | 256 | {rate:.0f} | {16 * rate:.0f} |")


if __name__ == "__main__":
    main()
