"""A non-default size set end to end, from one size description.

Input 240x320 (H x W), body input 128x160, body grid 8x32x40, a 320x320
crop with a 4x10x10 hand grid, a 16^3 TransNet volume: the real data
pipeline (fixture photos, targets made with the same sizes), the model
built from the config, one training step and a prediction whose boxes,
crops and grids land where the sizes say.
"""
import numpy as np
import pytest
import torch
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope
from mmpose.registry import DATASETS, MODELS, TRANSFORMS

import interwild_mm.datasets  # noqa: F401
import interwild_mm.models  # noqa: F401
from interwild_mm.geometry.sizes import InterWildSizes
from tests.test_datasets._helpers import ih_cfg
from ._interwild_tiny import tiny_model_cfg

MODEL_SIZES = dict(input_size=(240, 320), body_input_size=(128, 160),
                   body_hm_shape=(8, 32, 40), crop_size=(320, 320),
                   hand_hm_shape=(4, 10, 10))
SIZES = InterWildSizes(input_hw=(240, 320), body_input_hw=(128, 160),
                       body_grid_dhw=(8, 32, 40), crop_hw=(320, 320),
                       hand_grid_dhw=(4, 10, 10),
                       trans_grid_dhw=(16, 16, 16))


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmpose')


@pytest.fixture(scope='module')
def model(synthetic_mano_dir):
    init_default_scope('mmpose')
    cfg = tiny_model_cfg(synthetic_mano_dir)
    cfg.update(MODEL_SIZES)
    cfg['trans_net']['hm_shape'] = (16, 16, 16)
    with torch.random.fork_rng():  # leave the global RNG to other tests
        torch.manual_seed(0)
        m = MODELS.build(cfg)
        m.init_weights()
    return m


@pytest.fixture(scope='module')
def batch(synthetic_mano_dir):
    """Two interacting InterHand2.6M fixture samples through the pipeline
    with the non-default sizes: packed inputs/samples and the raw results
    (patch hand boxes)."""
    init_default_scope('mmpose')
    prepare = Compose([
        dict(type='LoadImage', color_type='color_ignore_orientation'),
        dict(type='InterWildBodyAffine', input_size=(320, 240)),  # (W, H)
        dict(type='InterWildGenerateTarget',
             mano_model_dir=str(synthetic_mano_dir),
             sizes=dict(input_hw=SIZES.input_hw,
                        body_grid_dhw=SIZES.body_grid_dhw)),
    ])
    pack = TRANSFORMS.build(dict(type='PackInterWildInputs'))
    ds = DATASETS.build(ih_cfg())
    results = []
    for i in range(len(ds)):
        res = prepare(ds.get_data_info(i))
        if res['rhand_bbox_valid'][0] and res['lhand_bbox_valid'][0]:
            results.append(res)
    assert len(results) >= 2
    results = results[:2]
    packed = [pack(dict(r)) for r in results]
    x = torch.stack([p['inputs'] for p in packed]).float() / 255
    return x, [p['data_samples'] for p in packed], results


def _force_boxes(model, samples):
    """Make DetectNet predict the target boxes (forward hook)."""
    forced = {}
    for h in ('rhand', 'lhand'):
        lab = [s.gt_instance_labels for s in samples]
        forced[f'{h}_center'] = torch.cat([l[f'{h}_bbox_center'] for l in lab])
        forced[f'{h}_size'] = torch.cat([l[f'{h}_bbox_size'] for l in lab])
    return model.detect_net.head.register_forward_hook(
        lambda mod, args, out: {**out, **forced})


def _bilinear(img, x, y):
    """(C, H, W) numpy bilinear at (x, y) (pixel centres at integers)."""
    x0, y0 = int(np.floor(x)), int(np.floor(y))
    ax, ay = x - x0, y - y0
    return ((1 - ax) * (1 - ay) * img[:, y0, x0] + ax * (1 - ay) *
            img[:, y0, x0 + 1] + (1 - ax) * ay * img[:, y0 + 1, x0] +
            ax * ay * img[:, y0 + 1, x0 + 1])


def test_every_part_shares_the_sizes(model):
    assert model.sizes == SIZES
    for part in (model.detect_net, model.detect_net.head, model.hand_roi,
                 model.shnet, model.trans_net):
        assert part.sizes == SIZES, type(part).__name__
    assert model.trans_net.conv[0].in_channels == 2 * 21 * 16
    assert model.shnet.hand_position_net.conv[0].out_channels == 21 * 4
    assert model.shnet.depth_scale == pytest.approx(5000 * 0.6 / 320)


def test_targets_are_on_the_sizes_grid(batch):
    _, samples, results = batch
    for s, res in zip(samples, results):
        lab = s.gt_instance_labels
        for h, k in (('rhand', 0), ('lhand', 1)):
            x1, y1, x2, y2 = res['hand_bbox_patch'][k]  # input px (320x240)
            centre = ((x1 + x2) / 2 * 40 / 320, (y1 + y2) / 2 * 32 / 240)
            np.testing.assert_allclose(lab[f'{h}_bbox_center'][0], centre,
                                       rtol=1e-5)
        trunc = lab.joint_trunc[0, :, 0] > 0
        xyz = lab.joint_img[0][trunc]
        assert (xyz[:, 0] < 40).all() and (xyz[:, 1] < 32).all()
        assert (xyz[:, 0] > 1).any() and (xyz[:, 0].max() > 10)


def test_boxes_crops_and_grids_land_where_the_sizes_say(model, batch):
    x, samples, results = batch
    model.eval()
    hook = _force_boxes(model, samples)
    try:
        with torch.no_grad():
            raw = model.forward_all(x)
            roi = model.hand_roi(x, raw['rhand_center'], raw['rhand_size'],
                                 raw['lhand_center'], raw['lhand_size'])
            pred = model.predict(x, samples)
    finally:
        hook.remove()
    assert roi['hand_img'].shape == (4, 3, 320, 320)
    assert roi['hand_feat'].shape[-2:] == (10, 10)
    assert raw['rjoint_img'].shape == (2, 21, 3)
    assert ((raw['rjoint_img'][..., :2] >= 0) &
            (raw['rjoint_img'][..., :2] <= 9)).all()
    assert (raw['rjoint_img'][..., 2] <= 3).all()  # 4 depth bins
    for i, (s, res) in enumerate(zip(samples, results)):
        inst = pred[i].pred_instances
        for h, k in (('rhand', 0), ('lhand', 1)):
            # the target box, predicted and mapped back, is the GT box in the
            # original image (eval pipeline: an axis-aligned patch affine)
            np.testing.assert_allclose(inst[f'{h}_bbox'][0],
                                       res['hand_bbox'][k], atol=2e-3)
            # the crop box centre (body px 160x128 -> input px 320x240) is
            # crop pixel (160, 160) and hand-grid cell (5, 5)
            box = raw[f'{h[0]}hand_crop_box'][i].double().numpy()
            cx = (box[0] + box[2]) / 2 * 320 / 160
            cy = (box[1] + box[3]) / 2 * 240 / 128
            crop = roi['hand_img'][i + 2 * k].numpy()
            if k == 1:  # the left crop is mirrored: column 319 - 160
                crop = crop[:, :, ::-1]
            np.testing.assert_allclose(
                crop[:, 160, 160], _bilinear(x[i].numpy(), cx, cy), atol=1e-5)
            h2o = raw[f'{h[0]}hand_hand2orig'][i:i + 1]
            img = model.grid_to_image(torch.tensor([[[5.0, 5.0]]]), h2o)
            np.testing.assert_allclose(img[0, 0].numpy(), [cx, cy],
                                       atol=1e-3)
            # a body-grid target at the crop centre moves to cell (5, 5)
            tgt = torch.tensor([[[cx / 8, cy / 7.5, 4.0]]], dtype=torch.float)
            xyz, tr = model.targets_to_crop_grid(
                tgt, torch.ones(1, 1, 1),
                raw[f'{h[0]}hand_orig2hand'][i:i + 1])
            np.testing.assert_allclose(xyz[0, 0].numpy(), [5.0, 5.0, 2.0],
                                       atol=1e-4)
            assert tr.item() == 1


def test_one_training_step(model, batch):
    x, samples, _ = batch
    model.train()
    optim = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = model.shnet.hand_position_net.conv[0].weight.detach().clone()
    hook = _force_boxes(model, samples)  # crops around the hands
    try:
        losses = model(x, samples, 'loss')
    finally:
        hook.remove()
    assert len(losses) == 12
    assert all(torch.isfinite(v) for v in losses.values())
    assert losses['loss_rhand_bbox_center'] == 0  # forced to the targets
    # the dataset joints fall inside the crops: scored on the hand grid
    assert losses['loss_joint_img'] > 0 and losses['loss_joint_proj'] > 0
    optim.zero_grad()
    sum(losses.values()).backward()
    optim.step()
    after = model.shnet.hand_position_net.conv[0].weight
    assert (after - before).abs().max() > 0
    model.eval()
    with torch.no_grad():
        out = model(x, None, 'tensor')
    assert out['rjoint_img'].shape == (2, 21, 3)
    assert torch.isfinite(out['rel_trans']).all()
    with pytest.raises(ValueError, match=r'\(240, 320\)'):
        model(torch.rand(1, 3, 512, 384), None, 'tensor')
