# Copyright (c) interwild_mm contributors.
"""Pinhole projection and orthographic camera fitting (spec 1.9, 1.11)."""
from typing import Tuple

import torch
from torch import Tensor

__all__ = ['project_points', 'fit_ortho_camera']


def project_points(points: Tensor,
                   focal: Tensor,
                   princpt: Tensor,
                   eps: float = 1e-4) -> Tensor:
    """Pinhole projection ``u = X/(Z + eps)·f + c`` (spec 1.9 step 3).

    Args:
        points (Tensor): ``(..., P, 3)`` camera-space points (metres).
        focal (Tensor): ``(..., 2)`` focal lengths ``(fx, fy)`` in pixels,
            broadcast over the points.
        princpt (Tensor): ``(..., 2)`` principal points ``(cx, cy)`` in pixels.
        eps (float): added to the depth (1e-4 in InterWild).

    Returns:
        Tensor: ``(..., P, 2)`` pixel coordinates.
    """
    if points.shape[-1] != 3:
        raise ValueError(f'points must be (..., P, 3), got '
                         f'{tuple(points.shape)}.')
    focal = torch.as_tensor(focal, dtype=points.dtype, device=points.device)
    princpt = torch.as_tensor(
        princpt, dtype=points.dtype, device=points.device)
    if focal.dim() >= 1 and focal.dim() < points.dim():
        focal = focal[..., None, :]
    if princpt.dim() >= 1 and princpt.dim() < points.dim():
        princpt = princpt[..., None, :]
    xy = points[..., :2] / (points[..., 2:3] + eps)
    return xy * focal + princpt


def fit_ortho_camera(points: Tensor,
                     uv: Tensor) -> Tuple[Tensor, Tensor]:
    """Fit a per-axis orthographic camera ``u = s·X + o`` (spec 1.11).

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
