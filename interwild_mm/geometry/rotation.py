# Copyright (c) interwild_mm contributors.
"""Rotation representations used by InterWild.

``docs/official_conventions.md §1.7, §1.8``.

All functions are batched over arbitrary leading dimensions, keep the input's
device and dtype and are differentiable (except for the discrete quaternion
candidate selection in :func:`matrix_to_axis_angle`).

Conventions:

* Axis-angle vectors ``aa`` have shape ``(..., 3)``; their direction is the
  rotation axis and their norm the angle in radians.
* Rotation matrices act on column vectors: ``x' = R @ x``.
* The 6D representation is the first two rows of ``R`` (the "rows"
  convention of PyTorch3D's ``rotation_6d_to_matrix``).
"""
from typing import Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

ArrayLike = Union[np.ndarray, Tensor]

__all__ = [
    'rot6d_to_matrix', 'axis_angle_to_matrix', 'matrix_to_axis_angle',
    'matrix_to_quaternion', 'quaternion_to_axis_angle', 'mirror_axis_angle'
]


def _check_last_dims(x: Tensor, shape: Tuple[int, ...], name: str) -> None:
    """Raise a clear error when the trailing dimensions are wrong."""
    if not isinstance(x, Tensor):
        raise TypeError(f'{name} must be a torch.Tensor, got {type(x)}.')
    if tuple(x.shape[x.dim() - len(shape):]) != shape or x.dim() < len(shape):
        raise ValueError(
            f'{name} must have trailing shape {shape}, got {tuple(x.shape)}; '
            f'reshape the input to (..., {", ".join(map(str, shape))}).')


def rot6d_to_matrix(x: Tensor) -> Tensor:
    """Convert the 6D rotation representation to rotation matrices.

    With ``a1 = x[..., 0:3]`` and ``a2 = x[..., 3:6]`` the orthonormal frame is
    ``b1 = a1/|a1|``, ``b2 = normalise(a2 - (b1.a2) b1)``, ``b3 = b1 x b2``;
    ``b1, b2, b3`` are the **rows** of the returned matrix.

    Args:
        x (Tensor): ``(..., 6)`` 6D rotation vectors.

    Returns:
        Tensor: ``(..., 3, 3)`` rotation matrices (``det = +1``).
    """
    _check_last_dims(x, (6, ), 'rot6d')
    a1, a2 = x[..., 0:3], x[..., 3:6]
    b1 = F.normalize(a1, dim=-1)
    b2 = F.normalize(a2 - (b1 * a2).sum(-1, keepdim=True) * b1, dim=-1)
    b3 = torch.cross(b1, b2, dim=-1)
    return torch.stack((b1, b2, b3), dim=-2)


def _skew(v: Tensor) -> Tensor:
    """Cross-product matrices ``[v]_x``: ``(..., 3)`` -> ``(..., 3, 3)``."""
    x, y, z = v.unbind(-1)
    zero = torch.zeros_like(x)
    return torch.stack((zero, -z, y, z, zero, -x, -y, x, zero),
                       dim=-1).reshape(v.shape[:-1] + (3, 3))


def axis_angle_to_matrix(aa: Tensor) -> Tensor:
    """Rodrigues' formula, numerically stable (also in the gradient) at 0.

    ``R = I + s(θ) [a]_x + c(θ) [a]_x²`` with ``θ = |a|``,
    ``s = sin θ / θ`` and ``c = (1 - cos θ) / θ²``; for ``θ < 1e-4`` the
    Taylor expansions ``s ≈ 1 - θ²/6``, ``c ≈ 1/2 - θ²/24`` are
    used, so neither the value nor the gradient divides by zero.

    Args:
        aa (Tensor): ``(..., 3)`` axis-angle vectors, radians.

    Returns:
        Tensor: ``(..., 3, 3)`` rotation matrices.
    """
    _check_last_dims(aa, (3, ), 'axis-angle')
    theta2 = (aa * aa).sum(-1)
    small = theta2 < 1e-8
    theta = torch.sqrt(torch.where(small, torch.ones_like(theta2), theta2))
    s = torch.where(small, 1.0 - theta2 / 6.0, torch.sin(theta) / theta)
    c = torch.where(small, 0.5 - theta2 / 24.0,
                    (1.0 - torch.cos(theta)) / (theta * theta))
    k = _skew(aa)
    eye = torch.eye(3, dtype=aa.dtype, device=aa.device).expand_as(k)
    return eye + s[..., None, None] * k + c[..., None, None] * (k @ k)


def _sqrt_nonneg(x: Tensor) -> Tensor:
    """``sqrt(max(x, 0))`` with a finite (zero) gradient where ``x <= 0``."""
    pos = x > 0
    return torch.where(pos,
                       torch.sqrt(torch.where(pos, x, torch.ones_like(x))),
                       torch.zeros_like(x))


def matrix_to_quaternion(R: Tensor, standardize: bool = False) -> Tensor:
    """Rotation matrix -> unit quaternion ``(w, x, y, z)``.

    The four candidates ``4 q_i q`` (one per quaternion component ``q_i``)
    are formed from sums/differences of matrix entries; the candidate whose
    ``|q_i|`` (from the diagonal, ``q_abs = sqrt(max(0, 1 ± m00 ± m11 ± m22))``
    ``= 2|q_i|``) is largest is selected and divided by
    ``2 · max(q_abs, 0.1)``. The result has the sign of the selected
    component's ``q_i >= 0``, so ``w`` may be negative unless
    ``standardize=True``.

    Args:
        R (Tensor): ``(..., 3, 3)`` rotation matrices.
        standardize (bool): Force ``w >= 0``. Defaults to False.

    Returns:
        Tensor: ``(..., 4)`` quaternions, real part first.
    """
    _check_last_dims(R, (3, 3), 'rotation matrix')
    m = R.reshape(R.shape[:-2] + (9, ))
    m00, m01, m02, m10, m11, m12, m20, m21, m22 = m.unbind(-1)
    q_abs = _sqrt_nonneg(
        torch.stack((1 + m00 + m11 + m22, 1 + m00 - m11 - m22,
                     1 - m00 + m11 - m22, 1 - m00 - m11 + m22),
                    dim=-1))
    # 4 * q_i * (w, x, y, z) for i = w, x, y, z
    cand = torch.stack((
        torch.stack((q_abs[..., 0]**2, m21 - m12, m02 - m20, m10 - m01), -1),
        torch.stack((m21 - m12, q_abs[..., 1]**2, m10 + m01, m02 + m20), -1),
        torch.stack((m02 - m20, m10 + m01, q_abs[..., 2]**2, m12 + m21), -1),
        torch.stack((m10 - m01, m20 + m02, m21 + m12, q_abs[..., 3]**2), -1),
    ),
                       dim=-2)
    cand = cand / (2.0 * q_abs.clamp(min=0.1))[..., None]
    best = q_abs.argmax(dim=-1)
    idx = best[..., None, None].expand(best.shape + (1, 4))
    quat = torch.gather(cand, -2, idx).squeeze(-2)
    if standardize:
        quat = torch.where(quat[..., :1] < 0, -quat, quat)
    return quat


def quaternion_to_axis_angle(quat: Tensor) -> Tensor:
    """Quaternion ``(w, x, y, z)`` -> axis-angle.

    ``angle = 2 · atan2(|v|, w)`` (in ``[0, 2π]``; larger than π when
    ``w < 0``) and ``aa = v · angle / sin(angle/2)``, with the small-angle
    branch ``sin(angle/2)/angle ≈ 1/2 - angle²/48`` for ``angle < 1e-6``.

    Args:
        quat (Tensor): ``(..., 4)`` unit quaternions, real part first.

    Returns:
        Tensor: ``(..., 3)`` axis-angle vectors.
    """
    _check_last_dims(quat, (4, ), 'quaternion')
    v = quat[..., 1:]
    vnorm = torch.linalg.vector_norm(v, dim=-1, keepdim=True)
    angle = 2.0 * torch.atan2(vnorm, quat[..., :1])
    small = angle.abs() < 1e-6
    safe_angle = torch.where(small, torch.ones_like(angle), angle)
    ratio = torch.where(small, 0.5 - angle * angle / 48.0,
                        torch.sin(0.5 * safe_angle) / safe_angle)
    return v / ratio


def matrix_to_axis_angle(R: Tensor, legacy: bool = False) -> Tensor:
    """Rotation matrix -> axis-angle.

    Args:
        R (Tensor): ``(..., 3, 3)`` rotation matrices.
        legacy (bool): If True, reproduce PyTorch3D <= 0.7.5 (used by the
            official InterWild run, ``docs/official_conventions.md §1.7``):
            the best-conditioned quaternion candidate is used without a sign
            fix, so the returned vector can have a norm in ``(π, 2π)``.
            If False, return the equivalent rotation with norm ``<= π``.
            Both describe the same rotation.
            Defaults to False.

    Returns:
        Tensor: ``(..., 3)`` axis-angle vectors, radians.
    """
    return quaternion_to_axis_angle(
        matrix_to_quaternion(R, standardize=not legacy))


def mirror_axis_angle(aa: ArrayLike) -> ArrayLike:
    """Mirror rotations through the YZ plane.

    ``(a_x, a_y, a_z) -> (a_x, -a_y, -a_z)``
    (``docs/official_conventions.md §1.8, §3.1``). With
    ``M = diag(-1, 1, 1)`` this is the axis-angle of ``M R M``.

    Args:
        aa (ArrayLike): ``(..., 3)`` axis-angle vectors, a tensor or a numpy
            array. Flattened poses such as MANO ``hand_pose`` (N, 45) must be
            reshaped to (N, 15, 3) first.

    Returns:
        ArrayLike: ``(..., 3)`` mirrored axis-angle vectors, same type and
        dtype.
    """
    if isinstance(aa, np.ndarray):
        if aa.ndim < 1 or aa.shape[-1] != 3:
            raise ValueError(f'axis-angle must have trailing shape (3,), got '
                             f'{aa.shape}; reshape the input to (..., 3).')
        return aa * np.array([1.0, -1.0, -1.0], dtype=aa.dtype)
    _check_last_dims(aa, (3, ), 'axis-angle')
    sign = aa.new_tensor([1.0, -1.0, -1.0])
    return aa * sign
