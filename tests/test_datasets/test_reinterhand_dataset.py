# Copyright (c) interwild_mm contributors.
"""ReInterHandDataset on a tiny capture folder in the official layout."""
import json

import cv2
import numpy as np
import pytest
import torch
from mmpose.registry import DATASETS

from interwild_mm.datasets.datasets.reinterhand_dataset import \
    REINTERHAND_TEST_CAPTURES
from ._helpers import eval_pipeline, train_pipeline

TRAIN_CAP = ('m--20221111--0000--ABC123--pilot--ProjectGoliath--Hands--'
             'two-hands')
W, H = 320, 400


def _write(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))


@pytest.fixture(scope='module')
def capture_root(tmp_path_factory, synthetic_mano_dir):
    from interwild_mm.mano.layer import ManoLayer
    layers = {s: ManoLayer(synthetic_mano_dir, side=s)
              for s in ('right', 'left')}
    root = tmp_path_factory.mktemp('reinterhand')
    rng = np.random.default_rng(5)
    R = np.eye(3)
    t = np.array([0.0, 0.0, 1000.0])  # mm: world origin 1 m in front
    truth = {}
    for cap in (TRAIN_CAP, REINTERHAND_TEST_CAPTURES[0]):
        cdir = root / cap
        _write(cdir / 'Mugsy_cameras' / 'cam_params.json',
               {'401': dict(R=R.tolist(), t=t.tolist(),
                            focal=[900.0, 900.0], princpt=[160.0, 200.0])})
        for frame in (0, 5):
            img = cdir / 'Mugsy_cameras/envmap_per_frame/images/401' / \
                f'{frame:06d}.png'
            img.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(img), np.full((H, W, 3), 60, np.uint8))
            sides = ('right', 'left') if frame == 0 else ('left', )
            for h, side in enumerate(('right', 'left')):
                if side not in sides:
                    continue
                pose = rng.normal(0, 0.2, 48)
                shape = rng.normal(0, 0.5, 10)
                trans = np.array([-0.04 if side == 'right' else 0.04, 0, 0])
                with torch.no_grad():
                    out = layers[side](
                        torch.tensor(pose[None, :3]).float(),
                        torch.tensor(pose[None, 3:]).float(),
                        torch.tensor(shape[None]).float(),
                        torch.tensor(trans[None]).float())
                sh = out['joints'][0].double().numpy() * 1000
                # 24 ReInterHand keypoints: insert Thumb_0, Pinky_0, stub
                k24 = np.concatenate([sh[:1], sh[:1] + 1, sh[1:17],
                                      sh[:1] + 2, sh[17:21], sh[:1] + 3])
                _write(cdir / 'orig_fits' / side / 'Keypoints' /
                       f'keypoint-{frame:06d}.json', k24.tolist())
                _write(cdir / 'mano_fits' / 'params' /
                       f'{frame}_{side}.json',
                       dict(pose=pose.tolist(), shape=shape.tolist(),
                            trans=trans.tolist()))
                truth[(cap, frame, side)] = sh / 1000
    return root, truth, layers


def test_split_layout_and_joints(capture_root):
    root, truth, _ = capture_root
    train = DATASETS.build(dict(type='ReInterHandDataset',
                                data_root=str(root), split='train'))
    test = DATASETS.build(dict(type='ReInterHandDataset',
                               data_root=str(root), split='test'))
    assert len(train) == 2 and len(test) == 2
    assert all(TRAIN_CAP in train[i]['img_path'] for i in range(2))
    for i in range(2):
        info = train[i]
        frame = info['img_id']
        assert info['hand_type'] == ('interacting' if frame == 0 else 'left')
        for h, side in enumerate(('right', 'left')):
            key = (TRAIN_CAP, frame, side)
            sl = slice(h * 21, h * 21 + 21)
            if key not in truth:
                assert info['joint_valid'][sl].sum() == 0
                assert info['mano_params'][h] is None
                continue
            X = truth[key] + [0, 0, 1.0]
            np.testing.assert_allclose(info['joint_cam'][sl], X, atol=1e-5)
            uv = X[:, :2] / X[:, 2:] * 900 + [160, 200]
            np.testing.assert_allclose(info['joint_img'][sl], uv, atol=1e-3)
            assert info['hand_bbox_valid'][h] == 1
            assert info['mano_params'][h] is not None


@pytest.mark.parametrize('aug', [None, dict(flip_prob=1.0, rot_prob=1.0)])
def test_mano_targets_match_keypoints(capture_root, synthetic_mano_dir, aug):
    root, _, layers = capture_root
    pipe = eval_pipeline(str(synthetic_mano_dir)) if aug is None else \
        train_pipeline(str(synthetic_mano_dir), **aug)
    ds = DATASETS.build(dict(type='ReInterHandDataset', data_root=str(root),
                             split='test', pipeline=pipe))
    reg = layers['right'].joint_regressor.double().numpy()
    np.random.seed(0)
    for i in range(len(ds)):
        lab = ds[i]['data_samples'].gt_instance_labels
        for h in range(2):
            if not lab.mano_pose_valid[0, h * 16]:
                continue
            mesh = lab.mano_mesh_cam[0, h * 778:(h + 1) * 778].double()
            np.testing.assert_allclose(
                reg @ mesh.numpy(),
                lab.joint_cam[0, h * 21:(h + 1) * 21].double().numpy(),
                atol=2e-4)
        assert lab.is_3D.item() == 1
