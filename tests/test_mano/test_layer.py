# Copyright (c) interwild_mm contributors.
"""ManoLayer: shapes, joint order, conventions, left fix, mirror, LBS."""
import numpy as np
import pytest
import torch
from mmpose.registry import MODELS

from interwild_mm.mano import ManoLayer
from interwild_mm.mano.constants import (FINGERTIP_VERTEX_IDS,
                                         MANO_JOINT_NAMES, MANO_PARENTS,
                                         SH_JOINT_NAMES)
from interwild_mm.mano.io import load_mano_pickle

MIRROR = np.array([-1.0, 1.0, 1.0])
POSE_MIRROR = np.array([1.0, -1.0, -1.0])


@pytest.fixture(scope='module')
def layers(synthetic_mano_dir):
    return {
        'right': MODELS.build(dict(type='ManoLayer',
                                   model_dir=str(synthetic_mano_dir))),
        'left': ManoLayer(synthetic_mano_dir, side='left'),
    }


@pytest.fixture(scope='module')
def files(synthetic_mano_dir):
    return {side: load_mano_pickle(synthetic_mano_dir / f'MANO_{side}.pkl')
            for side in ('RIGHT', 'LEFT')}


def _inputs(n: int = 3, seed: int = 0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, 3, generator=g, dtype=dtype) * 0.8,
            torch.randn(n, 45, generator=g, dtype=dtype) * 0.3,
            torch.randn(n, 10, generator=g, dtype=dtype),
            torch.randn(n, 3, generator=g, dtype=dtype) * 0.2)


# --------------------------------------------- independent float64 LBS
def _rodrigues(aa: np.ndarray) -> np.ndarray:
    theta = np.linalg.norm(aa)
    if theta < 1e-12:
        return np.eye(3)
    k = aa / theta
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(theta) * kx + (1 - np.cos(theta)) * kx @ kx


def _lbs_numpy(model: dict, full_pose: np.ndarray, betas: np.ndarray):
    """Textbook MANO: shape blend, joints, pose blend, chain, skinning."""
    jreg = model['J_regressor'].toarray()
    v_shaped = model['v_template'] + np.einsum('vck,k->vc',
                                               model['shapedirs'], betas)
    rest = jreg @ v_shaped
    rots = [_rodrigues(full_pose[3 * j:3 * j + 3]) for j in range(16)]
    feat = np.concatenate([(rots[j] - np.eye(3)).ravel()
                           for j in range(1, 16)])
    v_posed = v_shaped + np.einsum('vck,k->vc', model['posedirs'], feat)
    world = []
    for j in range(16):
        local = np.eye(4)
        local[:3, :3] = rots[j]
        parent = MANO_PARENTS[j]
        local[:3, 3] = rest[j] - (rest[parent] if parent >= 0 else 0)
        world.append(local if parent < 0 else world[parent] @ local)
    skin = []
    for j in range(16):
        m = world[j].copy()
        m[:3, 3] -= world[j][:3, :3] @ rest[j]
        skin.append(m)
    per_vertex = np.einsum('vj,jab->vab', model['weights'], np.stack(skin))
    homo = np.concatenate([v_posed, np.ones((len(v_posed), 1))], axis=1)
    return np.einsum('vab,vb->va', per_vertex, homo)[:, :3]


def _left_fixed(files):
    left = dict(files['LEFT'])
    left['shapedirs'] = left['shapedirs'].copy()
    left['shapedirs'][:, 0, :] *= -1
    return left


@pytest.mark.parametrize('side', ['right', 'left'])
def test_matches_float64_rederivation(layers, files, side):
    model = files['RIGHT'] if side == 'right' else _left_fixed(files)
    layer = ManoLayer(layers['right'].model_dir, side=side).double()
    g, h, b, t = _inputs(2, seed=1, dtype=torch.float64)
    out = layer(g, h, b, t)
    assert out['vertices'].dtype == torch.float64
    for i in range(2):
        pose = np.concatenate([g[i].numpy(),
                               h[i].numpy() + model['hands_mean']])
        verts = _lbs_numpy(model, pose, b[i].numpy()) + t[i].numpy()
        np.testing.assert_allclose(out['vertices'][i].numpy(), verts,
                                   rtol=0, atol=1e-6)


def test_shapes_dtype_and_state_dict(layers):
    layer = layers['right']
    g, h, b, t = _inputs(4)
    out = layer(g, h, b, t)
    assert out['vertices'].shape == (4, 778, 3)
    assert out['joints'].shape == (4, 21, 3)
    assert out['vertices'].dtype == torch.float32
    assert layer.faces.shape == (1538, 3) and layer.faces.dtype == torch.int64
    assert layer.joint_regressor.shape == (21, 778)
    assert layer.hands_mean.shape == (45, )
    # licensed MANO data never goes into a checkpoint, nothing is trainable
    assert layer.state_dict() == {}
    assert list(layer.parameters()) == []
    buffers = dict(layer.named_buffers())
    assert {'joint_regressor', 'faces', 'hands_mean', 'mano.shapedirs',
            'mano.v_template', 'mano.posedirs'} <= set(buffers)
    # float64 inputs on the float32 module: outputs follow the inputs
    out64 = layer(*(x.double() for x in (g, h, b, t)))
    assert out64['vertices'].dtype == torch.float64
    torch.testing.assert_close(out64['vertices'].float(), out['vertices'],
                               atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match='hand_pose'):
        layer(g, h[:, :40], b)
    with pytest.raises(ValueError, match="'right' or 'left'"):
        ManoLayer(layer.model_dir, side='both')


def test_faces_follow_files(layers, files):
    np.testing.assert_array_equal(layers['right'].faces.numpy(),
                                  files['RIGHT']['f'].astype(np.int64))
    np.testing.assert_array_equal(layers['left'].faces.numpy(),
                                  files['LEFT']['f'].astype(np.int64))


@pytest.mark.parametrize('side', ['right', 'left'])
def test_joint_order(layers, files, side):
    layer = layers[side]
    out = layer(*_inputs(2, seed=2))
    verts, joints = out['vertices'], out['joints']
    for name, vid in FINGERTIP_VERTEX_IDS.items():
        assert torch.equal(joints[:, SH_JOINT_NAMES.index(name)],
                           verts[:, vid])
    # the RIGHT regressor rows, by name, for both hands
    jreg = torch.from_numpy(files['RIGHT']['J_regressor'].toarray()).float()
    for row, name in enumerate(MANO_JOINT_NAMES):
        expected = torch.einsum('v,nvc->nc', jreg[row], verts)
        torch.testing.assert_close(joints[:, SH_JOINT_NAMES.index(name)],
                                   expected, atol=1e-6, rtol=0)
    torch.testing.assert_close(layer.joint_regressor[0], jreg[0])
    assert SH_JOINT_NAMES[0] == 'Wrist'


def test_left_shapedirs_fix(layers, files):
    left, right = layers['left'], layers['right']
    assert left.shapedirs_fixed and not right.shapedirs_fixed
    torch.testing.assert_close(left.mano.shapedirs[:, 0],
                               -right.mano.shapedirs[:, 0], atol=0, rtol=0)
    torch.testing.assert_close(left.mano.shapedirs[:, 1:],
                               right.mano.shapedirs[:, 1:], atol=0, rtol=0)
    # the file itself is unchanged (defect present)
    np.testing.assert_array_equal(files['LEFT']['shapedirs'],
                                  files['RIGHT']['shapedirs'])


def test_mirror_invariant(layers):
    """left(mirrored pose, same betas, mirrored transl) == mirror(right).

    Holds exactly for the synthetic pair: the left model is the right one
    conjugated by M = diag(-1, 1, 1) (template, posedirs, hands_mean) and,
    after the shapedirs fix, its shape space is mirrored too. Rodrigues
    satisfies R((x, -y, -z)) = M R((x, y, z)) M.
    """
    g, h, b, t = _inputs(3, seed=3, dtype=torch.float64)
    right = ManoLayer(layers['right'].model_dir, 'right').double()
    left = ManoLayer(layers['right'].model_dir, 'left').double()
    pm = torch.from_numpy(POSE_MIRROR)
    m = torch.from_numpy(MIRROR)
    out_r = right(g, h, b, t)
    out_l = left(g * pm, (h.view(3, 15, 3) * pm).view(3, 45), b, t * m)
    torch.testing.assert_close(out_l['vertices'], out_r['vertices'] * m,
                               atol=1e-7, rtol=0)
    torch.testing.assert_close(out_l['joints'], out_r['joints'] * m,
                               atol=1e-7, rtol=0)
    # without the fix (the file's shapedirs) the invariant breaks
    with torch.no_grad():
        left.mano.shapedirs[:, 0] *= -1
    out_bad = left(g * pm, (h.view(3, 15, 3) * pm).view(3, 45), b, t * m)
    assert (out_bad['vertices'] - out_r['vertices'] * m).abs().max() > 1e-3


def test_flat_hand_mean_false(layers, files):
    layer = ManoLayer(layers['right'].model_dir).double()
    model = files['RIGHT']
    zeros3 = torch.zeros(1, 3, dtype=torch.float64)
    betas = torch.zeros(1, 10, dtype=torch.float64)
    mean = torch.from_numpy(model['hands_mean'])[None]
    # hand_pose = -hands_mean -> flat hand = the template itself
    flat = layer(zeros3, -mean, betas)
    np.testing.assert_allclose(flat['vertices'][0].numpy(),
                               model['v_template'], atol=1e-6, rtol=0)
    jreg = model['J_regressor'].toarray()
    np.testing.assert_allclose(flat['joints'][0, 0].numpy(),
                               jreg[0] @ model['v_template'], atol=1e-6)
    # hand_pose = 0 -> the mean pose (a curled hand, not the template)
    mean_out = layer(zeros3, torch.zeros(1, 45, dtype=torch.float64), betas)
    expected = _lbs_numpy(model, np.concatenate([np.zeros(3),
                                                 model['hands_mean']]),
                          np.zeros(10))
    np.testing.assert_allclose(mean_out['vertices'][0].numpy(), expected,
                               atol=1e-6, rtol=0)
    assert np.abs(expected - model['v_template']).max() > 5e-3


def test_transl_and_gradients(layers):
    layer = layers['right']
    g, h, b, t = _inputs(2, seed=4)
    base = layer(g, h, b)
    moved = layer(g, h, b, t)
    torch.testing.assert_close(moved['vertices'],
                               base['vertices'] + t[:, None], atol=1e-6,
                               rtol=0)
    torch.testing.assert_close(moved['joints'], base['joints'] + t[:, None],
                               atol=1e-6, rtol=0)
    inputs = [x.clone().requires_grad_(True) for x in (g, h, b, t)]
    out = layer(*inputs)
    (out['vertices'].square().sum() + out['joints'].sum()).backward()
    for x in inputs:
        assert x.grad is not None and torch.isfinite(x.grad).all()
        assert x.grad.abs().sum() > 0


def test_missing_model_dir_message(tmp_path):
    with pytest.raises(FileNotFoundError, match='make_synthetic_mano'):
        ManoLayer(tmp_path / 'absent')
