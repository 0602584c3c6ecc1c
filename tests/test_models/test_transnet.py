"""TransNet: geometry by hand, Gaussian volume vs numpy, factorised path."""
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

import interwild_mm.models  # noqa: F401
from mmpose.registry import MODELS

R18 = dict(type='ResNet', depth=18, base_channels=8, stem_channels=8,
           out_indices=(3, ))


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmpose')


def _net(**kw):
    cfg = dict(type='TransNet', backbone=R18, feat_channels=8,
               backbone_channels=64)
    cfg.update(kw)
    net = MODELS.build(cfg)
    net.init_weights()
    return net


def test_official_layout_without_the_unused_stem():
    net = MODELS.build(
        dict(type='TransNet',
             backbone=dict(type='ResNet', depth=18, out_indices=(3, ))))
    sd = net.state_dict()
    assert sd['conv.0.weight'].shape == (64, 2688, 3, 3)
    assert sd['conv.1.running_mean'].shape == (64, )
    assert sd['fc.0.weight'].shape == (3, 1028)
    # the official ResNet-18 has 120 keys; its stem (conv1 + bn1: 6 keys)
    # is never used and not built
    assert not any(k.startswith(('backbone.conv1.', 'backbone.bn1.'))
                   for k in sd)
    assert len([k for k in sd if k.startswith('backbone.')]) == 120 - 6
    assert len(sd) == 114 + 2 + 5 + 2
    assert net.removed_stem_prefixes == ('conv1.', 'bn1.')


def test_union_box_and_volume_coords_by_hand():
    net = _net()
    n = 1
    rj = torch.zeros(n, 21, 3, dtype=torch.float64)
    lj = torch.zeros(n, 21, 3, dtype=torch.float64)
    # right joints span x in [1, 3], y in [2, 3] (8-grid) -> x32 px
    rj[0, :, 0] = 1.0
    rj[0, 1, 0] = 3.0
    rj[0, :, 1] = 2.0
    rj[0, 2, 1] = 3.0
    rj[0, 0, 2] = 4.0
    # left joints all at (0.5, 1) except one at (1, 1.5)
    lj[0, :, 0] = 0.5
    lj[0, :, 1] = 1.0
    lj[0, 3, :2] = torch.tensor([1.0, 1.5])
    r_h2o = torch.tensor([[[1.0, 0, 10], [0, 1.0, 20]]], dtype=torch.float64)
    l_h2o = torch.tensor([[[0.5, 0, 200], [0, 0.5, 100]]],
                         dtype=torch.float64)
    coords, union = net.joints_to_volume(rj, lj, r_h2o, l_h2o)
    # right px: x 32..96 +10 -> [42, 106]; y 64..96 +20 -> [84, 116]
    # x1.2 about centre: x [35.6, 112.4], y [80.8, 119.2]
    # left px: x 8..16 +200 -> [208, 216], y 16..24 +100 -> [116, 124]
    # x1.2: x [207.2, 216.8], y [115.2, 124.8]
    # union: x [35.6, 216.8] (w 181.2), y [80.8, 124.8] (h 44) -> square:
    # centre y 102.8, h 181.2 -> y [12.2, 193.4]
    np.testing.assert_allclose(union[0].numpy(), [35.6, 12.2, 216.8, 193.4],
                               rtol=1e-9)
    s = 64 / (181.2 + 1e-8)
    # right wrist px (42, 84) -> ((42 - 126.2) s + 32, (84 - 102.8) s + 32)
    np.testing.assert_allclose(
        coords[0, 0, 0].numpy(),
        [(42 - 126.2) * s + 32, (84 - 102.8) * s + 32, 4.0 * 8], rtol=1e-9)
    np.testing.assert_allclose(
        coords[0, 1, 3, :2].numpy(),
        [(216 - 126.2) * s + 32, (124 - 102.8) * s + 32], rtol=1e-9)


def test_gaussian_volume_two_joints_numpy():
    net = _net(num_joints=1, hm_shape=(6, 5, 7))
    coords = torch.tensor([[[[1.3, 2.2, 0.7]], [[5.5, -0.4, 4.1]]]],
                          dtype=torch.float64)
    vol = net.render_heatmaps(coords).numpy()
    assert vol.shape == (1, 12, 5, 7)
    ref = np.zeros((2, 6, 5, 7))
    for h in range(2):
        x0, y0, z0 = coords[0, h, 0].tolist()
        for z in range(6):
            for y in range(5):
                for x in range(7):
                    d2 = (x - x0)**2 + (y - y0)**2 + (z - z0)**2
                    ref[h, z, y, x] = 255 * np.exp(-d2 / (2 * 2.5**2))
    np.testing.assert_allclose(vol[0], ref.reshape(12, 5, 7), rtol=1e-12)


def test_factorised_equals_dense():
    torch.manual_seed(0)
    net = _net()
    with torch.no_grad():
        net.conv[0].weight.normal_(0, 0.01)
        net.conv[0].bias.normal_(0, 1.0)
    # joints spread in and slightly outside the volume
    coords = torch.rand(2, 2, 21, 3) * 72 - 4
    dense = net.first_conv_dense(coords)
    fact = net.first_conv_factorised(coords)
    assert dense.shape == fact.shape == (2, 8, 64, 64)
    scale = dense.abs().max()
    assert (dense - fact).abs().max() <= 1e-4 * scale
    # whole forward, both paths
    rj = torch.rand(2, 21, 3) * 8
    lj = torch.rand(2, 21, 3) * 8
    h2o = torch.tensor([[[3.0, 0, 50], [0, 3.0, 60]]]).repeat(2, 1, 1)
    net.eval()
    out_d = net(rj, lj, h2o, h2o + 5)
    net.first_conv_impl = 'factorised'
    out_f = net(rj, lj, h2o, h2o + 5)
    assert torch.allclose(out_d, out_f, rtol=1e-4, atol=1e-5)


def test_wrist_sampling_and_fc():
    """rel_trans = fc([feat(wrist/8), wrist/8] for right, left)."""
    torch.manual_seed(1)
    net = _net().eval()
    rj = torch.rand(1, 21, 3, dtype=torch.float64) * 8
    lj = torch.rand(1, 21, 3, dtype=torch.float64) * 8
    h2o = torch.tensor([[[2.0, 0, 30], [0, 2.0, 40]]], dtype=torch.float64)
    net.double()
    out = net(rj, lj, h2o, h2o)
    coords, _ = net.joints_to_volume(rj, lj, h2o, h2o)
    feat = net.run_backbone(
        net.conv[2](net.conv[1](net.first_conv(coords))))[0].detach()
    assert feat.shape == (64, 8, 8)
    vals = []
    for h in range(2):
        x, y = (coords[0, h, 0, :2] / 8).tolist()
        x0, y0 = int(np.floor(x)), int(np.floor(y))
        f = torch.zeros(64, dtype=torch.float64)
        for xi in (x0, x0 + 1):
            for yi in (y0, y0 + 1):
                if 0 <= xi < 8 and 0 <= yi < 8:
                    f += (1 - abs(x - xi)) * (1 - abs(y - yi)) * feat[:, yi,
                                                                     xi]
        vals.append(torch.cat([f, torch.tensor([x, y], dtype=f.dtype)]))
    ref = net.fc[0](torch.cat(vals)[None])
    assert torch.allclose(out, ref, atol=1e-10)


def test_inputs_detached_and_every_parameter_used():
    net = _net().train()
    rj = (torch.rand(2, 21, 3) * 8).requires_grad_()
    lj = (torch.rand(2, 21, 3) * 8).requires_grad_()
    h2o = torch.tensor([[[3.0, 0, 50], [0, 3.0, 60]]]).repeat(2, 1, 1)
    h2o.requires_grad_()
    net(rj, lj, h2o, h2o).sum().backward()
    assert rj.grad is None and lj.grad is None and h2o.grad is None
    # DistributedDataParallel needs a gradient for every parameter
    assert [n for n, p in net.named_parameters() if p.grad is None] == []
    assert net.conv[0].weight.grad.abs().max() > 0
    # (zero-initialised residual BNs block the grads of the convs before
    # them at init; the BN weights themselves receive gradients)
    assert net.backbone.layer1[0].bn2.weight.grad.abs().max() > 0
    assert net.backbone.layer4[1].bn2.weight.grad.abs().max() > 0
    assert net.fc[0].weight.grad.abs().max() > 0


def test_loss_and_predict_against_float64_formula():
    """The mmpose head API: loss() from data samples, predict() per
    sample."""
    from mmengine.structures import InstanceData
    from mmpose.structures import PoseDataSample
    torch.manual_seed(4)
    net = _net(loss_rel_trans=dict(type='L1Loss', use_target_weight=True,
                                   loss_weight=2.0)).double().eval()
    g = torch.Generator().manual_seed(5)
    feats = (torch.rand(3, 21, 3, generator=g, dtype=torch.float64) * 8,
             torch.rand(3, 21, 3, generator=g, dtype=torch.float64) * 8,
             torch.tensor([[[2.0, 0, 30], [0, 2.0, 40]]],
                          dtype=torch.float64).repeat(3, 1, 1),
             torch.tensor([[[1.5, 0, 90], [0, 1.5, 60]]],
                          dtype=torch.float64).repeat(3, 1, 1))
    samples = []
    for i in range(3):
        ds = PoseDataSample()
        ds.gt_instance_labels = InstanceData(
            rel_trans=torch.rand(1, 3, generator=g) * 0.2,
            rel_trans_valid=torch.full((1, 1), float(i != 1)))
        samples.append(ds)
    losses = net.loss(feats, samples)
    assert set(losses) == {'loss_rel_trans'}
    out = net(*feats).detach().numpy()
    tgt = np.concatenate([s.gt_instance_labels.rel_trans.numpy()
                          for s in samples])
    valid = np.array([[1.0], [0.0], [1.0]])
    ref = 2.0 * np.mean(np.abs(out - tgt) * valid)  # over all 9 entries
    assert ref > 0
    np.testing.assert_allclose(losses['loss_rel_trans'].item(), ref,
                               rtol=1e-12)
    preds = net.predict(feats)
    assert len(preds) == 3 and preds[0].rel_trans.shape == (1, 3)
    np.testing.assert_allclose(
        np.concatenate([p.rel_trans for p in preds]), out, rtol=1e-6)


def test_own_sizes_must_agree_with_the_model():
    from interwild_mm.geometry import InterWildSizes
    sizes = InterWildSizes(trans_grid_dhw=(16, 16, 16))
    net = _net(sizes=sizes, hm_shape=(16, 16, 16))
    assert net.hm_shape == (16, 16, 16)
    assert net.conv[0].in_channels == 2 * 21 * 16
    with pytest.raises(ValueError, match='trans_grid_dhw=.*Set the size once'):
        _net(sizes=sizes, hm_shape=(32, 32, 32))
    with pytest.raises(ValueError, match='crop_hw'):
        _net(sizes=sizes, crop_size=(128, 128))


def test_bad_impl_rejected():
    with pytest.raises(ValueError, match='first_conv_impl'):
        _net(first_conv_impl='fft')


# ---------------------------------------------------------------------------
# ImageNet initialisation of the ResNet-18 (offline: a cached file)
R18_PRETRAINED = dict(
    type='ResNet', depth=18, out_indices=(3, ),
    init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18'))


@pytest.fixture
def hub_dir(tmp_path):
    """An empty torch hub cache for the test (restored afterwards)."""
    old = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / 'hub'))
    yield tmp_path / 'hub'
    torch.hub.set_dir(old)


class _Records:
    """Collect the records mmengine's current logger emits."""

    def __init__(self):
        import logging

        from mmengine.logging import MMLogger
        self.logger = MMLogger.get_current_instance()
        self.records = []
        self.handler = logging.Handler()
        self.handler.emit = self.records.append

    def __enter__(self):
        self.logger.addHandler(self.handler)
        return self.records

    def __exit__(self, *exc):
        self.logger.removeHandler(self.handler)


def test_imagenet_resnet18_loads_layers_without_stem(hub_dir):
    import logging

    import torchvision
    from torchvision.models import ResNet18_Weights
    torch.manual_seed(3)
    ref = torchvision.models.resnet18().state_dict()  # torchvision's names
    url = ResNet18_Weights.IMAGENET1K_V1.url
    cache = hub_dir / 'checkpoints'
    cache.mkdir(parents=True)
    torch.save(ref, cache / url.rsplit('/', 1)[-1])

    net = MODELS.build(dict(type='TransNet', backbone=R18_PRETRAINED))
    with _Records() as records:
        net.init_weights()
    own = net.backbone.state_dict()
    assert len(own) == 114
    for k, v in own.items():
        assert torch.equal(v, ref[k]), k
    # the stem and fc of the file are skipped without a warning
    warnings = [r.getMessage() for r in records
                if r.levelno >= logging.WARNING]
    assert warnings == []
    # the head keeps its own initialisation
    assert net.fc[0].weight.std() < 0.05


def test_imagenet_download_failure_is_explained(hub_dir, monkeypatch):
    import urllib.error

    from interwild_mm.engine.pretrained import PretrainedWeightsError

    def offline(url, dst, *args, **kwargs):
        raise urllib.error.URLError('no network (test)')

    monkeypatch.setattr(torch.hub, 'download_url_to_file', offline)
    net = MODELS.build(dict(type='TransNet', backbone=R18_PRETRAINED))
    with pytest.raises(PretrainedWeightsError) as info:
        net.init_weights()
    msg = str(info.value)
    assert 'torchvision://resnet18' in msg and 'no network (test)' in msg
    assert str(hub_dir / 'checkpoints' / 'resnet18-f37072fd.pth') in msg
    assert 'pretrained=False' in msg
