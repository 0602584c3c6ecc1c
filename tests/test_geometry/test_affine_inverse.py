# Copyright (c) interwild_mm contributors.
"""The closed-form affine inverse (the ONNX export's) and the official
``torch.linalg.inv`` path (``docs/official_conventions.md §1.5``)."""
import warnings

import pytest
import torch

from interwild_mm.geometry.crop import (crop_affine_composed, invert_affine,
                                        invert_affine_closed_form,
                                        warp_affine)
from interwild_mm.models.necks.hand_roi import HandRoI


def random_affines(n, dtype, seed=0):
    """Well-conditioned random 2x3 affines (scale 0.2..5, any rotation,
    shear) with translations up to +-500 px."""
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, 2, 2, generator=g, dtype=torch.float64)
    u, _, vh = torch.linalg.svd(a)
    s = torch.rand(n, 2, generator=g, dtype=torch.float64) * 4.8 + 0.2
    lin = u @ torch.diag_embed(s) @ vh
    t = (torch.rand(n, 2, 1, generator=g, dtype=torch.float64) - 0.5) * 1000
    return torch.cat([lin, t], dim=-1).to(dtype)


def test_closed_form_by_hand():
    # [[2, 0, 1], [0, 4, 2]]: x' = 2x + 1, y' = 4y + 2
    mat = torch.tensor([[[2.0, 0.0, 1.0], [0.0, 4.0, 2.0]]])
    expected = torch.tensor([[[0.5, 0.0, -0.5], [0.0, 0.25, -0.5]]])
    assert torch.equal(invert_affine_closed_form(mat), expected)
    # a rotation by 90 degrees with a shift: x' = -y + 3, y' = x - 1
    rot = torch.tensor([[[0.0, -1.0, 3.0], [1.0, 0.0, -1.0]]])
    inv = invert_affine_closed_form(rot)
    assert torch.equal(inv, torch.tensor([[[0.0, 1.0, 1.0],
                                           [-1.0, 0.0, 3.0]]]))
    # 3x3 input (last row [0, 0, 1]) gives the same 2x3 inverse
    full = torch.cat([rot, torch.tensor([[[0.0, 0.0, 1.0]]])], dim=1)
    assert torch.equal(invert_affine_closed_form(full), inv)


def test_closed_form_equals_linalg_inv_in_float64():
    mats = random_affines(1000, torch.float64)
    closed = invert_affine_closed_form(mats)
    last = torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64).expand(
        1000, 1, 3)
    ref = torch.linalg.inv(torch.cat([mats, last], dim=1))[:, :2]
    scale = ref.abs().amax(dim=(1, 2), keepdim=True)
    assert ((closed - ref).abs() / scale).max() < 1e-13
    # and it is an inverse: M^-1 (M p) = p
    p = torch.randn(1000, 5, 2, dtype=torch.float64) * 100
    hom = lambda q: torch.cat([q, torch.ones_like(q[..., :1])], -1)  # noqa
    moved = hom(p) @ mats.transpose(1, 2)
    back = hom(moved) @ closed.transpose(1, 2)
    assert (back - p).abs().max() < 1e-9


def test_invert_affine_switch_and_float32_rounding():
    mats = random_affines(256, torch.float32, seed=1)
    official = invert_affine(mats)
    assert torch.equal(official, invert_affine(mats, 'official'))
    closed = invert_affine(mats, 'closed_form')
    assert torch.equal(closed, invert_affine_closed_form(mats))
    # both are float32 roundings of the exact inverse (float64 reference)
    exact = invert_affine_closed_form(mats.double())
    scale = exact.abs().amax(dim=(1, 2), keepdim=True)
    for got in (official, closed):
        assert ((got.double() - exact).abs() / scale).max() < 1e-5
    assert not torch.equal(official, closed)  # not the same bits
    with pytest.raises(ValueError, match='inverse must be one of'):
        invert_affine(mats, 'pinv')


def _boxes(n, seed):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * torch.tensor([300.0, 420.0])
    wh = torch.rand(n, 2, generator=g) * 150 + 20
    return torch.cat([xy, xy + wh], dim=-1)


def test_closed_form_warp_differs_by_rounding_only():
    g = torch.Generator().manual_seed(2)
    img = torch.rand(6, 3, 512, 384, generator=g)
    mat = crop_affine_composed(_boxes(6, 3), (256, 256))
    official = warp_affine(img, mat, (256, 256))
    closed = warp_affine(img, mat, (256, 256), inverse='closed_form')
    exact = warp_affine(img.double(), mat.double(), (256, 256),
                        inverse='closed_form')
    # the float32 sampling positions differ in their last bits only
    assert not torch.equal(official, closed)
    assert (official - closed).abs().max() < 1e-4
    assert (closed.double() - exact).abs().max() < 1e-4
    assert (official.double() - exact).abs().max() < 1e-4


def test_traced_warp_is_replayable():
    """``torch.jit.trace`` records ``torch.tensor`` literals as constants of
    the trace: the warp's pixel -> [-1, 1] matrix must not be written in
    place (it was re-scaled at every call of the traced function)."""
    g = torch.Generator().manual_seed(4)
    img = torch.rand(2, 3, 64, 48, generator=g)
    mat = crop_affine_composed(_boxes(2, 5) / 8, (32, 32))

    def fn(x, m):
        return warp_affine(x, m, (32, 32))

    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # tracer / deprecation warnings
        traced = torch.jit.trace(fn, (img, mat), check_trace=False)
    eager = fn(img, mat)
    for _ in range(3):
        assert torch.equal(traced(img, mat), eager)


def test_hand_roi_inverse_option():
    backbone = dict(type='ResNet', depth=18, base_channels=8,
                    stem_channels=8, out_indices=(3, ), init_cfg=None)
    roi = HandRoI(backbone)
    assert roi.inverse == 'official'  # the official numbers by default
    g = torch.Generator().manual_seed(6)
    img = torch.rand(3, 3, 512, 384, generator=g)
    boxes = _boxes(3, 7)
    crops, o2h, h2o = roi.crop(img, boxes)
    mat = crop_affine_composed(boxes, (256, 256))
    assert torch.equal(h2o, torch.linalg.inv(mat)[:, :2])
    roi_cf = HandRoI(backbone, inverse='closed_form')
    crops_cf, o2h_cf, h2o_cf = roi_cf.crop(img, boxes)
    assert torch.equal(o2h_cf, o2h)
    assert torch.equal(h2o_cf, invert_affine_closed_form(mat))
    assert (h2o_cf - h2o).abs().max() < 1e-4
    assert (crops_cf - crops).abs().max() < 1e-4
    with pytest.raises(ValueError, match="'official', 'closed_form'"):
        HandRoI(backbone, inverse='lu')
