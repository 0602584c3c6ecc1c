"""Tests for the InterWild loss modules (hand-computed small cases)."""
import math

import numpy as np
import pytest
import torch
from mmpose.registry import MODELS

from interwild_mm.geometry.rotation import (axis_angle_to_matrix,
                                            matrix_to_axis_angle)
from interwild_mm.models.losses import CoordLoss, ManoPoseLoss, ParamLoss


def test_registered():
    for name in ('CoordLoss', 'ParamLoss', 'ManoPoseLoss'):
        loss = MODELS.build(dict(type=name, loss_weight=2.0))
        assert loss.loss_weight == 2.0


def test_coord_loss_hand_computed():
    out = torch.tensor([[[1., 2., 3.], [4., 5., 6.]]])
    tgt = torch.zeros(1, 2, 3)
    valid = torch.tensor([[[1.], [0.]]])
    # joint 0: |1|+|2|+|3|, joint 1 masked -> 6 / 6 elements
    assert CoordLoss()(out, tgt, valid).item() == pytest.approx(1.0)
    # z gated off by is_3D=0: (1+2)/6, times loss_weight 10
    loss = CoordLoss(loss_weight=10.)(out, tgt, valid, torch.tensor([[0.]]))
    assert loss.item() == pytest.approx(5.0)
    # is_3D=1 keeps z; (N,K) weight layout accepted
    loss = CoordLoss()(out, tgt, torch.tensor([[1., 0.]]), torch.tensor([1.]))
    assert loss.item() == pytest.approx(1.0)
    # no weight: (1+...+6)/6
    assert CoordLoss()(out, tgt).item() == pytest.approx(21 / 6)


def test_coord_loss_is3d_per_sample():
    out = torch.ones(2, 1, 3)
    tgt = torch.zeros(2, 1, 3)
    # sample 0 is 3D (3 terms), sample 1 is 2D (2 terms) -> 5 / 6
    loss = CoordLoss()(out, tgt, None, torch.tensor([[1.], [0.]]))
    assert loss.item() == pytest.approx(5 / 6)


def test_param_loss_hand_computed():
    out = torch.tensor([[1., -1.], [2., 0.]])
    tgt = torch.zeros(2, 2)
    assert ParamLoss()(out, tgt, torch.tensor([[1.], [0.]])).item() == \
        pytest.approx(0.5)
    assert ParamLoss()(out, tgt, torch.tensor([1., 0.])).item() == \
        pytest.approx(0.5)
    assert ParamLoss(loss_weight=3.)(
        out, tgt, torch.tensor([[0., 1.],
                                [1., 1.]])).item() == pytest.approx(3 * 3 / 4)


def test_mano_pose_loss_hand_computed():
    # 90 deg about z vs identity: |R - I| = [[1,1,0],[1,1,0],[0,0,0]] -> 4;
    # second joint invalid -> 4 / (2 joints * 9)
    out = torch.tensor([[[0., 0., math.pi / 2], [0.3, 0.2, 0.1]]],
                       dtype=torch.float64)
    tgt = torch.zeros(1, 2, 3, dtype=torch.float64)
    w = torch.tensor([[1., 0.]], dtype=torch.float64)
    loss = ManoPoseLoss()(out, tgt, w)
    assert loss.item() == pytest.approx(4 / 18)
    # flat (N, J*3) axis-angle and matrix inputs give the same value
    assert ManoPoseLoss()(out.reshape(1, 6), tgt.reshape(1, 6),
                          w).item() == pytest.approx(4 / 18)
    assert ManoPoseLoss()(axis_angle_to_matrix(out), tgt,
                          w).item() == pytest.approx(4 / 18)


def test_mano_pose_loss_branch_independent_and_grad():
    aa = torch.tensor([[[-2.5, 0., 0.], [0.1, 2.9, -0.4]]],
                      dtype=torch.float64)
    R = axis_angle_to_matrix(aa)
    legacy = matrix_to_axis_angle(R, legacy=True)
    assert legacy[0, 0].norm() > math.pi
    tgt = torch.zeros(1, 2, 3, dtype=torch.float64)
    a = ManoPoseLoss()(legacy, tgt)
    b = ManoPoseLoss()(matrix_to_axis_angle(R), tgt)
    assert a.item() == pytest.approx(b.item(), abs=1e-12)
    x = aa.clone().requires_grad_(True)
    ManoPoseLoss()(x, tgt).backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_loss_bad_inputs():
    with pytest.raises(ValueError, match='must match'):
        CoordLoss()(torch.zeros(1, 2, 3), torch.zeros(1, 3, 3))
    with pytest.raises(ValueError, match='cannot be broadcast'):
        ParamLoss()(torch.zeros(2, 3), torch.zeros(2, 3), torch.ones(3))
    with pytest.raises(ValueError, match='axis-angle'):
        ManoPoseLoss()(torch.zeros(2, 4), torch.zeros(2, 4))


def test_mmpose_l1loss_is_the_official_masked_mean():
    """mmpose's L1Loss(use_target_weight=True) = mean(|o - t| · valid) over
    all elements (docs/official_conventions.md §2): same value in float64
    and the same bits as the formula for 0/1 validities, for the weight
    layouts InterWild passes ((N, 1) against (N, D); (N, K, 1) against
    (N, K, C))."""
    l1 = MODELS.build(dict(type='L1Loss', use_target_weight=True))
    g = torch.Generator().manual_seed(0)
    for out_shape, w_shape in (((4, 2), (4, 1)), ((4, 20), (4, 20)),
                               ((3, 42, 3), (3, 42, 1))):
        o = torch.randn(out_shape, generator=g)
        t = torch.randn(out_shape, generator=g)
        numel = int(np.prod(w_shape))
        w = (torch.arange(numel) % 3 != 1).float().reshape(w_shape)
        formula = ((o - t).abs() * w).mean()
        assert torch.equal(l1(o, t, w), formula)
        ref = np.mean(np.abs(o.double().numpy() - t.double().numpy()) *
                      w.double().numpy())
        assert l1(o.double(), t.double(), w.double()).item() == \
            pytest.approx(ref, rel=1e-14)
        # CoordLoss / ParamLoss are the same computation
        assert torch.equal(CoordLoss()(o, t, w), formula)
        assert torch.equal(ParamLoss()(o, t, w), formula)
    # the per-sample z gate of CoordLoss = a (N, K, 3) weight for L1Loss
    o, t = torch.randn(2, 5, 3, generator=g), torch.randn(2, 5, 3, generator=g)
    w = torch.tensor([1.0, 0.0, 1.0, 1.0, 0.0]).repeat(2, 1)[..., None]
    is_3d = torch.tensor([[1.0], [0.0]])
    gate = torch.cat([torch.ones(2, 1, 2), is_3d[:, :, None]], -1)
    assert torch.equal(CoordLoss()(o, t, w, is_3d), l1(o, t, w * gate))
