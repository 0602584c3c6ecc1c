# Copyright (c) interwild_mm contributors.
"""The one --cfg-options helper of every tool (interwild_mm/utils/config.py):
variables reach every place they feed, the `pretrained` switch, and
overrides that would be silently ignored are refused."""
import pytest
from mmengine.config import Config

from interwild_mm.utils.config import (ConfigOverrideError, load_config,
                                       merge_cfg_options)

PAPER = 'configs/interwild_ih26m_coco.py'
QUICK = 'configs/interwild_synthetic_quickstart.py'
BACKBONES = ('detect_net', 'hand_roi', 'trans_net')


def test_num_workers_reaches_every_loader_and_stops_persistence():
    cfg = load_config(PAPER)
    assert cfg.train_dataloader.num_workers == 8
    assert cfg.train_dataloader.persistent_workers is True
    cfg = load_config(PAPER, {'num_workers': 0})
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[key].num_workers == 0, key
        # PyTorch refuses persistent workers without workers
        assert cfg[key].persistent_workers is False, key
    cfg = load_config('configs/interwild_ih26m_coco_test_ih26m.py',
                      {'num_workers': 2})
    assert cfg.test_dataloader.num_workers == 2
    assert cfg.train_dataloader.num_workers == 2


def test_pretrained_switch_for_all_three_backbones():
    cfg = load_config(PAPER)
    assert cfg.pretrained is True
    for part in BACKBONES:
        assert cfg.model[part].backbone.init_cfg.type == 'Pretrained'
    cfg = load_config(PAPER, {'pretrained': False})
    for part in BACKBONES:
        assert cfg.model[part].backbone.init_cfg is None, part
    # set in a config file (inheriting the paper config) works the same
    child = Config(dict(pretrained=False, model=load_config(PAPER).model))
    merge_cfg_options(child, None)
    assert all(child.model[p].backbone.init_cfg is None for p in BACKBONES)
    # asking for ImageNet weights where no backbone names any is refused
    with pytest.raises(ConfigOverrideError, match='pretrained=True'):
        load_config(QUICK, {'pretrained': True})
    with pytest.raises(ConfigOverrideError, match='True or False'):
        load_config(PAPER, {'pretrained': 'no'})


def test_imagenet_init_is_v2_for_resnet50_and_v1_for_resnet18():
    """The configured checkpoints resolve, through mmengine's table of
    torchvision URLs, to torchvision's IMAGENET1K_V2 weights for both
    ResNet-50s and IMAGENET1K_V1 for TransNet's ResNet-18 (the official
    initialisation, docs/official_conventions.md §0)."""
    from mmengine.runner.checkpoint import get_torchvision_models
    from torchvision.models import ResNet18_Weights, ResNet50_Weights

    from interwild_mm.engine.pretrained import resolve_torchvision_url
    urls = get_torchvision_models()
    model = load_config(PAPER).model
    expected = dict(detect_net=ResNet50_Weights.IMAGENET1K_V2.url,
                    hand_roi=ResNet50_Weights.IMAGENET1K_V2.url,
                    trans_net=ResNet18_Weights.IMAGENET1K_V1.url)
    for part, url in expected.items():
        name = model[part].backbone.init_cfg.checkpoint
        assert name.startswith('torchvision://'), name
        assert urls[name[len('torchvision://'):]] == url, part
        assert resolve_torchvision_url(name) == url
    assert ResNet50_Weights.IMAGENET1K_V2.url != \
        ResNet50_Weights.IMAGENET1K_V1.url
    alt = load_config('configs/interwild_alt_backbone_resnet101.py').model
    assert alt.hand_roi.backbone.init_cfg.checkpoint == \
        'torchvision://resnet101.imagenet1k_v2'


@pytest.mark.parametrize('key, cause', [
    ('max_epochs', 'train_cfg.max_epochs, param_scheduler.0.end'),
    ('lr', 'optim_wrapper.optimizer.lr'),
    ('input_size', 'model.input_size'),
])
def test_ignored_variables_are_refused_with_the_entries_to_override(
        key, cause):
    cfg = Config.fromfile(QUICK)
    before = cfg.to_dict()
    with pytest.raises(ConfigOverrideError) as info:
        merge_cfg_options(cfg, {key: 3})
    assert f'{key}=3 would have no effect' in str(info.value)
    assert cause in str(info.value)
    assert cfg.to_dict() == before  # nothing was changed


def test_typos_and_entries_inside_variables_are_refused():
    cfg = Config.fromfile(QUICK)
    with pytest.raises(ConfigOverrideError, match='Did you mean '
                       'train_batch_size'):
        merge_cfg_options(cfg, {'train_batch_sise': 2})
    with pytest.raises(ConfigOverrideError, match='`mano_dir` is a '
                       'variable'):
        merge_cfg_options(cfg, {'mano_dir.x': 2})
    # a propagated variable this config does not use
    with pytest.raises(ConfigOverrideError, match='does not use the '
                       'variable `coco_root`'):
        merge_cfg_options(cfg, {'coco_root': '/data/coco/'})
    # entries of what the Runner reads are fine
    merge_cfg_options(cfg, {'train_dataloader.num_workers': 1,
                            'find_unused_parameters': True})
    assert cfg.train_dataloader.num_workers == 1
