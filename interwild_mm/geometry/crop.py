# Copyright (c) interwild_mm contributors.
"""Box-to-crop affines and differentiable image warping (spec 1.5, 1.10).

Matrices map SOURCE pixels to DESTINATION pixels (pixel centres at integer
positions). Everything is batched torch and keeps the input device/dtype.
"""
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    'crop_affine', 'warp_affine', 'transform_points', 'invert_affine',
    'to_homogeneous_matrix'
]


def to_homogeneous_matrix(mat: Tensor) -> Tensor:
    """Append the row ``[0, 0, 1]`` to ``(..., 2, 3)`` affines (no-op for 3x3).

    Args:
        mat (Tensor): ``(..., 2, 3)`` or ``(..., 3, 3)`` affine matrices.

    Returns:
        Tensor: ``(..., 3, 3)`` matrices.
    """
    if mat.shape[-2:] == (3, 3):
        return mat
    if mat.shape[-2:] != (2, 3):
        raise ValueError(f'affine matrices must be (..., 2, 3) or '
                         f'(..., 3, 3), got {tuple(mat.shape)}.')
    last = mat.new_zeros(mat.shape[:-2] + (1, 3))
    last[..., 0, 2] = 1
    return torch.cat([mat, last], dim=-2)


def invert_affine(mat: Tensor) -> Tensor:
    """Invert ``(..., 2, 3)`` affines via ``torch.linalg.inv`` of the 3x3 form.

    Returns:
        Tensor: ``(..., 2, 3)`` inverse affines.
    """
    return torch.linalg.inv(to_homogeneous_matrix(mat))[..., :2, :]


def crop_affine(boxes_xyxy: Tensor, out_size: Sequence[int] = (256, 256),
                eps: float = 1e-8) -> Tensor:
    """Affine taking image pixels into the crop of each box (spec 1.5).

    ``x' = (x - cx) * W / (x2 - x1 + eps) + W/2`` and
    ``y' = (y - cy) * H / (y2 - y1 + eps) + H/2`` with ``(cx, cy)`` the box
    centre, so the box centre maps to pixel ``(W/2, H/2)`` (128 for a 256
    crop, not 127.5).

    Args:
        boxes_xyxy (Tensor): ``(N, 4)`` boxes in source pixels.
        out_size (Sequence[int]): crop size ``(H, W)``.
        eps (float): added to the box width/height.

    Returns:
        Tensor: ``(N, 3, 3)`` image -> crop matrices.
    """
    if boxes_xyxy.dim() < 1 or boxes_xyxy.shape[-1] != 4:
        raise ValueError(f'boxes_xyxy must be (N, 4), got '
                         f'{tuple(boxes_xyxy.shape)}.')
    out_h, out_w = float(out_size[0]), float(out_size[1])
    x1, y1, x2, y2 = boxes_xyxy.unbind(-1)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    sx = out_w / (x2 - x1 + eps)
    sy = out_h / (y2 - y1 + eps)
    zero = torch.zeros_like(sx)
    one = torch.ones_like(sx)
    rows = [
        torch.stack([sx, zero, out_w / 2 - sx * cx], dim=-1),
        torch.stack([zero, sy, out_h / 2 - sy * cy], dim=-1),
        torch.stack([zero, zero, one], dim=-1),
    ]
    return torch.stack(rows, dim=-2)


def _pixel_to_unit(h: int, w: int, ref: Tensor) -> Tensor:
    """3x3 matrix mapping pixels to [-1, 1] with ``2x/(W-1) - 1``."""
    if h < 2 or w < 2:
        raise ValueError(f'align_corners=True warping needs images of at '
                         f'least 2x2 pixels, got H={h}, W={w}.')
    m = torch.eye(3, dtype=ref.dtype, device=ref.device)
    m[0, 0] = 2.0 / (w - 1)
    m[1, 1] = 2.0 / (h - 1)
    m[0, 2] = -1.0
    m[1, 2] = -1.0
    return m


def warp_affine(img: Tensor, mat: Tensor,
                out_size: Sequence[int]) -> Tensor:
    """Warp images with source->destination pixel affines.

    Bilinear, zero padding, ``align_corners=True`` (pixel-centre convention,
    normalisation ``2x/(W-1) - 1`` on both sides): the output pixel ``p``
    reads the input at ``mat^-1 p``.

    Args:
        img (Tensor): ``(N, C, H, W)`` images.
        mat (Tensor): ``(N, 2, 3)`` or ``(N, 3, 3)`` source->destination pixel
            affines.
        out_size (Sequence[int]): output ``(H, W)``.

    Returns:
        Tensor: ``(N, C, out_H, out_W)`` warped images.
    """
    if img.dim() != 4:
        raise ValueError(f'img must be (N, C, H, W), got {tuple(img.shape)}.')
    m = to_homogeneous_matrix(mat).to(img.dtype)
    if m.shape[0] != img.shape[0]:
        raise ValueError(f'need one matrix per image: img batch '
                         f'{img.shape[0]}, mat batch {m.shape[0]}.')
    out_h, out_w = int(out_size[0]), int(out_size[1])
    src_norm = _pixel_to_unit(img.shape[2], img.shape[3], m)
    dst_norm = _pixel_to_unit(out_h, out_w, m)
    # destination-normalised -> source-normalised
    theta = src_norm @ torch.linalg.inv(m) @ torch.linalg.inv(dst_norm)
    grid = F.affine_grid(
        theta[:, :2, :], [img.shape[0], img.shape[1], out_h, out_w],
        align_corners=True)
    return F.grid_sample(
        img, grid, mode='bilinear', padding_mode='zeros', align_corners=True)


def transform_points(points: Tensor, mat: Tensor) -> Tensor:
    """Apply affines to 2D points.

    Args:
        points (Tensor): ``(..., P, 2)`` points (x, y).
        mat (Tensor): ``(..., 2, 3)`` or ``(..., 3, 3)`` affines, batch
            dimensions broadcastable with ``points``'.

    Returns:
        Tensor: ``(..., P, 2)`` transformed points.
    """
    if points.shape[-1] != 2:
        raise ValueError(f'points must be (..., P, 2), got '
                         f'{tuple(points.shape)}.')
    if mat.shape[-2:] not in ((2, 3), (3, 3)):
        raise ValueError(f'mat must be (..., 2, 3) or (..., 3, 3), got '
                         f'{tuple(mat.shape)}.')
    mat = mat.to(points.dtype)
    lin = mat[..., :2, :2]
    off = mat[..., :2, 2]
    return points @ lin.transpose(-1, -2) + off[..., None, :]
