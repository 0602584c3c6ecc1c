# Copyright (c) interwild_mm contributors.
"""Datasets on the synthetic generator's output (IH2.6M + HIC formats)."""
import json
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from ._helpers import make_synthetic_root

CFG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    '_base_', 'datasets', 'interwild_synthetic.py')


@pytest.fixture(scope='module')
def synthetic_root(tmp_path_factory, synthetic_mano_dir):
    return make_synthetic_root(tmp_path_factory, synthetic_mano_dir,
                               'synthetic', num=8, num_test=3, num_hic=3,
                               seed=0)


def _loader(split, root, mano_dir, batch_size=2):
    cfg = Config.fromfile(CFG)
    loader = cfg[f'{split}_dataloader']
    loader.num_workers = 0
    loader.persistent_workers = False
    loader.batch_size = batch_size
    ds = loader.dataset
    ds.data_root = str(root) + ('/HIC/data/' if ds.type == 'HICDataset'
                                else '/')
    for t in ds.pipeline:
        if t['type'] == 'InterWildGenerateTarget':
            t['mano_model_dir'] = str(mano_dir)
    return Runner.build_dataloader(loader, seed=0)


def test_synthetic_train_config(synthetic_root, synthetic_mano_dir):
    loader = _loader('train', synthetic_root, synthetic_mano_dir)
    n = 0
    for batch in loader:
        for s in batch['data_samples']:
            lab = s.gt_instance_labels
            assert s.dataset_name == 'interhand2.6m'
            # every present hand of the generator has a fit
            for h, p in enumerate(('rhand', 'lhand')):
                if lab[f'{p}_bbox_valid'].item():
                    assert lab.mano_pose_valid[0, h * 16:h * 16 + 16].all()
            n += 1
    assert n == len(loader.dataset) > 0


def test_hic_dataset(synthetic_root, synthetic_mano_dir):
    from mmpose.registry import DATASETS
    cfg = Config.fromfile(CFG).synthetic_hic
    cfg.data_root = str(synthetic_root / 'HIC' / 'data')
    for t in cfg.pipeline:
        if t['type'] == 'InterWildGenerateTarget':
            t['mano_model_dir'] = str(synthetic_mano_dir)
    ds = DATASETS.build(cfg)
    with open(synthetic_root / 'HIC' / 'data' / 'HIC.json') as f:
        db = json.load(f)
    assert len(ds) == len(db['annotations'])
    import trimesh
    for i in range(len(ds)):
        s = ds[i]['data_samples']
        ann = db['annotations'][i]
        gt = s.gt_instances
        assert s.hand_type == ann['hand_type']
        for h, side in enumerate(('right', 'left')):
            path = ann[f'{side}_mano_path']
            assert gt.gt_mesh_valid[0, h] == float(path is not None)
            assert gt.gt_hand_bbox_valid[0, h] == float(path is not None)
            if path is None:
                continue
            v = np.asarray(trimesh.load(
                str(synthetic_root / 'HIC' / 'data' / path),
                process=False).vertices)
            np.testing.assert_allclose(gt.gt_mesh_cam[0, h * 778:(h + 1) *
                                                      778], v, atol=1e-5)
            # box of the projected mesh x1.2 (focal 525, princpt 319.5/239.5)
            uv = v[:, :2] / v[:, 2:] * 525.0 + [319.5, 239.5]
            lo, hi = uv.min(0), uv.max(0)
            c, half = (lo + hi) / 2, (hi - lo) / 2 * 1.2
            x1, y1 = np.maximum(c - half, 0)
            x2 = min(639.0, x1 + max(0.0, 2 * half[0] - 1))
            y2 = min(479.0, y1 + max(0.0, 2 * half[1] - 1))
            box = gt.gt_rhand_bbox[0] if h == 0 else gt.gt_lhand_bbox[0]
            np.testing.assert_allclose(box, [x1, y1, x2, y2], atol=1e-2)
        assert s.gt_instance_labels.mano_pose_valid.sum() == 0
