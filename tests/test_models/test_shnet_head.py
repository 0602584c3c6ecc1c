"""Tests for SHNetHead (PositionNet + RotationNet) and un-mirroring."""
import math

import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample
from scipy.spatial.transform import Rotation

from interwild_mm.geometry.rotation import axis_angle_to_matrix
from interwild_mm.models.heads.shnet_head import (OFFICIAL_KEY_MAP,
                                                  flip_joint_img_x,
                                                  unmirror_hand_outputs)
from .._float64_reference import bilinear_np

C_IN, C_POSE = 16, 8  # small channels keep the test fast


def _head(**kw):
    cfg = dict(type='SHNetHead', in_channels=C_IN, pose_channels=C_POSE)
    cfg.update(kw)
    head = MODELS.build(cfg)
    head.init_weights()
    return head


def _randomise(head, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in head.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.3)
        bn = head.hand_rotation_net.conv[1]
        bn.running_mean.copy_(torch.randn(C_POSE, generator=g) * 0.1)
        bn.running_var.copy_(torch.rand(C_POSE, generator=g) + 0.5)
    return head.eval()


def test_state_dict_names_match_official_layout():
    head = MODELS.build(dict(type='SHNetHead'))
    shapes = {k: tuple(v.shape) for k, v in head.state_dict().items()}
    expected = {
        'hand_position_net.conv.0.weight': (168, 2048, 1, 1),
        'hand_position_net.conv.0.bias': (168, ),
        'hand_rotation_net.conv.0.weight': (512, 2048, 1, 1),
        'hand_rotation_net.conv.0.bias': (512, ),
        'hand_rotation_net.conv.1.weight': (512, ),
        'hand_rotation_net.conv.1.running_var': (512, ),
        'hand_rotation_net.root_pose_out.0.weight': (6, 10815),
        'hand_rotation_net.pose_out.0.weight': (90, 10815),
        'hand_rotation_net.shape_out.0.weight': (10, 2048),
        'hand_rotation_net.cam_out.0.weight': (3, 2048),
        'hand_rotation_net.cam_out.0.bias': (3, ),
    }
    for k, v in expected.items():
        assert shapes[k] == v, k
    # 2 + 2 + 5 + 4*2 official keys
    assert len(shapes) == 17
    assert all(
        any(k.startswith(p) for p in OFFICIAL_KEY_MAP.values())
        for k in shapes)
    assert head.depth_scale == pytest.approx(11.71875)


def test_forward_shapes():
    head = _head()
    out = head((torch.randn(3, C_IN, 8, 8), ))
    assert out['joint_img'].shape == (3, 21, 3)
    assert out['mano_root_pose'].shape == (3, 3)
    assert out['mano_hand_pose'].shape == (3, 45)
    assert out['mano_shape'].shape == (3, 10)
    assert out['root_cam'].shape == (3, 3)
    assert out['mano_root_rotmat'].shape == (3, 3, 3)
    assert out['mano_hand_rotmat'].shape == (3, 15, 3, 3)
    with pytest.raises(ValueError, match='feature size'):
        head(torch.randn(1, C_IN, 7, 8))


def test_position_net_channel_layout():
    head = _head()
    conv = head.hand_position_net.conv[0]
    j, d = 5, 6
    with torch.no_grad():
        conv.weight.zero_()
        conv.bias.zero_()
        conv.weight[j * 8 + d, 0] = 100.0  # channel = joint*8 + depth
    feat = torch.zeros(1, C_IN, 8, 8)
    feat[0, 0, 2, 7] = 1.0  # row y=2, column x=7
    joint_img = head(feat)['joint_img'][0].double()
    assert torch.allclose(
        joint_img[j], torch.tensor([7., 2., 6.]).double(), atol=1e-6)
    others = torch.cat((joint_img[:j], joint_img[j + 1:]))
    assert torch.allclose(others, torch.full_like(others, 3.5), atol=1e-6)


def test_root_cam_depth_constant():
    head = _head()
    cam = head.hand_rotation_net.cam_out[0]
    with torch.no_grad():
        cam.weight.zero_()
        cam.bias.copy_(torch.tensor([0.1, -0.2, 0.0]))
    out = head(torch.randn(2, C_IN, 8, 8))
    # k = sqrt(5000*5000*0.6^2/(256*256)) = 11.71875, sigmoid(0) = 0.5
    torch.testing.assert_close(out['root_cam'],
                               torch.tensor([[0.1, -0.2, 5.859375]] * 2))


def _rows_from_6d(v):
    b1 = v[:3] / np.linalg.norm(v[:3])
    u = v[3:] - np.dot(b1, v[3:]) * b1
    b2 = u / np.linalg.norm(u)
    return np.stack([b1, b2, np.cross(b1, b2)])


def test_rotation_net_vs_numpy_rederivation():
    head = _randomise(_head().double())
    feat = torch.randn(2, C_IN, 8, 8, dtype=torch.float64)
    out = head(feat)
    sd = {k: v.numpy() for k, v in head.state_dict().items()}
    p = 'hand_rotation_net.'
    f = feat.numpy()
    joints = out['joint_img'].detach().numpy()
    for n in range(2):
        conv = np.einsum('oc,chw->ohw', sd[p + 'conv.0.weight'][:, :, 0, 0],
                         f[n]) + sd[p + 'conv.0.bias'][:, None, None]
        bn = (conv - sd[p + 'conv.1.running_mean'][:, None, None]
              ) / np.sqrt(sd[p + 'conv.1.running_var'][:, None, None] + 1e-5)
        bn = bn * sd[p + 'conv.1.weight'][:, None, None] + \
            sd[p + 'conv.1.bias'][:, None, None]
        relu = np.maximum(bn, 0)
        rows = []
        for j in range(21):
            x, y, z = joints[n, j]
            rows.append(np.concatenate([bilinear_np(relu, x, y), [x, y, z]]))
        flat = np.concatenate(rows)
        root6 = sd[p + 'root_pose_out.0.weight'] @ flat + \
            sd[p + 'root_pose_out.0.bias']
        pose6 = (sd[p + 'pose_out.0.weight'] @ flat +
                 sd[p + 'pose_out.0.bias']).reshape(15, 6)
        np.testing.assert_allclose(
            out['mano_root_rotmat'][n].detach(),
            _rows_from_6d(root6),
            atol=1e-10)
        hand_R = np.stack([_rows_from_6d(v) for v in pose6])
        np.testing.assert_allclose(
            out['mano_hand_rotmat'][n].detach(), hand_R, atol=1e-10)
        # axis-angle outputs describe the same rotations
        aa = out['mano_hand_pose'][n].detach().numpy().reshape(15, 3)
        np.testing.assert_allclose(
            Rotation.from_rotvec(aa).as_matrix(), hand_R, atol=1e-10)
        pooled = f[n].mean((1, 2))
        np.testing.assert_allclose(
            out['mano_shape'][n].detach(),
            sd[p + 'shape_out.0.weight'] @ pooled + sd[p + 'shape_out.0.bias'],
            atol=1e-10)


def test_legacy_flag_changes_values_not_rotations():
    head = _randomise(_head().double(), seed=3)
    feat = torch.randn(16, C_IN, 8, 8, dtype=torch.float64)
    assert head.legacy_axis_angle is True
    legacy = head(feat)
    head.legacy_axis_angle = False
    modern = head(feat)
    both = torch.cat(
        (legacy['mano_root_pose'][:, None], legacy['mano_hand_pose'].reshape(
            16, 15, 3)), 1)
    torch.testing.assert_close(
        axis_angle_to_matrix(both),
        torch.cat(
            (modern['mano_root_rotmat'][:, None], modern['mano_hand_rotmat']),
            1))
    assert modern['mano_hand_pose'].reshape(-1, 3).norm(dim=-1).max() <= \
        math.pi + 1e-9
    assert legacy['mano_hand_pose'].reshape(-1, 3).norm(dim=-1).max() > \
        math.pi


def test_sampling_joints_are_detached():
    head = _randomise(_head(), seed=1).train()
    feat = torch.randn(2, C_IN, 8, 8, requires_grad=True)
    out = head(feat)
    (out['mano_hand_rotmat'].sum() + out['mano_root_rotmat'].sum() +
     out['mano_hand_pose'].sum()).backward()
    pos = head.hand_position_net.conv[0]
    assert pos.weight.grad is None and pos.bias.grad is None
    assert head.hand_rotation_net.pose_out[0].weight.grad.abs().sum() > 0
    assert head.hand_rotation_net.conv[0].weight.grad.abs().sum() > 0
    # joint_img itself still trains PositionNet
    head.zero_grad()
    head(feat)['joint_img'].sum().backward()
    assert pos.weight.grad.abs().sum() > 0


def test_flip_joint_img_x_derived_from_pixels():
    x = torch.tensor([[0., 1., 2.], [7.96875, 3., 4.], [2.5, 0., 0.]])
    flipped = flip_joint_img_x(x, 256, 8)
    # pixel x_px = 32 x, mirrored pixel 255 - x_px, back to grid / 32
    torch.testing.assert_close(flipped[:, 0], (255 - 32 * x[:, 0]) / 32)
    assert flipped[0, 0].item() == 7.96875
    torch.testing.assert_close(flipped[:, 1:], x[:, 1:])
    # a 64-wide grid on a 256 crop: x <- (255 - 4x)/4
    assert flip_joint_img_x(torch.tensor([[1., 0.]]), 256, 64)[0, 0] == 62.75


def test_unmirror_hand_outputs():
    head = _randomise(_head().double(), seed=2)
    out = head(torch.randn(4, C_IN, 8, 8, dtype=torch.float64))
    out = {k: v.detach() for k, v in out.items()}
    mask = torch.tensor([False, False, True, True])
    un = unmirror_hand_outputs(out, mask)
    # rows 0-1 untouched, shape untouched everywhere
    for k in out:
        torch.testing.assert_close(un[k][:2], out[k][:2])
    torch.testing.assert_close(un['mano_shape'], out['mano_shape'])
    torch.testing.assert_close(un['joint_img'][2:, :, 0],
                               7.96875 - out['joint_img'][2:, :, 0])
    torch.testing.assert_close(un['joint_img'][2:, :, 1:],
                               out['joint_img'][2:, :, 1:])
    sign = torch.tensor([1., -1., -1.], dtype=torch.float64)
    torch.testing.assert_close(un['mano_root_pose'][2:],
                               out['mano_root_pose'][2:] * sign)
    torch.testing.assert_close(
        un['mano_hand_pose'][2:].reshape(2, 15, 3),
        out['mano_hand_pose'][2:].reshape(2, 15, 3) * sign)
    torch.testing.assert_close(un['root_cam'][2:, 0], -out['root_cam'][2:, 0])
    # rotation matrices stay consistent with the mirrored axis-angles: M R M
    M = torch.diag(torch.tensor([-1., 1., 1.], dtype=torch.float64))
    torch.testing.assert_close(un['mano_hand_rotmat'][2:],
                               M @ out['mano_hand_rotmat'][2:] @ M)
    torch.testing.assert_close(
        axis_angle_to_matrix(un['mano_hand_pose'].reshape(4, 15, 3)),
        un['mano_hand_rotmat'])
    # involution
    twice = unmirror_hand_outputs(un, mask)
    for k in out:
        torch.testing.assert_close(twice[k], out[k])
    with pytest.raises(ValueError, match='flip_mask'):
        unmirror_hand_outputs(out, [True, False])


def _sample(flip=False, targets=None):
    ds = PoseDataSample(metainfo=dict(flip_normalized=flip))
    labels = InstanceData()
    for k, v in (targets or {}).items():
        labels.set_field(v, k)
    ds.gt_instance_labels = labels
    return ds


def test_predict_unmirrors_flagged_samples():
    head = _randomise(_head(), seed=4)
    feat = torch.randn(1, C_IN, 8, 8).expand(2, -1, -1, -1).contiguous()
    preds = head.predict((feat, ), [_sample(False), _sample(True)])
    assert len(preds) == 2
    r, l = preds
    assert r.keypoints.shape == (1, 21, 2) and r.keypoint_scores.shape == (1,
                                                                           21)
    raw = head(feat)['joint_img'][0].detach().numpy()
    np.testing.assert_allclose(r.keypoints[0], raw[:, :2] * 32, rtol=1e-6)
    np.testing.assert_allclose(
        l.keypoints[0, :, 0], 255 - r.keypoints[0, :, 0], rtol=1e-5)
    np.testing.assert_allclose(l.keypoints[0, :, 1], r.keypoints[0, :, 1])
    np.testing.assert_allclose(
        l.mano_root_pose, r.mano_root_pose * [1, -1, -1], rtol=1e-6)
    np.testing.assert_allclose(l.root_cam, r.root_cam * [-1, 1, 1])
    np.testing.assert_allclose(l.mano_shape, r.mano_shape)
    with pytest.raises(NotImplementedError, match='flip_test'):
        head.predict(feat, [_sample(), _sample()], dict(flip_test=True))


def test_loss_single_hand_targets():
    head = _randomise(_head(), seed=5).train()
    feat = torch.randn(2, C_IN, 8, 8)
    gen = torch.Generator().manual_seed(0)
    targets = [
        dict(
            joint_img=torch.rand(1, 21, 3, generator=gen) * 7,
            joint_trunc=torch.ones(1, 21, 1),
            is_3D=torch.tensor([[float(i)]]),
            mano_pose=torch.randn(1, 48, generator=gen) * 0.3,
            mano_pose_valid=torch.ones(1, 16),
            mano_shape=torch.randn(1, 10, generator=gen),
            mano_shape_valid=torch.tensor([[float(1 - i)] * 10]))
        for i in range(2)
    ]
    samples = [_sample(False, targets[0]), _sample(True, targets[1])]
    losses = head.loss((feat, ), samples)
    assert set(losses) == {
        'loss_joint_img', 'loss_mano_pose', 'loss_mano_shape'
    }
    out = head(feat)
    # independent recomputation of the joint term: z of sample 0 (is_3D=0)
    # is gated off
    tgt = torch.cat([t['joint_img'] for t in targets])
    diff = (out['joint_img'] - tgt).abs()
    diff[0, :, 2] = 0
    torch.testing.assert_close(losses['loss_joint_img'], diff.mean())
    shape_tgt = torch.cat([t['mano_shape'] for t in targets])
    torch.testing.assert_close(
        losses['loss_mano_shape'],
        torch.cat(((out['mano_shape'][:1] - shape_tgt[:1]).abs(),
                   torch.zeros(1, 10))).mean())
    pred_R = torch.cat(
        (out['mano_root_rotmat'][:, None], out['mano_hand_rotmat']), 1)
    tgt_R = axis_angle_to_matrix(
        torch.cat([t['mano_pose'] for t in targets]).reshape(2, 16, 3))
    torch.testing.assert_close(
        losses['loss_mano_pose'], (pred_R - tgt_R).abs().mean(),
        atol=1e-6,
        rtol=1e-5)
    sum(losses.values()).backward()
    assert head.hand_position_net.conv[0].weight.grad.abs().sum() > 0


def test_loss_2d_keypoint_fallback_and_errors():
    head = _randomise(_head(), seed=6)
    feat = torch.randn(1, C_IN, 8, 8)
    ds = PoseDataSample(metainfo=dict(flip_normalized=False))
    kpts = np.random.default_rng(0).uniform(0, 255, (1, 21, 2))
    vis = np.ones((1, 21))
    vis[0, 3:] = 0
    ds.gt_instances = InstanceData(
        transformed_keypoints=kpts, keypoints_visible=vis)
    losses = head.loss(feat, [ds])
    assert set(losses) == {'loss_joint_img'}
    out = head(feat)['joint_img'][0].detach().numpy()
    ref = np.abs(out[:3, :2] - kpts[0, :3] / 32).sum() / (21 * 3)
    assert losses['loss_joint_img'].item() == pytest.approx(ref, rel=1e-5)
    with pytest.raises(ValueError, match='joint_img'):
        head.loss(feat, [_sample()])
    partial = [
        _sample(
            False,
            dict(
                joint_img=torch.zeros(1, 21, 3), mano_shape=torch.zeros(1,
                                                                        10))),
        _sample(False, dict(joint_img=torch.zeros(1, 21, 3)))
    ]
    with pytest.raises(ValueError, match='only some'):
        head.loss(torch.randn(2, C_IN, 8, 8), partial)


# ----------------------------------------------------------------------
# the two-hand terms of InterWild (docs/official_conventions.md §2)
def _two_hand_case(n=3, seed=0):
    """Fake two-hand predictions, data samples with body-grid targets and
    per-hand image -> crop affines (some targets fall outside the crops)."""
    g = torch.Generator().manual_seed(seed)

    def r(*shape):
        return torch.rand(*shape, generator=g, dtype=torch.float64)

    preds = dict(joint_img=r(n, 42, 3) * 8, joint_proj=r(n, 42, 2) * 8,
                 mano_joint_cam=r(n, 42, 3) * 0.1,
                 mano_mesh_cam=r(n, 1556, 3) * 0.1,
                 mano_pose=(r(n, 96) - 0.5) * 2, mano_shape=r(n, 20) - 0.5)
    samples = []
    for i in range(n):
        lab = InstanceData(
            joint_img=r(1, 42, 3) * torch.tensor([20.0, 30.0, 8.0]) + 10,
            joint_trunc=(r(1, 42, 1) > 0.2).double(),
            mano_joint_img=r(1, 42, 3) * torch.tensor([20.0, 30.0, 8.0]) + 10,
            mano_joint_trunc=(r(1, 42, 1) > 0.2).double(),
            joint_cam=r(1, 42, 3) * 0.1,
            joint_valid=(r(1, 42, 1) > 0.3).double(),
            is_3D=torch.tensor([[float(i != 1)]]),
            mano_mesh_cam=r(1, 1556, 3) * 0.1,
            mano_mesh_valid=torch.full((1, 1556, 1), float(i != 2)),
            mano_pose=(r(1, 96) - 0.5) * 2,
            mano_pose_valid=(r(1, 32) > 0.3).double(),
            mano_shape=r(1, 20) - 0.5,
            mano_shape_valid=(r(1, 20) > 0.3).double())
        samples.append(_sample(False, dict(lab.items())))
    # image -> crop: scale 1.5 / 2.0, shifted so that part of each hand's
    # targets land outside the 256 crop
    o2h = torch.zeros(n, 2, 2, 3, dtype=torch.float64)
    o2h[:, 0, 0, 0] = o2h[:, 0, 1, 1] = 1.5
    o2h[:, 1, 0, 0] = o2h[:, 1, 1, 1] = 2.0
    o2h[:, :, :, 2] = -r(n, 2, 2) * 200 - 50
    return preds, samples, o2h


def _rodrigues(aa):
    return Rotation.from_rotvec(aa.reshape(-1, 3)).as_matrix().reshape(
        aa.shape[:-1] + (3, 3))


def _two_hand_reference(preds, t, o2h, joint_cam_weight):
    """Every term in float64 numpy from §2."""
    p = {k: v.numpy() for k, v in preds.items()}
    t = {k: v.numpy() for k, v in t.items()}
    o2h = o2h.numpy()
    moved = {}
    for name, trunc in (('joint_img', 'joint_trunc'),
                        ('mano_joint_img', 'mano_joint_trunc')):
        xyz, tr = t[name].copy(), t[trunc][..., 0].copy()
        for h in range(2):
            rows = slice(21 * h, 21 * h + 21)
            img = xyz[:, rows, :2] * [384 / 48, 512 / 64]
            a = o2h[:, h]
            crop = np.einsum('nij,npj->npi', a[:, :, :2], img) + \
                a[:, None, :, 2]
            xyz[:, rows, :2] = crop * 8 / 256
            inside = np.all((xyz[:, rows, :2] >= 0) &
                            (xyz[:, rows, :2] < 8), -1)
            tr[:, rows] *= inside
        moved[name], moved[trunc] = xyz, tr[..., None]
    is3d = t['is_3D']  # (N, 1)
    gate = np.concatenate([np.ones_like(is3d), np.ones_like(is3d), is3d],
                          1)[:, None]
    n = is3d.shape[0]
    rot = np.abs(_rodrigues(p['mano_pose'].reshape(n, 32, 3)) -
                 _rodrigues(t['mano_pose'].reshape(n, 32, 3)))
    return dict(
        loss_mano_pose=np.mean(rot * t['mano_pose_valid'][..., None, None]),
        loss_mano_shape=np.mean(np.abs(p['mano_shape'] - t['mano_shape']) *
                                t['mano_shape_valid']),
        loss_joint_cam=joint_cam_weight * np.mean(
            np.abs(p['mano_joint_cam'] - t['joint_cam']) * t['joint_valid'] *
            is3d[:, :, None]),
        loss_mano_mesh_cam=10 * np.mean(
            np.abs(p['mano_mesh_cam'] - t['mano_mesh_cam']) *
            t['mano_mesh_valid']),
        loss_joint_img=np.mean(
            np.abs(p['joint_img'] - moved['joint_img']) *
            moved['joint_trunc'] * gate),
        loss_mano_joint_img=np.mean(
            np.abs(p['joint_img'] - moved['mano_joint_img']) *
            moved['mano_joint_trunc']),
        loss_joint_proj=np.mean(
            np.abs(p['joint_proj'] - moved['joint_img'][..., :2]) *
            moved['joint_trunc']))


def test_two_hand_loss_by_feat_against_float64_formula():
    from interwild_mm.models.utils import gather_targets
    head = _head(loss_joint_cam=dict(type='L1Loss', use_target_weight=True,
                                     loss_weight=7.0)).double()
    preds, samples, o2h = _two_hand_case()
    targets = gather_targets(samples, head.TARGET_SPECS, preds['joint_img'])
    losses = head.loss_by_feat(preds, targets, o2h)
    ref = _two_hand_reference(preds, targets, o2h, joint_cam_weight=7.0)
    assert list(losses) == list(ref)  # the terms, in the official order
    for k, v in ref.items():
        assert v > 0, k
        np.testing.assert_allclose(losses[k].item(), v, rtol=1e-10,
                                   err_msg=k)
    # the crop move re-evaluated the truncation: some joints left the crop
    moved = head.crop_targets(targets, o2h)
    assert (moved['joint_trunc'] < targets['joint_trunc']).any()
    assert moved['joint_trunc'].sum() > 20
