"""The plain model's test outputs equal a step-by-step float32 reference of
the forward pass written from docs/official_conventions.md §1
(``tests/_official_reference.py``), on a seeded, saved and reloaded
checkpoint of a narrow model with non-degenerate boxes."""
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

import interwild_mm  # noqa: F401
from interwild_mm.geometry.rotation import axis_angle_to_matrix
from mmpose.registry import MODELS

from .._official_reference import ref_forward
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
