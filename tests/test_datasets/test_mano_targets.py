# Copyright (c) interwild_mm contributors.
"""MANO pseudo-GT targets on a small synthetic InterHand2.6M-format set.

The test writes a MANO_NeuralAnnot json with known parameters and, as the
joint_3d annotation, the joints of those very fits placed in the camera the
official way (docs/official_conventions.md §3.1, written out in float64 in
``_official.py``) and mapped back to the world; the MANO mesh targets
regressed to joints must then reproduce the joint targets under any
augmentation.
"""
import json

import cv2
import numpy as np
import pytest
import torch
from mmpose.registry import DATASETS

from interwild_mm.mano.constants import TH_TO_IH26M
from ._helpers import eval_pipeline, train_pipeline
from ._official import float64_layers, official_place


def _rot_x(deg):
    t = np.deg2rad(deg)
    return np.array([[1, 0, 0], [0, np.cos(t), -np.sin(t)],
                     [0, np.sin(t), np.cos(t)]])


@pytest.fixture(scope='module')
def mano_layers(synthetic_mano_dir):
    from interwild_mm.mano.layer import ManoLayer
    return {s: ManoLayer(synthetic_mano_dir, side=s) for s in
            ('right', 'left')}


@pytest.fixture(scope='module')
def synthetic_ih26m(tmp_path_factory, synthetic_mano_dir):
    layers64 = float64_layers(synthetic_mano_dir)
    root = tmp_path_factory.mktemp('ih26m_mano')
    rng = np.random.default_rng(0)
    W, H = 334, 512
    R = _rot_x(10.0)
    campos = np.array([30.0, -20.0, -1200.0])  # mm, world
    cams = {'1': {'campos': {'cam0': campos.tolist()},
                  'camrot': {'cam0': R.tolist()},
                  'focal': {'cam0': [1200.0, 1200.0]},
                  'princpt': {'cam0': [160.0, 250.0]}}}
    images, anns, joints3d, mano = [], [], {'1': {}}, {'1': {}}
    for k in range(3):
        fits, th = {}, np.zeros((42, 3))
        for h, side in enumerate(('right', 'left')):
            pose = rng.normal(0, 0.25, 48)
            pose[:3] = rng.normal(0, 1.0, 3)
            shape = rng.normal(0, 1.0, 10)
            # MANO wrists sit at x = +-0.089 m: place them at +-0.05 m
            trans = np.array([-0.039 * (1 - 2 * h), 0.02, 0.0]) + rng.normal(
                0, 0.01, 3)
            fits[side] = dict(pose=pose.tolist(), shape=shape.tolist(),
                              trans=trans.tolist())
            t = -R @ campos / 1000.0
            _, J, _, _ = official_place(
                layers64, dict(fits[side], R=R, t=t), side, False, W)
            th[h * 21:h * 21 + 21] = (J - t) @ R  # back to the world
        name = f'img{k}.jpg'
        cv2.imwrite(str(root / name), np.full((H, W, 3), 90, np.uint8))
        images.append(dict(id=k, file_name=name, width=W, height=H,
                           capture=1, camera='cam0', frame_idx=k,
                           seq_name='s'))
        anns.append(dict(id=100 + k, image_id=k, hand_type='interacting',
                         joint_valid=[[1]] * 42))
        joints3d['1'][str(k)] = dict(
            world_coord=(th[TH_TO_IH26M] * 1000).tolist(),
            joint_valid=[[1]] * 42, hand_type='interacting',
            hand_type_valid=1)
        mano['1'][str(k)] = fits
    for n, obj in (('data', dict(images=images, annotations=anns)),
                   ('camera', cams), ('joint_3d', joints3d),
                   ('MANO_NeuralAnnot', mano)):
        (root / f'ih_{n}.json').write_text(json.dumps(obj))
    return root


def _cfg(root, pipeline, **kw):
    return dict(type='InterHand26MDataset', data_root=str(root),
                ann_file='ih_data.json', camera_file='ih_camera.json',
                joint_file='ih_joint_3d.json',
                mano_file='ih_MANO_NeuralAnnot.json',
                data_prefix=dict(img=''), pipeline=pipeline, **kw)


@pytest.mark.parametrize('aug', [
    None,
    dict(flip_prob=0.0, rot_prob=1.0),
    dict(flip_prob=1.0, rot_prob=1.0),
    dict(flip_prob=1.0, rot_prob=0.0, scale_factor=0.0),
])
def test_mano_mesh_regresses_to_joint_targets(synthetic_ih26m, mano_layers,
                                             synthetic_mano_dir, aug):
    mdir = str(synthetic_mano_dir)
    pipe = eval_pipeline(mdir) if aug is None else train_pipeline(mdir, **aug)
    ds = DATASETS.build(_cfg(synthetic_ih26m, pipe))
    reg = mano_layers['right'].joint_regressor.double().numpy()
    np.random.seed(1)
    for i in range(len(ds)):
        s = ds[i]['data_samples']
        lab = s.gt_instance_labels
        assert lab.mano_mesh_valid.sum() == 1556
        assert lab.mano_pose_valid.sum() == 32
        assert lab.mano_shape_valid.sum() == 20
        mesh = lab.mano_mesh_cam[0].double().numpy()
        for h, side in enumerate(('right', 'left')):
            j = reg @ mesh[h * 778:(h + 1) * 778]
            np.testing.assert_allclose(j, lab.joint_cam[0, h * 21:h * 21 + 21]
                                       .double().numpy(), atol=2e-4)
            np.testing.assert_allclose(j, lab.mano_joint_cam[
                0, h * 21:h * 21 + 21].double().numpy(), atol=1e-5)
            # the pose/shape targets reproduce the mesh target
            pose = lab.mano_pose[0, h * 48:(h + 1) * 48].float()[None]
            shape = lab.mano_shape[0, h * 10:(h + 1) * 10].float()[None]
            with torch.no_grad():
                out = mano_layers[side](pose[:, :3], pose[:, 3:], shape)
            v = out['vertices'][0].double().numpy()
            v = v - (reg @ v)[0]
            np.testing.assert_allclose(v, mesh[h * 778:(h + 1) * 778],
                                       atol=1e-5)
        # MANO 2.5D joints agree with the annotated 2.5D joints; after a
        # flip only the wrists do (official step 6 puts the wrist on the
        # mirrored pixel; the other joints are off by
        # (W - 1 - 2 c_x)(Z_wrist / Z_j - 1) px)
        rows = [0, 21] if s.flip else slice(None)
        np.testing.assert_allclose(lab.mano_joint_img[0, rows].numpy(),
                                   lab.joint_img[0, rows].numpy(), atol=0.02)
        np.testing.assert_array_equal(lab.mano_joint_trunc[0, rows].numpy(),
                                      lab.joint_trunc[0, rows].numpy())
        # rel_trans = wrist difference; gt mesh is the absolute MANO mesh
        gt = s.gt_instances
        np.testing.assert_allclose(
            lab.rel_trans[0].numpy(),
            gt.gt_joint_cam[0, 21] - gt.gt_joint_cam[0, 0], atol=1e-6)
        assert gt.gt_mesh_valid.tolist() == [[1, 1]]
        np.testing.assert_allclose(
            reg @ gt.gt_mesh_cam[0, :778].astype(np.float64),
            gt.gt_joint_cam[0, :21], atol=2e-4)


def test_flip_twice_is_identity():
    from interwild_mm.datasets.transforms import InterWildBodyAffine
    rng = np.random.default_rng(3)
    res = dict(
        joint_img=rng.uniform(0, 300, (42, 2)).astype(np.float32),
        joint_cam=rng.normal(0, 0.3, (42, 3)).astype(np.float32),
        joint_valid=(rng.uniform(size=42) > 0.3).astype(np.float32),
        hand_bbox=np.array([[10, 20, 50, 80], [100, 30, 150, 90]],
                           np.float32),
        hand_bbox_valid=np.array([1, 1], np.float32),
        mesh_cam=rng.normal(0, 0.1, (2, 778, 3)).astype(np.float32),
        mesh_valid=np.array([1, 0], np.float32),
        hand_type='right',
        flip_indices=list(range(21, 42)) + list(range(21)))
    ref = {k: (v.copy() if isinstance(v, np.ndarray) else v)
           for k, v in res.items()}
    once = InterWildBodyAffine.flip_annotations(
        {k: (v.copy() if isinstance(v, np.ndarray) else v)
         for k, v in res.items()}, 334)
    assert once['hand_type'] == 'left'
    np.testing.assert_allclose(once['joint_cam'][0],
                               ref['joint_cam'][21] * [-1, 1, 1])
    np.testing.assert_allclose(once['joint_img'][21, 0],
                               333 - ref['joint_img'][0, 0])
    np.testing.assert_allclose(once['hand_bbox'][0],
                               [333 - 150, 30, 333 - 100, 90])
    twice = InterWildBodyAffine.flip_annotations(once, 334)
    for k, v in ref.items():
        if isinstance(v, np.ndarray):
            np.testing.assert_allclose(twice[k], v, atol=1e-4, err_msg=k)
        else:
            assert twice[k] == v
