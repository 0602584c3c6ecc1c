"""InterWildSizes: axis orders, conversions by hand, resolution of a part's
own size arguments; the single homes of IoU, projection and axis-angle
mirroring (numpy and torch)."""
import numpy as np
import pytest
import torch

from interwild_mm.geometry import (InterWildSizes, box_iou, mirror_axis_angle,
                                   mirror_grid_x, project_points)

# a non-default, non-square set: input 240x320 (H x W), 10x10 hand grid
# from a 320x320 crop
ODD = dict(input_hw=(240, 320), body_input_hw=(128, 160),
           body_grid_dhw=(6, 32, 40), crop_hw=(320, 320),
           hand_grid_dhw=(4, 10, 10), trans_grid_dhw=(16, 16, 16))


def test_defaults_are_the_official_sizes():
    s = InterWildSizes()
    assert s.input_hw == (512, 384) and s.body_input_hw == (256, 192)
    assert s.body_grid_dhw == (8, 64, 48) and s.body_grid_hw == (64, 48)
    assert s.crop_hw == (256, 256) and s.hand_grid_hw == (8, 8)
    assert s.trans_grid_dhw == (64, 64, 64) and s.trans_grid_hw == (64, 64)
    assert s.depth_scale((5000., 5000.), 0.6) == 11.71875
    assert InterWildSizes.build(None) == s
    assert InterWildSizes.build(dict(crop_hw=[256, 256])) == s  # lists ok
    odd = InterWildSizes.build(ODD)
    assert InterWildSizes.build(odd) is odd


def test_conversions_by_hand_torch_and_numpy():
    s = InterWildSizes(**ODD)
    xy = np.array([[16.0, 12.0], [3.0, 30.0]])
    for arr in (xy, torch.tensor(xy)):
        # body grid 40x32 (W x H) <-> input 320x240: x * 8, y * 7.5
        np.testing.assert_allclose(
            np.asarray(s.body_grid_to_input(arr)), [[128, 90], [24, 225]])
        np.testing.assert_allclose(
            np.asarray(s.input_to_body_grid(s.body_grid_to_input(arr))), xy)
        # hand grid 10 <-> crop 320: x32
        np.testing.assert_allclose(
            np.asarray(s.hand_grid_to_crop(arr)), xy * 32)
        np.testing.assert_allclose(
            np.asarray(s.crop_to_hand_grid(arr)), xy / 32)
    box = torch.tensor([[16.0, 8.0, 32.0, 64.0]])  # body input 160x128
    np.testing.assert_allclose(
        s.body_input_box_to_input(box).numpy(), [[32, 15, 64, 120]])
    # depth: body bins 6 -> hand bins 4 -> volume 16
    assert s.body_depth_to_hand_depth(3.0) == 2.0
    assert s.hand_depth_to_trans_depth(1.0) == 4.0
    # the crop's pixel-centre mirror: 10-grid of a 320 crop
    x = torch.tensor([0.0, 5.0])
    np.testing.assert_allclose(
        s.mirror_hand_grid_x(x).numpy(), [319 / 32, (319 - 160) / 32])
    np.testing.assert_allclose(s.mirror_hand_grid_x(s.mirror_hand_grid_x(x)),
                               x, atol=1e-6)
    assert s.depth_scale((5000., 5000.), 0.6) == 5000 * 0.6 / 320


def test_official_division_order():
    """``x / W_src * W_dst`` in that order, not ``x * (W_dst / W_src)``
    (equal when the ratio is a power of two, not for a 10-grid on a 300
    crop)."""
    s = InterWildSizes(crop_hw=(300, 300), hand_grid_dhw=(8, 10, 10))
    xy = torch.rand(10000, 2, generator=torch.Generator().manual_seed(0)) * 10
    got = s.hand_grid_to_crop(xy)
    assert torch.equal(got[:, 0], xy[:, 0] / 10 * 300)
    assert torch.equal(got[:, 1], xy[:, 1] / 10 * 300)
    assert not torch.equal(got[:, 0], xy[:, 0] * (300 / 10))
    back = s.crop_to_hand_grid(got)
    assert torch.equal(back[:, 0], got[:, 0] / 300 * 10)


def test_composed_moves():
    s = InterWildSizes(**ODD)
    # crop 320 -> image: scale 0.5, offset (10, 20)
    h2o = torch.tensor([[[0.5, 0.0, 10.0], [0.0, 0.5, 20.0]]])
    img = s.hand_grid_to_image(torch.tensor([[[5.0, 2.0]]]), h2o)
    np.testing.assert_allclose(img[0, 0].numpy(), [90.0, 52.0])
    # body grid target -> hand grid through orig2hand (its inverse)
    o2h = torch.tensor([[[2.0, 0.0, -20.0], [0.0, 2.0, -40.0]]])
    xyz = torch.tensor([[[90 / 8, 52 / 7.5, 3.0]]])
    out = s.body_grid_to_hand_grid(xyz, o2h)
    np.testing.assert_allclose(out[0, 0].numpy(), [5.0, 2.0, 2.0],
                               rtol=1e-6)
    inside = s.inside_hand_grid(torch.tensor([[0., 0.], [9.99, 5.], [10., 5.],
                                              [5., -0.01]]))
    assert inside.tolist() == [True, True, False, False]
    inside = s.inside_body_grid(np.array([[39.9, 31.9, 5.9], [1., 1., 6.]]))
    assert inside.tolist() == [True, False]


def test_bad_sizes_and_contradictions_are_explained():
    with pytest.raises(ValueError, match=r'crop_hw must be \(H, W\)'):
        InterWildSizes(crop_hw=(256, 256, 3))
    with pytest.raises(ValueError, match='positive'):
        InterWildSizes(hand_grid_dhw=(8, 0, 8))
    with pytest.raises(ValueError, match='unknown field'):
        InterWildSizes.build(dict(crop_size=(256, 256)))
    # a part on its own: its arguments fill the sizes
    s = InterWildSizes.resolve('HandRoI', None, crop_hw=(128, 128))
    assert s.crop_hw == (128, 128) and s.input_hw == (512, 384)
    # inside the model: agreeing arguments are fine, others refused
    model = InterWildSizes(**ODD)
    assert InterWildSizes.resolve('X', model, crop_hw=(320, 320)) is model
    with pytest.raises(ValueError, match=r'X: .*crop_hw=\(256, 256\).*'
                       r'\(320, 320\). Set the size once'):
        InterWildSizes.resolve('X', model, crop_hw=(256, 256))
    with pytest.raises(ValueError, match='set the sizes once'):
        model.into(dict(type='HandRoI', sizes=InterWildSizes()), 'hand_roi')
    assert model.into(dict(type='HandRoI'), 'hand_roi')['sizes'] is model


def test_mirror_grid_x_official_order():
    """(W_img - 1 - x / W_grid * W_img) / W_img * W_grid, step by step."""
    x = torch.rand(1000, generator=torch.Generator().manual_seed(1)) * 8
    px = x / 8 * 256
    ref = (256 - 1 - px) / 256 * 8
    assert torch.equal(mirror_grid_x(x, 8, 256), ref)


# ----------------------------------------------------------------------
# one home each: IoU, projection, axis-angle mirroring
def test_box_iou_numpy_and_torch():
    a = np.array([0.0, 0.0, 10.0, 10.0])
    b = np.array([5.0, 5.0, 15.0, 15.0])
    # inter 25, union 175
    assert box_iou(a, b) == pytest.approx(25 / (175 + 1e-5), rel=1e-12)
    assert box_iou(a, a) == pytest.approx(100 / (100 + 1e-5), rel=1e-12)
    assert box_iou(a, np.array([20.0, 20.0, 30.0, 30.0])) == 0.0
    batch = box_iou(np.stack([a, a]), np.stack([b, a]), eps=0.0)
    np.testing.assert_allclose(batch, [25 / 175, 1.0])
    t = box_iou(torch.tensor(np.stack([a, a]), dtype=torch.float32),
                torch.tensor(np.stack([b, a]), dtype=torch.float32), eps=0.0)
    assert t.dtype == torch.float32
    np.testing.assert_allclose(t.numpy(), [25 / 175, 1.0], rtol=1e-6)
    # empty boxes with eps=0: 0, not 0/0
    z = np.zeros(4)
    assert box_iou(z, z, eps=0.0) == 0.0
    with pytest.raises(ValueError, match='xyxy'):
        box_iou(np.zeros(3), np.zeros(4))


def test_project_points_numpy_matches_torch():
    pts = np.array([[0.1, -0.2, 0.5], [0.02, 0.03, 0.8]])
    f, c = (5000.0, 4000.0), (128.0, 100.0)
    uv = project_points(pts, f, c)
    assert isinstance(uv, np.ndarray) and uv.dtype == np.float64
    np.testing.assert_allclose(
        uv[0], [0.1 / 0.5001 * 5000 + 128, -0.2 / 0.5001 * 4000 + 100])
    np.testing.assert_allclose(
        uv, project_points(torch.tensor(pts), f, c).numpy(), rtol=1e-12)
    # a plain pinhole (eps = 0), one point
    np.testing.assert_allclose(project_points(pts[1], f, c, eps=0.0),
                               [0.02 / 0.8 * 5000 + 128, 0.03 / 0.8 * 4000 +
                                100])


def test_mirror_axis_angle_numpy():
    aa = np.array([[0.3, -0.2, 0.1], [1.0, 2.0, 3.0]], dtype=np.float32)
    out = mirror_axis_angle(aa)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(
        out, np.array([[0.3, 0.2, -0.1], [1.0, -2.0, -3.0]], np.float32))
    np.testing.assert_array_equal(
        out, mirror_axis_angle(torch.from_numpy(aa)).numpy())
    with pytest.raises(ValueError, match='trailing shape'):
        mirror_axis_angle(np.zeros(45))
