"""Tests for interwild_mm.geometry.bbox (hand-derived numbers)."""
import numpy as np
import pytest
import torch

from interwild_mm.geometry.bbox import (bbox_from_points, process_bbox,
                                        restore_bbox, sanitize_bbox,
                                        set_aspect_ratio, xywh_to_xyxy,
                                        xyxy_to_xywh)

# InterWild's body grid and body input, (H, W)
GRID, BODY = (64, 48), (256, 192)


def test_restore_bbox_raw_box_by_hand():
    # centre (10, 20), size (4, 2) in 48x64 units -> hm box [8,19,12,21]
    # -> x4 in x and y: [32, 76, 48, 84]
    c = torch.tensor([[10.0, 20.0]])
    s = torch.tensor([[4.0, 2.0]])
    out = restore_bbox(c, s, None, 1.0, GRID, BODY)
    assert torch.allclose(out, torch.tensor([[32.0, 76.0, 48.0, 84.0]]))


def test_restore_bbox_crop_box_by_hand():
    # same box: 16 x 8 px centred at (40, 80); aspect 1 -> 16 x 16;
    # ext 2 -> 32 x 32 -> [24, 64, 56, 96]
    c = torch.tensor([[10.0, 20.0]])
    s = torch.tensor([[4.0, 2.0]])
    out = restore_bbox(c, s, 1.0, 2.0, GRID, BODY)
    assert torch.allclose(out, torch.tensor([[24.0, 64.0, 56.0, 96.0]]))
    # tall box: size (1, 3) -> 4 x 12 px at (40, 80) -> 12 x 12, ext 2 -> 24
    out = restore_bbox(c, torch.tensor([[1.0, 3.0]]), 1.0, 2.0, GRID, BODY)
    assert torch.allclose(out, torch.tensor([[28.0, 68.0, 52.0, 92.0]]))


def test_restore_bbox_batched_and_grad():
    c = torch.rand(3, 2, 2, dtype=torch.float64, requires_grad=True)
    s = torch.rand(3, 2, 2, dtype=torch.float64) + 0.5
    out = restore_bbox(c, s, 0.5, 1.5, GRID, BODY)
    assert out.shape == (3, 2, 4)
    w = out[..., 2] - out[..., 0]
    h = out[..., 3] - out[..., 1]
    assert torch.allclose(w / h, torch.full_like(w, 0.5))
    out.sum().backward()
    assert c.grad is not None


def test_set_aspect_ratio_enlarges_only():
    b = torch.tensor([[0.0, 0.0, 30.0, 10.0], [0.0, 0.0, 10.0, 30.0],
                      [0.0, 0.0, 15.0, 20.0]])
    out = set_aspect_ratio(b, 0.75)
    # wide: h = 30/0.75 = 40 about cy=5 -> [-15, 25]
    assert torch.allclose(out[0], torch.tensor([0.0, -15.0, 30.0, 25.0]))
    # tall: w = 30*0.75 = 22.5 about cx=5
    assert torch.allclose(out[1], torch.tensor([-6.25, 0.0, 16.25, 30.0]))
    assert torch.allclose(out[2], b[2])


def test_sanitize_bbox_by_hand():
    # x clipped to 0, x2 = min(99, 0 + 49) = 49; y2 = min(49, 10 + 59) = 49
    out = sanitize_bbox([-5, 10, 50, 60], 100, 50)
    np.testing.assert_allclose(out, [0, 10, 49, 39])
    assert sanitize_bbox([10, 10, 0, 5], 100, 100) is None
    assert sanitize_bbox([10, 10, 1, 5], 100, 100) is None  # x2 == x1
    assert sanitize_bbox([200, 10, 10, 10], 100, 100) is None


def test_process_bbox_by_hand():
    # sanitised (10, 20, 39, 29); centre (29.5, 34.5); w > 0.75 h ->
    # h = 52; extend 1.25 -> w 48.75, h 65
    out = process_bbox([10, 20, 40, 30], 640, 480)
    np.testing.assert_allclose(
        out, [29.5 - 24.375, 34.5 - 32.5, 48.75, 65.0], rtol=1e-6)
    out = process_bbox([10, 20, 40, 30], 640, 480, extend=1.0)
    np.testing.assert_allclose(out[2:], [39.0, 52.0], rtol=1e-6)
    assert process_bbox([0, 0, 0, 0], 10, 10) is None


def test_bbox_from_points_numpy_and_torch_agree():
    pts = np.array([[1.0, 2.0], [5.0, 10.0], [3.0, 4.0], [100.0, -50.0]])
    valid = np.array([1, 1, 1, 0])
    # tight box [1, 2, 5, 10], centre (3, 6), size (4, 8) x1.2 -> (4.8, 9.6)
    expect = np.array([3 - 2.4, 6 - 4.8, 4.8, 9.6])
    np.testing.assert_allclose(bbox_from_points(pts, valid), expect,
                               rtol=1e-6)
    t = bbox_from_points(
        torch.tensor(pts)[None].repeat(2, 1, 1),
        torch.tensor(valid)[None, :, None].repeat(2, 1, 1),
        out_format='xyxy')
    np.testing.assert_allclose(t.numpy()[1], xywh_to_xyxy(expect), rtol=1e-6)
    with pytest.raises(ValueError, match='no valid point'):
        bbox_from_points(pts, np.zeros(4))


def test_xywh_roundtrip():
    b = torch.rand(5, 4)
    assert torch.allclose(xywh_to_xyxy(xyxy_to_xywh(b)), b, atol=1e-6)
