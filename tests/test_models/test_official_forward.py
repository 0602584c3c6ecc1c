"""The plain model's test outputs equal a step-by-step float32 reference of
the forward pass written from docs/official_conventions.md §1
(``tests/_official_reference.py``), on a seeded, saved and reloaded
checkpoint of a narrow model with non-degenerate boxes; TransNet's geometry
(joints -> volume coordinates, Gaussian volume) bit for bit."""
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

import interwild_mm  # noqa: F401
from interwild_mm.geometry.rotation import axis_angle_to_matrix
from mmpose.registry import MODELS

from .._official_reference import (ref_crop_affine, ref_forward,
                                   ref_gaussian_volume, ref_transnet_coords)
from ._interwild_tiny import tiny_model_cfg
from ._nontrivial import real_inputs, sensitive_model

#: metres and every unitless output
TOL = 1e-6
#: pixel positions (input-image / body-input pixels)
TOL_PX = 1e-4
PIXEL_KEYS = ('rhand_bbox', 'lhand_bbox', 'render_rprincpt',
              'render_lprincpt', 'render_princpt')
#: orthographic render focals are pixels per metre, a ratio of spans: 1e-6 m
#: on a ~0.1 m span of the hands is a relative 1e-5
FOCAL_KEYS = ('render_rfocal', 'render_lfocal', 'render_focal')
TOL_FOCAL_REL = 1e-5


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmpose')


@pytest.fixture(scope='module')
def outputs(synthetic_mano_dir, tmp_path_factory):
    """(model outputs, reference outputs) of a reloaded checkpoint."""
    init_default_scope('mmpose')
    seeded = sensitive_model(synthetic_mano_dir, 'dense', backbone_width=8)
    path = tmp_path_factory.mktemp('ckpt') / 'narrow.pth'
    torch.save({'state_dict': seeded.state_dict(), 'meta': {}}, path)
    model = MODELS.build(tiny_model_cfg(synthetic_mano_dir, 'dense'))
    load_checkpoint(model, str(path), map_location='cpu', strict=True)
    model.eval()
    x = real_inputs(4)
    sd = model.state_dict()
    for key, value in seeded.state_dict().items():  # the reload is exact
        assert torch.equal(sd[key], value), key
    with torch.no_grad():
        out = model(x, mode='tensor')
        ref = ref_forward(
            x, sd, model.detect_net.backbone, model.hand_roi.backbone,
            model.trans_net.backbone, {
                'r': model.mano_layer_right,
                'l': model.mano_layer_left
            })
    return out, ref


def test_outputs_are_not_degenerate(outputs):
    out, _ = outputs
    w = out['rhand_bbox'][:, 2] - out['rhand_bbox'][:, 0]
    assert (w > 4).all()
    for s in ('r', 'l'):  # the boxes move with the image
        assert out[f'{s}hand_bbox'][:, :2].std(dim=0).max() > 0.5
    assert out['rjoint_img'][..., 0].std() > 1
    assert out['rel_trans'].abs().max() > 0.05
    assert out['rel_trans'].std(dim=0).min() > 1e-3


def test_every_output_equals_the_reference(outputs):
    out, ref = outputs
    assert set(out) == set(ref)
    errors = {}
    for key in sorted(out):
        a, b = out[key].double(), ref[key].double()
        assert a.shape == b.shape, key
        if key.endswith('joint_img'):  # x, y input pixels; z depth bins
            errors[key + '_xy'] = ((a[..., :2] - b[..., :2]).abs().max(),
                                   TOL_PX)
            a, b = a[..., 2:], b[..., 2:]
        if key in FOCAL_KEYS:
            errors[key] = (((a - b).abs() / b.abs()).max(), TOL_FOCAL_REL)
        else:
            tol = TOL_PX if key in PIXEL_KEYS else TOL
            errors[key] = ((a - b).abs().max(), tol)
    bad = {k: (float(d), t) for k, (d, t) in errors.items() if d > t}
    assert not bad, f'outside tolerance (max |diff|, tol): {bad}'


def test_poses_as_rotations(outputs):
    """Axis-angles near pi are ill-conditioned; the rotations agree too."""
    out, ref = outputs
    for key in ('rmano_root_pose', 'lmano_hand_pose'):
        a = axis_angle_to_matrix(out[key].double().reshape(-1, 3))
        b = axis_angle_to_matrix(ref[key].double().reshape(-1, 3))
        assert (a - b).abs().max() <= TOL


# ----------------------------------------------------------------------
# TransNet geometry (§1.10) bit for bit
def _transnet_inputs(n, seed):
    """Joints over (and a little outside) the 8-grid and the hand2orig
    matrices of crop boxes of all sizes, made by the reference's affine."""
    g = torch.Generator().manual_seed(seed)
    joints = [torch.rand(n, 21, 3, generator=g) * 9 - 0.5 for _ in range(2)]
    mats = []
    for _ in range(2):
        centre = torch.rand(n, 2, generator=g) * torch.tensor([384., 512.])
        side = torch.rand(n, 1, generator=g) * 300 + 8
        box = torch.cat([centre - side / 2, centre + side / 2], dim=1)
        mats.append(torch.inverse(ref_crop_affine(box))[:, :2, :])
    return joints[0], joints[1], mats[0], mats[1]


@pytest.fixture(scope='module')
def transnet():
    init_default_scope('mmpose')
    with torch.random.fork_rng():  # leave the global RNG to other tests
        torch.manual_seed(0)
        return MODELS.build(
            dict(type='TransNet', backbone=dict(
                type='ResNet', depth=18, base_channels=8, stem_channels=8,
                out_indices=(3, )), feat_channels=8, backbone_channels=64))


def test_transnet_coords_bit_identical(transnet):
    rj, lj, rh, lh = _transnet_inputs(256, seed=0)
    coords, union = transnet.joints_to_volume(rj, lj, rh, lh)
    ref, ref_union = ref_transnet_coords(rj, lj, rh, lh)
    assert coords.dtype == torch.float32
    assert torch.equal(union, ref_union)
    assert torch.equal(coords.reshape(256, 42, 3), ref)
    # the closed form of the same map rounds differently for many joints,
    # so the comparison above can fail
    img = [transnet.sizes.hand_grid_to_image(j[..., :2], m)
           for j, m in ((rj, rh), (lj, lh))]
    c = (union[:, None, :2] + union[:, None, 2:]) / 2
    s = 64 / (union[:, None, 2:] - union[:, None, :2] + 1e-8)
    closed = torch.cat([(p - c) * s + 32 for p in img], dim=1)
    assert torch.allclose(closed, ref[..., :2], atol=1e-3)
    assert not torch.equal(closed, ref[..., :2])


def test_transnet_volume_bit_identical(transnet):
    rj, lj, rh, lh = _transnet_inputs(2, seed=1)
    coords, _ = transnet.joints_to_volume(rj, lj, rh, lh)
    vol = transnet.render_heatmaps(coords)
    ref = ref_gaussian_volume(coords.reshape(2, 42, 3))
    assert vol.shape == (2, 2688, 64, 64) and vol.max() > 200
    assert torch.equal(vol, ref)
    # exp(-d^2 / (2 sigma^2)) in one piece rounds differently
    d = coords.reshape(2, 42, 1, 1, 1, 3)
    ar = torch.arange(64.)
    d2 = ((ar[None, None, :] - d[..., 0])**2 + (ar[:, None] - d[..., 1])**2 +
          (ar[:, None, None] - d[..., 2])**2)
    one_piece = (torch.exp(-d2 / (2 * 2.5**2)) * 255).reshape(vol.shape)
    assert torch.allclose(one_piece, ref, atol=1e-3)
    assert not torch.equal(one_piece, ref)


def test_transnet_forward_equals_reference(transnet):
    """rel_trans of the reloaded model equals the reference TransNet on the
    model's own (detached) inputs bit for bit."""
    from .._official_reference import ref_transnet
    rj, lj, rh, lh = _transnet_inputs(2, seed=2)
    transnet.eval()
    with torch.no_grad():
        out = transnet(rj, lj, rh, lh)
        ref = ref_transnet(rj, lj, rh, lh, {
            f'trans_net.{k}': v for k, v in transnet.state_dict().items()
        }, transnet.backbone)
    assert torch.equal(out, ref)
