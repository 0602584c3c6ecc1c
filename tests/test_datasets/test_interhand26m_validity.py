# Copyright (c) interwild_mm contributors.
"""InterHand2.6M's two validity flag sets (issue #11, item 2).

docs/official_conventions.md §3.2: the data.json flags make the hand boxes
and the evaluation masks, the joint_3d flags the training targets; the
wrist rule applies to each set with its own wrist flag; a hand without a box
loses both. Expected values are re-derived here from the json files.
"""
import json
import shutil

import numpy as np
import pytest
from mmpose.registry import DATASETS

from interwild_mm.mano.constants import TH_TO_IH26M
from ._helpers import IH_ROOT, eval_pipeline, ih_cfg, make_synthetic_root

TH_FROM_IH = np.argsort(TH_TO_IH26M)  # th index -> IH2.6M index


def _flags(raw):
    """th order, wrist rule per hand."""
    f = np.asarray(raw, np.float64).reshape(-1)[TH_FROM_IH]
    f[:21] *= f[0]
    f[21:] *= f[21]
    return f


def _box(uv, valid, w_img, h_img):
    """get_bbox x1.2 + sanitize_bbox, xyxy (None when degenerate)."""
    pts = uv[valid > 0]
    lo, hi = pts.min(0), pts.max(0)
    c, size = (lo + hi) / 2, (hi - lo) * 1.2
    x1, y1 = max(c[0] - size[0] / 2, 0.0), max(c[1] - size[1] / 2, 0.0)
    x2 = min(w_img - 1.0, x1 + max(0.0, size[0] - 1.0))
    y2 = min(h_img - 1.0, y1 + max(0.0, size[1] - 1.0))
    if x2 <= x1 or y2 <= y1:
        return None
    return np.array([x1, y1, x2, y2])


def _expected(root, prefix, ann, img):
    """Flags, camera joints (m), pixels and boxes from the json files."""
    cams = json.loads((root / f'{prefix}camera.json').read_text())
    j3d = json.loads((root / f'{prefix}joint_3d.json').read_text())
    c, cam, fr = str(img['capture']), img['camera'], str(img['frame_idx'])
    R = np.asarray(cams[c]['camrot'][cam], np.float64)
    campos = np.asarray(cams[c]['campos'][cam], np.float64)
    f = np.asarray(cams[c]['focal'][cam], np.float64)
    pp = np.asarray(cams[c]['princpt'][cam], np.float64)
    X = ((np.asarray(j3d[c][fr]['world_coord']) - campos) @ R.T /
         1000.0)[TH_FROM_IH]
    v2d = _flags(ann['joint_valid'])
    v3d = _flags(j3d[c][fr]['joint_valid'])
    # official placeholder: a joint_3d-invalid joint sits at (1, 1, 1) mm
    X[v3d == 0] = 1e-3
    uv = X[:, :2] / X[:, 2:] * f + pp
    boxes = []
    for h in range(2):
        sl = slice(21 * h, 21 * h + 21)
        box = _box(uv[sl], v2d[sl], img['width'], img['height']) \
            if v2d[sl].any() else None
        if box is None:
            v2d[sl] = v3d[sl] = 0
        boxes.append(box)
    return dict(X=X, uv=uv, v2d=v2d, v3d=v3d, boxes=boxes)


def _grid(uv, X, img):
    """2.5D grid coordinates under the identity patch of the whole image."""
    w, h = img['width'] - 1.0, img['height'] - 1.0  # sanitised box
    cx, cy = w / 2, h / 2
    if w < 0.75 * h:
        w = 0.75 * h
    else:
        h = w / 0.75
    z = X[:, 2] - np.repeat(X[[0, 21], 2], 21)
    return np.stack([((uv[:, 0] - cx) * 384 / w + 192) / 8,
                     ((uv[:, 1] - cy) * 512 / h + 256) / 8,
                     (z / 0.15 + 1) / 2 * 8], 1)


def _check_sample(s, e, img):
    lab, gt = s.gt_instance_labels, s.gt_instances
    np.testing.assert_array_equal(lab.joint_valid[0, :, 0].numpy(), e['v3d'])
    np.testing.assert_array_equal(gt.gt_joint_valid[0], e['v2d'])
    np.testing.assert_array_equal(gt.gt_joint_valid_3d[0], e['v3d'])
    either = np.maximum(e['v2d'], e['v3d'])
    np.testing.assert_allclose(gt.gt_joint_cam[0],
                               e['X'] * either[:, None], atol=1e-5)
    grid = _grid(e['uv'], e['X'], img)
    inside = ((grid >= 0) & (grid < [48, 64, 8])).all(1)
    np.testing.assert_array_equal(lab.joint_trunc[0, :, 0].numpy(),
                                  e['v3d'] * inside)
    both = e['v3d'][0] * e['v3d'][21]
    assert lab.rel_trans_valid.item() == both
    for h, key in enumerate(('gt_rhand_bbox', 'gt_lhand_bbox')):
        assert gt.gt_hand_bbox_valid[0, h] == float(e['boxes'][h] is not None)
        if e['boxes'][h] is not None:
            np.testing.assert_allclose(gt[key][0], e['boxes'][h], atol=1e-3)
    return inside


@pytest.fixture(scope='module')
def synthetic_root(tmp_path_factory, synthetic_mano_dir):
    # seed 3: several joints outside the image (data.json 0, joint_3d 1)
    return make_synthetic_root(
        tmp_path_factory, synthetic_mano_dir, 'syn_validity', num=24,
        num_test=4, num_hic=0, seed=3, img_size=(240, 320))


def test_synthetic_flag_sets(synthetic_root):
    ann_dir = synthetic_root / 'annotations' / 'train'
    prefix = 'InterHand2.6M_train_'
    rel = 'annotations/train/' + prefix
    ds = DATASETS.build(dict(
        type='InterHand26MDataset', data_root=str(synthetic_root),
        ann_file=rel + 'data.json', camera_file=rel + 'camera.json',
        joint_file=rel + 'joint_3d.json', data_prefix=dict(img='images/train'),
        pipeline=eval_pipeline(), test_mode=True))
    data = json.loads((ann_dir / f'{prefix}data.json').read_text())
    anns = {a['id']: a for a in data['annotations']}
    imgs = {i['id']: i for i in data['images']}
    n_differ = 0
    for i in range(len(ds)):
        s = ds[i]['data_samples']
        ann = anns[s.id]
        e = _expected(ann_dir, prefix, ann, imgs[ann['image_id']])
        _check_sample(s, e, imgs[ann['image_id']])
        n_differ += int((e['v2d'] != e['v3d']).sum())
    assert n_differ >= 5


@pytest.fixture()
def edited_fixture(tmp_path):
    """The real fixture with flags edited into every case of the rules."""
    root = tmp_path / 'ih'
    shutil.copytree(IH_ROOT, root)
    dpath = root / 'test_interhand2.6m_data.json'
    jpath = root / 'test_interhand2.6m_joint_3d.json'
    data, j3d = json.loads(dpath.read_text()), json.loads(jpath.read_text())
    anns = {a['id']: a for a in data['annotations']}
    # 326750: three right joints invalid in data.json only (as if outside
    # the image) and the left wrist invalid in joint_3d only
    for k in (0, 1, 5):  # R_Thumb_4, R_Thumb_3, R_Index_3
        anns[326750]['joint_valid'][k] = [0]
    j3d['3']['69148']['joint_valid'][41] = [False]  # L_Wrist
    # 286291: right wrist invalid in data.json (no right box, both sets
    # dropped) and L_Index_4 invalid in joint_3d only
    anns[286291]['joint_valid'][20] = [0]
    j3d['2']['44669']['joint_valid'][25] = [False]
    # 471953 (right hand only): joint_3d wrist invalid -> no joint_3d flag
    # left -> the sample is dropped
    j3d['4']['2017']['joint_valid'][20] = [False]
    dpath.write_text(json.dumps(data))
    jpath.write_text(json.dumps(j3d))
    return root, data


def test_real_fixture_flag_sets(edited_fixture):
    root, data = edited_fixture
    ds = DATASETS.build(ih_cfg(data_root=str(root),
                               pipeline=eval_pipeline(), test_mode=True))
    anns = {a['id']: a for a in data['annotations']}
    imgs = {i['id']: i for i in data['images']}
    seen = set()
    for i in range(len(ds)):
        s = ds[i]['data_samples']
        ann = anns[s.id]
        img = imgs[ann['image_id']]
        e = _expected(root, 'test_interhand2.6m_', ann, img)
        inside = _check_sample(s, e, img)
        lab, gt = s.gt_instance_labels, s.gt_instances
        if s.id == 326750:
            th = TH_FROM_IH.tolist()
            # data.json 0 / joint_3d 1: in the training targets, inside the
            # grid, not in the evaluation mask
            for ih in (0, 1, 5):
                j = th.index(ih)
                assert gt.gt_joint_valid[0, j] == 0
                assert lab.joint_valid[0, j, 0] == 1 and inside[j]
                assert lab.joint_trunc[0, j, 0] == 1
            assert gt.gt_joint_valid[0, :21].sum() == 21 - 3
            assert lab.joint_valid[0, :21].sum() == 21
            # joint_3d left wrist invalid: every left joint sits at the
            # official (1, 1, 1) mm placeholder, so its data.json-valid
            # joints all project onto one pixel: no left box, and the hand
            # loses both flag sets (as in the official loader)
            assert lab.joint_valid[0, 21:].sum() == 0
            assert gt.gt_hand_bbox_valid[0].tolist() == [1, 0]
            assert gt.gt_joint_valid[0, 21:].sum() == 0
            assert lab.rel_trans_valid.item() == 0
        if s.id == 286291:
            assert gt.gt_hand_bbox_valid[0].tolist() == [0, 1]
            assert gt.gt_joint_valid[0, :21].sum() == 0
            assert lab.joint_valid[0, :21].sum() == 0
            j = TH_FROM_IH.tolist().index(25)  # L_Index_4
            assert gt.gt_joint_valid[0, j] == 1
            assert gt.gt_joint_valid_3d[0, j] == 0
            assert lab.joint_valid[0, j, 0] == 0
            # scored against the official placeholder, and its projection
            # (f + c, far outside) stretches the left box to the image corner
            np.testing.assert_allclose(gt.gt_joint_cam[0, j], 1e-3)
            assert gt.gt_lhand_bbox[0, 2] == img['width'] - 1
            assert gt.gt_lhand_bbox[0, 3] == img['height'] - 1
        seen.add(s.id)
    assert seen == {326750, 286291, 680801}


def test_other_datasets_use_one_flag_set():
    """COCO (2D): both masks equal the keypoint flags × is_3D = 0."""
    from ._helpers import coco_cfg
    ds = DATASETS.build(coco_cfg(pipeline=eval_pipeline(), test_mode=True))
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        np.testing.assert_array_equal(info['joint_valid_eval'],
                                      info['joint_valid'])
        gt = ds[i]['data_samples'].gt_instances
        assert gt.gt_joint_valid.sum() == gt.gt_joint_valid_3d.sum() == 0
