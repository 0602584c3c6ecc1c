"""DetectNet / DetectNetHead against float64 numpy re-derivations."""
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

import interwild_mm.models  # noqa: F401
from mmpose.registry import MODELS


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmpose')


def _bilinear(img, x, y):
    """(C, H, W) bilinear at (x, y), zeros outside; plain loops."""
    c, h, w = img.shape
    out = np.zeros(c)
    x0, y0 = int(np.floor(x)), int(np.floor(y))
    for xi in (x0, x0 + 1):
        for yi in (y0, y0 + 1):
            wt = (1 - abs(x - xi)) * (1 - abs(y - yi))
            if 0 <= xi < w and 0 <= yi < h:
                out += wt * img[:, yi, xi]
    return out


def _head(in_ch=32, ch=(8, 8, 8)):
    head = MODELS.build(
        dict(type='DetectNetHead', in_channels=in_ch, deconv_channels=ch))
    head.init_weights()
    # larger random weights so the heatmaps are not flat
    with torch.no_grad():
        head.bbox_center[0].weight.normal_(0, 1.0)
    return head.double().eval()


def test_official_submodule_names_and_shapes():
    head = MODELS.build(dict(type='DetectNetHead'))
    sd = head.state_dict()
    assert sd['deconv.0.weight'].shape == (2048, 256, 4, 4)
    assert sd['deconv.3.weight'].shape == (256, 256, 4, 4)
    assert sd['deconv.6.weight'].shape == (256, 256, 4, 4)
    assert 'deconv.0.bias' not in sd
    assert sd['deconv.7.running_var'].shape == (256, )
    assert sd['bbox_center.0.weight'].shape == (2, 256, 1, 1)
    for s in ('rhand', 'lhand'):
        assert sd[f'{s}_size.0.weight'].shape == (256, 256)
        assert sd[f'{s}_size.2.weight'].shape == (2, 256)
    assert len(sd) == 3 + 15 + 2 + 8


def test_head_matches_numpy():
    torch.manual_seed(0)
    head = _head()
    feat = torch.randn(2, 32, 8, 6, dtype=torch.float64)
    out = head(feat)
    x = head.deconv(feat)
    assert x.shape == (2, 8, 64, 48)
    logits = head.bbox_center(x).detach().numpy()
    xn = x.detach().numpy()
    for n in range(2):
        for k, side in enumerate(('rhand', 'lhand')):
            lg = logits[n, k]
            p = np.exp(lg - lg.max())
            p /= p.sum()
            cx = sum(p[r, c] * c for r in range(64) for c in range(48))
            cy = sum(p[r, c] * r for r in range(64) for c in range(48))
            np.testing.assert_allclose(
                out[f'{side}_center'][n].detach().numpy(), [cx, cy],
                rtol=1e-10)
            f = _bilinear(xn[n], cx, cy)
            mlp = getattr(head, f'{side}_size')
            w1, b1 = mlp[0].weight.detach().numpy(), mlp[0].bias.detach(
            ).numpy()
            w2, b2 = mlp[2].weight.detach().numpy(), mlp[2].bias.detach(
            ).numpy()
            size = w2 @ np.maximum(w1 @ f + b1, 0) + b2
            np.testing.assert_allclose(
                out[f'{side}_size'][n].detach().numpy(), size, rtol=1e-9,
                atol=1e-12)
            conf = _bilinear(p[None], cx, cy)[0]
            np.testing.assert_allclose(out[f'{side}_conf'][n].item(), conf,
                                       rtol=1e-10)


def test_size_uses_detached_centre():
    torch.manual_seed(1)
    head = _head().train()
    out = head(torch.randn(2, 32, 8, 6, dtype=torch.float64))
    (out['rhand_size'].sum() + out['lhand_size'].sum()).backward()
    # the centre conv only influences the size through the (detached)
    # sampling location
    assert head.bbox_center[0].weight.grad is None or \
        head.bbox_center[0].weight.grad.abs().max() == 0
    assert head.rhand_size[0].weight.grad.abs().max() > 0
    assert head.deconv[0].weight.grad.abs().max() > 0
    head.zero_grad()
    out = head(torch.randn(2, 32, 8, 6, dtype=torch.float64))
    out['rhand_center'].sum().backward()
    assert head.bbox_center[0].weight.grad.abs().max() > 0


class _Probe(torch.nn.Module):
    """Backbone stand-in that records its input."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 32, 1)

    def forward(self, x):
        self.seen = x
        return (torch.nn.functional.avg_pool2d(self.conv(x), 32), )


def test_detectnet_resizes_input():
    MODELS.register_module('_ProbeBackbone', module=_Probe, force=True)
    net = MODELS.build(
        dict(
            type='DetectNet',
            backbone=dict(type='_ProbeBackbone'),
            head=dict(
                type='DetectNetHead', in_channels=32,
                deconv_channels=(8, 8, 8))))
    img = torch.rand(1, 3, 512, 384)
    out = net(img)
    seen = net.backbone.seen
    assert seen.shape == (1, 3, 256, 192)
    # bilinear, align_corners=False halving = mean of each 2x2 block
    ref = img.reshape(1, 3, 256, 2, 192, 2).mean(dim=(3, 5))
    assert torch.allclose(seen, ref, atol=1e-6)
    assert out['rhand_center'].shape == (1, 2)
    assert out['center_prob'].shape == (1, 2, 64, 48)


# ----------------------------------------------------------------------
# the head's own loss() and predict() (mmpose head API)
def _box_samples(n, seed=0):
    from mmengine.structures import InstanceData
    from mmpose.structures import PoseDataSample
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(n):
        lab = InstanceData()
        for h in ('rhand', 'lhand'):
            lab.set_field(
                torch.rand(1, 2, generator=g) * 40, f'{h}_bbox_center')
            lab.set_field(torch.rand(1, 2, generator=g) * 8 + 1,
                          f'{h}_bbox_size')
        lab.rhand_bbox_valid = torch.ones(1, 1)
        lab.lhand_bbox_valid = torch.full((1, 1), float(i % 2))
        ds = PoseDataSample()
        ds.gt_instance_labels = lab
        out.append(ds)
    return out


def _configured_head():
    l1 = dict(type='L1Loss', use_target_weight=True)
    head = MODELS.build(
        dict(type='DetectNetHead', in_channels=32, deconv_channels=(8, 8, 8),
             loss_center=l1, loss_size=dict(l1, loss_weight=3.0)))
    head.init_weights()
    with torch.no_grad():
        head.bbox_center[0].weight.normal_(0, 1.0)
        head.rhand_size[2].bias.copy_(torch.tensor([4.0, 6.0]))
    return head.double().eval()


def test_head_loss_against_float64_formula():
    torch.manual_seed(2)
    head = _configured_head()
    feat = torch.randn(3, 32, 8, 6, dtype=torch.float64)
    samples = _box_samples(3)
    losses = head.loss(feat, samples)
    assert set(losses) == {f'loss_{h}_bbox_{q}' for h in ('rhand', 'lhand')
                           for q in ('center', 'size')}
    out = {k: v.detach().numpy() for k, v in head(feat).items()}
    for h in ('rhand', 'lhand'):
        lab = [s.gt_instance_labels for s in samples]
        valid = np.concatenate([l[f'{h}_bbox_valid'].numpy() for l in lab])
        for q, weight in (('center', 1.0), ('size', 3.0)):
            tgt = np.concatenate([l[f'{h}_bbox_{q}'].numpy() for l in lab])
            # mean over all N x 2 elements, invalid entries count as zero
            ref = weight * np.mean(np.abs(out[f'{h}_{q}'] - tgt) * valid)
            assert ref > 0
            np.testing.assert_allclose(losses[f'loss_{h}_bbox_{q}'].item(),
                                       ref, rtol=1e-12)


def test_head_predict_boxes_in_body_input_pixels():
    torch.manual_seed(3)
    head = _configured_head()
    feat = torch.randn(2, 32, 8, 6, dtype=torch.float64)
    preds = head.predict(feat)
    out = {k: v.detach().numpy() for k, v in head(feat).items()}
    assert len(preds) == 2
    for i, inst in enumerate(preds):
        assert set(inst.keys()) == {'rhand_bbox', 'lhand_bbox',
                                    'rhand_bbox_score', 'lhand_bbox_score'}
        for h in ('rhand', 'lhand'):
            assert inst[f'{h}_bbox'].shape == (1, 4)
            c, s = out[f'{h}_center'][i], out[f'{h}_size'][i]
            # 48x64 grid -> 192x256 body input: x4, no aspect fix, ext 1
            ref = np.concatenate([c - s / 2, c + s / 2]) * 4
            np.testing.assert_allclose(inst[f'{h}_bbox'][0], ref, rtol=1e-6)
            np.testing.assert_allclose(inst[f'{h}_bbox_score'],
                                       [out[f'{h}_conf'][i]], rtol=1e-6)
        w = inst['rhand_bbox'][0, 2] - inst['rhand_bbox'][0, 0]
        assert w > 4


def test_head_grid_must_match_the_sizes():
    head = MODELS.build(
        dict(type='DetectNetHead', in_channels=32, deconv_channels=(8, 8, 8),
             sizes=dict(body_grid_dhw=(8, 32, 24))))
    with pytest.raises(ValueError, match='body_hm_shape'):
        head(torch.randn(1, 32, 8, 6))
    assert head(torch.randn(1, 32, 4, 3))['center_prob'].shape[-2:] == (32,
                                                                         24)
