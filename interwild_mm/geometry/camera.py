# Copyright (c) interwild_mm contributors.
"""Pinhole projection and orthographic camera fitting.

``docs/official_conventions.md §1.9, §1.11``.
"""
from typing import Tuple, Union

import numpy as np
import torch
from torch import Tensor

ArrayLike = Union[np.ndarray, Tensor]

__all__ = ['project_points', 'fit_ortho_camera']


def project_points(points: ArrayLike,
                   focal: ArrayLike,
                   princpt: ArrayLike,
                   eps: float = 1e-4) -> ArrayLike:
    """Pinhole projection ``u = X/(Z + eps)·f + c``.

    The one projection of the package (``docs/official_conventions.md``
    §1.9 step 3, in that float order). InterWild's crop camera uses
    ``eps = 1e-4``; a plain pinhole camera is ``eps = 0``.

    Args:
        points (ArrayLike): ``(..., P, 3)`` (or ``(3,)``) camera-space points.
        focal (ArrayLike): ``(..., 2)`` focal lengths ``(fx, fy)`` in pixels,
            broadcast over the points.
        princpt (ArrayLike): ``(..., 2)`` principal points ``(cx, cy)`` in
            pixels.
        eps (float): added to the depth (1e-4 in InterWild).

    Returns:
        ArrayLike: ``(..., P, 2)`` pixel coordinates: a tensor (dtype and
        device of ``points``) for tensor points, else float64 numpy.
    """
    if isinstance(points, Tensor):
        focal = torch.as_tensor(
            focal, dtype=points.dtype, device=points.device)
        princpt = torch.as_tensor(
            princpt, dtype=points.dtype, device=points.device)
    else:
        points = np.asarray(points, dtype=np.float64)
        focal = np.asarray(focal, dtype=np.float64)
        princpt = np.asarray(princpt, dtype=np.float64)
    if points.shape[-1] != 3:
        raise ValueError(f'points must be (..., P, 3), got '
                         f'{tuple(points.shape)}.')
    if 1 <= focal.ndim < points.ndim:
        focal = focal[..., None, :]
    if 1 <= princpt.ndim < points.ndim:
        princpt = princpt[..., None, :]
    xy = points[..., :2] / (points[..., 2:3] + eps)
    return xy * focal + princpt


def fit_ortho_camera(points: Tensor,
                     uv: Tensor) -> Tuple[Tensor, Tensor]:
    """Fit a per-axis orthographic camera ``u = s·X + o``.

    ``docs/official_conventions.md §1.11``.

    ``s = (max u - min u) / (max X - min X)`` and
    ``o = mean(u) - mean(s·X)``, independently for x and y.

    Args:
        points (Tensor): ``(N, P, 3)`` 3D points (only x, y are used).
        uv (Tensor): ``(N, P, 2)`` their image points.

    Returns:
        tuple[Tensor, Tensor]: ``focal`` ``(N, 2)`` and ``princpt`` ``(N, 2)``.
    """
    if points.dim() != 3 or points.shape[-1] != 3:
        raise ValueError(f'points must be (N, P, 3), got '
                         f'{tuple(points.shape)}.')
    if uv.shape[:-1] != points.shape[:-1] or uv.shape[-1] != 2:
        raise ValueError(f'uv must be (N, P, 2) matching points, got '
                         f'{tuple(uv.shape)} vs {tuple(points.shape)}.')
    xy = points[..., :2]
    span_x = xy.amax(dim=1) - xy.amin(dim=1)
    span_u = uv.amax(dim=1) - uv.amin(dim=1)
    focal = span_u / span_x
    princpt = uv.mean(dim=1) - (focal[:, None, :] * xy).mean(dim=1)
    return focal, princpt
