"""HandRoI: crop boxes by hand, matrices, flip normalisation invariants."""
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

import interwild_mm.models  # noqa: F401
from interwild_mm.geometry.crop import transform_points, warp_affine
from mmpose.registry import MODELS


class _Identity(torch.nn.Module):
    """Backbone stand-in returning its input (so crops can be inspected)."""

    def forward(self, x):
        return (x, )


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmpose')
    MODELS.register_module('_IdentityBackbone', module=_Identity, force=True)


def _roi(backbone=dict(type='_IdentityBackbone')):
    return MODELS.build(dict(type='HandRoI', backbone=backbone))


def test_crop_boxes_and_matrices_by_hand():
    roi = _roi()
    img = torch.rand(1, 3, 512, 384, dtype=torch.float64)
    c_r = torch.tensor([[10.0, 20.0]], dtype=torch.float64)
    s_r = torch.tensor([[4.0, 2.0]], dtype=torch.float64)
    c_l = torch.tensor([[30.0, 40.0]], dtype=torch.float64)
    s_l = torch.tensor([[2.0, 6.0]], dtype=torch.float64)
    out = roi(img, c_r, s_r, c_l, s_l)
    # right: 16x8 body px at (40, 80) -> square 16 -> x2: 32 -> [24,64,56,96]
    assert torch.allclose(out['rhand_bbox'][0],
                          torch.tensor([24.0, 64.0, 56.0, 96.0],
                                       dtype=torch.float64))
    # left: 8x24 at (120, 160) -> 24 -> 48 -> [96, 136, 144, 184]
    assert torch.allclose(out['lhand_bbox'][0],
                          torch.tensor([96.0, 136.0, 144.0, 184.0],
                                       dtype=torch.float64))
    # input space: right box [48, 128, 112, 192] (64 px) -> scale 4
    m = out['rhand_orig2hand'][0].numpy()
    np.testing.assert_allclose(m, [[4, 0, 128 - 4 * 80], [0, 4, 128 - 4 * 160]],
                               rtol=1e-7)
    h2o = out['rhand_hand2orig'][0].numpy()
    np.testing.assert_allclose(h2o, [[0.25, 0, 48], [0, 0.25, 128]],
                               rtol=1e-7)
    # left matrices do not include the mirror: box centre (240, 320) -> 128
    p = transform_points(
        torch.tensor([[[240.0, 320.0]]], dtype=torch.float64),
        out['lhand_orig2hand'])
    assert torch.allclose(p, torch.full_like(p, 128.0))
    assert out['hand_feat'].shape == (2, 3, 256, 256)
    # right crop = plain warp; left crop = mirrored warp
    ref_r = warp_affine(img, out['rhand_orig2hand'], (256, 256))
    ref_l = warp_affine(img, out['lhand_orig2hand'], (256, 256))
    assert torch.equal(out['hand_img'][:1], ref_r)
    assert torch.equal(out['hand_img'][1:], ref_l.flip(-1))


def test_mirrored_image_swaps_hands():
    torch.manual_seed(0)
    roi = _roi()
    img = torch.rand(2, 3, 512, 384, dtype=torch.float64)
    c_r = torch.tensor([[12.3, 20.7], [30.2, 10.1]], dtype=torch.float64)
    s_r = torch.tensor([[5.0, 3.5], [4.0, 4.5]], dtype=torch.float64)
    c_l = torch.tensor([[25.0, 35.5], [8.4, 50.2]], dtype=torch.float64)
    s_l = torch.tensor([[3.0, 6.0], [2.5, 2.0]], dtype=torch.float64)
    out = roi(img, c_r, s_r, c_l, s_l)

    # mirror the image: input x -> 383 - x, i.e. heatmap x -> 47.875 - x
    def mirror(c):
        return torch.stack([47.875 - c[:, 0], c[:, 1]], dim=1)

    out_m = roi(img.flip(-1), mirror(c_l), s_l, mirror(c_r), s_r)
    n = 2
    # the crop centre maps to pixel 128 (not 127.5), so the mirrored-image
    # crop is the flipped original crop shifted by one crop pixel.
    right_m, left_m = out_m['hand_img'][:n], out_m['hand_img'][n:]
    right_o, left_o = out['hand_img'][:n], out['hand_img'][n:]
    # mirrored image's right crop == original left crop mirrored (left_o is
    # already mirrored by HandRoI)
    assert torch.allclose(right_m[..., 1:], left_o[..., :-1], atol=1e-9)
    # mirrored image's left (normalised) crop == original right crop
    assert torch.allclose(left_m[..., :-1], right_o[..., 1:], atol=1e-9)


def test_boxes_detached_and_crops_without_grad():
    roi = _roi()
    c = torch.tensor([[20.0, 30.0]], requires_grad=True)
    s = torch.tensor([[5.0, 5.0]], requires_grad=True)
    img = torch.rand(1, 3, 512, 384, requires_grad=True)
    out = roi(img, c, s, c, s)
    for key in ('rhand_bbox', 'hand_img', 'rhand_orig2hand',
                'lhand_hand2orig'):
        assert not out[key].requires_grad, key


def test_with_resnet_backbone_shapes():
    roi = _roi(
        dict(type='ResNet', depth=18, base_channels=8, stem_channels=8,
             out_indices=(3, )))
    c = torch.tensor([[20.0, 30.0]])
    s = torch.tensor([[5.0, 5.0]])
    out = roi(torch.rand(1, 3, 512, 384), c, s, c, s)
    assert out['hand_feat'].shape == (2, 64, 8, 8)


def test_crops_bit_identical_to_official_order():
    """Boxes, matrices and crops equal the step-by-step float32 reference of
    docs/official_conventions.md §1.4-1.5 exactly (max |diff| == 0)."""
    from .._official_reference import ref_hand_crops
    roi = _roi()
    g = torch.Generator().manual_seed(7)
    n = 16
    img = torch.rand(n, 3, 512, 384, generator=g)
    # centres in and around the 48x64 grid; tiny, typical and huge sizes
    centers = [torch.rand(n, 2, generator=g) * 60 - 6 for _ in range(2)]
    sizes = [torch.rand(n, 2, generator=g) * 12 for _ in range(2)]
    sizes[0][:3] = torch.rand(3, 2, generator=g) * 1e-4
    sizes[1][:3] = torch.rand(3, 2, generator=g) * 80 + 40
    out = roi(img, centers[0], sizes[0], centers[1], sizes[1])
    ref = ref_hand_crops(img, centers[0], sizes[0], centers[1], sizes[1])
    pairs = dict(rhand_bbox='rbox', lhand_bbox='lbox',
                 rhand_orig2hand='r_o2h', lhand_orig2hand='l_o2h',
                 rhand_hand2orig='r_h2o', lhand_hand2orig='l_h2o',
                 hand_img='hand_img')
    for key, ref_key in pairs.items():
        diff = (out[key] - ref[ref_key]).abs().max().item()
        assert diff == 0 and torch.equal(out[key], ref[ref_key]), \
            f'{key}: max |diff| {diff}'


def test_sizes_come_from_the_config():
    """A non-default grid / body input / input size is honoured."""
    roi = MODELS.build(
        dict(type='HandRoI', backbone=dict(type='_IdentityBackbone'),
             body_hm_size=(32, 24), body_input_size=(128, 96),
             input_size=(256, 192), crop_size=(64, 64)))
    c = torch.tensor([[12.0, 16.0]])
    s = torch.tensor([[2.0, 4.0]])
    out = roi(torch.rand(1, 3, 256, 192), c, s, c, s)
    # grid x4 -> body px: centre (48, 64), size 8x16 -> square 16 -> x2 = 32
    assert torch.equal(out['rhand_bbox'],
                       torch.tensor([[32.0, 48.0, 64.0, 80.0]]))
    assert out['hand_img'].shape == (2, 3, 64, 64)
    with pytest.raises(ValueError, match='body_hm_size'):
        MODELS.build(dict(type='HandRoI', backbone=dict(
            type='_IdentityBackbone'), body_hm_size=(64, )))
