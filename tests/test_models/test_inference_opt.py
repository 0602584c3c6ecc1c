# Copyright (c) interwild_mm contributors.
"""optimize_for_inference: the exact speed mode stays within 1e-6 m /
1e-4 px of the plain model, the approximate mode within the looser parity
tolerances (dense vs factorised TransNet on the first convolution alone is
covered by test_transnet.py::test_factorised_equals_dense)."""
import pytest
import torch
import torch.nn as nn
from mmengine.registry import init_default_scope

import interwild_mm  # noqa: F401
from interwild_mm.geometry.rotation import axis_angle_to_matrix
from interwild_mm.models.utils.inference_opt import (ChunkedForward,
                                                     fold_batchnorm,
                                                     inference_context,
                                                     optimize_for_inference,
                                                     remaining_batchnorms)
from mmpose.registry import MODELS

from ._nontrivial import randomise_bn as _randomise_bn
from ._nontrivial import real_inputs
from ._nontrivial import sensitive_model as _sensitive_model
from ._nontrivial import tiny_model as _tiny_model

# tolerances of the approximate mode: metres, pixels, rotation entries
TOL_M, TOL_PX, TOL_ROT = 1e-5, 1e-3, 1e-5
# tolerances of the exact mode: metres (and every non-pixel output), pixels
EXACT_TOL, EXACT_TOL_PX = 1e-6, 1e-4
PIXEL_KEYS = ('rhand_bbox', 'lhand_bbox', 'render_rfocal', 'render_lfocal',
              'render_focal', 'render_rprincpt', 'render_lprincpt',
              'render_princpt')


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmpose')


def _parity(ref, out):
    """Max abs differences in the units of the tolerances."""
    d = {}
    for k in ('rmano_mesh_cam', 'lmano_mesh_cam', 'rmano_joint_cam',
              'lmano_joint_cam', 'rroot_cam', 'lroot_cam', 'rel_trans'):
        d[k] = ((ref[k] - out[k]).abs().max().item(), TOL_M)
    for k in ('rhand_bbox', 'lhand_bbox'):
        d[k] = ((ref[k] - out[k]).abs().max().item(), TOL_PX)
    for s in ('r', 'l'):
        k = f'{s}joint_img'
        d[k] = ((ref[k][..., :2] - out[k][..., :2]).abs().max().item(),
                TOL_PX)
        for p in ('mano_root_pose', 'mano_hand_pose'):
            a = ref[s + p].double().reshape(ref[s + p].shape[0], -1, 3)
            b = out[s + p].double().reshape(a.shape)
            diff = axis_angle_to_matrix(a) - axis_angle_to_matrix(b)
            d[s + p] = (diff.abs().max().item(), TOL_ROT)
    return d


def test_fold_batchnorm_conv_and_transposed_numerics():
    """Folded Sequential == the BN-after-conv computation in float64."""
    torch.manual_seed(0)
    seq = nn.Sequential(
        nn.ConvTranspose2d(4, 3, 4, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(3), nn.ReLU(),
        nn.Conv2d(3, 5, 3, padding=1), nn.BatchNorm2d(5), nn.ReLU())
    _randomise_bn(seq, 3)
    seq = seq.double().eval()
    x = torch.randn(2, 4, 5, 6, dtype=torch.float64)
    # reference written out: BN(y) = (y - mean) / sqrt(var + eps) * w + b
    y = seq[0](x)
    bn = seq[1]
    y = (y - bn.running_mean[:, None, None]) / torch.sqrt(
        bn.running_var[:, None, None] + bn.eps) * bn.weight[:, None, None] \
        + bn.bias[:, None, None]
    y = seq[3](torch.relu(y))
    bn = seq[4]
    y = (y - bn.running_mean[:, None, None]) / torch.sqrt(
        bn.running_var[:, None, None] + bn.eps) * bn.weight[:, None, None] \
        + bn.bias[:, None, None]
    ref = torch.relu(y)
    fold_batchnorm(seq)
    assert isinstance(seq[1], nn.Identity) and isinstance(seq[4], nn.Identity)
    assert isinstance(seq[0], nn.ConvTranspose2d) and seq[0].bias is not None
    with torch.no_grad():
        out = seq(x)
    assert torch.allclose(out, ref, atol=1e-12, rtol=1e-12)


def test_bn_after_relu_not_folded():
    seq = nn.Sequential(nn.ConvTranspose2d(2, 2, 3), nn.ReLU(),
                        nn.BatchNorm2d(2)).eval()
    fold_batchnorm(seq)
    assert isinstance(seq[2], nn.BatchNorm2d)


def test_every_interwild_bn_folded(synthetic_mano_dir):
    model = optimize_for_inference(_tiny_model(synthetic_mano_dir),
                                   'approximate')
    assert remaining_batchnorms(model) == []
    # the two irregular places: DetectNet deconvs, SHNet rotation branch
    assert isinstance(model.detect_net.head.deconv[1], nn.Identity)
    assert model.detect_net.head.deconv[0].bias is not None
    assert isinstance(model.shnet.hand_rotation_net.conv[1], nn.Identity)
    assert isinstance(model.trans_net.conv[1], nn.Identity)
    assert not any(p.requires_grad for p in model.parameters())


@pytest.mark.parametrize('options', [
    dict(speed='approximate'),
    dict(speed='approximate', max_batch=1),
    dict(speed='approximate', max_batch=None),
])
def test_approximate_interwild_parity(synthetic_mano_dir, options):
    plain = _tiny_model(synthetic_mano_dir)
    fast = optimize_for_inference(_tiny_model(synthetic_mano_dir), **options)
    x = torch.rand(3, 3, 512, 384, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        ref = plain(x)
    with torch.inference_mode():
        out = fast(x)
    # the outputs are not degenerate (boxes of non-zero size, hands apart)
    w = ref['rhand_bbox'][:, 2] - ref['rhand_bbox'][:, 0]
    assert (w > 1).all()
    for key, (diff, tol) in _parity(ref, out).items():
        assert diff <= tol, f'{key}: {diff} > {tol}'


def test_chunked_forward_matches_and_validates():
    torch.manual_seed(0)
    conv = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU()).eval()
    x = torch.randn(5, 3, 8, 8)
    wrapped = ChunkedForward(conv, 2)
    calls = []
    h = conv.register_forward_hook(lambda m, a, o: calls.append(a[0].shape[0]))
    with torch.no_grad():
        out = wrapped(x)
    h.remove()
    assert calls == [2, 2, 1]
    assert torch.allclose(out, conv(x), atol=1e-6)
    with pytest.raises(ValueError, match='max_batch'):
        ChunkedForward(conv, 0)


def test_chunked_forward_tuple_and_dict_outputs():

    class Two(nn.Module):

        def forward(self, x):
            return (x * 2, ), dict(s=x.sum(dim=1))

    x = torch.arange(12.).reshape(4, 3)
    (a, ), d = ChunkedForward(Two(), 3)(x)
    assert torch.equal(a, x * 2) and torch.equal(d['s'], x.sum(dim=1))


def _assert_exact(ref, out):
    """Every ``mode='tensor'`` output within 1e-6 (1e-4 for pixels)."""
    assert set(ref) == set(out)
    for key in ref:
        a, b = ref[key].double(), out[key].double()
        tol = EXACT_TOL_PX if key in PIXEL_KEYS else EXACT_TOL
        if key.endswith('joint_img'):  # x, y in pixels, z in bins
            xy = (a[..., :2] - b[..., :2]).abs().max().item()
            assert xy <= EXACT_TOL_PX, f'{key} xy: {xy}'
            a, b = a[..., 2:], b[..., 2:]
        diff = (a - b).abs().max().item()
        assert diff <= tol, f'{key}: max |diff| {diff} > {tol}'


def test_exact_speed_matches_plain_model(synthetic_mano_dir):
    """Factorised TransNet + micro-batches (5 rows in chunks of 2, 2, 1) +
    inference_mode vs the plain (dense TransNet, whole batch, no_grad)
    model: every output within 1e-6 m (1e-4 px)."""
    plain = _sensitive_model(synthetic_mano_dir, 'dense')
    fast = optimize_for_inference(
        _sensitive_model(synthetic_mano_dir, 'dense'), 'exact', max_batch=2)
    assert fast.trans_net.first_conv_impl == 'factorised'
    assert isinstance(fast.detect_net.backbone, ChunkedForward)
    assert isinstance(fast.hand_roi.backbone, ChunkedForward)
    assert len(remaining_batchnorms(fast)) == len(remaining_batchnorms(plain))
    x = real_inputs(5)
    with inference_context('none'):
        ref = plain(x)
    with inference_context('exact'):
        assert torch.is_inference_mode_enabled()
        out = fast(x)
    # a non-trivial model: boxes of several pixels at different places,
    # joints spread over the grid, rel_trans ~ 0.1 m varying with the input
    w = ref['rhand_bbox'][:, 2] - ref['rhand_bbox'][:, 0]
    assert (w > 4).all() and ref['rhand_bbox'][:, 0].std() > 0.5
    assert ref['rjoint_img'][..., 0].std() > 1
    assert ref['rel_trans'].abs().max() > 0.05
    assert ref['rel_trans'].std(dim=0).min() > 1e-3
    _assert_exact(ref, out)


def test_speed_modes_and_errors(synthetic_mano_dir):
    plain = optimize_for_inference(
        _tiny_model(synthetic_mano_dir, first_conv_impl='dense'), 'none')
    assert plain.trans_net.first_conv_impl == 'dense'
    assert not isinstance(plain.hand_roi.backbone, ChunkedForward)
    assert any(p.requires_grad for p in plain.parameters())
    with pytest.raises(ValueError, match='speed'):
        optimize_for_inference(plain, 'fast')
    with pytest.raises(ValueError, match='approximate'):
        optimize_for_inference(plain, 'exact', compile=True)
    with pytest.raises(ValueError, match='max_batch'):
        optimize_for_inference(plain, 'exact', max_batch=0)
    with pytest.raises(ValueError, match='speed'):
        inference_context('fast')
    with inference_context('none'):
        assert not torch.is_inference_mode_enabled()
        assert not torch.is_grad_enabled()


def test_chunked_forward_is_transparent_in_state_dicts():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)).eval()
    plain_keys = list(nn.Sequential(net).state_dict())
    wrapped = nn.Sequential(ChunkedForward(net, 2))
    assert list(wrapped.state_dict()) == plain_keys
    other = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    wrapped_other = nn.Sequential(ChunkedForward(other, 2))
    wrapped_other.load_state_dict(wrapped.state_dict())
    assert torch.equal(other[0].weight, net[0].weight)
    assert torch.equal(other[1].running_var, net[1].running_var)
