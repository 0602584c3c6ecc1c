# Copyright (c) interwild_mm contributors.
"""optimize_for_inference keeps InterWild's outputs within the parity
tolerances (dense vs factorised TransNet equality is covered by
test_transnet.py::test_factorised_equals_dense)."""
import pytest
import torch
import torch.nn as nn
from mmengine.registry import init_default_scope
from torch.nn.modules.batchnorm import _BatchNorm

import interwild_mm  # noqa: F401
from interwild_mm.geometry.rotation import axis_angle_to_matrix
from interwild_mm.models.utils.inference_opt import (ChunkedForward,
                                                     fold_batchnorm,
                                                     optimize_for_inference,
                                                     remaining_batchnorms)
from mmpose.registry import MODELS

from ._interwild_tiny import tiny_model_cfg

# tolerances of the issue: metres, pixels, rotation-matrix entries
TOL_M, TOL_PX, TOL_ROT = 1e-5, 1e-3, 1e-5


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmpose')


def _randomise_bn(model: nn.Module, seed: int = 0) -> None:
    """Non-trivial BN statistics, otherwise folding is the identity."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, _BatchNorm):
                c = m.num_features
                m.running_mean.copy_(torch.randn(c, generator=g) * 0.2)
                m.running_var.copy_(torch.rand(c, generator=g) + 0.5)
                m.weight.copy_(torch.rand(c, generator=g) + 0.5)
                m.bias.copy_(torch.randn(c, generator=g) * 0.2)


def _tiny_model(mano_dir, seed=0):
    torch.manual_seed(seed)
    model = MODELS.build(tiny_model_cfg(mano_dir, 'factorised'))
    model.init_weights()
    _randomise_bn(model, seed)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        # spread the boxes and joints (default head init collapses them)
        head = model.detect_net.head
        w = head.bbox_center[0].weight
        w.copy_(torch.randn(w.shape, generator=g) * 0.3)
        for mlp in (head.rhand_size, head.lhand_size):
            mlp[2].bias.copy_(torch.tensor([8.0, 8.0]))
        pos = model.shnet.hand_position_net.conv[0].weight
        pos.copy_(torch.randn(pos.shape, generator=g) * 0.3)
    return model.eval()


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
    model = optimize_for_inference(_tiny_model(synthetic_mano_dir))
    assert remaining_batchnorms(model) == []
    # the two irregular places: DetectNet deconvs, SHNet rotation branch
    assert isinstance(model.detect_net.head.deconv[1], nn.Identity)
    assert model.detect_net.head.deconv[0].bias is not None
    assert isinstance(model.shnet.hand_rotation_net.conv[1], nn.Identity)
    assert isinstance(model.trans_net.conv[1], nn.Identity)
    assert not any(p.requires_grad for p in model.parameters())


@pytest.mark.parametrize('options', [
    dict(fold_bn=True),
    dict(fold_bn=True, channels_last=True, max_batch=1),
    dict(fold_bn=False, channels_last=True),
])
def test_optimized_interwild_parity(synthetic_mano_dir, options):
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
