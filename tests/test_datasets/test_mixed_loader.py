# Copyright (c) interwild_mm contributors.
"""Half InterHand2.6M / half COCO-WholeBody in every batch (from config)."""
import os.path as osp

import numpy as np
from mmengine.config import Config
from mmengine.runner import Runner

from ._helpers import COCO_ROOT, IH_ROOT

CFG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    '_base_', 'datasets', 'interwild_ih26m_coco.py')


def _train_loader_cfg(batch_size=4):
    cfg = Config.fromfile(CFG)
    loader = cfg.train_dataloader
    loader.batch_size = batch_size
    loader.num_workers = 0
    loader.persistent_workers = False
    loader.sampler.batch_size = batch_size
    ih, coco = loader.dataset.datasets
    ih.update(
        data_root=IH_ROOT,
        ann_file='test_interhand2.6m_data.json',
        camera_file='test_interhand2.6m_camera.json',
        joint_file='test_interhand2.6m_joint_3d.json',
        mano_file=None,
        data_prefix=dict(img=''))
    coco.update(
        data_root=COCO_ROOT,
        ann_file='test_coco_wholebody.json',
        mano_file=None,
        data_prefix=dict(img=''))
    return loader


def test_config_metainfo_resolves_without_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the metainfo path must not use the CWD
    cfg = Config.fromfile(CFG)
    assert osp.isabs(cfg.hands_metainfo['from_file'])
    assert osp.isfile(cfg.hands_metainfo['from_file'])


def test_every_batch_is_half_ih26m_half_coco():
    loader = Runner.build_dataloader(_train_loader_cfg(4), seed=0)
    n_batches = 0
    for batch in loader:
        names = [s.dataset_name for s in batch['data_samples']]
        assert names.count('interhand2.6m') == 2, names
        assert names.count('coco_wholebody_hands') == 2, names
        assert batch['inputs'][0].shape == (3, 512, 384)
        # both sources produce exactly the same target fields
        keys = {tuple(sorted(s.gt_instance_labels.keys()))
                for s in batch['data_samples']}
        assert len(keys) == 1
        is3d = [s.gt_instance_labels.is_3D.item()
                for s in batch['data_samples']]
        assert sorted(is3d) == [0, 0, 1, 1]
        n_batches += 1
    assert n_batches >= (4 + 7) // 4


def test_two_ranks_disjoint_and_seeded(monkeypatch):
    from mmpose.datasets import samplers
    from mmpose.registry import DATASETS
    cfg = _train_loader_cfg(4)
    dataset = DATASETS.build(cfg.dataset)
    lens = dataset.lens  # [4, 7]

    def indices(rank, seed):
        monkeypatch.setattr(samplers, 'get_dist_info', lambda: (rank, 2))
        s = samplers.MultiSourceSampler(
            dataset, batch_size=4, source_ratio=[1, 1], seed=seed)
        return list(iter(s))

    r0, r1 = indices(0, 7), indices(1, 7)
    assert r0 == indices(0, 7)  # seeded: reproducible
    assert r0 != indices(0, 8)
    for idx in (r0, r1):
        for b in range(len(idx) // 4):
            batch = np.array(idx[4 * b:4 * b + 4])
            assert (batch < lens[0]).sum() == 2
    # the two ranks interleave each source's stream: disjoint within a
    # pass over the smaller source
    n = lens[0] // 2
    src0_r0 = [i for i in r0 if i < lens[0]][:n]
    src0_r1 = [i for i in r1 if i < lens[0]][:n]
    assert not set(src0_r0) & set(src0_r1)
    m = (lens[1]) // 2
    src1_r0 = [i for i in r0 if i >= lens[0]][:m]
    src1_r1 = [i for i in r1 if i >= lens[0]][:m]
    assert not set(src1_r0) & set(src1_r1)
