# Copyright (c) interwild_mm contributors.
"""MANO pseudo-GT targets in the official step order (issue #11, item 1).

Every expected value comes from ``_official.py`` (the official step list in
float64, closed-form patch affine, scipy rotations), on the synthetic
InterHand2.6M-format data of the generator, on the real InterHand2.6M
fixture with synthetic world-frame fits attached and on the real
COCO-WholeBody fixture with synthetic camera-frame fits (f_x != f_y)
attached; augmentation parameters are forced.

Deviations of the former implementation these cases catch:
1a (extrinsics order) identity on the InterHand2.6M-format sets; 1b (flip)
``flip`` on COCO; 1c (rotation with f_x != f_y) ``rot30`` on COCO.
"""
import json
import shutil

import numpy as np
import pytest
from mmcv.transforms import Compose
from mmpose.registry import DATASETS

from interwild_mm.geometry.rotation import axis_angle_to_matrix
from interwild_mm.mano.constants import TH_TO_IH26M
from ._helpers import (COCO_ROOT, IH_ROOT, coco_cfg, ih_cfg,
                       make_synthetic_root)
from ._official import (float64_layers, mano64, official_place,
                        official_targets, patch_affine)

AUGS = {
    'identity': dict(aug_scale=1.0, aug_rot=0.0, flip=False),
    'flip': dict(aug_scale=1.0, aug_rot=0.0, flip=True),
    'rot30': dict(aug_scale=1.0, aug_rot=30.0, flip=False),
    'scale': dict(aug_scale=1.25, aug_rot=0.0, flip=False),
    'all': dict(aug_scale=0.8, aug_rot=-30.0, flip=True,
                aug_color=np.array([0.9, 1.1, 1.0], np.float32)),
}
SIDES = ('right', 'left')


@pytest.fixture(scope='module')
def layers64(synthetic_mano_dir):
    return float64_layers(synthetic_mano_dir)


@pytest.fixture(scope='module')
def synthetic_root(tmp_path_factory, synthetic_mano_dir):
    return make_synthetic_root(
        tmp_path_factory, synthetic_mano_dir, 'syn_official', num=14,
        num_test=4, num_hic=0, seed=4, img_size=(240, 320))


def _random_fit(rng, layer64, wrist_target):
    """World/camera-frame fit whose plain MANO wrist is ``wrist_target``."""
    pose = np.concatenate([rng.normal(0, 1.2, 3), rng.normal(0, 0.3, 45)])
    shape = rng.normal(0, 1.0, 10)
    _, J = mano64(layer64, pose, shape, np.zeros(3))
    return dict(pose=pose.tolist(), shape=shape.tolist(),
                trans=(wrist_target - J[0]).tolist())


@pytest.fixture(scope='module')
def ih_fixture_root(tmp_path_factory, layers64):
    """The real InterHand2.6M fixture + synthetic world-frame MANO fits
    whose wrists sit on the annotated wrists."""
    root = tmp_path_factory.mktemp('ih_fits') / 'ih'
    shutil.copytree(IH_ROOT, root)
    joints = json.loads((root / 'test_interhand2.6m_joint_3d.json')
                        .read_text())
    rng = np.random.default_rng(11)
    mano = {}
    for cap, frames in joints.items():
        mano[cap] = {}
        for fr, j in frames.items():
            world = np.asarray(j['world_coord']) / 1000.0
            valid = np.asarray(j['joint_valid']).reshape(-1)
            mano[cap][fr] = {
                side: (_random_fit(rng, layers64[side], world[wi])
                       if valid[wi] else None)
                for side, wi in (('right', 20), ('left', 41))
            }
    (root / 'mano.json').write_text(json.dumps(mano))
    return root


@pytest.fixture(scope='module')
def coco_fixture_root(tmp_path_factory, layers64):
    """The real COCO-WholeBody fixture + synthetic camera-frame fits
    (f_x != f_y by 1 %, off-centre principal point) on the 2D wrists."""
    root = tmp_path_factory.mktemp('coco_fits') / 'coco'
    shutil.copytree(COCO_ROOT, root)
    db = json.loads((root / 'test_coco_wholebody.json').read_text())
    imgs = {i['id']: i for i in db['images']}
    rng = np.random.default_rng(12)
    mano = {}
    for a in db['annotations']:
        img = imgs[a['image_id']]
        focal = np.array([1500.0, 1515.0])
        princpt = np.array([img['width'] / 2 + 20, img['height'] / 2 - 15])
        fits = {}
        for side in SIDES:
            k = np.asarray(a[f'{side}hand_kpts']).reshape(21, 3)
            if not a[f'{side}hand_valid'] or k[0, 2] <= 0:
                fits[side] = None
                continue
            z = rng.uniform(0.8, 1.4)
            wrist = np.r_[(k[0, :2] - princpt) / focal * z, z]
            fits[side] = dict(mano_param=_random_fit(rng, layers64[side],
                                                     wrist),
                              cam_param=dict(focal=focal.tolist(),
                                             princpt=princpt.tolist()))
        if any(v is not None for v in fits.values()):
            mano[str(a['id'])] = fits
    (root / 'mano.json').write_text(json.dumps(mano))
    return root


def _dataset(kind, roots):
    if kind == 'synthetic':
        return DATASETS.build(dict(
            type='InterHand26MDataset', data_root=str(roots[kind]),
            ann_file='annotations/train/InterHand2.6M_train_data.json',
            camera_file='annotations/train/InterHand2.6M_train_camera.json',
            joint_file='annotations/train/InterHand2.6M_train_joint_3d.json',
            mano_file='annotations/train/'
            'InterHand2.6M_train_MANO_NeuralAnnot.json',
            data_prefix=dict(img='images/train/'), pipeline=[]))
    if kind == 'ih_fixture':
        return DATASETS.build(ih_cfg(data_root=str(roots[kind]),
                                     mano_file='mano.json'))
    return DATASETS.build(coco_cfg(data_root=str(roots[kind]),
                                   mano_file='mano.json'))


def _run(ds, i, aug, mano_dir):
    """The pipeline with forced augmentation parameters."""
    results = ds.get_data_info(i)
    results.update(aug)
    pipe = Compose([
        dict(type='LoadImage', color_type='color_ignore_orientation'),
        dict(type='InterWildBodyAffine'),
        dict(type='InterWildGenerateTarget', mano_model_dir=mano_dir),
        dict(type='PackInterWildInputs'),
    ])
    info = dict(results)
    return pipe(results)['data_samples'], info


@pytest.mark.parametrize('aug', list(AUGS))
@pytest.mark.parametrize('kind', ['synthetic', 'ih_fixture', 'coco_fixture'])
def test_mano_targets_follow_official_order(kind, aug, synthetic_root,
                                            ih_fixture_root,
                                            coco_fixture_root, layers64,
                                            synthetic_mano_dir):
    roots = dict(synthetic=synthetic_root, ih_fixture=ih_fixture_root,
                 coco_fixture=coco_fixture_root)
    ds = _dataset(kind, roots)
    p = AUGS[aug]
    n_hands = n_inside = 0
    for i in range(len(ds)):
        s, info = _run(ds, i, p, str(synthetic_mano_dir))
        lab = s.gt_instance_labels
        img_w = info['ann_img_shape'][1]
        affine = patch_affine(info['body_bbox'], img_w, p['aug_scale'],
                              p['aug_rot'], p['flip'])
        for src, fit in enumerate(info['mano_params']):
            if fit is None:
                continue
            fit = {k: (None if v is None else np.asarray(v, np.float64))
                   for k, v in fit.items()}
            e = official_targets(layers64, fit, SIDES[src], p['flip'],
                                 p['aug_rot'], img_w, affine)
            dst = 1 - src if p['flip'] else src
            js = slice(21 * dst, 21 * dst + 21)
            vs = slice(778 * dst, 778 * dst + 778)
            np.testing.assert_allclose(lab.mano_joint_img[0, js].numpy(),
                                       e['joint_img'], atol=2e-4,
                                       err_msg=f'{kind} {aug} sample {i}')
            away = (np.abs(e['joint_img'] - np.round(e['joint_img'])) >
                    1e-3).all(1)  # not on a grid border
            np.testing.assert_array_equal(
                lab.mano_joint_trunc[0, js, 0].numpy()[away],
                e['trunc'][away])
            np.testing.assert_allclose(lab.mano_joint_cam[0, js].numpy(),
                                       e['joint_cam'], atol=2e-6)
            np.testing.assert_allclose(lab.mano_mesh_cam[0, vs].numpy(),
                                       e['mesh_cam'], atol=2e-6)
            root = lab.mano_pose[0, 48 * dst:48 * dst + 3].double()
            np.testing.assert_allclose(axis_angle_to_matrix(root).numpy(),
                                       e['root_mat'], atol=2e-6)
            n_hands += 1
            n_inside += int(e['trunc'].sum())
    assert n_hands >= 3 and n_inside >= 30, (n_hands, n_inside)


def _joint3d_cam(root, split):
    """Per image: camera-frame joint_3d joints (m, th order), R, t, fits."""
    pre = root / 'annotations' / split / f'InterHand2.6M_{split}_'
    data = json.loads((pre.parent / (pre.name + 'data.json')).read_text())
    cams = json.loads((pre.parent / (pre.name + 'camera.json')).read_text())
    j3d = json.loads((pre.parent / (pre.name + 'joint_3d.json')).read_text())
    mano = json.loads(
        (pre.parent / (pre.name + 'MANO_NeuralAnnot.json')).read_text())
    th_from_ih = np.argsort(TH_TO_IH26M)
    for img in data['images']:
        c, cam, fr = str(img['capture']), img['camera'], str(img['frame_idx'])
        R = np.asarray(cams[c]['camrot'][cam], np.float64)
        campos = np.asarray(cams[c]['campos'][cam], np.float64)
        world = np.asarray(j3d[c][fr]['world_coord'], np.float64)
        X = ((world - campos) @ R.T / 1000.0)[th_from_ih]
        fit_cam = dict(R=R, t=-R @ campos / 1000.0,
                       focal=np.asarray(cams[c]['focal'][cam]),
                       princpt=np.asarray(cams[c]['princpt'][cam]))
        yield img, X, fit_cam, mano[c][fr]


@pytest.mark.parametrize('split', ['train', 'test'])
def test_synthetic_fits_land_on_joint_3d(synthetic_root, layers64,
                                         synthetic_mano_dir, split):
    """The generator's fits, placed the official way, are its joint_3d."""
    from interwild_mm.datasets.transforms.mano_data import get_mano_data
    from interwild_mm.mano.layer import ManoLayer
    layers = {s: ManoLayer(synthetic_mano_dir, side=s) for s in SIDES}
    ds = DATASETS.build(dict(
        type='InterHand26MDataset', data_root=str(synthetic_root),
        ann_file=f'annotations/{split}/InterHand2.6M_{split}_data.json',
        camera_file=f'annotations/{split}/InterHand2.6M_{split}_camera.json',
        joint_file=f'annotations/{split}/InterHand2.6M_{split}_joint_3d.json',
        mano_file=f'annotations/{split}/'
        f'InterHand2.6M_{split}_MANO_NeuralAnnot.json',
        data_prefix=dict(img=f'images/{split}/'), pipeline=[]))
    by_img = {ds.get_data_info(i)['img_id']: ds.get_data_info(i)
              for i in range(len(ds))}
    identity = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    n = 0
    for img, X, cam, fits in _joint3d_cam(synthetic_root, split):
        for h, side in enumerate(SIDES):
            if fits[side] is None:
                continue
            fit = dict({k: np.asarray(v, np.float64)
                        for k, v in fits[side].items()}, **cam)
            _, J, _, _ = official_place(layers64, fit, side, False,
                                        img['width'])
            sl = slice(21 * h, 21 * h + 21)
            np.testing.assert_allclose(J, X[sl], atol=1e-5)  # 0.01 mm
            info = by_img.get(img['id'])
            if info is None or info['mano_params'][h] is None:
                continue
            out = get_mano_data(info['mano_params'][h], layers, side, False,
                                0.0, img['width'], identity)
            v3d = info['joint_valid'][sl] > 0
            np.testing.assert_allclose(out['joints'][v3d],
                                       info['joint_cam'][sl][v3d],
                                       atol=1e-5)
            n += 1
    assert n >= 3


def test_fisheye_fit_is_refused(synthetic_mano_dir):
    from interwild_mm.datasets.transforms.mano_data import place_mano_fit
    fit = dict(pose=np.zeros(48), shape=np.zeros(10), trans=np.zeros(3),
               focal=np.ones(2), princpt=np.zeros(2), R=None, t=None,
               D=np.zeros(4))
    with pytest.raises(NotImplementedError, match='fisheye'):
        place_mano_fit(fit, {}, 'right', False, 100)


def test_flip_shift_puts_wrist_on_mirrored_pixel(synthetic_mano_dir,
                                                 layers64):
    """Step 6 by hand: the flipped wrist projects onto W - 1 - u (original
    camera), other joints are off the mirrored pixels by
    (W - 1 - 2 c_x)(Z_wrist / Z_j - 1)."""
    from interwild_mm.datasets.transforms.mano_data import place_mano_fit
    from interwild_mm.mano.layer import ManoLayer
    layers = {s: ManoLayer(synthetic_mano_dir, side=s) for s in SIDES}
    rng = np.random.default_rng(5)
    fit = _random_fit(rng, layers64['left'], np.array([0.05, -0.02, 0.7]))
    fit = {k: np.asarray(v) for k, v in fit.items()}
    fit.update(focal=np.array([900.0, 905.0]),
               princpt=np.array([140.0, 200.0]), R=None, t=None)
    W = 400
    plain = place_mano_fit(fit, layers, 'left', False, W)['joints']
    flipped = place_mano_fit(fit, layers, 'left', True, W)['joints']
    f, c = fit['focal'], fit['princpt']
    u0 = plain[:, 0] / plain[:, 2] * f[0] + c[0]
    u1 = flipped[:, 0] / flipped[:, 2] * f[0] + c[0]
    assert abs(u1[0] - (W - 1 - u0[0])) < 1e-3
    expected = (W - 1 - 2 * c[0]) * (plain[0, 2] / plain[:, 2] - 1)
    np.testing.assert_allclose(u1 - (W - 1 - u0), expected, atol=2e-3)
    assert np.abs(expected).max() > 0.5  # the effect is visible here
    # wrist-relative geometry = mirror of the unflipped hand (the synthetic
    # MANO pair is mirror symmetric)
    np.testing.assert_allclose((flipped - flipped[0]),
                               (plain - plain[0]) * [-1, 1, 1], atol=1e-6)
