# Copyright (c) interwild_mm contributors.
"""Tests of the synthetic InterHand2.6M / HIC dataset generator.

The files are checked with independent re-derivations: joints re-computed
from the MANO json through ``ManoLayer`` placed in the image's camera by the
official step list (``_official.py``, docs/official_conventions.md §3.1: root
orientation pre-multiplied by R, then ``P - root + R root + t``) and the
fingertip vertex ids, projections written out in float64 here, and PLY
files read back with trimesh.
"""
import filecmp
import importlib.util
import json
import os
import os.path as osp
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import trimesh
from scipy.spatial.transform import Rotation

from interwild_mm.mano.constants import (FINGERTIP_VERTEX_IDS,
                                         IH26M_JOINT_NAMES)
from interwild_mm.mano import ManoLayer
from ._official import float64_layers, official_place

ROOT = Path(__file__).resolve().parents[2]
NUM, NUM_TEST, NUM_HIC = 24, 8, 4
W, H = 240, 320


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'make_synthetic_dataset', ROOT / 'tools' / 'make_synthetic_dataset.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope='module')
def dataset(tmp_path_factory, synthetic_mano_dir):
    out = tmp_path_factory.mktemp('synthetic') / 'ds'
    load_tool().main([
        str(out), '--num',
        str(NUM), '--num-test',
        str(NUM_TEST), '--num-hic',
        str(NUM_HIC), '--mano-dir',
        str(synthetic_mano_dir), '--seed', '3', '--img-size',
        str(W),
        str(H)
    ])
    return out


@pytest.fixture(scope='module')
def layers(synthetic_mano_dir):
    return {
        s: ManoLayer(synthetic_mano_dir, side=s)
        for s in ('right', 'left')
    }


def load_split(root, split):
    prefix = osp.join(root, 'annotations', split, f'InterHand2.6M_{split}_')
    out = {}
    for key in ('data', 'camera', 'joint_3d', 'MANO_NeuralAnnot'):
        with open(prefix + key + '.json') as fh:
            out[key] = json.load(fh)
    return out


def iter_samples(root, split):
    ann = load_split(root, split)
    anns = {a['image_id']: a for a in ann['data']['annotations']}
    for img in ann['data']['images']:
        c, cam = str(img['capture']), img['camera']
        camera = {
            k: np.array(ann['camera'][c][k][cam], np.float64)
            for k in ('campos', 'camrot', 'focal', 'princpt')
        }
        frame = str(img['frame_idx'])
        yield (img, anns[img['id']], camera, ann['joint_3d'][c][frame],
               ann['MANO_NeuralAnnot'][c][frame])


def world_to_pixels(X_mm, cam):
    Xc = (X_mm - cam['campos']) @ cam['camrot'].T
    return Xc, Xc[:, :2] / Xc[:, 2:3] * cam['focal'] + cam['princpt']


def placed_world(layers64, side, p, cam):
    """The fit placed in ``cam`` the official way, mapped back to the world:
    (778, 3) vertices and (21, 3) joints, millimetres."""
    R = cam['camrot']
    t = -R @ cam['campos'] / 1000.0
    fit = dict({k: np.asarray(v, np.float64) for k, v in p.items()},
               R=R, t=t, focal=cam['focal'], princpt=cam['princpt'])
    V, J, _, _ = official_place(layers64, fit, side, False, W)
    return (V - t) @ R * 1000.0, (J - t) @ R * 1000.0


def mano_forward(layer, pose, shape, trans):
    f = torch.float64
    pose = np.asarray(pose, np.float64)
    args = [
        pose[None, :3], pose[None, 3:],
        np.asarray(shape)[None],
        np.asarray(trans)[None]
    ]
    with torch.no_grad():
        out = layer.double()(*[torch.tensor(a, dtype=f) for a in args])
    return out['vertices'][0].numpy(), out['joints'][0].numpy()


@pytest.mark.parametrize('split', ['train', 'test'])
def test_ih26m_file_format(dataset, split):
    with open(osp.join(dataset, 'README.txt')) as fh:
        readme = fh.read()
    assert 'Seed: 3' in readme and 'InterHand2.6M' in readme
    ann = load_split(dataset, split)
    data = ann['data']
    assert set(data) >= {'images', 'annotations'}
    n = NUM_TEST if split == 'test' else NUM - NUM_TEST
    assert len(data['images']) == len(data['annotations']) == n
    ids = [im['id'] for im in data['images']]
    assert len(set(ids)) == n
    for im in data['images']:
        assert set(im) >= {
            'id', 'file_name', 'width', 'height', 'capture', 'seq_name',
            'camera', 'frame_idx'
        }
        assert isinstance(im['camera'], str)
        assert isinstance(im['frame_idx'], int)
        path = osp.join(dataset, 'images', split, im['file_name'])
        img = cv2.imread(path)
        assert img is not None and img.shape == (im['height'], im['width'],
                                                 3) == (H, W, 3)
        assert im['file_name'].startswith(f'capture{im["capture"]}/cam'
                                          f'{im["camera"]}/image')
    for a in data['annotations']:
        assert set(a) >= {
            'id', 'image_id', 'bbox', 'hand_type', 'hand_type_valid',
            'joint_valid'
        }
        assert a['hand_type'] in ('right', 'left', 'interacting')
        assert np.array(a['joint_valid']).shape == (42, 1)
        assert len(a['bbox']) == 4 and a['bbox'][2] > 0 and a['bbox'][3] > 0
    for c, cams in ann['camera'].items():
        assert set(cams) == {'campos', 'camrot', 'focal', 'princpt'}
        for name in cams['campos']:
            R = np.array(cams['camrot'][name])
            assert R.shape == (3, 3)
            np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-6)
            assert np.linalg.det(R) > 0
            # world != camera: a real rotation and an offset centre
            assert np.abs(R - np.eye(3)).max() > 0.1
            assert np.linalg.norm(cams['campos'][name]) > 100
            assert len(cams['focal'][name]) == len(cams['princpt'][name]) == 2
    for c, frames in ann['joint_3d'].items():
        for fr, j in frames.items():
            assert np.array(j['world_coord']).shape == (42, 3)
            assert np.array(j['joint_valid']).shape == (42, 1)
            assert j['hand_type'] in ('right', 'left', 'interacting')
            mano = ann['MANO_NeuralAnnot'][c][fr]
            assert set(mano) == {'right', 'left'}
            present = {
                'right': j['hand_type'] in ('right', 'interacting'),
                'left': j['hand_type'] in ('left', 'interacting')
            }
            for side, p in mano.items():
                assert (p is not None) == present[side]
                if p is not None:
                    assert (len(p['pose']), len(p['shape']),
                            len(p['trans'])) == (48, 10, 3)
            valid3d = np.array(j['joint_valid']).reshape(-1)
            np.testing.assert_array_equal(valid3d[:21], present['right'])
            np.testing.assert_array_equal(valid3d[21:], present['left'])


def test_all_hand_types_present(dataset):
    types = set()
    for split in ('train', 'test'):
        types |= {
            a['hand_type']
            for a in load_split(dataset, split)['data']['annotations']
        }
    assert types == {'right', 'left', 'interacting'}


@pytest.mark.parametrize('split', ['train', 'test'])
def test_joint_order_and_mano_consistency(dataset, synthetic_mano_dir,
                                          split):
    """Wrists (and fingertips) re-derived from the MANO json, placed in the
    image's camera the official way, = joint_3d (one frame per image)."""
    layers64 = float64_layers(synthetic_mano_dir)
    names = IH26M_JOINT_NAMES
    checked = 0
    frames = set()
    for img, ann, cam, j3d, mano in iter_samples(dataset, split):
        key = (img['capture'], img['frame_idx'])
        assert key not in frames  # every image is its own frame
        frames.add(key)
        world = np.array(j3d['world_coord'])
        for side, prefix in (('right', 'R_'), ('left', 'L_')):
            p = mano[side]
            if p is None:
                continue
            verts, joints = placed_world(layers64, side, p, cam)
            wrist = world[names.index(prefix + 'Wrist')]
            # IH2.6M order: wrist last of each hand (20, 41)
            assert names.index(prefix +
                               'Wrist') == (20 if side == 'right' else 41)
            np.testing.assert_allclose(wrist, joints[0], atol=1e-2)
            for tip, vid in FINGERTIP_VERTEX_IDS.items():
                np.testing.assert_allclose(
                    world[names.index(prefix + tip)], verts[vid], atol=1e-2)
            checked += 1
    assert checked >= 5


@pytest.mark.parametrize('split', ['train', 'test'])
def test_projection_lands_on_rendered_hands(dataset, split):
    """Valid joints project onto hand pixels; joint_valid = inside image."""
    n_hits = 0
    for img, ann, cam, j3d, mano in iter_samples(dataset, split):
        world = np.array(j3d['world_coord'])
        exist = np.array(j3d['joint_valid']).reshape(-1) > 0
        Xc, uv = world_to_pixels(world, cam)
        inside = (Xc[:, 2] > 0) & (uv[:, 0] >= 0) & (uv[:, 0] <= W - 1) & \
            (uv[:, 1] >= 0) & (uv[:, 1] <= H - 1)
        valid = np.array(ann['joint_valid']).reshape(-1)
        np.testing.assert_array_equal(valid, (exist & inside).astype(int))
        mask = cv2.imread(
            osp.join(dataset, 'masks', split,
                     img['file_name'].replace('.jpg', '.png')),
            cv2.IMREAD_UNCHANGED)
        assert mask.shape == (H, W)
        # Joints lie inside the closed hand mesh, so they project into the
        # silhouette (3x3 neighbourhood for silhouette rounding).
        for u, v in uv[valid > 0]:
            x, y = int(round(u)), int(round(v))
            patch = mask[max(y - 1, 0):y + 2, max(x - 1, 0):x + 2]
            assert patch.max() > 0
            n_hits += 1
        # hand box sizes are image-sized, not specks
        for sl in (slice(0, 21), slice(21, 42)):
            if valid[sl].sum() >= 10:
                pts = uv[sl][valid[sl] > 0]
                assert 25 < (pts.max(0) - pts.min(0)).max() < 300
    assert n_hits > 100


def test_mask_equals_rendered_annotation(dataset, layers,
                                         synthetic_mano_dir):
    """Re-rendering the annotated MANO meshes (placed in the camera the
    official way) reproduces the saved mask."""
    from interwild_mm.visualization.renderer import render_meshes
    layers64 = float64_layers(synthetic_mano_dir)
    for img, ann, cam, j3d, mano in list(iter_samples(dataset, 'test'))[:4]:
        meshes, faces, ids = [], [], []
        for k, side in enumerate(('right', 'left')):
            p = mano[side]
            if p is None:
                continue
            verts, _ = placed_world(layers64, side, p, cam)
            Xc, _ = world_to_pixels(verts, cam)
            meshes.append(Xc / 1000)
            faces.append(layers[side].faces.numpy())
            ids.append(k + 1)
        out = render_meshes(
            meshes,
            faces,
            dict(
                type='perspective', focal=cam['focal'],
                princpt=cam['princpt']),
            image_size=(H, W))
        expected = np.zeros((H, W), np.uint8)
        expected[out.mask] = np.array(ids)[out.mesh_id[out.mask]]
        mask = cv2.imread(
            osp.join(dataset, 'masks', 'test',
                     img['file_name'].replace('.jpg', '.png')),
            cv2.IMREAD_UNCHANGED)
        # json floats are rounded to 1e-7: allow a handful of edge pixels
        assert (mask != expected).sum() <= 5
        assert (mask > 0).sum() > 200


def test_camera_frame_route_of_the_loaders(dataset, layers):
    """World-frame MANO params + camera = camera-frame mesh.

    Running MANO with the root orientation pre-multiplied by R
    (``get_mano_data``, docs/official_conventions.md §3.1) rotates the hand
    about MANO's kinematic root ``c`` (the rest-pose root joint + trans), so it
    equals R (V_world - campos) shifted by ``c - (R c + t)``. ``c`` is
    recovered independently as the fixed point of root rotations. (The loaders'
    fix ``P - root + R root + t`` uses the regressed wrist instead of ``c``:
    exact only up to the wrist's small pose-dependent offset from ``c``.)
    """
    n = 0
    for img, ann, cam, j3d, mano in iter_samples(dataset, 'train'):
        R = cam['camrot']
        t = -R @ cam['campos'] / 1000.0
        for side in ('right', 'left'):
            p = mano[side]
            if p is None:
                continue
            pose = np.array(p['pose'])
            v_world, _ = mano_forward(layers[side], pose, p['shape'],
                                      p['trans'])
            root_cam = Rotation.from_matrix(
                R @ Rotation.from_rotvec(pose[:3]).as_matrix()).as_rotvec()
            pose_cam = np.concatenate([root_cam, pose[3:]])
            v, j = mano_forward(layers[side], pose_cam, p['shape'], p['trans'])
            expected = (v_world - cam['campos'] / 1000.0) @ R.T
            # rotation centre c: V_Q - c = Q (V_I - c) for root rotations Q
            v_id, _ = mano_forward(layers[side], np.r_[np.zeros(3), pose[3:]],
                                   p['shape'], p['trans'])
            rows, rhs = [], []
            for rv in ([0.7, 0.0, 0.0], [0.0, 0.9, 0.3]):
                Q = Rotation.from_rotvec(rv).as_matrix()
                v_q, _ = mano_forward(layers[side], np.r_[rv, pose[3:]],
                                      p['shape'], p['trans'])
                rows.append(np.eye(3) - Q)
                rhs.append(v_q[0] - Q @ v_id[0])
            c = np.linalg.lstsq(
                np.concatenate(rows), np.concatenate(rhs), rcond=None)[0]
            np.testing.assert_allclose(
                v, expected + c - (R @ c + t), atol=1e-6)
            n += 1
        if n >= 4:
            break
    assert n >= 4


def test_hic_split(dataset):
    data_dir = osp.join(dataset, 'HIC', 'data')
    with open(osp.join(data_dir, 'HIC.json')) as fh:
        hic = json.load(fh)
    assert len(hic['images']) == len(hic['annotations']) == NUM_HIC
    focal, princpt = np.array([525.0, 525.0]), np.array([319.5, 239.5])
    for im, a in zip(hic['images'], hic['annotations']):
        assert set(im) >= {'id', 'file_name', 'width', 'height'}
        assert (im['width'], im['height']) == (640, 480)
        assert a['image_id'] == im['id']
        assert set(a) >= {
            'image_id', 'hand_type', 'right_mano_path', 'left_mano_path'
        }
        img = cv2.imread(osp.join(data_dir, im['file_name']))
        assert img.shape == (480, 640, 3)
        mask = cv2.imread(
            osp.join(
                data_dir,
                im['file_name'].replace('/rgb/',
                                        '/mask/').replace('.jpg', '.png')),
            cv2.IMREAD_UNCHANGED)
        for side in ('right', 'left'):
            rel = a[f'{side}_mano_path']
            present = a['hand_type'] in (side, 'interacting')
            assert (rel is not None) == present
            if rel is None:
                continue
            mesh = trimesh.load(osp.join(data_dir, rel), process=False)
            assert mesh.vertices.shape == (778, 3)
            assert mesh.faces.shape == (1538, 3)
            v = np.asarray(mesh.vertices, np.float64)
            assert 0.3 < v[:, 2].mean() < 1.0  # camera frame, metres
            uv = v[:, :2] / v[:, 2:] * focal + princpt
            inside = (uv[:, 0] >= 0) & (uv[:, 0] <= 639) & \
                (uv[:, 1] >= 0) & (uv[:, 1] <= 479)
            px = np.rint(uv[inside]).astype(int)
            # vertices project onto hand pixels (3x3 for silhouette rounding)
            hit = np.zeros(len(px), bool)
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    hit |= mask[np.clip(px[:, 1] + dy, 0, 479),
                                np.clip(px[:, 0] + dx, 0, 639)] > 0
            assert hit.mean() > 0.99


@pytest.fixture(scope='module')
def small_datasets(tmp_path_factory, synthetic_mano_dir):
    """Three tiny datasets: a and b with seed 5, c with seed 6."""
    from interwild_mm.synthetic import make_synthetic_dataset
    root = tmp_path_factory.mktemp('small')
    kw = dict(
        num=4,
        num_test=1,
        num_hic=1,
        mano_dir=str(synthetic_mano_dir),
        img_size=(160, 200))
    summary = make_synthetic_dataset(root / 'a', seed=5, **kw)
    make_synthetic_dataset(root / 'b', seed=5, **kw)
    make_synthetic_dataset(root / 'c', seed=6, **kw)
    return root, summary


def test_deterministic_by_seed(small_datasets):
    root, _ = small_datasets
    files = sorted(
        osp.relpath(osp.join(d, f), root / 'a')
        for d, _, fs in os.walk(root / 'a') for f in fs)
    assert len(files) > 10
    for f in files:
        assert filecmp.cmp(root / 'a' / f, root / 'b' / f, shallow=False), f
    name = 'annotations/train/InterHand2.6M_train_MANO_NeuralAnnot.json'
    assert not filecmp.cmp(root / 'a' / name, root / 'c' / name,
                           shallow=False)


def test_seed5_output_pinned(small_datasets):
    """What the generator wrote for these arguments before it moved to
    ``interwild_mm.synthetic`` (measured with the code of commit 82b3431,
    ``interwild_mm/datasets/synthetic.py``): the random choices (captures,
    cameras, frames, hand types), the sampled root orientation and the
    first camera. Rendered pixels are not pinned (JPEG encoder)."""
    root, summary = small_datasets
    assert summary == {
        'train': {'right': 0, 'left': 0, 'interacting': 3, 'frames': 3},
        'test': {'right': 0, 'left': 1, 'interacting': 0, 'frames': 1},
        'hic': {'right': 0, 'left': 0, 'interacting': 1},
    }
    train, test = load_split(root / 'a', 'train'), load_split(root / 'a',
                                                               'test')
    assert [(i['capture'], i['camera'], i['frame_idx'])
            for i in train['data']['images']] == [(1, '400102', 1),
                                                   (1, '400100', 2),
                                                   (1, '400101', 3)]
    assert [(i['capture'], i['camera'], i['frame_idx'])
            for i in test['data']['images']] == [(9, '400901', 1)]
    assert test['data']['annotations'][0]['hand_type'] == 'left'
    assert train['MANO_NeuralAnnot']['1']['1']['right']['pose'][:3] == \
        [-0.8966, -1.4059959, 0.0681024]
    assert test['MANO_NeuralAnnot']['9']['1']['right'] is None
    assert test['MANO_NeuralAnnot']['9']['1']['left']['pose'][:3] == \
        [1.8924407, -2.1501547, -0.4615639]
    cam = train['camera']['0']
    np.testing.assert_allclose(cam['campos']['400000'],
                               [67.1709251, -56.453591, -531.5683207],
                               atol=1e-6)
    np.testing.assert_allclose(cam['focal']['400000'],
                               [174.5385674, 172.9633838], atol=1e-6)
    np.testing.assert_allclose(cam['princpt']['400000'],
                               [84.4917612, 101.0236911], atol=1e-6)
    with open(root / 'a' / 'HIC' / 'data' / 'HIC.json') as fh:
        hic = json.load(fh)
    assert hic['annotations'] == [
        dict(id=0, image_id=0, hand_type='interacting',
             right_mano_path='01/mano/000000_right.ply',
             left_mano_path='01/mano/000000_left.ply')
    ]
    assert hic['images'] == [
        dict(id=0, file_name='01/rgb/000000.jpg', width=640, height=480)
    ]


def test_bad_arguments(tmp_path, synthetic_mano_dir):
    from interwild_mm.synthetic import make_synthetic_dataset
    with pytest.raises(ValueError, match='num_test'):
        make_synthetic_dataset(
            tmp_path, num=4, num_test=4, mano_dir=str(synthetic_mano_dir))
    with pytest.raises(ValueError, match='img_size'):
        make_synthetic_dataset(
            tmp_path,
            num=4,
            img_size=(10, 10),
            mano_dir=str(synthetic_mano_dir))
