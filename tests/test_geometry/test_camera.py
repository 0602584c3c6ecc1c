"""Tests for interwild_mm.geometry.camera."""
import numpy as np
import torch

from interwild_mm.geometry.camera import fit_ortho_camera, project_points


def test_project_points_by_hand():
    x = torch.tensor([[[0.1, -0.2, 0.5], [0.0, 0.0, 1.0]]],
                     dtype=torch.float64)
    uv = project_points(x, torch.tensor([[5000.0, 4000.0]]),
                        torch.tensor([[128.0, 100.0]]))
    np.testing.assert_allclose(
        uv[0, 0].numpy(),
        [0.1 / 0.5001 * 5000 + 128, -0.2 / 0.5001 * 4000 + 100])
    np.testing.assert_allclose(uv[0, 1].numpy(), [128.0, 100.0])
    # eps=0 and scalar-like broadcasting
    uv0 = project_points(x[0], torch.tensor([10.0, 10.0]),
                         torch.tensor([0.0, 0.0]), eps=0.0)
    np.testing.assert_allclose(uv0[0].numpy(), [2.0, -4.0])


def test_fit_ortho_camera_recovers_exact_ortho():
    rng = np.random.default_rng(1)
    pts = rng.normal(size=(3, 21, 3))
    s = np.array([[300.0, 280.0], [10.0, 12.0], [1.0, 2.0]])
    o = np.array([[50.0, 60.0], [-3.0, 4.0], [0.0, 0.0]])
    uv = pts[..., :2] * s[:, None] + o[:, None]
    f, c = fit_ortho_camera(torch.tensor(pts), torch.tensor(uv))
    np.testing.assert_allclose(f.numpy(), s, rtol=1e-12)
    np.testing.assert_allclose(c.numpy(), o, atol=1e-10)


def test_fit_ortho_camera_formula():
    pts = torch.tensor([[[0.0, 0.0, 1.0], [1.0, 2.0, 1.0], [3.0, 1.0, 1.0]]],
                       dtype=torch.float64)
    uv = torch.tensor([[[0.0, 0.0], [5.0, 1.0], [6.0, 9.0]]],
                      dtype=torch.float64)
    f, c = fit_ortho_camera(pts, uv)
    # x: span u 6 / span X 3 = 2; y: span v 9 / span Y 2 = 4.5
    np.testing.assert_allclose(f[0].numpy(), [2.0, 4.5])
    # o = mean(u) - s*mean(X): 11/3 - 2*4/3 = 1; 10/3 - 4.5*1 = -7/6
    np.testing.assert_allclose(c[0].numpy(), [1.0, -7.0 / 6.0])
