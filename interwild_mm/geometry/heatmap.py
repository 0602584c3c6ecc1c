# Copyright (c) interwild_mm contributors.
"""Soft-argmax decoders and bilinear feature sampling.

``docs/official_conventions.md §1.3, §1.6, §1.7``.

Coordinates are in heatmap/feature cells with cell centres at integer
positions ``0 … W-1`` (x) and ``0 … H-1`` (y), ``0 … D-1`` (z).
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ['soft_argmax_2d', 'soft_argmax_3d', 'sample_features']


def _check_dim(x: Tensor, ndim: int, name: str, layout: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f'{name} must be a torch.Tensor, got {type(x)}.')
    if x.dim() != ndim:
        raise ValueError(f'{name} must be {ndim}-D with layout {layout}, got '
                         f'shape {tuple(x.shape)}.')


def soft_argmax_2d(logits: Tensor) -> Tuple[Tensor, Tensor]:
    """Softmax over all ``H·W`` cells, then the expected cell index.

    Args:
        logits (Tensor): ``(N, K, H, W)`` unnormalised scores.

    Returns:
        tuple:
        - coords (Tensor): ``(N, K, 2)`` expected ``(x, y)`` in cells.
        - prob (Tensor): ``(N, K, H, W)`` the softmax probabilities.
    """
    _check_dim(logits, 4, 'logits', '(N, K, H, W)')
    n, k, h, w = logits.shape
    prob = F.softmax(logits.reshape(n, k, h * w), dim=-1).reshape(n, k, h, w)
    xs = torch.arange(w, dtype=prob.dtype, device=prob.device)
    ys = torch.arange(h, dtype=prob.dtype, device=prob.device)
    x = (prob.sum(dim=2) * xs).sum(-1)
    y = (prob.sum(dim=3) * ys).sum(-1)
    return torch.stack((x, y), dim=-1), prob


def soft_argmax_3d(logits: Tensor) -> Tensor:
    """Softmax over all ``D·H·W`` cells, then the expected ``(x, y, z)``.

    Args:
        logits (Tensor): ``(N, K, D, H, W)`` unnormalised scores.

    Returns:
        Tensor: ``(N, K, 3)`` expected ``(x, y, z)`` in cells.
    """
    _check_dim(logits, 5, 'logits', '(N, K, D, H, W)')
    n, k, d, h, w = logits.shape
    prob = F.softmax(logits.reshape(n, k, d * h * w), dim=-1)
    prob = prob.reshape(n, k, d, h, w)
    xs = torch.arange(w, dtype=prob.dtype, device=prob.device)
    ys = torch.arange(h, dtype=prob.dtype, device=prob.device)
    zs = torch.arange(d, dtype=prob.dtype, device=prob.device)
    x = (prob.sum(dim=(2, 3)) * xs).sum(-1)
    y = (prob.sum(dim=(2, 4)) * ys).sum(-1)
    z = (prob.sum(dim=(3, 4)) * zs).sum(-1)
    return torch.stack((x, y, z), dim=-1)


def sample_features(feat: Tensor, points: Tensor) -> Tensor:
    """Bilinearly sample a feature map at sub-pixel points.

    Uses ``grid_sample(..., align_corners=True)`` with the normalisation
    ``u = x/(W-1)·2 - 1``, ``v = y/(H-1)·2 - 1``, so integer points hit cell
    centres exactly; points outside the map blend with zeros.

    Args:
        feat (Tensor): ``(N, C, H, W)`` feature map (``H, W >= 2``).
        points (Tensor): ``(N, P, 2)`` ``(x, y)`` in feature cells.

    Returns:
        Tensor: ``(N, P, C)`` sampled features.
    """
    _check_dim(feat, 4, 'feat', '(N, C, H, W)')
    _check_dim(points, 3, 'points', '(N, P, 2)')
    n, _, h, w = feat.shape
    if points.shape[0] != n or points.shape[-1] != 2:
        raise ValueError(f'points must be (N={n}, P, 2) matching feat, got '
                         f'{tuple(points.shape)}.')
    if h < 2 or w < 2:
        raise ValueError(f'feat must be at least 2x2 for align_corners=True '
                         f'sampling, got H={h}, W={w}.')
    pts = points.to(feat.dtype)
    grid = torch.stack(
        (pts[..., 0] / (w - 1) * 2 - 1, pts[..., 1] / (h - 1) * 2 - 1), dim=-1)
    out = F.grid_sample(
        feat,
        grid[:, None],
        mode='bilinear',
        padding_mode='zeros',
        align_corners=True)  # (N, C, 1, P)
    return out[:, :, 0].permute(0, 2, 1).contiguous()
