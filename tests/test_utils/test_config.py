"""--cfg-options overrides of top-level variables reach every place they feed."""
from mmengine.config import Config

from interwild_mm.utils.config import merge_cfg_options


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
