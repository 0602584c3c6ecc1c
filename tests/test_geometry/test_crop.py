"""Tests for interwild_mm.geometry.crop against float64 numpy loops."""
import numpy as np
import torch

from interwild_mm.geometry.crop import (crop_affine_composed, invert_affine,
                                        transform_points, warp_affine)


def _bilinear_numpy(img, x, y):
    """Reference bilinear sample of (C,H,W) at (x, y), zeros outside."""
    c, h, w = img.shape
    x0, y0 = int(np.floor(x)), int(np.floor(y))
    out = np.zeros(c)
    for dx in (0, 1):
        for dy in (0, 1):
            xi, yi = x0 + dx, y0 + dy
            wgt = (1 - abs(x - xi)) * (1 - abs(y - yi))
            if 0 <= xi < w and 0 <= yi < h and wgt > 0:
                out += wgt * img[:, yi, xi]
    return out


def test_crop_affine_by_hand():
    box = torch.tensor([[10.0, 20.0, 50.0, 100.0]], dtype=torch.float64)
    m = crop_affine_composed(box, (256, 256))[0].numpy()
    # centre (30, 60) -> (128, 128); corner (10,20) -> (0, 0) up to 1e-8
    np.testing.assert_allclose(m @ [30, 60, 1], [128, 128, 1], atol=1e-9)
    np.testing.assert_allclose(m @ [10, 20, 1], [0, 0, 1], atol=1e-6)
    np.testing.assert_allclose(m[0, 0], 256 / (40 + 1e-8))
    np.testing.assert_allclose(m[1, 1], 256 / (80 + 1e-8))
    # non-square output (H=64, W=32)
    m2 = crop_affine_composed(box, (64, 32))[0].numpy()
    np.testing.assert_allclose(m2 @ [30, 60, 1], [16, 32, 1], atol=1e-9)
    np.testing.assert_allclose(m2 @ [50, 100, 1], [32, 64, 1], atol=1e-6)


def test_warp_affine_matches_numpy_loop():
    rng = np.random.default_rng(0)
    img = rng.random((2, 2, 7, 9))
    mats = np.array([[[1.7, 0.3, -2.0], [-0.2, 1.4, 1.5]],
                     [[0.8, 0.0, 1.0], [0.0, 0.9, -0.5]]])
    out = warp_affine(torch.tensor(img), torch.tensor(mats), (5, 6)).numpy()
    for n in range(2):
        full = np.vstack([mats[n], [0, 0, 1]])
        inv = np.linalg.inv(full)
        for v in range(5):
            for u in range(6):
                sx, sy, _ = inv @ [u, v, 1]
                np.testing.assert_allclose(
                    out[n, :, v, u], _bilinear_numpy(img[n], sx, sy),
                    atol=1e-10)


def test_warp_crop_centre_lands_on_128():
    # an image whose value is the x coordinate: the crop's pixel 128 samples
    # the box centre exactly.
    h, w = 40, 60
    xs = np.tile(np.arange(w, dtype=np.float64), (h, 1))
    ys = np.tile(np.arange(h, dtype=np.float64)[:, None], (1, w))
    img = torch.tensor(np.stack([xs, ys])[None])
    box = torch.tensor([[10.0, 5.0, 30.0, 25.0]], dtype=torch.float64)
    crop = warp_affine(img,
                       crop_affine_composed(box, (256, 256))[:, :2],
                       (256, 256))
    np.testing.assert_allclose(crop[0, :, 128, 128].numpy(), [20.0, 15.0],
                               atol=1e-9)
    np.testing.assert_allclose(crop[0, 0, 128, 0].item(), 10.0, atol=1e-6)


def test_transform_points_and_invert():
    torch.manual_seed(0)
    m = torch.randn(4, 2, 3, dtype=torch.float64) + torch.tensor(
        [[2.0, 0, 0], [0, 2.0, 0]], dtype=torch.float64)
    pts = torch.randn(4, 7, 2, dtype=torch.float64)
    out = transform_points(pts, m)
    ref = np.einsum('nij,npj->npi', m[..., :2].numpy(), pts.numpy()) + \
        m[:, None, :, 2].numpy()
    np.testing.assert_allclose(out.numpy(), ref, atol=1e-12)
    back = transform_points(out, invert_affine(m))
    np.testing.assert_allclose(back.numpy(), pts.numpy(), atol=1e-10)
