"""Tests of F3-Net (yangbook.deepfake.frequency; book/deepfake/frequency.md).

The references are outside the code under test: SciPy's DCT (a fast transform, not a matrix) for the
transform, the bands and the local statistics; the parameter counts of the full model and its parts
counted from the public re-implementations (../shared/research/deepfake.md §4.2) and the Xception
chapter's FaceForensics++ count; the paper's stage sizes (block 7: 728 x 19 x 19, block 12:
1024 x 10 x 10, LFS map 149 x 149 x 6 for 299 x 299); and batch statistics computed by hand.
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.fft
import torch
from torch import nn

from yangbook.deepfake import frequency as FQ
from yangbook.utils import count_parameters


def test_full_size_counts_match_the_reference():
    full = FQ.F3Net()
    assert count_parameters(full) == 48_319_026
    assert count_parameters(full.heads["fad"]) == 4 * 299 * 299             # 357,604 learnable filter values
    assert count_parameters(full.heads["lfs"]) == 6 * 10 * 10
    assert count_parameters(full.mix7) == 2_128_674
    assert count_parameters(full.mix12) == 4_206_594
    assert count_parameters(FQ.F3Net(mode="rgb")) == 20_811_050              # FaceForensics++'s Xception
    # the DCT matrices and masks are buffers: nothing fixed is a parameter
    assert all(p.requires_grad for p in full.parameters())
    fixed = sum(b.numel() for m in full.heads.values() for n, b in m.named_buffers() if n != "basis")
    assert fixed == 299 ** 2 + 4 * 299 ** 2 + 10 ** 2 + 6 * 10 ** 2


@pytest.mark.parametrize("n", [2, 7, 48, 64])
def test_dct_matrix_is_scipys_orthonormal_dct(n):
    x = np.random.default_rng(n).normal(size=(n, n))
    d = FQ.dct_matrix(n).double()
    np.testing.assert_allclose((d @ torch.from_numpy(x) @ d.T).numpy(), scipy.fft.dctn(x, norm="ortho"), atol=1e-6)
    np.testing.assert_allclose((d @ d.T).numpy(), np.eye(n), atol=1e-6)


@pytest.mark.parametrize("n", [32, 48, 64, 299])
def test_fad_bands_cover_a_sixteenth_each_and_reconstruct(n):
    fad = FQ.FAD(n)
    nn.init.zeros_(fad.weight)
    shares = fad.base[:3].mean((1, 2)).numpy()
    np.testing.assert_allclose(shares[:2], [1 / 16, 1 / 16], atol=0.01)       # low: first 1/16; middle: to 1/8
    np.testing.assert_allclose(fad.base[:3].sum(0).numpy(), 1)                # a partition of the spectrum
    x = torch.rand(2, 3, n, n) * 2 - 1
    with torch.no_grad():
        y = fad(x)
    assert y.shape == (2, 12, n, n)
    assert (y[:, 9:] - x).abs().max() < 1e-5                                 # all-pass band
    assert (y[:, :3] + y[:, 3:6] + y[:, 6:9] - x).abs().max() < 1e-5
    X = scipy.fft.dctn(x.numpy().astype(np.float64), axes=(-2, -1), norm="ortho")
    t = np.add.outer(np.arange(n), np.arange(n))
    high = np.where(t >= fad.edges[2], X, 0)
    np.testing.assert_allclose(y[:, 6:9].numpy(), scipy.fft.idctn(high, axes=(-2, -1), norm="ortho"), atol=1e-5)


def test_fad_learnable_part_is_bounded_and_trained():
    fad = FQ.FAD(32)
    with torch.no_grad():
        fad.weight.fill_(50.0)
    assert torch.allclose(fad.filters(), fad.base + 1)                        # 2 sigmoid(w) - 1 < 1
    fad.weight.grad = None
    fad(torch.rand(1, 3, 32, 32) * 2 - 1).sum().backward()
    assert fad.weight.grad is not None and fad.dct.grad is None


def test_lfs_matches_unfolded_windows_through_scipy():
    lfs = FQ.LFS(48)
    x = torch.rand(2, 3, 48, 48) * 2 - 1
    with torch.no_grad():
        q = lfs(x)
    assert q.shape == (2, 6, 24, 24)
    grey = ((0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]) + 1) * 127.5
    win = torch.nn.functional.unfold(grey[:, None], 10, padding=4, stride=2).transpose(1, 2).reshape(2, -1, 10, 10)
    C = np.abs(scipy.fft.dctn(win.numpy().astype(np.float64), axes=(-2, -1), norm="ortho"))
    filters = (lfs.base + FQ.signed_sigmoid(lfs.weight)).abs().detach().numpy()
    ref = np.stack([np.log10((C * f).sum((2, 3)) / b.sum() + 1e-3) for f, b in zip(filters, lfs.base.numpy())], 1)
    np.testing.assert_allclose(q.numpy(), ref.reshape(2, 6, 24, 24), atol=1e-4)
    assert lfs.base.sum() == 100                                             # every coefficient in one band


def test_paper_sizes_at_299():
    assert FQ.LFS(299).side == 149
    full = FQ.F3Net().eval()
    shapes = {}

    def record(key):
        def hook(module, inputs, output):
            shapes[key] = [t.shape[1:] for t in inputs]
        return hook

    hooks = [full.mix7.register_forward_hook(record("7")), full.mix12.register_forward_hook(record("12"))]
    with torch.no_grad():
        out = full(torch.rand(1, 3, 299, 299) * 2 - 1)
    for h in hooks:
        h.remove()
    assert out.shape == (1, 2)
    assert shapes["7"] == [torch.Size([728, 19, 19])] * 2
    assert shapes["12"] == [torch.Size([1024, 10, 10])] * 2


def test_mixblock_starts_as_identity_and_mixes_once_opened():
    mix = FQ.MixBlock(8)
    f, l = torch.randn(2, 8, 5, 5), torch.randn(2, 8, 5, 5)
    f2, l2 = mix(f, l)            # training mode: the batch norm removes the constant the closed gate leaves
    assert torch.allclose(f2, f, atol=1e-3) and torch.allclose(l2, l, atol=1e-3)   # 2 sigmoid(0) - 1 = 0
    with torch.no_grad():
        mix.gate_lfs.fill_(3.0)
    f3, _ = mix(f, l)
    assert not torch.allclose(f3, f)
    with pytest.raises(ValueError, match="one shape"):
        mix(f, torch.randn(2, 8, 4, 4))


@pytest.mark.parametrize("mode", FQ.F3Net.MODES)
def test_reduced_variants_run_and_train(mode):
    torch.manual_seed(0)
    net = FQ.F3Net(2, 1 / 16, 2, 48, mode)
    x = torch.rand(4, 3, 48, 48) * 2 - 1
    loss = nn.functional.cross_entropy(net(x), torch.tensor([0, 1, 0, 1]))
    loss.backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None for g in grads if g is not None) and sum(g is not None for g in grads) > 0
    for name in ("fad", "lfs"):
        if name in net.heads:
            assert net.heads[name].weight.grad is not None and net.heads[name].weight.grad.abs().sum() > 0


def test_bad_inputs_name_the_fault():
    net = FQ.F3Net(2, 1 / 16, 2, 48).eval()
    with pytest.raises(ValueError, match=r"built for 48x48 inputs.*got \(64, 64\)"):
        net(torch.zeros(1, 3, 64, 64))
    with pytest.raises(ValueError, match="grey image"):
        net(torch.zeros(1, 1, 48, 48))
    with pytest.raises(ValueError, match=r"\[-1, 1\].*255"):
        net(torch.full((1, 3, 48, 48), 255.0))
    with pytest.raises(ValueError, match=r"shape \(N, 3, 48, 48\)"):
        net(torch.zeros(3, 48, 48))
    with pytest.raises(ValueError, match="mode"):
        FQ.F3Net(mode="dct")
    with pytest.raises(ValueError, match="DCT matrix"):
        FQ.FAD(32)(torch.zeros(1, 3, 48, 48))
    with pytest.raises(ValueError, match="window"):
        FQ.LFS(8, window=10)


def test_recalibrated_batch_norm_holds_the_data_statistics():
    torch.manual_seed(0)
    data = torch.randn(4, 25, 3, 6, 6) * torch.tensor([1.0, 2.0, 3.0]).view(1, 1, 3, 1, 1) + 5.0
    bn = nn.BatchNorm2d(3, momentum=0.1)
    model = nn.Sequential(bn)
    FQ.recalibrate_batch_norm(model, iter(list(data)), n_batches=4)
    assert not model.training and bn.momentum == 0.1
    flat = data.permute(2, 0, 1, 3, 4).reshape(3, 4, -1)                       # (channel, batch, values)
    np.testing.assert_allclose(bn.running_mean.numpy(), flat.mean((1, 2)).numpy(), atol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), flat.var(2, unbiased=True).mean(1).numpy(), rtol=1e-4)
    with pytest.raises(ValueError, match="nothing"):
        FQ.recalibrate_batch_norm(model, [])
