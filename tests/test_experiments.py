"""The Transformer experiments' module: its attention variant, schedule, averaging and runs."""
import math

import pytest
import torch

from yangbook.transformer.model import MultiHeadAttention
from yangbook.transformer.training import transformer_lr
from yangbook.transformer_experiments import (BASE, VariantAttention, average_checkpoints, build, check_config,
                                              learning_rate, run)


def test_the_variant_with_the_papers_sizes_is_the_books_attention():
    torch.manual_seed(0)
    ours, variant = MultiHeadAttention(16, 4).eval(), VariantAttention(16, 4).eval()
    variant.load_state_dict(ours.state_dict())
    x = torch.randn(2, 5, 16)
    mask = torch.ones(2, 1, 1, 5, dtype=torch.bool)
    mask[1, ..., 3:] = False
    torch.testing.assert_close(variant(x, x, x, mask), ours(x, x, x, mask))


def test_no_scaling_equals_scaling_with_queries_multiplied_by_sqrt_dk():
    torch.manual_seed(0)
    plain, scaled = VariantAttention(16, 2, d_k=4, scaled=False).eval(), VariantAttention(16, 2, d_k=4).eval()
    scaled.load_state_dict(plain.state_dict())
    with torch.no_grad():                       # softmax(q k^T) = softmax((2 q) k^T / sqrt(4))
        scaled.w_q.weight.mul_(math.sqrt(4))
        scaled.w_q.bias.mul_(math.sqrt(4))
    x, m = torch.randn(3, 6, 16), torch.randn(3, 4, 16)
    torch.testing.assert_close(plain(x, m, m), scaled(x, m, m))
    assert plain.w_q.out_features == 2 * 4 and plain.w_k.out_features == 2 * 4
    # the values keep the paper's width d_model / h (Table 3, rows (B), change d_k alone)
    assert plain.w_v.out_features == 2 * 8 and plain.w_o.in_features == 2 * 8


def test_a_free_dk_changes_the_projections_and_keeps_the_shapes():
    model = build(check_config({"d_k": 4}), vocab_size=20)
    attn = model.encoder[0].self_attn
    assert isinstance(attn, VariantAttention) and attn.w_q.weight.shape == (4 * 4, 32)
    out = model(torch.randint(1, 20, (2, 7)), torch.randint(1, 20, (2, 5)))
    assert out.shape == (2, 5, 20)
    assert not isinstance(build(check_config({}), 20).encoder[0].self_attn, VariantAttention)


def test_bad_configs_are_refused_by_name():
    with pytest.raises(ValueError, match="unknown keys.*'head'"):
        check_config({"head": 2})
    with pytest.raises(ValueError, match="d_model=32 is not a multiple of heads=5"):
        check_config({"heads": 5})
    with pytest.raises(ValueError, match="cannot hold 5 checkpoints"):
        check_config({"steps": 50})
    with pytest.raises(ValueError, match="d_k must be a positive integer"):
        VariantAttention(16, 4, d_k=0)


def test_no_warm_up_starts_at_the_peak_and_then_follows_the_same_decay():
    with_warmup, without = check_config({}), check_config({"warmup": 0})
    peak = transformer_lr(BASE["warmup"], BASE["d_model"], BASE["warmup"], BASE["factor"])
    assert learning_rate(1, without) == pytest.approx(peak)
    assert learning_rate(1, with_warmup) == pytest.approx(peak / BASE["warmup"])
    for step in (BASE["warmup"], 2 * BASE["warmup"], 1000):
        assert learning_rate(step, without) == pytest.approx(learning_rate(step, with_warmup))


def test_averaging_two_checkpoints_gives_their_midpoint():
    a, b = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    mean = average_checkpoints([a.state_dict(), b.state_dict()])
    torch.testing.assert_close(mean["weight"], (a.weight + b.weight).detach() / 2)


def test_a_run_is_repeatable_and_measures_the_averaged_checkpoints():
    config = {"steps": 12, "every": 2, "checkpoints": 3, "decode": True}
    first, second = run(config, seed=1), run(config, seed=1)
    assert len(first["loss"]) == 12 and first["loss"] == second["loss"]
    assert first["ce"] == second["ce"] and 0 <= first["acc"] <= 1 and 0 <= first["exact"] <= 1
    assert first["avg_ce"] != first["ce"]        # three different checkpoints were averaged
    assert run(config, seed=2)["loss"] != first["loss"]


def test_row_b_counts_match_the_papers_with_values_of_full_width():
    """Table 3 (B): d_k = 16 and 32 at the base's sizes give the paper's 58M and 60M only when d_v
    stays 64; with d_v = d_k (the old variant) they would be far below. Counted on the real layers."""
    def attention(d_k, d_v=None):
        return sum(p.numel() for p in VariantAttention(512, 8, d_k=d_k, d_v=d_v).parameters())
    base = attention(None)
    # 6 encoder layers (1 attention) + 6 decoder layers (2 attentions) = 18 attentions
    for d_k, paper_millions in ((16, 58), (32, 60)):
        drop = 18 * (base - attention(d_k)) / 1e6
        assert round(65 - drop) == paper_millions, (d_k, drop)
        tied = 18 * (base - attention(d_k, d_v=d_k)) / 1e6
        assert round(65 - tied) <= paper_millions - 4, (d_k, tied)


@pytest.mark.parametrize("config", [{}, {"norm_first": True}, {"heads": 1}, {"heads": 8}, {"heads": 16},
                                    {"d_k": 4}, {"d_k": 16}, {"scaled": False}, {"scaled": False, "d_k": 16}],
                         ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "base")
def test_cached_decoding_is_the_models_own_for_every_variant(config):
    """Every attention the experiments build decodes the same with the cache as without it: the
    first step's logits agree with the full decoder's, and so do greedy outputs."""
    from yangbook.transformer.model import padding_mask
    from yangbook.transformer.decoding import IncrementalDecoder, greedy_decode
    torch.manual_seed(0)
    model = build(check_config({**config, "dropout": 0.0}), vocab_size=20).eval()
    with torch.no_grad():                      # larger weights, so that a wrong scale shows
        for p in model.parameters():
            p.mul_(3.0)
    src = torch.randint(3, 20, (3, 6))
    src[2, 4:] = 0                             # padding in one row
    mask = padding_mask(src, 0)
    memory = model.encode(src, mask)
    bos = torch.full((3, 1), 1, dtype=torch.long)
    with torch.no_grad():
        full = model.decode(bos, memory, mask)[:, -1]
        cached = IncrementalDecoder(model, memory, mask).step(bos[:, 0])
    torch.testing.assert_close(cached, full, atol=1e-4, rtol=1e-4)
    assert greedy_decode(model, src, max_len=8, eos_id=-1, cache=True) == \
           greedy_decode(model, src, max_len=8, eos_id=-1, cache=False)


def test_the_cache_refuses_an_attention_it_cannot_serve():
    from yangbook.transformer.model import padding_mask
    from yangbook.transformer.decoding import IncrementalDecoder

    class Foreign(torch.nn.Module):
        def forward(self, q, k, v, mask=None):
            return q

    model = build(check_config({}), vocab_size=20).eval()
    model.decoder[0].cross_attn = Foreign()
    src = torch.randint(3, 20, (2, 5))
    with pytest.raises(TypeError, match="decoder layer 0's cross_attn is a Foreign"):
        IncrementalDecoder(model, model.encode(src, padding_mask(src, 0)), padding_mask(src, 0))


def test_the_papers_bias_free_projections_can_be_built():
    """attn_bias=False reaches every attention projection (4 per attention, 3 attentions a layer pair)
    and nothing else: the feed-forward networks keep their biases, as in the paper's FFN."""
    from yangbook.transformer.model import Transformer
    kw = dict(d_model=32, num_heads=4, num_layers=2, d_ff=64)
    with_bias, without = Transformer(20, 20, **kw), Transformer(20, 20, attn_bias=False, **kw)
    attentions = [m for m in without.modules() if isinstance(m, MultiHeadAttention)]
    assert len(attentions) == 2 * 3 and all(lin.bias is None for a in attentions
                                            for lin in (a.w_q, a.w_k, a.w_v, a.w_o))
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(with_bias) - count(without) == 6 * 4 * 32
