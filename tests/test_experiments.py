"""The Transformer experiments' module: its attention variant, schedule, averaging and runs."""
import math

import pytest
import torch

from yangbook.transformer import MultiHeadAttention, transformer_lr
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
    assert plain.w_q.out_features == 2 * 4 and plain.w_o.in_features == 2 * 4


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
