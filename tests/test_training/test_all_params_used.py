# Copyright (c) interwild_mm contributors.
"""Every trainable parameter of InterWild takes part in the loss.

DistributedDataParallel (with ``find_unused_parameters=False``, the
configs' setting) expects a gradient for every parameter that requires one
after each backward; a parameter outside the graph stops multi-process
training at its second iteration ("Expected to have finished reduction in
the prior iteration"). Checked on a real training batch of the tiny
training config, and on the same batch with every target marked invalid
(the loss terms are then zero, but they must still reach every parameter:
no branch may be skipped depending on the data).
"""
import copy

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from interwild_mm.utils.config import merge_cfg_options
from ._helpers import TINY_CFG, data_options


def _options(data_root, mano_dir) -> dict:
    from mmengine.config import DictAction
    opts = {}
    for o in data_options(data_root, mano_dir):
        k, v = o.split('=', 1)
        opts[k] = DictAction._parse_iterable(v)
    return opts


@pytest.fixture(scope='module')
def model_and_batch(synthetic_data, synthetic_mano_dir, tmp_path_factory):
    init_default_scope('mmpose')
    cfg = Config.fromfile(TINY_CFG)
    merge_cfg_options(cfg, _options(synthetic_data, synthetic_mano_dir))
    cfg.work_dir = str(tmp_path_factory.mktemp('params'))
    torch.manual_seed(0)
    runner = Runner.from_cfg(cfg)
    model = runner.model
    model.init_weights()
    loader = runner.build_dataloader(cfg.train_dataloader)
    return model, next(iter(loader))


def _unused_after_backward(model, batch) -> list:
    model.train()
    model.zero_grad(set_to_none=True)
    data = model.data_preprocessor(batch, training=True)
    losses = model(**data, mode='loss')
    loss, _ = model.parse_losses(losses)
    loss.backward()
    return [n for n, p in model.named_parameters()
            if p.requires_grad and p.grad is None]


def test_every_parameter_gets_a_gradient(model_and_batch):
    model, batch = model_and_batch
    params = [n for n, p in model.named_parameters() if p.requires_grad]
    assert any(n.startswith('trans_net.backbone.layer1') for n in params)
    assert _unused_after_backward(model, batch) == []


def test_every_parameter_gets_a_gradient_with_invalid_targets(
        model_and_batch):
    model, batch = model_and_batch
    batch = copy.deepcopy(batch)
    for sample in batch['data_samples']:
        labels = sample.gt_instance_labels
        for key in list(labels.keys()):
            if key.endswith(('_valid', '_trunc')) or key == 'is_3D':
                labels.set_field(torch.zeros_like(labels.get(key)), key)
    assert _unused_after_backward(model, batch) == []
