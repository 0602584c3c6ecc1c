# Copyright (c) interwild_mm contributors.
"""The official random mixing of the training sources (issue #11, item 6).

docs/official_conventions.md §3.6: each source brought to the length M of
the longer one (cyclic, the incomplete last cycle filled with random
indices), the union shuffled; the config switch ``train_mix``.
"""
import os.path as osp
from collections import Counter

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.runner import Runner
from mmpose.registry import DATA_SAMPLERS, DATASETS

from interwild_mm.utils.config import merge_cfg_options
from ._helpers import COCO_ROOT, IH_ROOT

CFG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    '_base_', 'datasets', 'interwild_ih26m_coco.py')
MODULE = 'interwild_mm.datasets.samplers.random_mix_sampler'


def _cfg(**options):
    cfg = Config.fromfile(CFG)
    merge_cfg_options(cfg, options)
    loader = cfg.train_dataloader
    loader.num_workers = 0
    loader.persistent_workers = False
    ih, coco = loader.dataset.datasets
    ih.update(data_root=IH_ROOT, ann_file='test_interhand2.6m_data.json',
              camera_file='test_interhand2.6m_camera.json',
              joint_file='test_interhand2.6m_joint_3d.json', mano_file=None,
              data_prefix=dict(img=''))
    coco.update(data_root=COCO_ROOT, ann_file='test_coco_wholebody.json',
                mano_file=None, data_prefix=dict(img=''))
    return cfg


@pytest.fixture(scope='module')
def combined():
    cfg = _cfg()
    ds = cfg.train_dataloader.dataset.copy()
    ds.pipeline = []
    dataset = DATASETS.build(ds)
    assert dataset.lens == [4, 7]
    return dataset


def _sampler(dataset, **kw):
    return DATA_SAMPLERS.build(
        dict(type='InterWildRandomMixSampler', dataset=dataset, **kw))


def test_epoch_follows_the_official_rule(combined):
    n0, n1 = combined.lens  # 4 InterHand2.6M, 7 COCO; M = 7
    s = _sampler(combined, shuffle=False, seed=3)
    idx = s.epoch_indices()
    assert len(idx) == len(s) == 2 * 7
    # source 0 (n = 4): one full cycle 0..3, then 7 mod 4 = 3 random indices
    assert idx[:4] == [0, 1, 2, 3]
    assert all(0 <= i < n0 for i in idx[4:7])
    # source 1 (the longer one): every index once, in order
    assert idx[7:] == list(range(n0, n0 + n1))
    # the random fill changes with the epoch, the cyclic part does not
    fills = set()
    for epoch in range(12):
        s.set_epoch(epoch)
        e = s.epoch_indices()
        assert e[:4] == [0, 1, 2, 3] and e[7:] == idx[7:]
        fills.add(tuple(e[4:7]))
    assert len(fills) > 3


def test_shuffled_union_seed_and_epoch(combined):
    a = _sampler(combined, seed=7)
    first = list(iter(a))
    assert first == list(iter(_sampler(combined, seed=7)))  # seeded
    assert first != list(iter(_sampler(combined, seed=8)))
    a.set_epoch(1)
    assert list(iter(a)) != first  # set_epoch reshuffles
    counts = Counter(i >= 4 for i in first)
    assert counts[True] == counts[False] == 7  # half/half over the epoch
    # ... but not in every batch of 4 (the official mix is random)
    halves = []
    for epoch in range(5):
        a.set_epoch(epoch)
        idx = list(iter(a))
        halves += [sum(i < 4 for i in idx[b:b + 4])
                   for b in range(0, 12, 4)]
    assert set(halves) != {2}
    assert abs(np.mean(halves) - 2) < 1


@pytest.mark.parametrize('world_size', [2, 3])
def test_ranks_get_disjoint_shares(combined, monkeypatch, world_size):
    per_rank = []
    for rank in range(world_size):
        monkeypatch.setattr(f'{MODULE}.get_dist_info',
                            lambda r=rank: (r, world_size))
        s = _sampler(combined, seed=5)
        s.set_epoch(2)
        per_rank.append(list(iter(s)))
        assert len(per_rank[-1]) == len(s)
    epoch = s.epoch_indices()
    total = len(per_rank[0]) * world_size
    padded = (epoch * 2)[:total]
    # interleaving the ranks' shares gives back the (padded) epoch list:
    # every position of it goes to exactly one rank
    merged = [per_rank[k % world_size][k // world_size]
              for k in range(total)]
    assert merged == padded
    assert len({len(r) for r in per_rank}) == 1


def test_config_switch_selects_the_sampler():
    cfg = _cfg()
    assert cfg.train_mix == 'exact_half'
    assert cfg.train_dataloader.sampler.type == 'MultiSourceSampler'
    cfg = _cfg(train_mix='official_random', train_batch_size=2)
    assert cfg.train_dataloader.sampler.type == 'InterWildRandomMixSampler'
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    names = Counter()
    for batch in loader:
        names.update(s.dataset_name for s in batch['data_samples'])
    assert names == {'interhand2.6m': 7, 'coco_wholebody_hands': 7}
    back = _cfg(train_mix='official_random', train_batch_size=6)
    merge_cfg_options(back, {'train_mix': 'exact_half'})
    assert back.train_dataloader.sampler.type == 'MultiSourceSampler'
    assert back.train_dataloader.sampler.batch_size == 6
    with pytest.raises(ValueError, match='train_mix'):
        _cfg(train_mix='half_and_half')


def test_rejects_a_plain_dataset():
    with pytest.raises(TypeError, match='CombinedDataset'):
        _sampler(list(range(5)))
