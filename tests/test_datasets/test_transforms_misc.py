# Copyright (c) interwild_mm contributors.
"""Patch affine, metainfo layout, reprs and the browse tool."""
import os.path as osp

import numpy as np
import pytest

from interwild_mm.geometry.patch import (apply_affine, generate_patch_image,
                                         get_patch_affine)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.mark.parametrize('rot', [0.0, 25.0, -70.0])
def test_patch_affine_maps_the_three_points(rot):
    c, wh, s = (100.0, 150.0), (60.0, 80.0), 1.3
    A = get_patch_affine(c, wh, s, rot, (384, 512))
    t = np.deg2rad(rot)
    down = np.array([-np.sin(t) * 40 * s, np.cos(t) * 40 * s])
    right = np.array([np.cos(t) * 30 * s, np.sin(t) * 30 * s])
    pts = np.array([c, np.add(c, down), np.add(c, right)])
    np.testing.assert_allclose(apply_affine(pts, A),
                               [[192, 256], [192, 512], [384, 256]],
                               atol=1e-9)
    Ainv = get_patch_affine(c, wh, s, rot, (384, 512), inverse=True)
    np.testing.assert_allclose(apply_affine(apply_affine(pts, A), Ainv), pts,
                               atol=1e-9)


def test_generate_patch_image_flip_and_content():
    img = np.zeros((50, 40, 3), np.uint8)
    img[10, 5] = 255  # single bright pixel
    patch, img2bb, bb2img = generate_patch_image(img, (0, 0, 40, 50), 1.0,
                                                 0.0, True, (40, 50))
    # mirrored: x -> 39 - 5 = 34, then the affine (box centre 20 -> 20)
    u, v = apply_affine(np.array([34.0, 10.0]), img2bb)
    assert patch[int(round(v)), int(round(u))].max() > 100
    np.testing.assert_allclose(apply_affine(apply_affine([u, v], bb2img),
                                            img2bb), [u, v], atol=1e-4)


def test_metainfo_file_matches_constants():
    from mmpose.datasets.datasets.utils import parse_pose_metainfo

    from interwild_mm.datasets import METAINFO_FILE
    from interwild_mm.mano.constants import TH_JOINT_NAMES, TH_SKELETON
    meta = parse_pose_metainfo(dict(from_file=METAINFO_FILE))
    assert osp.isabs(METAINFO_FILE)
    assert [meta['keypoint_id2name'][i] for i in range(42)] == TH_JOINT_NAMES
    assert meta['flip_indices'] == list(range(21, 42)) + list(range(21))
    assert [tuple(x) for x in meta['skeleton_links']] == TH_SKELETON


def test_transform_reprs_and_cache_randomness():
    from interwild_mm.datasets.transforms import (InterWildBodyAffine,
                                                  InterWildGenerateTarget,
                                                  InterWildRandomAugment,
                                                  PackInterWildInputs)
    for t in (InterWildRandomAugment(), InterWildBodyAffine(),
              InterWildGenerateTarget(), PackInterWildInputs()):
        assert repr(t).startswith(type(t).__name__ + '(')
    aug = InterWildRandomAugment(rot_prob=1.0, flip_prob=0.5)
    with pytest.raises(ValueError):
        InterWildRandomAugment(flip_prob=1.5)
    from mmcv.transforms.utils import cache_random_params
    with cache_random_params(aug):
        a, b = aug({}), aug({})
    assert a['aug_rot'] == b['aug_rot'] and a['flip'] == b['flip']
    scales = [aug({})['aug_scale'] for _ in range(200)]
    assert 0.75 <= min(scales) and max(scales) <= 1.25
    rots = [abs(aug({})['aug_rot']) for _ in range(200)]
    assert max(rots) <= 60.0


def test_browse_dataset_writes_pngs(tmp_path):
    import sys
    sys.path.insert(0, osp.join(ROOT, 'tools'))
    import browse_dataset
    import cv2
    browse_dataset.main([
        osp.join(ROOT, 'configs/_base_/datasets/interwild_fixtures.py'),
        '--out-dir', str(tmp_path), '--max', '3'
    ])
    files = sorted(tmp_path.glob('*.png'))
    assert len(files) == 3
    img = cv2.imread(str(files[0]))
    assert img.shape == (512 + 40, 384, 3) and img.std() > 5
