# Copyright (c) interwild_mm contributors.
"""CocoWholeBodyHandsDataset on the real COCO-WholeBody fixtures."""
import json
import os.path as osp

import numpy as np
import pytest
from mmpose.registry import DATASETS

from ._helpers import COCO_ROOT, coco_cfg, eval_pipeline, train_pipeline


def _anns():
    with open(osp.join(COCO_ROOT, 'test_coco_wholebody.json')) as f:
        d = json.load(f)
    imgs = {i['id']: i for i in d['images']}
    return {a['id']: (a, imgs[a['image_id']]) for a in d['annotations']}


def _sanitized_xyxy(box, w_img, h_img):
    x, y, w, h = box
    x1, y1 = max(x, 0.0), max(y, 0.0)
    return np.array([x1, y1, min(w_img - 1.0, x1 + max(0.0, w - 1.0)),
                     min(h_img - 1.0, y1 + max(0.0, h - 1.0))])


def test_parse_fixture_hand_checked():
    ds = DATASETS.build(coco_cfg())
    anns = _anns()
    ids = sorted(ds[i]['id'] for i in range(len(ds)))
    # persons with at least one valid hand (counted by hand from the json)
    assert ids == sorted([442619, 198196, 460541, 488308, 437295, 531914,
                          533949])
    for i in range(len(ds)):
        info = ds[i]
        a, img = anns[info['id']]
        expect_type = {(True, True): 'interacting', (True, False): 'right',
                       (False, True): 'left'}[(a['righthand_valid'],
                                               a['lefthand_valid'])]
        assert info['hand_type'] == expect_type
        for h, side in enumerate(('right', 'left')):
            k = np.array(a[f'{side}hand_kpts'], np.float64).reshape(21, 3)
            np.testing.assert_allclose(info['joint_img'][h * 21:h * 21 + 21],
                                       k[:, :2], atol=1e-4)
            np.testing.assert_array_equal(
                info['joint_valid'][h * 21:h * 21 + 21], k[:, 2] > 0)
            assert info['hand_bbox_valid'][h] == float(a[f'{side}hand_valid'])
            if a[f'{side}hand_valid']:
                np.testing.assert_allclose(
                    info['hand_bbox'][h],
                    _sanitized_xyxy(a[f'{side}hand_box'], img['width'],
                                    img['height']), atol=1e-3)
        # body box = person box, aspect 0.75, x1.25
        x, y, w, h = a['bbox']
        bw, bh = w - 1, h - 1  # sanitised (inside the image here)
        if bw > 0.75 * bh:
            bh = bw / 0.75
        else:
            bw = bh * 0.75
        np.testing.assert_allclose(info['body_bbox'][2:],
                                   [bw * 1.25, bh * 1.25], rtol=1e-5)
        assert info['is_3D'] == 0.0
        assert not info['joint_cam'].any()
        assert info['img_path'] == osp.join(COCO_ROOT, img['file_name'])


def test_pipeline_2d_sample_validity():
    ds = DATASETS.build(coco_cfg(pipeline=eval_pipeline(), test_mode=True))
    anns = _anns()
    for i in range(len(ds)):
        out = ds[i]
        s = out['data_samples']
        lab = s.gt_instance_labels
        a, img = anns[s.id]
        assert lab.is_3D.item() == 0
        assert lab.rel_trans_valid.item() == 0
        assert not lab.rel_trans.any() and not lab.joint_cam.any()
        assert lab.mano_pose_valid.sum() == 0
        # box centre through the re-derived body patch affine
        x, y, w, h = a['bbox']
        cx, cy = x + (w - 1) / 2, y + (h - 1) / 2
        bw, bh = w - 1, h - 1
        if bw > 0.75 * bh:
            bh = bw / 0.75
        else:
            bw = bh * 0.75
        s_ = 384 / (bw * 1.25)
        for h_, (p, side) in enumerate((('rhand', 'right'),
                                        ('lhand', 'left'))):
            assert lab[f'{p}_bbox_valid'].item() == float(
                a[f'{side}hand_valid'])
            if not a[f'{side}hand_valid']:
                continue
            b = _sanitized_xyxy(a[f'{side}hand_box'], img['width'],
                                img['height'])
            c = ((b[:2] + b[2:]) / 2 - [cx, cy]) * s_ + [192, 256]
            np.testing.assert_allclose(lab[f'{p}_bbox_center'][0].numpy(),
                                       c / 8, atol=1e-3)
            np.testing.assert_allclose(lab[f'{p}_bbox_size'][0].numpy(),
                                       (b[2:] - b[:2]) * s_ / 8, atol=1e-3)
            # 2D joints: score > 0 and inside the grid
            k = np.array(a[f'{side}hand_kpts'], np.float64).reshape(21, 3)
            uv = (k[:, :2] - [cx, cy]) * s_ / 8 + [24, 32]
            inside = (uv[:, 0] >= 0) & (uv[:, 0] < 48) & (uv[:, 1] >= 0) & (
                uv[:, 1] < 64)
            sl = slice(h_ * 21, h_ * 21 + 21)
            np.testing.assert_array_equal(
                lab.joint_trunc[0, sl, 0].numpy(), (k[:, 2] > 0) & inside)
            np.testing.assert_allclose(
                lab.joint_img[0, sl, :2].numpy()[k[:, 2] > 0],
                uv[k[:, 2] > 0], atol=1e-3)


def test_flip_swaps_hands_and_boxes():
    ds = DATASETS.build(coco_cfg(pipeline=train_pipeline(
        flip_prob=1.0, rot_prob=0.0, scale_factor=0.0, color_factor=0.0)))
    ref = DATASETS.build(coco_cfg(pipeline=eval_pipeline(), test_mode=True))
    for i in range(len(ds)):
        s, r = ds[i]['data_samples'], ref[i]['data_samples']
        a, b = s.gt_instance_labels, r.gt_instance_labels
        assert s.flip
        swap = {'right': 'left', 'left': 'right'}
        assert s.hand_type == swap.get(r.hand_type, r.hand_type)
        assert a.rhand_bbox_valid.item() == b.lhand_bbox_valid.item()
        if b.lhand_bbox_valid.item():
            # mirrored about the patch centre x = 384/2 (24 on the grid)
            np.testing.assert_allclose(
                a.rhand_bbox_center[0].numpy(),
                [48 - b.lhand_bbox_center[0, 0].item(),
                 b.lhand_bbox_center[0, 1].item()], atol=0.1)
        np.testing.assert_array_equal(a.joint_trunc[0, :21].numpy(),
                                      b.joint_trunc[0, 21:].numpy())


def test_missing_annotation_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing_wholebody.json'):
        DATASETS.build(coco_cfg(ann_file=str(tmp_path /
                                             'missing_wholebody.json')))


def test_packed_image_is_rgb_patch_of_the_file():
    import cv2
    ds = DATASETS.build(coco_cfg(pipeline=eval_pipeline(), test_mode=True))
    out = ds[0]
    s = out['data_samples']
    bgr = cv2.imread(s.img_path)
    assert s.ori_shape == bgr.shape[:2]
    # the patch centre is the body-box centre of the original image
    bb2img = np.asarray(s.bb2img_trans, np.float64)
    for u, v in ((192, 256), (100, 300), (250, 120)):
        x, y = bb2img @ [u, v, 1.0]
        xi, yi = int(round(x)), int(round(y))
        if not (0 <= xi < bgr.shape[1] and 0 <= yi < bgr.shape[0]):
            continue
        got = out['inputs'][:, v, u].numpy().astype(int)
        # RGB order, bilinear sample near (x, y): close to the nearest pixel
        near = bgr[max(yi - 1, 0):yi + 2, max(xi - 1, 0):xi + 2, ::-1]
        lo = near.reshape(-1, 3).min(0).astype(int) - 2
        hi = near.reshape(-1, 3).max(0).astype(int) + 2
        assert ((got >= lo) & (got <= hi)).all(), (got, lo, hi)
