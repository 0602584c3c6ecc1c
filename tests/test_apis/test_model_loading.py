# Copyright (c) interwild_mm contributors.
"""Checkpoint loading of the inferencer (mmengine loader, clear errors)."""
import os.path as osp
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch

HERE = osp.dirname(osp.abspath(__file__))
SMALL_CFG = osp.join(HERE, 'small_interwild_cfg.py')


def _build(synthetic_mano_dir, weights=None):
    from interwild_mm.apis import InterWildInferencer
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return InterWildInferencer(SMALL_CFG, weights, device='cpu',
                                   mano_dir=str(synthetic_mano_dir),
                                   hand_score_thr=0.0, show_progress=False)


def _state(inferencer):
    return OrderedDict((k, v.clone())
                       for k, v in inferencer.model.state_dict().items())


def test_ddp_prefix_and_mano_entries(inferencer, synthetic_mano_dir,
                                     tmp_path):
    """``module.`` keys load (mmengine revise_keys); MANO entries of a
    checkpoint are ignored, never loaded into the MANO layers."""
    state = _state(inferencer)
    ckpt = OrderedDict(('module.' + k, v) for k, v in state.items())
    right = inferencer._mano_layer('right')
    name, buf = next(iter(right.named_buffers()))
    ckpt[f'module.mano_layer_right.{name}'] = torch.full_like(buf, 7.0)
    path = tmp_path / 'ddp.pth'
    torch.save({'state_dict': ckpt, 'meta': {}}, path)
    other = _build(synthetic_mano_dir, str(path))
    for k, v in other.model.state_dict().items():
        torch.testing.assert_close(v, state[k], rtol=0, atol=0)
    other_buf = dict(other._mano_layer('right').named_buffers())[name]
    assert not torch.equal(other_buf, torch.full_like(buf, 7.0))
    torch.testing.assert_close(other_buf, buf, rtol=0, atol=0)


def test_mis_shaped_key_is_refused(inferencer, synthetic_mano_dir,
                                   tmp_path):
    state = _state(inferencer)
    key = next(k for k, v in state.items() if v.ndim == 4)
    state[key] = torch.zeros(1, 1, 1, 1)
    path = tmp_path / 'shape.pth'
    torch.save({'state_dict': state}, path)
    with pytest.raises(RuntimeError,
                       match=f'1 wrong shape \\(e.g. {key}\\)'):
        _build(synthetic_mano_dir, str(path))


def test_official_weights_saved_as_a_plain_state_dict(synthetic_mano_dir,
                                                      tmp_path):
    """An official ``network`` dict saved on its own (no ``epoch`` /
    ``network`` wrapper) is recognised by its key names."""
    network = OrderedDict([
        ('module.body_backbone.conv1.weight', torch.zeros(64, 3, 7, 7)),
        ('module.body_box_net.deconv.0.weight', torch.zeros(2048, 256, 4, 4)),
        ('module.hand_trans_net.fc.0.bias', torch.zeros(3)),
    ])
    path = tmp_path / 'network_only.pth'
    torch.save(network, path)
    with pytest.raises(RuntimeError, match='official key names.*'
                       'convert_official_checkpoint'):
        _build(synthetic_mano_dir, str(path))


def test_missing_checkpoint_and_unsafe_pickle(synthetic_mano_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match='not found'):
        _build(synthetic_mano_dir, str(tmp_path / 'nope.pth'))
    path = tmp_path / 'unsafe.pth'
    torch.save({'state_dict': {}, 'meta': {'x': np.random.RandomState(0)}},
               path)
    from interwild_mm.utils.checkpoint import UnsafeCheckpointError
    with pytest.raises(UnsafeCheckpointError, match='allow-list'):
        _build(synthetic_mano_dir, str(path))
