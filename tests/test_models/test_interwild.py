"""InterWild end to end on tiny backbones: outputs, losses, gradients."""
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

import interwild_mm.models  # noqa: F401
from ._interwild_tiny import LOSS_TERMS, tiny_model_cfg
from interwild_mm.geometry.crop import transform_points
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample


@pytest.fixture(scope='module')
def model(synthetic_mano_dir):
    init_default_scope('mmpose')
    torch.manual_seed(0)
    m = MODELS.build(tiny_model_cfg(synthetic_mano_dir))
    m.init_weights()
    return m


def _samples(n, seed=0):
    g = torch.Generator().manual_seed(seed)

    def r(*shape):
        return torch.rand(*shape, generator=g)

    out = []
    for i in range(n):
        lab = dict(
            joint_img=r(1, 42, 3) * torch.tensor([48.0, 64.0, 8.0]),
            joint_trunc=(r(1, 42, 1) > 0.2).float(),
            joint_valid=(r(1, 42, 1) > 0.2).float(),
            joint_cam=r(1, 42, 3) * 0.1,
            mano_joint_img=r(1, 42, 3) * torch.tensor([48.0, 64.0, 8.0]),
            mano_joint_trunc=torch.ones(1, 42, 1),
            mano_joint_cam=r(1, 42, 3) * 0.1,
            mano_mesh_cam=r(1, 1556, 3) * 0.1,
            mano_mesh_valid=torch.ones(1, 1556, 1),
            mano_pose=r(1, 96) - 0.5,
            mano_pose_valid=torch.ones(1, 32),
            mano_shape=r(1, 20) - 0.5,
            mano_shape_valid=torch.ones(1, 20),
            rel_trans=r(1, 3) * 0.2,
            rel_trans_valid=torch.ones(1, 1) * (i % 2),
            rhand_bbox_center=r(1, 2) * 40,
            lhand_bbox_center=r(1, 2) * 40,
            rhand_bbox_size=r(1, 2) * 10 + 2,
            lhand_bbox_size=r(1, 2) * 10 + 2,
            rhand_bbox_valid=torch.ones(1, 1),
            lhand_bbox_valid=torch.ones(1, 1) * (1 - i % 2),
            is_3D=torch.ones(1, 1) * (1 - i % 2))
        ds = PoseDataSample()
        ds.gt_instance_labels = InstanceData(**lab)
        out.append(ds)
    return out


TEST_KEYS = {
    'img', 'rel_trans', 'render_focal', 'render_princpt'
} | {
    f'{s}{k}'
    for s in 'rl' for k in (
        'hand_bbox', 'hand_bbox_conf', 'joint_img', 'mano_mesh_cam',
        'mano_joint_cam', 'mano_root_pose', 'mano_hand_pose', 'mano_shape',
        'root_cam')
} | {f'render_{s}{k}'
     for s in 'rl' for k in ('focal', 'princpt')}


def test_tensor_mode_outputs(model):
    model.eval()
    x = torch.rand(2, 3, 512, 384)
    with torch.no_grad():
        out = model(x, None, 'tensor')
        raw = model.forward_all(x)
    assert set(out) == TEST_KEYS
    assert out['rhand_bbox'].shape == (2, 4)
    assert out['ljoint_img'].shape == (2, 21, 3)
    assert out['rmano_mesh_cam'].shape == (2, 778, 3)
    assert out['lmano_hand_pose'].shape == (2, 45)
    # wrist-relative joints, root at the predicted root translation
    assert torch.allclose(out['rmano_joint_cam'][:, 0],
                          torch.zeros(2, 3), atol=1e-6)
    # raw box = [c - s/2, c + s/2] x4 (body px)
    c, s = raw['lhand_center'], raw['lhand_size']
    ref = torch.cat([c - s / 2, c + s / 2], 1) * 4
    assert torch.allclose(out['lhand_bbox'], ref, atol=1e-5)
    # joint_img in input px: 8-grid x32 then hand2orig; z unchanged
    ji = raw['rjoint_img']
    h2o = raw['rhand_hand2orig']
    ref = torch.einsum('nij,npj->npi', h2o[:, :, :2], ji[..., :2] * 32) + \
        h2o[:, None, :, 2]
    assert torch.allclose(out['rjoint_img'][..., :2], ref, atol=1e-4)
    assert torch.equal(out['rjoint_img'][..., 2], ji[..., 2])
    # orthographic render camera: focal = span(u) / span(X) per axis
    X = out['lmano_joint_cam'] + out['lroot_cam'][:, None]
    u = transform_points(raw['ljoint_proj'] * 32, raw['lhand_hand2orig'])
    fx = (u[..., 0].amax(1) - u[..., 0].amin(1)) / (
        X[..., 0].amax(1) - X[..., 0].amin(1))
    assert torch.allclose(out['render_lfocal'][:, 0], fx, rtol=1e-4)


def test_root_cam_projects_like_mano_coords(model):
    """get_coord: wrist at root translation; projection f=5000, c=128."""
    torch.manual_seed(3)
    rp, hp = torch.randn(2, 3) * 0.3, torch.randn(2, 45) * 0.1
    beta, t = torch.randn(2, 10), torch.tensor([[0.01, -0.02, 0.5],
                                                [0.0, 0.03, 0.8]])
    c = model.mano_coords(rp, hp, beta, t, 'left')
    assert torch.allclose(c['root_cam'], t, atol=1e-6)
    ref = model.mano_layer_left(rp, hp, beta)
    J = ref['joints'] - ref['joints'][:, :1] + t[:, None]
    u = J[..., 0] / (J[..., 2] + 1e-4) * 5000 + 128
    assert torch.allclose(c['joint_proj'][..., 0], u / 32, rtol=1e-5)
    assert torch.allclose(c['mesh_cam'],
                          ref['vertices'] - ref['joints'][:, :1], atol=1e-6)


def test_targets_to_crop_grid_by_hand(model):
    # orig2hand: scale 2, offset (-100, -300)
    o2h = torch.tensor([[[2.0, 0, -100.0], [0, 2.0, -300.0]]])
    coords = torch.tensor([[[10.0, 30.0, 4.0], [1.0, 1.0, 1.0]]])
    trunc = torch.ones(1, 2, 1)
    xyz, tr = model.targets_to_crop_grid(coords, trunc, o2h)
    # (10 * 8, 30 * 8) = (80, 240) px -> (60, 180) crop px -> /32
    assert torch.allclose(xyz[0, 0], torch.tensor([60 / 32, 180 / 32, 4.0]))
    assert tr[0, 0, 0] == 1
    # (8, 8) px -> (-84, -284): outside the crop -> truncated
    assert tr[0, 1, 0] == 0


def _targets_inside_crops(model, x, samples):
    """Move the 2.5D targets into the predicted crops (body grid units)."""
    with torch.no_grad():
        raw = model.forward_all(x)
    g = torch.Generator().manual_seed(5)
    for i, ds in enumerate(samples):
        for key in ('joint_img', 'mano_joint_img'):
            t = ds.gt_instance_labels.get(key).clone()
            for s, rows in (('r', slice(0, 21)), ('l', slice(21, 42))):
                box = raw[f'{s}hand_crop_box'][i] / 4  # body px -> grid
                c, wh = (box[:2] + box[2:]) / 2, box[2:] - box[:2]
                off = (torch.rand(21, 2, generator=g) - 0.5) * 0.8
                t[0, rows, :2] = c + off * wh
            ds.gt_instance_labels.set_field(t, key)
    return samples


def test_loss_step_gradients(model):
    model.train()
    x = torch.rand(2, 3, 512, 384)
    samples = _targets_inside_crops(model, x, _samples(2))
    losses = model(x, samples, 'loss')
    assert set(losses) == LOSS_TERMS
    for k, v in losses.items():
        assert v.dim() == 0 and torch.isfinite(v), k
    # one term re-derived: mean over N*2 of |c - c*| * valid (valid (N,1)).
    # Still in train mode: BN normalises with the batch statistics, so a
    # second forward of the same batch gives the predictions the loss saw.
    with torch.no_grad():
        raw = model.forward_all(x)
    c = raw['lhand_center'].double().numpy()
    tgt = torch.cat([s.gt_instance_labels.lhand_bbox_center
                     for s in samples]).double().numpy()
    val = torch.cat([s.gt_instance_labels.lhand_bbox_valid
                     for s in samples]).double().numpy()
    assert val[1] == 0  # second sample invalid: counts as zero in the mean
    ref = (np.abs(c - tgt) * val).sum() / c.size
    assert ref > 0
    np.testing.assert_allclose(losses['loss_lhand_bbox_center'].item(), ref,
                               rtol=1e-5)

    model.zero_grad()
    sum(losses.values()).backward()
    parts = {
        'detect_net.backbone': model.detect_net.backbone,
        'detect_net.head': model.detect_net.head,
        'hand_roi.backbone': model.hand_roi.backbone,
        'shnet.position': model.shnet.hand_position_net,
        'shnet.rotation': model.shnet.hand_rotation_net,
        'trans_net.conv': model.trans_net.conv,
        'trans_net.fc': model.trans_net.fc,
        'trans_net.layers': model.trans_net.backbone.layer4,
    }
    for name, mod in parts.items():
        grads = [p.grad for p in mod.parameters() if p.grad is not None]
        assert grads, name
        assert all(torch.isfinite(g).all() for g in grads), name
        assert sum(g.abs().sum() for g in grads) > 0, name
    # TransNet's unused ResNet stem is not built (nothing without a grad)
    assert not list(model.trans_net.backbone.conv1.parameters())


def _grad_sum(mod):
    return sum(p.grad.abs().sum().item() for p in mod.parameters()
               if p.grad is not None)


def test_detached_paths(model):
    model.train()
    x = torch.rand(2, 3, 512, 384)
    samples = _targets_inside_crops(model, x, _samples(2, seed=1))
    # relative translation trains only TransNet (inputs detached)
    model.zero_grad()
    model(x, samples, 'loss')['loss_rel_trans'].backward()
    assert _grad_sum(model.trans_net) > 0
    for mod in (model.detect_net, model.hand_roi, model.shnet):
        assert _grad_sum(mod) == 0
    # hand losses do not reach DetectNet (crop boxes/cropping detached)
    model.zero_grad()
    losses = model(x, samples, 'loss')
    (losses['loss_joint_img'] + losses['loss_mano_mesh_cam']).backward()
    assert _grad_sum(model.hand_roi) > 0
    assert _grad_sum(model.detect_net) == 0
    # MANO pose loss does not reach PositionNet (joints detached for
    # RotationNet sampling)
    model.zero_grad()
    model(x, samples, 'loss')['loss_mano_pose'].backward()
    assert _grad_sum(model.shnet.hand_rotation_net) > 0
    assert _grad_sum(model.shnet.hand_position_net) == 0


def test_loss_values_rederived(model):
    model.eval()  # deterministic BN so a second forward matches
    x = torch.rand(2, 3, 512, 384)
    samples = _samples(2, seed=2)
    with torch.no_grad():
        losses = model.loss(x, samples)
        raw = model.forward_all(x)
    lab = [s.gt_instance_labels for s in samples]
    c = raw['lhand_center'].numpy()
    ct = torch.cat([l.lhand_bbox_center for l in lab]).numpy()
    v = torch.cat([l.lhand_bbox_valid for l in lab]).numpy()
    ref = (np.abs(c - ct) * v).sum() / c.size
    np.testing.assert_allclose(losses['loss_lhand_bbox_center'].item(), ref,
                               rtol=1e-5)
    # joint_cam: x10, gated by joint_valid * is_3D
    jc = torch.cat([raw['rmano_joint_cam'], raw['lmano_joint_cam']],
                   1).numpy()
    jt = torch.cat([l.joint_cam for l in lab]).numpy()
    w = torch.cat([l.joint_valid for l in lab]).numpy() * \
        torch.cat([l.is_3D for l in lab]).numpy()[:, :, None]
    ref = (np.abs(jc - jt) * w).mean() * 10
    np.testing.assert_allclose(losses['loss_joint_cam'].item(), ref,
                               rtol=1e-5)


def test_predict_contract(model):
    model.eval()
    x = torch.rand(1, 3, 512, 384)
    ds = PoseDataSample(metainfo=dict(
        bb2img_trans=np.array([[2.0, 0, 10.0], [0, 2.0, -5.0]])))
    with torch.no_grad():
        res = model(x, [ds], 'predict')[0].pred_instances
        out = model(x, None, 'tensor')
    shapes = dict(rhand_bbox=(1, 4), lhand_bbox_score=(1, ),
                  rjoint_img=(1, 21, 2), lmano_root_pose=(1, 3),
                  rmano_hand_pose=(1, 45), lmano_shape=(1, 10),
                  rmano_mesh_cam=(1, 778, 3), lmano_joint_cam=(1, 21, 3),
                  rroot_cam=(1, 3), rel_trans=(1, 3),
                  mesh_cam_two_hands=(1, 1556, 3))
    for k, s in shapes.items():
        assert res[k].shape == s, k
    # boxes: body px x2 -> input px -> bb2img (x2, +offset)
    b = out['rhand_bbox'][0].numpy() * 2
    np.testing.assert_allclose(
        res.rhand_bbox[0], [2 * b[0] + 10, 2 * b[1] - 5, 2 * b[2] + 10,
                            2 * b[3] - 5], rtol=1e-5)
    j = out['ljoint_img'][0, :, :2].numpy()
    np.testing.assert_allclose(res.ljoint_img[0],
                               j * 2 + np.array([10.0, -5.0]), rtol=1e-5)
    # two-hand mesh: right at rroot_cam, left at rroot_cam + rel_trans,
    # each hand keeps its shape
    two = res.mesh_cam_two_hands[0]
    np.testing.assert_allclose(
        two[:778], res.rmano_mesh_cam[0] + res.rroot_cam[0], atol=1e-6)
    left = two[778:]
    np.testing.assert_allclose(
        left - left[0], res.lmano_mesh_cam[0] - res.lmano_mesh_cam[0][0],
        atol=1e-6)
    np.testing.assert_allclose(
        left.mean(0) - res.lmano_mesh_cam[0].mean(0),
        res.rroot_cam[0] + res.rel_trans[0], rtol=1e-5, atol=1e-6)


def test_bad_input_size(model):
    with pytest.raises(ValueError, match='512, 384'):
        model(torch.rand(1, 3, 256, 256), None, 'tensor')


def test_data_preprocessor():
    init_default_scope('mmpose')
    pre = MODELS.build(dict(type='InterWildDataPreprocessor',
                            bgr_to_rgb=True))
    img = torch.randint(0, 256, (3, 4, 5), dtype=torch.uint8)
    out = pre(dict(inputs=[img], data_samples=[PoseDataSample()]))
    ref = img.flip(0).float()[None] / 255
    assert torch.allclose(out['inputs'], ref)


def test_alt_backbone_config_forward(synthetic_mano_dir):
    init_default_scope('mmpose')
    cfg = Config.fromfile('configs/interwild_alt_backbone_resnet101.py')
    assert cfg.model.detect_net.backbone.depth == 101
    cfg.model.mano.model_dir = str(synthetic_mano_dir)
    cfg.model.trans_net.first_conv_impl = 'factorised'
    m = MODELS.build(cfg.model).eval()
    assert len(m.hand_roi.backbone.layer3) == 23
    with torch.no_grad():
        out = m(torch.rand(1, 3, 512, 384), None, 'tensor')
    assert out['rel_trans'].shape == (1, 3)
    assert torch.isfinite(out['rmano_mesh_cam']).all()


# ----------------------------------------------------------------------
# losses live with the parts (issue #12 item 1)
def test_losses_argument_is_refused_with_the_new_places(synthetic_mano_dir):
    init_default_scope('mmpose')
    cfg = tiny_model_cfg(synthetic_mano_dir)
    cfg['losses'] = dict(bbox_center=dict(type='L1Loss'),
                         joint_cam=dict(type='CoordLoss', loss_weight=10.0),
                         rel_trans=dict(type='L1Loss'), typo=dict())
    with pytest.raises(ValueError) as info:
        MODELS.build(cfg)
    msg = str(info.value)
    assert 'no longer takes `losses`' in msg
    assert 'losses.bbox_center -> model.detect_net.head.loss_center' in msg
    assert 'losses.joint_cam -> model.shnet.loss_joint_cam' in msg
    assert 'losses.rel_trans -> model.trans_net.loss_rel_trans' in msg
    assert "unknown terms ['typo']" in msg


def test_part_loss_configs_reach_the_model_loss(synthetic_mano_dir):
    """Each part's loss config changes exactly its own terms of
    InterWild.loss (the SHNet head's were ignored before)."""
    init_default_scope('mmpose')
    x = torch.rand(2, 3, 512, 384, generator=torch.Generator().manual_seed(7))
    weighted = {
        ('detect_net', 'head', 'loss_size'): 'loss_rhand_bbox_size',
        ('trans_net', 'loss_rel_trans'): 'loss_rel_trans',
        ('shnet', 'loss_mano_shape'): 'loss_mano_shape',
        ('shnet', 'loss_joint_img'): 'loss_joint_img',
        ('shnet', 'loss_mano_mesh_cam'): 'loss_mano_mesh_cam',
    }
    losses = []
    for scale in (1.0, 3.0):
        cfg = tiny_model_cfg(synthetic_mano_dir)
        for path in weighted:
            node = cfg
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = dict(node[path[-1]])
            node[path[-1]]['loss_weight'] = node[path[-1]].get(
                'loss_weight', 1.0) * scale
        with torch.random.fork_rng():
            torch.manual_seed(0)
            m = MODELS.build(cfg)
            m.init_weights()
        m.eval()
        samples = _targets_inside_crops(m, x, _samples(2, seed=3))
        with torch.no_grad():
            losses.append({k: v.item() for k, v in m.loss(x, samples).items()})
    changed = set(weighted.values()) | {'loss_lhand_bbox_size'}
    for k, v in losses[0].items():
        assert v > 0, k
        ratio = losses[1][k] / v
        assert ratio == pytest.approx(3.0 if k in changed else 1.0,
                                      rel=1e-6), k


def test_targets_are_read_once_per_sample(model, monkeypatch):
    from interwild_mm.models.utils import data_samples
    reads = []
    original = data_samples._read
    monkeypatch.setattr(data_samples, '_read',
                        lambda ds, key: reads.append(key) or original(ds, key))
    model.eval()
    with torch.no_grad():
        model.loss(torch.rand(2, 3, 512, 384), _samples(2))
    assert set(reads) == set(model.target_specs)
    assert all(reads.count(k) == 2 for k in set(reads))  # once per sample


def test_part_sizes_must_agree_with_the_model(synthetic_mano_dir):
    init_default_scope('mmpose')
    cfg = tiny_model_cfg(synthetic_mano_dir)
    cfg['hand_roi']['crop_size'] = (128, 128)
    with pytest.raises(ValueError, match=r'HandRoI: .*crop_hw=\(128, 128\)'):
        MODELS.build(cfg)
    cfg = tiny_model_cfg(synthetic_mano_dir)
    cfg['shnet']['focal'] = (1000.0, 1000.0)
    with pytest.raises(ValueError, match='shnet.focal'):
        MODELS.build(cfg)
    # agreeing part-level sizes are accepted (older configs)
    cfg = tiny_model_cfg(synthetic_mano_dir)
    cfg['hand_roi']['crop_size'] = (256, 256)
    cfg['shnet'].update(heatmap_size=(8, 8, 8), input_size=(256, 256))
    assert MODELS.build(cfg).hand_roi.sizes.crop_hw == (256, 256)
