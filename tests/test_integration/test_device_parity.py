"""The model follows its inputs' device: CPU and (when present) CUDA agree.

No component hard-codes a device; on a machine with a GPU this compares the
'tensor' outputs of the same weights on both devices within the parity
tolerances of the network issue. On a CPU-only machine the CUDA case is
reported as skipped and the CPU case still checks determinism of the path.
"""
import pytest
import torch
from mmengine.registry import init_default_scope
from mmpose.registry import MODELS

from interwild_mm.geometry.rotation import axis_angle_to_matrix

from ..test_models._interwild_tiny import tiny_model_cfg

DEVICES = ['cpu', pytest.param('cuda', marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason='no CUDA device on this machine'))]

# metres; pixels; rotation-matrix entries (network issue's tolerances)
TOL_M, TOL_PX, TOL_R = 1e-5, 1e-3, 1e-5
METRE_KEYS = ('rel_trans', 'rmano_mesh_cam', 'lmano_mesh_cam',
              'rmano_joint_cam', 'lmano_joint_cam', 'rroot_cam', 'lroot_cam')
PIXEL_KEYS = ('rhand_bbox', 'lhand_bbox')


@pytest.fixture(scope='module')
def cpu_model_and_outputs(synthetic_mano_dir):
    init_default_scope('mmpose')  # module fixtures run before autouse ones
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg(synthetic_mano_dir)).eval()
    gen = torch.Generator().manual_seed(1)
    img = torch.rand(2, 3, 512, 384, generator=gen)
    with torch.no_grad():
        out = model(img, None, mode='tensor')
    return model, img, out


@pytest.mark.parametrize('device', DEVICES)
def test_tensor_outputs_match_cpu(cpu_model_and_outputs, device):
    model, img, ref = cpu_model_and_outputs
    model = model.to(device)
    try:
        with torch.no_grad():
            out = model(img.to(device), None, mode='tensor')
    finally:
        model.to('cpu')
    for key in METRE_KEYS:
        assert out[key].device.type == device, key
        torch.testing.assert_close(out[key].cpu(), ref[key], rtol=0,
                                   atol=TOL_M, msg=key)
    for key in PIXEL_KEYS:
        torch.testing.assert_close(out[key].cpu(), ref[key], rtol=0,
                                   atol=TOL_PX, msg=key)
    # joints: x, y are pixels; z is in depth bins
    for key in ('rjoint_img', 'ljoint_img'):
        torch.testing.assert_close(out[key].cpu(), ref[key], rtol=0,
                                   atol=TOL_PX, msg=key)
    for key in ('rmano_root_pose', 'lmano_root_pose', 'rmano_hand_pose',
                'lmano_hand_pose'):
        r = axis_angle_to_matrix(out[key].cpu().reshape(-1, 3))
        r_ref = axis_angle_to_matrix(ref[key].reshape(-1, 3))
        torch.testing.assert_close(r, r_ref, rtol=0, atol=TOL_R, msg=key)
