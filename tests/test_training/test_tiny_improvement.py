# Copyright (c) interwild_mm contributors.
"""A short CPU training run of the tiny model improves on its untrained
starting point on held-out synthetic captures (the quickstart shows the
same with the quickstart model, longer and by a wider margin)."""
import os.path as osp
import time

import pytest

from mmengine.config import Config
from mmengine.runner import Runner
from mmengine.runner.checkpoint import save_checkpoint, weights_to_cpu

from ._helpers import HERE, data_options, run_tool

CFG = osp.join(HERE, 'configs', 'tiny_improve.py')


def _cfg(work_dir, data_root, mano_dir) -> Config:
    from interwild_mm.utils.config import merge_cfg_options
    from mmengine.config import DictAction
    cfg = Config.fromfile(CFG)
    opts = {}
    for o in data_options(data_root, mano_dir, hic_test=False):
        k, v = o.split('=', 1)
        opts[k] = DictAction._parse_iterable(v)
    merge_cfg_options(cfg, opts)
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = f'exp_{time.time_ns()}'
    return cfg


def _heldout_metrics(work_dir, data_root, mano_dir, ckpt) -> dict:
    cfg = _cfg(work_dir, data_root, mano_dir)
    cfg.load_from = ckpt
    return Runner.from_cfg(cfg).test()


@pytest.mark.slow  # ~1.5 min on 2 cores
def test_short_training_beats_untrained_model(tmp_path, synthetic_data,
                                              synthetic_mano_dir):
    # the untrained starting point, built exactly as the training run does
    cfg = _cfg(tmp_path, synthetic_data, synthetic_mano_dir)
    runner = Runner.from_cfg(cfg)
    runner.model.init_weights()
    init = str(tmp_path / 'init.pth')
    save_checkpoint(
        dict(meta=dict(epoch=0, iter=0),
             state_dict=weights_to_cpu(runner.model.state_dict())), init)
    del runner
    before = _heldout_metrics(tmp_path, synthetic_data, synthetic_mano_dir,
                              init)

    run_tool(['tools/train.py', CFG, '--work-dir', str(tmp_path),
              '--no-validate', '--cfg-options'] +
             data_options(synthetic_data, synthetic_mano_dir, hic_test=False))
    after = _heldout_metrics(tmp_path, synthetic_data, synthetic_mano_dir,
                             str(tmp_path / 'epoch_4.pth'))
    print('before', before, '\nafter', after)
    # 64 iterations of batch 2 from scratch. What such a short run learns
    # reliably is the hands' relative placement (TransNet) and the hand
    # boxes (DetectNet); measured on this tiny set: MRRPE 87.7 -> 56.6 mm,
    # IoU 0 -> 5.2. The asserted margins are about half of that. Mesh and
    # joint errors need ~1000+ iterations before they fall (the quickstart,
    # 2700 iterations, reports MPVPE 100 -> 71 mm), so they are only
    # required to stay finite here.
    assert after['MRRPE'] < before['MRRPE'] - 15.0
    assert after['IoU'] > before['IoU'] + 2.0
    for key in ('MPVPE_all', 'MPJPE_all'):
        assert 0 < after[key] < 1000, (key, after[key])
