# Copyright (c) interwild_mm contributors.
"""tools/train.py --max-iters: the config of a short iteration-based run."""
import os.path as osp
import sys

import pytest
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools'))
import train  # noqa: E402

sys.path.pop(0)


def test_paper_config_becomes_a_short_iteration_run():
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'interwild_ih26m_coco.py'))
    notes = train.use_max_iters(cfg, 20)
    assert cfg.train_cfg == dict(type='IterBasedTrainLoop', max_iters=20,
                                 val_interval=20)
    # the paper's x0.1 after epoch 4 of 7 -> after iteration 11 of 20
    (sched, ) = cfg.param_scheduler
    assert sched.by_epoch is False
    assert sched.milestones == [11] and sched.end == 20 and sched.begin == 0
    assert cfg.default_hooks.checkpoint.by_epoch is False
    assert cfg.default_hooks.checkpoint.interval == 20
    assert cfg.default_hooks.logger.interval == 20
    assert cfg.log_processor.by_epoch is False
    assert any('milestones [4] -> [11]' in n for n in notes)


def test_scheduler_conversion_and_drops():
    scheds = [
        dict(type='LinearLR', by_epoch=False, begin=0, end=500,
             start_factor=0.1),
        dict(type='CosineAnnealingLR', begin=1, end=10, T_max=9),
        dict(type='ExponentialLR', gamma=0.9),
    ]
    out, notes = train.convert_schedulers(scheds, epochs=10, max_iters=100)
    assert out[0] == scheds[0]  # iteration-based already
    assert out[1].by_epoch is False
    assert (out[1].begin, out[1].end, out[1].T_max) == (10, 100, 90)
    assert len(out) == 2 and 'ExponentialLR' in notes[2] \
        and 'dropped' in notes[2]


def test_max_iters_must_be_positive():
    with pytest.raises(ValueError, match='--max-iters'):
        train.use_max_iters(Config(dict(train_cfg=dict(max_epochs=2))), 0)
