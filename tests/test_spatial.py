"""Part II spatial detectors: MesoNet (against the authors' released Keras weights), the
FaceForensics++ Xception (against the published parameter counts) and the shared training loop."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


from yangbook.deepfake.mesonet import (InceptionLayer, Meso4, MesoInception4, load_keras_weights, released_weights,
                                       saliency_map)
from yangbook.deepfake.detector import Detector
from yangbook.deepfake.loss import detector_loss
from yangbook.deepfake.metrics import EvalResult, evaluate
from yangbook.deepfake.train import train_detector
from yangbook.deepfake.xception import SeparableConv2d, Xception, XceptionBlock, count_macs
from yangbook.utils import count_parameters, set_seed

# the released weights and the Keras outputs ship with the package (yangbook/weights/mesonet)
PARITY = released_weights().parent / "parity"
WEIGHTS = {"Meso4_DF": Meso4, "Meso4_F2F": Meso4,
           "MesoInception_DF": MesoInception4, "MesoInception_F2F": MesoInception4}


# --- parameter counts: the papers' and the original code's numbers -------------------------------

def test_mesonet_parameter_counts():
    # Keras' trainable counts of the authors' models (BN moving statistics are buffers here)
    assert count_parameters(Meso4()) == 27_977
    assert count_parameters(MesoInception4()) == 28_615
    assert sum(b.numel() for k, b in Meso4().named_buffers() if "running" in k) == 96
    assert sum(b.numel() for k, b in MesoInception4().named_buffers() if "running" in k) == 110
    # the MesoNet chapter's 128-pixel Meso-4 (the count its prose gives): only the first dense layer
    # shrinks, from a 16x8x8 to a 16x4x4 input, 16 outputs each: 27,977 - (1,024 - 256) * 16 = 15,689
    assert count_parameters(Meso4(input_size=128)) == 27_977 - (16 * 8 * 8 - 16 * 4 * 4) * 16 == 15_689


def test_xception_parameter_counts():
    assert count_parameters(Xception(num_classes=2)) == 20_811_050        # FaceForensics++ head
    assert count_parameters(Xception(num_classes=1000)) == 22_855_952     # Keras' ImageNet Xception
    small = Xception(2, width=0.125, middle_blocks=2, input_size=128)
    assert count_parameters(small) < count_parameters(Xception()) / 50


# --- shapes, ranges, structure --------------------------------------------------------------------

@pytest.mark.parametrize("cls", [Meso4, MesoInception4])
def test_mesonet_shapes_and_range(cls):
    model = cls().eval()
    x = torch.rand(2, 3, 256, 256)
    with torch.no_grad():
        assert model.features(x).shape == (2, 16, 8, 8)
        y = model(x)
        assert y.shape == (2, 1)
        assert ((y >= 0) & (y <= 1)).all()
        assert torch.allclose(y, torch.sigmoid(model.logit(x)))
    small = cls(input_size=128).eval()
    with torch.no_grad():
        assert small(torch.rand(1, 3, 128, 128)).shape == (1, 1)


def test_mesonet_keras_details():
    model = MesoInception4()
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(bns) == 4 and all(bn.eps == 1e-3 for bn in bns)
    assert model.head.act.negative_slope == 0.1
    assert [m.p for m in model.modules() if isinstance(m, nn.Dropout)] == [0.5, 0.5]
    inc = model.features[0]
    assert isinstance(inc, InceptionLayer)
    assert [inc.c[1][0].dilation, inc.d[1][0].dilation] == [(2, 2), (3, 3)]
    # BN after the ReLU in the plain conv blocks
    block = Meso4().features[0]
    assert [type(m) for m in block] == [nn.Conv2d, nn.ReLU, nn.BatchNorm2d]


def test_xception_block_structure():
    model = Xception()
    entry_blocks = [m for m in model.entry if isinstance(m, XceptionBlock)]
    exit_blocks = [m for m in model.exit if isinstance(m, XceptionBlock)]
    assert len(entry_blocks) == 3 and len(model.middle) == 8 and len(exit_blocks) == 1
    widths = [b.rep[-2].num_features if isinstance(b.rep[-1], nn.MaxPool2d) else b.rep[-1].num_features
              for b in entry_blocks]
    assert widths == [128, 256, 728]
    for block in model.middle:
        assert isinstance(block.skip, nn.Identity)
        seps = [m for m in block.rep if isinstance(m, SeparableConv2d)]
        assert len(seps) == 3 and isinstance(block.rep[0], nn.ReLU)
        assert all(s.depthwise.groups == 728 and s.pointwise.kernel_size == (1, 1) for s in seps)
    assert not isinstance(entry_blocks[0].rep[0], nn.ReLU)          # the first block starts without ReLU
    assert [type(m) for m in model.exit[1:]].count(SeparableConv2d) == 2
    assert model.fc.in_features == 2048 and model.fc.out_features == 2


def test_xception_forward_at_299():
    model = Xception().eval()
    x = torch.rand(1, 3, 299, 299) * 2 - 1
    with torch.no_grad():
        assert model.features(x).shape == (1, 2048, 10, 10)
        assert model(x).shape == (1, 2)


def test_separable_conv_against_standard_conv():
    # a depthwise-separable conv equals a standard conv whose kernel is the product of the two
    set_seed(0)
    sep = SeparableConv2d(4, 6, 3)
    std = nn.Conv2d(4, 6, 3, padding=1, bias=False)
    with torch.no_grad():
        std.weight.copy_(sep.pointwise.weight[:, :, 0, 0][:, :, None, None] * sep.depthwise.weight[:, 0][None])
        x = torch.randn(2, 4, 9, 9)
        assert torch.allclose(sep(x), std(x), atol=1e-5)
    x = torch.zeros(1, 728, 19, 19)
    assert count_macs(SeparableConv2d(728, 728), x) == (9 * 728 + 728 * 728) * 19 * 19
    assert count_macs(nn.Conv2d(728, 728, 3, padding=1, bias=False), x) == 9 * 728 * 728 * 19 * 19


# --- bad input -------------------------------------------------------------------------------------

@pytest.mark.parametrize("model,bad,expected", [
    (Meso4(), torch.rand(1, 1, 256, 256), "(N, 3, 256, 256)"),
    (MesoInception4(), torch.rand(1, 3, 224, 224), "(N, 3, 256, 256)"),
    (Meso4(), torch.rand(3, 256, 256), "(N, 3, 256, 256)"),
    (Xception(2, width=0.125, middle_blocks=1), torch.rand(1, 3, 256, 256), "(N, 3, 299, 299)"),
    (Xception(2, width=0.125, middle_blocks=1), torch.rand(1, 4, 299, 299), "(N, 3, 299, 299)"),
])
def test_bad_input_names_the_expected_shape(model, bad, expected):
    with pytest.raises(ValueError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        model(bad)


def test_bad_settings():
    with pytest.raises(ValueError, match="multiple of 32"):
        Meso4(input_size=100)
    with pytest.raises(ValueError, match="width"):
        Xception(width=0)
    with pytest.raises(ValueError, match="head convention"):
        Detector(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="loss"):
        detector_loss(torch.zeros(2), torch.zeros(2), "hinge")


# --- the released weights: parity with Keras -----------------------------------------------------

def _reference_batch(name):
    expected = json.loads((PARITY / "expected.json").read_text())[name]
    logits = json.loads((PARITY / "expected_logits.json").read_text())[name]
    images = sorted(expected)
    x = torch.stack([torch.from_numpy(np.load(PARITY / f"{i}.npz")["x"]).permute(2, 0, 1)
                     for i in images])                                   # (4, 3, 256, 256)
    return images, x, np.array([expected[i] for i in images]), np.array([logits[i] for i in images])


@pytest.mark.parametrize("name", sorted(WEIGHTS))
def test_released_weights_reproduce_keras(name):
    model = load_keras_weights(WEIGHTS[name](), released_weights(name))
    images, x, expected, expected_logits = _reference_batch(name)
    with torch.no_grad():
        p = model(x)[:, 0].numpy()
        z = model.logit(x)[:, 0].double().numpy()
        pool4 = model.features(x).permute(0, 2, 3, 1).numpy()             # NHWC, as Keras
    np.testing.assert_allclose(p, expected, atol=1e-5, rtol=0)
    np.testing.assert_allclose(z, expected_logits, atol=1e-4, rtol=1e-6)
    inter = np.load(PARITY / "keras_intermediates.npz")
    order = [str(s) for s in inter["image_order"]] if "image_order" in inter.files else images
    idx = [images.index(i) for i in order]
    np.testing.assert_allclose(pool4[idx], inter[f"{name}/pool4_nhwc"], atol=1e-4, rtol=0)
    # the Detector turns "1 = real" into P(fake)
    np.testing.assert_allclose(Detector(model).p_fake(x).numpy(), 1 - expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", sorted(WEIGHTS))
def test_parity_test_can_fail(name):
    """Each classic porting mistake moves some output far beyond the tolerance of the test above."""
    _, x, expected, _ = _reference_batch(name)

    def worst(model):
        with torch.no_grad():
            return float(np.abs(model(x)[:, 0].numpy() - expected).max())

    model = load_keras_weights(WEIGHTS[name](), released_weights(name))
    assert worst(model) < 1e-5
    for bn in (m for m in model.modules() if isinstance(m, nn.BatchNorm2d)):
        bn.eps = 1e-5                                                     # PyTorch's default
    assert worst(model) > 1e-3
    model = load_keras_weights(WEIGHTS[name](), released_weights(name))
    with torch.no_grad():                                                 # undo the flatten permutation
        w = model.head.fc1.weight.reshape(16, 16, 8, 8).permute(0, 2, 3, 1).reshape(16, 1024)
        model.head.fc1.weight.copy_(w)
    assert worst(model) > 1e-3


def test_loader_matches_layers_by_integer_creation_order():
    import h5py
    path = released_weights("MesoInception_DF")
    model = load_keras_weights(MesoInception4(), path)
    with h5py.File(path, "r") as f:
        # conv2d_10 is module 2, branch b's 3x3; string order would put it second
        k10 = np.asarray(f["conv2d_10/conv2d_10/kernel:0"])
        k12 = np.asarray(f["conv2d_12/conv2d_12/kernel:0"])              # branch c's 3x3, same shape
    inc2 = model.features[3]
    np.testing.assert_array_equal(inc2.b[1][0].weight.detach().numpy(), k10.transpose(3, 2, 0, 1))
    np.testing.assert_array_equal(inc2.c[1][0].weight.detach().numpy(), k12.transpose(3, 2, 0, 1))


def test_loader_errors_name_the_file():
    meso4_file = released_weights("Meso4_DF")
    with pytest.raises(ValueError, match="Meso4_DF.h5"):
        load_keras_weights(MesoInception4(), meso4_file)
    with pytest.raises(ValueError, match="Meso4_DF.h5"):
        load_keras_weights(Meso4(input_size=128), meso4_file)           # head of the wrong width


def test_loader_rejects_a_file_that_is_not_hdf5(tmp_path):
    junk = tmp_path / "Meso4_DF.h5"
    junk.write_bytes(b"this is not HDF5")
    with pytest.raises(ValueError, match="Meso4_DF.h5.*not an HDF5 file"):
        load_keras_weights(Meso4(), junk)


def test_loader_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.h5"):
        load_keras_weights(Meso4(), tmp_path / "nothing.h5")
    with pytest.raises(TypeError):
        load_keras_weights(nn.Linear(2, 2), tmp_path / "nothing.h5")


# --- the shared loop -------------------------------------------------------------------------------

def test_detector_conventions_agree_with_softmax():
    set_seed(0)
    x = torch.rand(3, 3, 128, 128)
    model = Xception(2, width=0.125, middle_blocks=1, input_size=128).eval()
    with torch.no_grad():
        softmax_fake = torch.softmax(model(x * 2 - 1), dim=1)[:, 1]      # [0, 1] -> [-1, 1] by hand
    assert torch.allclose(Detector(model).p_fake(x), softmax_fake, atol=1e-6)
    meso = Meso4(input_size=128).eval()
    with torch.no_grad():
        assert torch.allclose(Detector(meso).p_fake(x), 1 - meso(x)[:, 0], atol=1e-6)


def test_two_class_cross_entropy_equals_bce_on_the_log_odds():
    z = torch.randn(8, 2)
    y = torch.randint(0, 2, (8,))
    ce = nn.functional.cross_entropy(z, y)
    assert torch.allclose(detector_loss(z[:, 1] - z[:, 0], y, "bce"), ce, atol=1e-6)


def test_training_loop_lowers_the_loss():
    set_seed(0)
    x = torch.rand(32, 3, 64, 64) * 0.5
    y = torch.arange(32) % 2
    x[y == 1, :, 16:48, 16:48] += 0.3                                   # fakes carry a bright square
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)
    detector = Detector(Meso4(input_size=64, bn_momentum=0.1))
    before = evaluate(detector, DataLoader(TensorDataset(x, y), batch_size=32)).loss
    history = train_detector(detector, loader, epochs=8, lr=1e-2, loss="bce", verbose=False)
    after = evaluate(detector, DataLoader(TensorDataset(x, y), batch_size=32)).loss
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert after < before


def test_evaluation_metrics():
    from sklearn.metrics import roc_auc_score
    labels = np.array([0, 0, 1, 1, 0, 1])
    scores = np.array([0.1, 0.6, 0.7, 0.4, 0.2, 0.9])
    videos = np.array([0, 0, 1, 1, 2, 3])
    res = EvalResult(labels, scores, videos)
    assert res.accuracy == pytest.approx(4 / 6)
    assert res.auc == pytest.approx(roc_auc_score(labels, scores))
    np.testing.assert_array_equal(res.confusion, [[2, 1], [1, 2]])
    v_labels, v_scores = res.video_level()
    np.testing.assert_allclose(v_scores, [0.35, 0.55, 0.2, 0.9])
    assert res.video_auc == pytest.approx(roc_auc_score([0, 1, 0, 1], [0.35, 0.55, 0.2, 0.9]))
    assert np.isnan(EvalResult(labels, scores).video_auc)


def test_saliency_map_shape():
    detector = Detector(Meso4(input_size=64))
    maps = saliency_map(detector, torch.rand(2, 3, 64, 64))
    assert maps.shape == (2, 64, 64) and (maps >= 0).all()
    with pytest.raises(ValueError, match="odd"):
        saliency_map(detector, torch.rand(1, 3, 64, 64), smooth=4)


# --- the executed chapters show learning ---------------------------------------------------------

def test_chapters_print_test_aucs_that_show_learning(html_dir):
    import html as html_lib
    import re

    def text(page):
        raw = (html_dir / "en" / "deepfake" / page).read_text(encoding="utf-8")
        return html_lib.unescape(re.sub(r"<[^>]+>", "", raw))

    meso = text("mesonet.html")
    # the MesoNet chapter's table: test set, faces, self-blend AUC, swap AUC, both AUC, accuracy
    row = lambda name: re.search(rf"blends, {name}\s+[\d,]+\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", meso)  # noqa: E731
    from yangbook.utils import compare

    faces = int(re.search(r"blends, c23\s+([\d,]+)", meso).group(1).replace(",", ""))           # real faces, as many forged
    c23, c40 = float(row("c23").group(3)), float(row("c40").group(3))
    # what the page claims, by the book's standard: one run, far better than chance at c23 and at c40
    assert compare([c23], 0.5, items=(faces, faces)).higher, f"Meso-4 on the c23 blends printed AUC {c23}"
    assert compare([c40], 0.5, items=(faces, faces)).higher, f"Meso-4 on the c40 blends printed AUC {c40}"
    xc = text("xception.html")
    # the Xception chapter's table: test set, items, then mean ± half-width of the 95 % interval, Meso-4
    # then Xception; the reduced Xception's interval lies above chance
    means = re.search(r"blends, c23\s+([\d,]+)\s+([\d.]+)\s*±\s*([\d.]+)\s+([\d.]+)\s*±\s*([\d.]+)", xc)
    assert means, "the Xception chapter must print mean ± half-width over seeds and test items"
    assert int(means.group(1).replace(",", "")) >= 600, f"the Xception chapter's c23 test set has only {means.group(1)} faces"
    assert float(means.group(4)) - float(means.group(5)) > 0.5, f"reduced Xception on the c23 blends: {means.group(0)}"


def test_shipped_weights_are_the_released_files():
    """The package's copies are byte for byte the files of the authors' repository (their SHA-256), and
    the licence and notice travel with them."""
    import hashlib
    sha = {"Meso4_DF": "036ed30d04ffd9c7506f825b97c86aa64915f5818931da96817b169aad790af5",
           "Meso4_F2F": "bcfda015d217b9f8d6557693edbdf9f4e79cfd22672541968dd0e2954462b5d7",
           "MesoInception_DF": "234586d40058e76ef8b6f27ca4b63c06e31c2a5a69c0d8ba6f30b1468ab7bafa",
           "MesoInception_F2F": "d4533ac8a3197dc35c47405d23d99e888c1d0135e267e03540c7451feaccff3f"}
    for name, digest in sha.items():
        assert hashlib.sha256(released_weights(name).read_bytes()).hexdigest() == digest
    folder = released_weights().parent
    assert "Apache License" in (folder / "LICENSE").read_text() and "Afchar" in (folder / "NOTICE").read_text()
    with pytest.raises(ValueError, match="Meso4_DF"):
        released_weights("Meso5")
