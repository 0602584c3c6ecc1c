"""Tests for interwild_mm.geometry.rotation (independent float64 refs)."""
import math

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from interwild_mm.geometry.rotation import (axis_angle_to_matrix,
                                            matrix_to_axis_angle,
                                            matrix_to_quaternion,
                                            mirror_axis_angle, rot6d_to_matrix)


def _gram_schmidt_rows(v):
    """Reference 6D -> matrix with explicit python loops (rows convention)."""
    a1 = [float(t) for t in v[:3]]
    a2 = [float(t) for t in v[3:]]
    n1 = math.sqrt(sum(t * t for t in a1))
    b1 = [t / n1 for t in a1]
    d = sum(b1[i] * a2[i] for i in range(3))
    u2 = [a2[i] - d * b1[i] for i in range(3)]
    n2 = math.sqrt(sum(t * t for t in u2))
    b2 = [t / n2 for t in u2]
    b3 = [
        b1[1] * b2[2] - b1[2] * b2[1], b1[2] * b2[0] - b1[0] * b2[2],
        b1[0] * b2[1] - b1[1] * b2[0]
    ]
    return np.array([b1, b2, b3])


def _legacy_aa_numpy(R):
    """Spec 1.7 legacy path re-implemented per matrix with numpy scalars."""
    m = np.asarray(R, dtype=np.float64)
    tr = [
        1 + m[0, 0] + m[1, 1] + m[2, 2], 1 + m[0, 0] - m[1, 1] - m[2, 2],
        1 - m[0, 0] + m[1, 1] - m[2, 2], 1 - m[0, 0] - m[1, 1] + m[2, 2]
    ]
    q_abs = [math.sqrt(t) if t > 0 else 0.0 for t in tr]
    i = int(np.argmax(q_abs))
    # 4*q_i*q expressed through matrix entries (from the quaternion->matrix
    # formula: m21-m12 = 4wx, m02-m20 = 4wy, m10-m01 = 4wz, m10+m01 = 4xy ...)
    wx, wy, wz = m[2, 1] - m[1, 2], m[0, 2] - m[2, 0], m[1, 0] - m[0, 1]
    xy, xz, yz = m[1, 0] + m[0, 1], m[0, 2] + m[2, 0], m[1, 2] + m[2, 1]
    rows = [[q_abs[0]**2, wx, wy, wz], [wx, q_abs[1]**2, xy, xz],
            [wy, xy, q_abs[2]**2, yz], [wz, xz, yz, q_abs[3]**2]]
    q = np.array(rows[i]) / (2 * max(q_abs[i], 0.1))
    w, v = q[0], q[1:]
    angle = 2 * math.atan2(np.linalg.norm(v), w)
    if abs(angle) < 1e-6:
        ratio = 0.5 - angle**2 / 48
    else:
        ratio = math.sin(angle / 2) / angle
    return v / ratio


def _random_aa(n, seed, max_angle=math.pi - 1e-3):
    g = np.random.default_rng(seed)
    axis = g.normal(size=(n, 3))
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    ang = g.uniform(0, max_angle, size=(n, 1))
    return axis * ang


def test_rot6d_matches_loop_gram_schmidt():
    g = np.random.default_rng(0)
    x = g.normal(size=(2, 5, 6))
    out = rot6d_to_matrix(torch.from_numpy(x)).numpy()
    assert out.shape == (2, 5, 3, 3)
    for i in range(2):
        for j in range(5):
            np.testing.assert_allclose(
                out[i, j], _gram_schmidt_rows(x[i, j]), atol=1e-12)


def test_rot6d_rows_convention_and_orthonormal():
    # a1 along +y, a2 along +z -> rows are (0,1,0), (0,0,1), (1,0,0).
    x = torch.tensor([[0., 3., 0., 0., 0.2, 7.]], dtype=torch.float64)
    R = rot6d_to_matrix(x)[0]
    expected = torch.tensor([[0., 1, 0], [0, 0, 1], [1, 0, 0]],
                            dtype=torch.float64)
    torch.testing.assert_close(R, expected, atol=1e-12, rtol=0)
    Rs = rot6d_to_matrix(torch.randn(100, 6, dtype=torch.float64))
    eye = torch.eye(3, dtype=torch.float64).expand(100, 3, 3)
    torch.testing.assert_close(Rs @ Rs.transpose(1, 2), eye)
    torch.testing.assert_close(
        torch.linalg.det(Rs), torch.ones(100, dtype=torch.float64))


def test_axis_angle_to_matrix_vs_scipy():
    aa = np.concatenate([
        _random_aa(200, 1),
        np.zeros((1, 3)),
        np.array([[1e-7, -2e-7, 3e-8], [0., 0., math.pi]])
    ])
    out = axis_angle_to_matrix(torch.from_numpy(aa)).numpy()
    np.testing.assert_allclose(
        out, Rotation.from_rotvec(aa).as_matrix(), atol=1e-12)
    np.testing.assert_allclose(out[200], np.eye(3), atol=0)


def test_axis_angle_to_matrix_grad_finite_at_zero():
    aa = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
    R = axis_angle_to_matrix(aa)
    # dR/da at 0 is the skew generator: d R[2,1] / d a_x = 1.
    R[:, 2, 1].sum().backward()
    assert torch.isfinite(aa.grad).all()
    torch.testing.assert_close(
        aa.grad, torch.tensor([[1., 0, 0], [1., 0, 0]], dtype=torch.float64))


def test_matrix_to_axis_angle_modern_vs_scipy():
    aa = _random_aa(300, 2, max_angle=math.pi - 0.05)
    R = torch.from_numpy(Rotation.from_rotvec(aa).as_matrix())
    out = matrix_to_axis_angle(R).numpy()
    np.testing.assert_allclose(out, aa, atol=1e-10)
    # near/at pi: any equivalent representation with norm <= pi.
    aa_pi = np.array([[0., 0., math.pi],
                      [math.pi / math.sqrt(2), 0, -math.pi / math.sqrt(2)]])
    Rpi = torch.from_numpy(Rotation.from_rotvec(aa_pi).as_matrix())
    out_pi = matrix_to_axis_angle(Rpi)
    assert (out_pi.norm(dim=-1) <= math.pi + 1e-9).all()
    torch.testing.assert_close(axis_angle_to_matrix(out_pi), Rpi)


def test_matrix_to_axis_angle_legacy_vs_numpy_reference():
    aa = _random_aa(300, 3)
    Rn = Rotation.from_rotvec(aa).as_matrix()
    out = matrix_to_axis_angle(torch.from_numpy(Rn), legacy=True).numpy()
    ref = np.stack([_legacy_aa_numpy(r) for r in Rn])
    np.testing.assert_allclose(out, ref, atol=1e-10)
    # identity goes through the small-angle branch
    eye = torch.eye(3, dtype=torch.float64)[None]
    torch.testing.assert_close(
        matrix_to_axis_angle(eye, legacy=True),
        torch.zeros(1, 3, dtype=torch.float64))


def test_legacy_norm_can_exceed_pi():
    # rotation of 2.5 rad about -x: q = (cos 1.25, -sin 1.25, 0, 0); the
    # x-candidate wins (|x| > |w|) and is made x-positive, so w < 0 and the
    # legacy angle is 2*pi - 2.5 about +x.
    aa = torch.tensor([[-2.5, 0., 0.]], dtype=torch.float64)
    R = axis_angle_to_matrix(aa)
    q = matrix_to_quaternion(R)
    assert q[0, 0] < 0
    legacy = matrix_to_axis_angle(R, legacy=True)
    torch.testing.assert_close(
        legacy, torch.tensor([[2 * math.pi - 2.5, 0., 0.]],
                             dtype=torch.float64))
    assert legacy.norm() > math.pi
    modern = matrix_to_axis_angle(R, legacy=False)
    torch.testing.assert_close(modern, aa)


def test_legacy_and_modern_same_matrices_and_some_differ():
    aa = torch.from_numpy(_random_aa(500, 4))
    R = axis_angle_to_matrix(aa)
    leg = matrix_to_axis_angle(R, legacy=True)
    mod = matrix_to_axis_angle(R, legacy=False)
    torch.testing.assert_close(axis_angle_to_matrix(leg), R)
    torch.testing.assert_close(axis_angle_to_matrix(mod), R)
    assert (mod.norm(dim=-1) <= math.pi + 1e-9).all()
    assert (leg.norm(dim=-1) > math.pi + 1e-3).any()


def test_float32_and_batch_dims():
    aa = torch.randn(2, 3, 4, 3)
    R = axis_angle_to_matrix(aa)
    assert R.shape == (2, 3, 4, 3, 3) and R.dtype == torch.float32
    back = matrix_to_axis_angle(R, legacy=True)
    assert back.shape == (2, 3, 4, 3)
    torch.testing.assert_close(
        axis_angle_to_matrix(back), R, atol=1e-5, rtol=0)


def test_mirror_axis_angle_is_MRM():
    aa = torch.from_numpy(_random_aa(100, 5))
    M = torch.diag(torch.tensor([-1., 1., 1.], dtype=torch.float64))
    mirrored = axis_angle_to_matrix(mirror_axis_angle(aa))
    torch.testing.assert_close(mirrored, M @ axis_angle_to_matrix(aa) @ M)
    torch.testing.assert_close(mirror_axis_angle(mirror_axis_angle(aa)), aa)
    torch.testing.assert_close(
        mirror_axis_angle(torch.tensor([1., 2., 3.])),
        torch.tensor([1., -2., -3.]))


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match='trailing shape'):
        rot6d_to_matrix(torch.zeros(4, 5))
    with pytest.raises(ValueError, match='trailing shape'):
        axis_angle_to_matrix(torch.zeros(4, 45))
    with pytest.raises(ValueError, match='trailing shape'):
        matrix_to_axis_angle(torch.zeros(4, 3))
