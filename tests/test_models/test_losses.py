"""Tests for the InterWild loss modules (hand-computed small cases)."""
import math

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
