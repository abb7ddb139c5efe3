"""Time yangbook's Transformer and MultiHeadAttention against PyTorch's modules of the same configuration.

A training step (forward, backward, no optimiser) of ``yangbook.transformer.Transformer`` against
``nn.Transformer`` wrapped with the same embedding, positional encoding and tied output projection, and
``MultiHeadAttention`` against ``nn.MultiheadAttention`` (self-attention with a padding mask, forward +
backward). Runs alternate between the two so that drifting machine load hits both. Prints the median
times and two ratios ours / PyTorch (below 1 means ours is faster): of the medians, and of the fastest
runs (load from other processes only ever adds time, so the minimum is the least noisy estimate).
Everything runs twice: with one thread and with PyTorch's default number of threads.

Then decoding: greedy decoding of 10, 50 and 100 tokens (EOS never stops it) with the key/value cache
(``IncrementalDecoder``), without it (the decoder re-run over the whole prefix at every step), and with
``nn.Transformer`` of the same configuration, which has no cache; and beam search (k = 4) with and
without the cache. Prints milliseconds per decoded batch and the uncached / cached speed-up.
Run alone with ``python bench/run.py transformer``.
"""
from __future__ import annotations

import math
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "code"))
from yangbook.transformer.model import MultiHeadAttention, PositionalEncoding, Transformer
from yangbook.transformer.decoding import beam_search, greedy_decode

VOCAB, D, HEADS, LAYERS, D_FF = 1000, 256, 8, 3, 1024
BATCH, SRC_LEN, TGT_LEN, PAD = 32, 40, 36, 0
REPEATS, MHA_REPEATS, WARMUP = 10, 30, 2


class TorchSeq2Seq(nn.Module):
    """``nn.Transformer`` with the paper's shared, scaled embedding and tied output projection."""

    def __init__(self, dropout):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, D)
        self.pos = PositionalEncoding(D, dropout)
        self.core = nn.Transformer(D, HEADS, LAYERS, LAYERS, D_FF, dropout, batch_first=True)
        self.out = nn.Linear(D, VOCAB, bias=False)
        self.out.weight = self.embed.weight

    def forward(self, src, tgt):
        causal = torch.ones(tgt.size(1), tgt.size(1), dtype=torch.bool).triu(1)  # True = not allowed
        src_pad, tgt_pad = src == PAD, tgt == PAD
        x = self.core(self.pos(self.embed(src) * math.sqrt(D)), self.pos(self.embed(tgt) * math.sqrt(D)),
                      tgt_mask=causal, src_key_padding_mask=src_pad, tgt_key_padding_mask=tgt_pad,
                      memory_key_padding_mask=src_pad)
        return self.out(x)


def _time(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _compare(ours, theirs, repeats=REPEATS):
    for _ in range(WARMUP):
        ours(), theirs()
    t_ours, t_theirs = [], []
    for i in range(repeats):
        if i % 2:
            t_theirs.append(_time(theirs)); t_ours.append(_time(ours))
        else:
            t_ours.append(_time(ours)); t_theirs.append(_time(theirs))
    return t_ours, t_theirs


def _row(name, t_ours, t_theirs):
    a, b = statistics.median(t_ours), statistics.median(t_theirs)
    print(f"{name:<44} {a * 1e3:>9.2f} {b * 1e3:>9.2f} {a / b:>8.2f} {min(t_ours) / min(t_theirs):>8.2f}")


def _batch():
    g = torch.Generator().manual_seed(0)
    src = torch.randint(4, VOCAB, (BATCH, SRC_LEN), generator=g)
    tgt = torch.randint(4, VOCAB, (BATCH, TGT_LEN), generator=g)
    for i in range(BATCH):                       # sentences of different lengths, padded
        src[i, SRC_LEN - i % 8:] = PAD
        tgt[i, TGT_LEN - i % 6:] = PAD
    return src, tgt


def main() -> None:
    default_threads = torch.get_num_threads()
    for threads in dict.fromkeys((1, default_threads)):
        torch.set_num_threads(threads)
        _run(threads)
    torch.set_num_threads(default_threads)


def _run(threads) -> None:
    torch.manual_seed(0)
    src, tgt = _batch()
    _decoding(threads)
    print(f"\n{threads} thread(s); {REPEATS} runs per model ({MHA_REPEATS} for attention), alternating")
    print(f"Transformer: d_model {D}, {HEADS} heads, {LAYERS}+{LAYERS} layers, d_ff {D_FF}, vocab {VOCAB}, "
          f"batch {BATCH}x{SRC_LEN} -> {BATCH}x{TGT_LEN}")
    print(f"{'benchmark':<44} {'ours ms':>9} {'torch ms':>9} {'ratio':>8} {'min ratio':>8}")
    for dropout in (0.1, 0.0):
        ours = Transformer(VOCAB, VOCAB, D, HEADS, LAYERS, D_FF, dropout, pad_id=PAD).train()
        theirs = TorchSeq2Seq(dropout).train()

        def step(model):
            def run():
                model.zero_grad(set_to_none=True)
                logits = model(src, tgt)
                nn.functional.cross_entropy(logits.reshape(-1, VOCAB), tgt.reshape(-1)).backward()
            return run

        _row(f"training step (fwd+bwd), dropout {dropout}", *_compare(step(ours), step(theirs)))

    x = torch.randn(BATCH, SRC_LEN, D, requires_grad=True)
    pad = src == PAD
    ours_mha, torch_mha = MultiHeadAttention(D, HEADS), nn.MultiheadAttention(D, HEADS, batch_first=True)
    allowed = ~pad[:, None, None, :]

    def run_ours():
        ours_mha(x, x, x, allowed).sum().backward()

    def run_torch():
        torch_mha(x, x, x, key_padding_mask=pad, need_weights=False)[0].sum().backward()

    _row("MultiHeadAttention fwd+bwd (self, padded)", *_compare(run_ours, run_torch, MHA_REPEATS))
    with torch.no_grad():
        _row("MultiHeadAttention forward only", *_compare(lambda: ours_mha(x, x, x, allowed),
                                                          lambda: torch_mha(x, x, x, key_padding_mask=pad,
                                                                            need_weights=False), MHA_REPEATS))


DECODE_BATCH, DECODE_LENGTHS, DECODE_REPEATS = 8, (10, 50, 100), 3


@torch.no_grad()
def _torch_greedy(model, src, n):
    """Greedy decoding with ``nn.Transformer``: encode once, re-run the decoder over the prefix every step."""
    src_pad = src == PAD
    memory = model.core.encoder(model.pos(model.embed(src) * math.sqrt(D)), src_key_padding_mask=src_pad)
    ys = torch.ones(src.size(0), 1, dtype=torch.long)
    for _ in range(n):
        t = ys.size(1)
        causal = torch.ones(t, t, dtype=torch.bool).triu(1)
        x = model.core.decoder(model.pos(model.embed(ys) * math.sqrt(D)), memory, tgt_mask=causal,
                               memory_key_padding_mask=src_pad)
        ys = torch.cat([ys, model.out(x[:, -1]).argmax(-1, keepdim=True)], dim=1)
    return ys


def _best(fn, repeats=DECODE_REPEATS):
    fn()
    return min(_time(fn) for _ in range(repeats))


def _decoding(threads) -> None:
    torch.manual_seed(0)
    ours = Transformer(VOCAB, VOCAB, D, HEADS, LAYERS, D_FF, 0.1, pad_id=PAD).eval()
    theirs = TorchSeq2Seq(0.1).eval()
    theirs.core.encoder.use_nested_tensor = False   # its padded fast path is a prototype, and warns
    src = _batch()[0][:DECODE_BATCH]
    print(f"\ndecoding, {threads} thread(s): batch {DECODE_BATCH}, fastest of {DECODE_REPEATS} runs, ms per batch")
    print(f"{'tokens':>6} {'cached':>9} {'uncached':>9} {'nn.Transformer':>15} {'speed-up':>9} "
          f"{'beam cached':>12} {'beam uncached':>14} {'speed-up':>9}")
    for n in DECODE_LENGTHS:
        cached = _best(lambda: greedy_decode(ours, src, eos_id=-1, max_len=n, cache=True))
        full = _best(lambda: greedy_decode(ours, src, eos_id=-1, max_len=n, cache=False))
        torch_full = _best(lambda: _torch_greedy(theirs, src, n))
        beam_c = _best(lambda: beam_search(ours, src, eos_id=-1, beam_size=4, max_len=n, cache=True))
        beam_f = _best(lambda: beam_search(ours, src, eos_id=-1, beam_size=4, max_len=n, cache=False))
        print(f"{n:6d} {cached * 1e3:9.1f} {full * 1e3:9.1f} {torch_full * 1e3:15.1f} {full / cached:8.1f}x "
              f"{beam_c * 1e3:12.1f} {beam_f * 1e3:14.1f} {beam_f / beam_c:8.1f}x")


if __name__ == "__main__":
    main()
