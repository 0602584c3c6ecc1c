"""--cfg-options overrides of top-level variables reach every place they
feed."""
from mmengine.config import Config

import pytest

from interwild_mm.utils.config import (enable_visualization,
                                       merge_cfg_options, set_work_dir)


def _cfg() -> Config:
    root = 'data/synthetic/'
    return Config(
        dict(
            mano_dir=None,
            synthetic_root=root,
            train_batch_size=8,
            val_batch_size=4,
            model=dict(type='InterWild', mano=dict(model_dir=None)),
            train_dataloader=dict(
                batch_size=8,
                sampler=dict(type='MultiSourceSampler', batch_size=8),
                dataset=dict(
                    data_root=root,
                    pipeline=[
                        dict(type='InterWildGenerateTarget',
                             mano_model_dir=None)
                    ])),
            val_dataloader=dict(
                batch_size=4, dataset=dict(data_root=root + 'HIC/data/')),
            test_dataloader=dict(
                batch_size=4, dataset=dict(data_root='elsewhere/')),
            val_evaluator=dict(type='InterWildMetric', mano_dir=None)))


def _apply(cfg: Config, opts: dict) -> Config:
    merge_cfg_options(cfg, opts)
    return cfg


def test_mano_dir_reaches_model_pipeline_and_metric():
    cfg = _apply(_cfg(), {'mano_dir': '/m'})
    assert cfg.model.mano.model_dir == '/m'
    assert cfg.train_dataloader.dataset.pipeline[0].mano_model_dir == '/m'
    assert cfg.val_evaluator.mano_dir == '/m'


def test_batch_sizes_reach_loader_and_sampler():
    cfg = _apply(_cfg(), {'train_batch_size': 2, 'val_batch_size': 1})
    assert cfg.train_dataloader.batch_size == 2
    assert cfg.train_dataloader.sampler.batch_size == 2
    assert cfg.val_dataloader.batch_size == 1
    assert cfg.test_dataloader.batch_size == 1


def test_roots_follow_exactly_and_by_prefix_only():
    cfg = _apply(_cfg(), {'synthetic_root': '/d/syn/'})
    assert cfg.train_dataloader.dataset.data_root == '/d/syn/'
    assert cfg.val_dataloader.dataset.data_root == '/d/syn/HIC/data/'
    # a root that never came from the variable is left alone
    assert cfg.test_dataloader.dataset.data_root == 'elsewhere/'


def test_no_override_changes_nothing():
    cfg = _cfg()
    before = cfg.to_dict()
    _apply(cfg, {})
    assert cfg.to_dict() == before


def test_work_dir_precedence():
    cfg = Config(dict())
    set_work_dir(cfg, None, 'configs/interwild_ih26m_coco.py')
    assert cfg.work_dir == './work_dirs/interwild_ih26m_coco'
    cfg = Config(dict(work_dir='from_config'))
    set_work_dir(cfg, None, 'configs/x.py')
    assert cfg.work_dir == 'from_config'
    set_work_dir(cfg, 'from_cli', 'configs/x.py')
    assert cfg.work_dir == 'from_cli'


def test_show_dir_enables_the_visualization_hook():
    cfg = Config(dict(default_hooks=dict(
        visualization=dict(type='InterWildVisualizationHook', enable=False))))
    enable_visualization(cfg, None)
    assert cfg.default_hooks.visualization.enable is False
    enable_visualization(cfg, 'vis')
    assert cfg.default_hooks.visualization.enable is True
    assert cfg.default_hooks.visualization.out_dir == 'vis'
    with pytest.raises(KeyError, match='visualization'):
        enable_visualization(Config(dict(default_hooks=dict())), 'vis')
