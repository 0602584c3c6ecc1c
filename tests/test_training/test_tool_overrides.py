# Copyright (c) interwild_mm contributors.
"""--cfg-options reach what tools/test.py, tools/browse_dataset.py and
tools/quickstart.py build (run the way a user types them where practical)."""
import json
import os.path as osp
import sys

import torch
from mmengine.registry import init_default_scope

from ._helpers import HERE, REPO, TINY_CFG, data_options, run_tool, tool_env

PROBE_CFG = osp.join(HERE, 'configs', 'tiny_probe.py')


def _save_untrained(cfg_path: str, mano_dir, out: str, **model_kw) -> None:
    from mmengine.config import Config

    import interwild_mm  # noqa: F401 (registers the model)
    from mmpose.registry import MODELS
    cfg = Config.fromfile(cfg_path)
    init_default_scope('mmpose')
    cfg.model.mano.model_dir = str(mano_dir)
    for part, changes in model_kw.items():
        cfg.model[part].update(changes)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    torch.save(dict(meta=dict(epoch=0, iter=0), state_dict=model.state_dict()),
               out)


def test_test_tool_overrides_reach_the_loader(tmp_path, synthetic_data,
                                              synthetic_mano_dir):
    ckpt = str(tmp_path / 'untrained.pth')
    _save_untrained(TINY_CFG, synthetic_mano_dir, ckpt)
    work = tmp_path / 'test'
    run_tool(['tools/test.py', PROBE_CFG, ckpt, '--work-dir', str(work),
              '--cfg-options'] +
             data_options(synthetic_data, synthetic_mano_dir) +
             ['num_workers=1', 'val_batch_size=2'],
             env=tool_env(extra_pythonpath=HERE), timeout=600)
    with open(work / 'probe_test.json') as fh:
        probe = json.load(fh)
    assert probe['loader']['num_workers'] == 1
    assert probe['loader']['batch_size'] == 2
    assert probe['loader']['worker_init_fn'] == 'interwild_worker_init_fn'


def test_test_tool_refuses_a_checkpoint_of_another_model(
        tmp_path, synthetic_data, synthetic_mano_dir):
    """A checkpoint of another model (wider TransNet features, an extra
    key, a missing key) is refused with the keys named; --non-strict
    evaluates anyway."""
    ckpt = str(tmp_path / 'other.pth')
    _save_untrained(TINY_CFG, synthetic_mano_dir, ckpt,
                    trans_net=dict(feat_channels=8, backbone_channels=64,
                                   hm_shape=(8, 8, 8)))
    state = torch.load(ckpt, weights_only=True)
    state['state_dict']['extra_head.weight'] = torch.zeros(3)
    state['state_dict'].pop('detect_net.head.bbox_center.0.bias')
    torch.save(state, ckpt)
    args = ['tools/test.py', TINY_CFG, ckpt, '--work-dir',
            str(tmp_path / 'test'), '--cfg-options'] + data_options(
                synthetic_data, synthetic_mano_dir)
    proc = run_tool(args, check=False, timeout=600)
    assert proc.returncode == 1
    err = proc.stderr
    assert 'does not fit the model of this config' in err
    assert '1 missing (e.g. detect_net.head.bbox_center.0.bias)' in err
    assert '1 unexpected (e.g. extra_head.weight)' in err
    # 8^3 instead of 16^3 volume: TransNet's first conv has 2*21*8 inputs
    assert '1 mis-shaped (e.g. trans_net.conv.0.weight: checkpoint ' \
        '(8, 336, 3, 3) vs model (8, 672, 3, 3))' in err
    assert '--non-strict' in err
    assert 'InterWild test results' not in proc.stdout

    proc = run_tool(args + ['--non-strict'], timeout=600)
    assert 'InterWild test results' in proc.stdout
    assert '--non-strict' in proc.stdout + proc.stderr


def test_browse_dataset_data_root_override(tmp_path, synthetic_data,
                                           synthetic_mano_dir):
    """ih26m_root reaches the InterHand2.6M test set the tool builds."""
    out = tmp_path / 'vis'
    proc = run_tool([
        'tools/browse_dataset.py',
        'configs/interwild_ih26m_coco_test_ih26m.py', '--phase', 'test',
        '--out-dir', str(out), '--max', '2',
        '--cfg-options', f'ih26m_root={synthetic_data}/',
        f'mano_dir={synthetic_mano_dir}',
        'test_dataloader.dataset.annot_subset_file=None'
    ], timeout=600)
    pngs = sorted(p.name for p in out.glob('*.png'))
    assert len(pngs) == 2 and all('interhand2.6m' in p for p in pngs), \
        proc.stdout
    # a variable that would be ignored is refused
    proc = run_tool(['tools/browse_dataset.py',
                     'configs/_base_/datasets/interwild_fixtures.py',
                     '--out-dir', str(out), '--cfg-options',
                     'fixtures_root=/elsewhere/'], check=False)
    assert proc.returncode != 0
    assert 'fixtures_root=/elsewhere/ would have no effect' in proc.stderr


def test_quickstart_options_reach_every_step(tmp_path, synthetic_data,
                                             synthetic_mano_dir):
    sys.path.insert(0, osp.join(REPO, 'tools'))
    try:
        import quickstart
    finally:
        sys.path.pop(0)
    from mmengine.runner import Runner
    args = quickstart.parse_args([
        '--data-root', str(synthetic_data), '--mano-dir',
        str(synthetic_mano_dir), '--max-epochs', '2', '--cfg-options',
        'num_workers=1', 'val_batch_size=2', 'model.shnet.pose_channels=32'
    ])
    overrides = quickstart.build_overrides(args)
    cli = quickstart.overrides_to_cli(overrides)
    # what tools/train.py and tools/test.py receive
    assert 'num_workers=1' in cli and 'param_scheduler.0.milestones=[1]' \
        in cli
    # what the in-process evaluations build
    cfg = quickstart._load_cfg(quickstart.CONFIG, overrides,
                               str(tmp_path / 'work'))
    assert cfg.train_cfg.max_epochs == 2
    assert cfg.model.shnet.pose_channels == 32
    init_default_scope('mmpose')
    loader = Runner.build_dataloader(cfg.val_dataloader, seed=0)
    assert loader.num_workers == 1 and loader.batch_size == 2
    assert osp.realpath(loader.dataset.data_root) == \
        osp.realpath(str(synthetic_data))
