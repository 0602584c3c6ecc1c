"""Real fixture images through the real pipelines, model and metric.

Each piece has its own unit tests; this file checks the contracts between
them: the keys and shapes the pipelines pack are the ones the model's loss
and predict read, the colour order reaching the network is RGB/255
(docs/official_conventions.md §1.1), and predictions feed InterWildMetric.
"""
import math
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import interwild_mm  # noqa: F401
from mmpose.registry import METRICS, MODELS

from tests.test_models._interwild_tiny import LOSS_TERMS, tiny_model_cfg

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FIXTURE_DATA_CFG = osp.join(ROOT, 'configs/_base_/datasets/'
                            'interwild_fixtures.py')


@pytest.fixture(scope='module')
def data_cfg():
    init_default_scope('mmpose')
    return Config.fromfile(FIXTURE_DATA_CFG)


@pytest.fixture(scope='module')
def model(synthetic_mano_dir):
    init_default_scope('mmpose')
    torch.manual_seed(0)
    return MODELS.build(tiny_model_cfg(synthetic_mano_dir))


def _first_batch(loader_cfg):
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    return next(iter(loader))


def test_mixed_fixture_batch_trains(data_cfg, model):
    batch = _first_batch(data_cfg.train_dataloader)
    data = model.data_preprocessor(batch, training=True)
    assert data['inputs'].shape == (4, 3, 512, 384)
    model.train()
    losses = model(data['inputs'], data['data_samples'], mode='loss')
    assert LOSS_TERMS <= set(losses), sorted(losses)
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    assert torch.isfinite(total)
    total.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    # The fixtures carry box targets for both hands of the IH2.6M
    # interacting samples, so the box losses must see real targets.
    assert losses['loss_rhand_bbox_center'] > 0
    model.zero_grad()


def test_network_input_is_rgb_over_255(data_cfg, model):
    """The packed patch is the RGB warp of the file; the preprocessor only
    divides by 255 (no channel swap, no mean/std)."""
    batch = _first_batch(data_cfg.val_dataloader)
    sample = batch['data_samples'][0]
    packed = batch['inputs'][0].numpy().transpose(1, 2, 0)  # uint8 RGB
    bgr = cv2.imread(sample.metainfo['img_path'])
    trans = np.asarray(sample.metainfo['img2bb_trans'], dtype=np.float64)
    ref_rgb = cv2.warpAffine(
        bgr, trans, (384, 512), flags=cv2.INTER_LINEAR)[:, :, ::-1]
    diff = np.abs(packed.astype(np.int16) - ref_rgb.astype(np.int16))
    assert diff.mean() < 1.0  # interpolation rounding only
    data = model.data_preprocessor(batch, training=False)
    expect = batch['inputs'][0].float() / 255
    torch.testing.assert_close(data['inputs'][0], expect)


def test_predictions_feed_the_metric(data_cfg, model, synthetic_mano_dir):
    batch = _first_batch(data_cfg.val_dataloader)
    model.eval()
    with torch.no_grad():
        preds = model.test_step(batch)
    assert len(preds) == len(batch['data_samples'])
    pred = preds[0].pred_instances
    h, w = preds[0].metainfo['ori_shape'][:2]
    for key in ('rhand_bbox', 'lhand_bbox'):
        box = np.asarray(pred[key])[0]
        # boxes are in original-image pixels, near the image
        assert -w < box[0] <= box[2] < 2 * w, box
        assert -h < box[1] <= box[3] < 2 * h, box
    metric = METRICS.build(
        dict(type='InterWildMetric', protocol='interhand26m',
             mano_dir=str(synthetic_mano_dir)))
    metric.dataset_meta = {}
    metric.process(batch, [p.to_dict() for p in preds])
    results = metric.compute_metrics(metric.results)
    # IH2.6M fixtures have joints but no MANO fits: MPJPE and MRRPE are
    # defined, the MANO-based MPVPE is not.
    for key in ('MPJPE_all', 'MRRPE'):
        assert key in results and math.isfinite(results[key]), results
    assert results['MPJPE_all'] > 0
