# Copyright (c) interwild_mm contributors.
"""InterHand26MDataset on the real InterHand2.6M fixtures."""
import json
import os.path as osp
import shutil

import numpy as np
import pytest
from mmpose.registry import DATASETS

from ._helpers import IH_ROOT, eval_pipeline, ih_cfg, train_pipeline

# InterHand2.6M per-hand order: Thumb_4..1, Index_4..1, Middle, Ring, Pinky,
# Wrist (docs/official_conventions.md §3.2);
# ours: Wrist, Thumb_1..4, Index_1..4, ...
IH_WRIST = {'right': 20, 'left': 41}


def _load(name):
    with open(osp.join(IH_ROOT, f'test_interhand2.6m_{name}.json')) as f:
        return json.load(f)


def _expected_frame(ann_id):
    """Camera joints (m), pixels and validity straight from the json."""
    data, cams, joints = _load('data'), _load('camera'), _load('joint_3d')
    ann = [a for a in data['annotations'] if a['id'] == ann_id][0]
    img = [i for i in data['images'] if i['id'] == ann['image_id']][0]
    cap, cam, fr = str(img['capture']), img['camera'], str(img['frame_idx'])
    R = np.array(cams[cap]['camrot'][cam], np.float64)
    campos = np.array(cams[cap]['campos'][cam], np.float64)
    f = np.array(cams[cap]['focal'][cam], np.float64)
    c = np.array(cams[cap]['princpt'][cam], np.float64)
    world = np.array(joints[cap][fr]['world_coord'], np.float64)
    xc = np.einsum('ij,nj->ni', R, world - campos) / 1000.0
    uv = np.stack([xc[:, 0] / xc[:, 2] * f[0] + c[0],
                   xc[:, 1] / xc[:, 2] * f[1] + c[1]], 1)
    valid = np.array(ann['joint_valid'], np.float64).ravel()
    return dict(ann=ann, img=img, cam=xc, uv=uv, valid=valid, f=f, c=c)


def _box_xyxy(uv, valid, w_img, h_img):
    """get_bbox x1.2 + sanitize, re-derived."""
    pts = uv[valid > 0]
    lo, hi = pts.min(0), pts.max(0)
    cx, cy = (lo + hi) / 2
    w, h = (hi - lo) * 1.2
    x1, y1 = max(cx - w / 2, 0.0), max(cy - h / 2, 0.0)
    x2 = min(w_img - 1.0, x1 + max(0.0, w - 1.0))
    y2 = min(h_img - 1.0, y1 + max(0.0, h - 1.0))
    return np.array([x1, y1, x2, y2])


def test_parse_fixture_hand_checked():
    ds = DATASETS.build(ih_cfg())
    assert len(ds) == 4
    assert ds.metainfo['num_keypoints'] == 42
    assert ds.metainfo['dataset_name'] == 'interhand2.6m'
    by_id = {ds[i]['id']: ds[i] for i in range(len(ds))}
    assert {k: v['hand_type'] for k, v in by_id.items()} == {
        326750: 'interacting', 286291: 'interacting', 680801: 'left',
        471953: 'right'
    }
    for ann_id, info in by_id.items():
        e = _expected_frame(ann_id)
        w, h = e['img']['width'], e['img']['height']
        # joint re-ordering: our wrists are IH2.6M's last joint of each hand
        for ours, theirs in ((0, 20), (21, 41), (1, 3), (4, 0), (8, 4),
                             (25, 21), (20, 16)):
            if e['valid'][theirs]:
                np.testing.assert_allclose(info['joint_cam'][ours],
                                           e['cam'][theirs], atol=1e-5)
                np.testing.assert_allclose(info['joint_img'][ours],
                                           e['uv'][theirs], atol=1e-3)
        for hand, sl, ours in (('right', slice(0, 21), 0),
                               ('left', slice(21, 42), 1)):
            v = e['valid'][sl]
            assert info['hand_bbox_valid'][ours] == float(v.any())
            assert info['joint_valid'][ours * 21:(ours + 1) * 21].sum() == \
                v.sum()
            if v.any():
                np.testing.assert_allclose(
                    info['hand_bbox'][ours],
                    _box_xyxy(e['uv'][sl], v, w, h), atol=1e-3)
        assert info['is_3D'] == 1.0
        # whole-image body box, aspect 0.75, extension 1.0
        bw, bh = info['body_bbox'][2:]
        assert bw / bh == pytest.approx(0.75, rel=1e-5)
        assert max(bw, bh * 0.75) == pytest.approx(
            max(min(w - 1, w - 1), (h - 1) * 0.75), rel=1e-5)
        assert info['mano_params'] == [None, None]


def test_test_pipeline_targets_hand_checked():
    ds = DATASETS.build(ih_cfg(pipeline=eval_pipeline(), test_mode=True))
    for i in range(len(ds)):
        out = ds[i]
        s = out['data_samples']
        assert out['inputs'].shape == (3, 512, 384)
        e = _expected_frame(s.id)
        w, h = e['img']['width'], e['img']['height']
        # body patch of the whole image (re-derived process_bbox + affine)
        bw, bh = w - 1.0, h - 1.0
        cx, cy = bw / 2, bh / 2
        if bw < 0.75 * bh:
            bw = 0.75 * bh
        else:
            bh = bw / 0.75
        sx, sy = 384 / bw, 512 / bh
        lab = s.gt_instance_labels
        for p, ours in (('rhand', 0), ('lhand', 1)):
            sl = slice(ours * 21, ours * 21 + 21)
            v = e['valid'][sl]
            if not v.any():
                assert lab[f'{p}_bbox_valid'].item() == 0
                np.testing.assert_allclose(lab[f'{p}_bbox_center'][0],
                                           [0.5, 0.5])
                continue
            x1, y1, x2, y2 = _box_xyxy(
                np.stack([e['uv'][:, 0], e['uv'][:, 1]], 1)[sl], v, w, h)
            px1, px2 = ((x1 - cx) * sx + 192) / 8, ((x2 - cx) * sx + 192) / 8
            py1, py2 = ((y1 - cy) * sy + 256) / 8, ((y2 - cy) * sy + 256) / 8
            np.testing.assert_allclose(lab[f'{p}_bbox_center'][0],
                                       [(px1 + px2) / 2, (py1 + py2) / 2],
                                       atol=1e-3)
            np.testing.assert_allclose(lab[f'{p}_bbox_size'][0],
                                       [px2 - px1, py2 - py1], atol=1e-3)
            # 2.5D joint targets, depth bin re-derived
            uv = e['uv'][sl]
            z = e['cam'][sl, 2] - e['cam'][sl, 2][20]  # IH wrist = last
            ih_to_th = [20, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13,
                        12, 19, 18, 17, 16]
            exp = np.stack([((uv[:, 0] - cx) * sx + 192) / 8,
                            ((uv[:, 1] - cy) * sy + 256) / 8,
                            (z / 0.15 + 1) / 2 * 8], 1)[ih_to_th]
            np.testing.assert_allclose(lab.joint_img[0, sl].numpy(), exp,
                                       atol=2e-3)
            rel = e['cam'][sl] - e['cam'][sl][20]
            np.testing.assert_allclose(lab.joint_cam[0, sl].numpy(),
                                       rel[ih_to_th], atol=1e-5)
        assert lab.is_3D.item() == 1
        both = e['valid'][20] * e['valid'][41]
        assert lab.rel_trans_valid.item() == both
        if both:
            np.testing.assert_allclose(lab.rel_trans[0].numpy(),
                                       e['cam'][41] - e['cam'][20],
                                       atol=1e-5)
        # no MANO file -> every MANO target invalid
        assert lab.mano_pose_valid.sum() == 0
        assert lab.mano_mesh_valid.sum() == 0
        assert lab.mano_joint_trunc.sum() == 0
        assert s.gt_instances.gt_mesh_valid.sum() == 0
        assert s.hand_type == e['ann']['hand_type']


@pytest.mark.parametrize('aug', [
    dict(),
    dict(flip_prob=1.0, rot_prob=1.0),
    dict(flip_prob=0.0, rot_prob=1.0, scale_factor=0.5),
])
def test_projection_matches_2d_target_after_augmentation(aug):
    """Projected 3D joints land on the 2D targets (0.5 px) after any aug."""
    ds = DATASETS.build(ih_cfg(pipeline=train_pipeline(**aug)))
    np.random.seed(0)
    n_checked = 0
    for _ in range(4):
        for i in range(len(ds)):
            s = ds[i]['data_samples']
            lab, gt = s.gt_instance_labels, s.gt_instances
            X = gt.gt_joint_cam[0].astype(np.float64)
            f, c = np.asarray(s.focal, np.float64), np.asarray(s.princpt,
                                                                np.float64)
            trunc = lab.joint_trunc[0, :, 0].numpy() > 0
            uv = X[:, :2] / X[:, 2:] * f + c
            tgt = lab.joint_img[0, :, :2].numpy() * np.array([384 / 48,
                                                              512 / 64])
            err = np.abs(uv - tgt)[trunc]
            assert err.max() < 0.5, (s.id, s.flip, s.aug_rot, err.max())
            # rel_trans = left wrist - right wrist of the augmented joints
            if lab.rel_trans_valid.item():
                np.testing.assert_allclose(lab.rel_trans[0].numpy(),
                                           X[21] - X[0], atol=1e-5)
                e = _expected_frame(s.id)
                r0 = e['cam'][41] - e['cam'][20]
                if s.flip:
                    r0 = r0 * np.array([1, -1, -1])
                t = np.deg2rad(s.aug_rot)
                rx = np.cos(t) * r0[0] + np.sin(t) * r0[1]
                ry = -np.sin(t) * r0[0] + np.cos(t) * r0[1]
                np.testing.assert_allclose(lab.rel_trans[0].numpy(),
                                           [rx, ry, r0[2]], atol=1e-5)
            # handedness follows the flip
            e_type = _expected_frame(s.id)['ann']['hand_type']
            if s.flip and e_type != 'interacting':
                e_type = {'left': 'right', 'right': 'left'}[e_type]
            assert s.hand_type == e_type
            n_checked += int(trunc.sum())
    assert n_checked > 100


def test_annot_subset_file(tmp_path):
    ids = tmp_path / 'aid_human_annot_test.txt'
    ids.write_text('326750\n471953\n')
    ds = DATASETS.build(ih_cfg(annot_subset_file=str(ids)))
    assert sorted(ds[i]['id'] for i in range(len(ds))) == [326750, 471953]


def test_lazy_init_and_missing_annotation_file(tmp_path):
    cfg = ih_cfg(joint_file=str(tmp_path / 'nope_joint_3d.json'),
                 lazy_init=True)
    ds = DATASETS.build(cfg)  # nothing read yet
    assert ds.metainfo['num_keypoints'] == 42
    with pytest.raises(FileNotFoundError, match='nope_joint_3d.json'):
        ds.full_init()
    with pytest.raises(FileNotFoundError, match='nope_mano.json'):
        DATASETS.build(ih_cfg(mano_file=str(tmp_path / 'nope_mano.json')))


def _copy_fixture(tmp_path):
    root = tmp_path / 'ih'
    shutil.copytree(IH_ROOT, root)
    return root


def test_nan_joint_is_logged_and_skipped(tmp_path, monkeypatch):
    root = _copy_fixture(tmp_path)
    path = root / 'test_interhand2.6m_joint_3d.json'
    joints = json.loads(path.read_text())
    joints['3']['69148']['world_coord'][5][1] = float('nan')  # valid joint
    path.write_text(json.dumps(joints))
    logged = []
    import interwild_mm.datasets.datasets.base as base
    monkeypatch.setattr(base, 'print_log',
                        lambda msg, **kw: logged.append(msg))
    ds = DATASETS.build(ih_cfg(data_root=str(root)))
    assert len(ds) == 3
    assert 326750 not in [ds[i]['id'] for i in range(len(ds))]
    assert any('326750' in m and 'non-finite' in m for m in logged)


def test_corrupt_and_missing_image_give_clear_error(tmp_path):
    root = _copy_fixture(tmp_path)
    (root / 'image69148.jpg').write_bytes(b'not a jpeg at all')
    (root / 'image44669.jpg').unlink()
    ds = DATASETS.build(
        ih_cfg(data_root=str(root), pipeline=eval_pipeline(),
               test_mode=True))
    ids = [ds.get_data_info(i)['id'] for i in range(len(ds))]
    with pytest.raises(Exception, match='image69148.jpg'):
        ds[ids.index(326750)]
    with pytest.raises(Exception, match='image44669.jpg'):
        ds[ids.index(286291)]
