# Copyright (c) interwild_mm contributors.
"""Bounding-box helpers (``docs/official_conventions.md`` §1.4, §3.1).

Conventions: ``xyxy`` boxes are ``(x1, y1, x2, y2)``, ``xywh`` boxes are
``(x1, y1, w, h)``; image pixels have their centres at integer positions.
Functions taking tensors are batched over any leading dimensions and keep the
input's device and dtype.
"""
from typing import Optional, Sequence, Union

import numpy as np
import torch
from torch import Tensor

ArrayLike = Union[np.ndarray, Tensor]


def xywh_to_xyxy(boxes: ArrayLike) -> ArrayLike:
    """Convert ``(..., 4)`` xywh boxes to xyxy (numpy or torch)."""
    if isinstance(boxes, Tensor):
        return torch.cat([boxes[..., :2], boxes[..., :2] + boxes[..., 2:4]],
                         dim=-1)
    boxes = np.asarray(boxes)
    return np.concatenate([boxes[..., :2], boxes[..., :2] + boxes[..., 2:4]],
                          axis=-1)


def xyxy_to_xywh(boxes: ArrayLike) -> ArrayLike:
    """Convert ``(..., 4)`` xyxy boxes to xywh (numpy or torch)."""
    if isinstance(boxes, Tensor):
        return torch.cat([boxes[..., :2], boxes[..., 2:4] - boxes[..., :2]],
                         dim=-1)
    boxes = np.asarray(boxes)
    return np.concatenate([boxes[..., :2], boxes[..., 2:4] - boxes[..., :2]],
                          axis=-1)


def _check_last_dim(x: ArrayLike, size: int, name: str) -> None:
    if x.shape[-1] != size:
        raise ValueError(f'{name} must have last dimension {size}, got shape '
                         f'{tuple(x.shape)}.')


def _fix_aspect_and_extend(x1: Tensor, y1: Tensor, x2: Tensor, y2: Tensor,
                           aspect_ratio: Optional[float],
                           extension: float) -> Tensor:
    """Steps 2-4 of the official box restoration (§1.4), float32 order.

    To xywh (``w = x2 - x1``), centre ``x1 + w/2``; where ``w > a·h`` set
    ``h = w / a``, where ``w < a·h`` set ``w = h · a``; ``w, h`` times
    ``extension``; ``x1 = cx - w/2``, back to xyxy by ``x2 = w + x1``.
    Scalars enter as Python numbers, as in the official code (on CUDA a
    division by a Python scalar is a multiplication by its reciprocal; a
    tensor divisor would round differently there).

    Returns:
        Tensor: ``(..., 4)`` xyxy boxes.
    """
    if aspect_ratio is not None and aspect_ratio <= 0:
        raise ValueError(f'aspect_ratio must be > 0 or None, got '
                         f'{aspect_ratio}.')
    w = x2 - x1
    h = y2 - y1
    cx = x1 + w / 2.
    cy = y1 + h / 2.
    if aspect_ratio is not None:
        wider = w > aspect_ratio * h
        taller = w < aspect_ratio * h
        h = torch.where(wider, w / aspect_ratio, h)
        w = torch.where(taller, h * aspect_ratio, w)
    w = w * extension
    h = h * extension
    x1 = cx - w / 2.
    y1 = cy - h / 2.
    return torch.stack([x1, y1, w + x1, h + y1], dim=-1)


def set_aspect_ratio(boxes_xyxy: Tensor, aspect: float) -> Tensor:
    """Enlarge the shorter side of each box about its centre to ``w/h = a``.

    The official step sequence of :func:`restore_bbox` with extension 1
    (``docs/official_conventions.md §1.4``); TransNet's union box uses it
    with ``aspect = 1`` (§1.10).

    Args:
        boxes_xyxy (Tensor): ``(..., 4)`` boxes, xyxy.
        aspect (float): target ``width / height`` (> 0).

    Returns:
        Tensor: ``(..., 4)`` xyxy boxes with the same centres.
    """
    _check_last_dim(boxes_xyxy, 4, 'boxes_xyxy')
    if aspect is None or aspect <= 0:
        raise ValueError(f'aspect must be > 0, got {aspect}.')
    return _fix_aspect_and_extend(*boxes_xyxy.unbind(-1), aspect, 1.0)


def restore_bbox(center: Tensor, size: Tensor,
                 aspect_ratio: Optional[float], extension: float,
                 grid_size: Sequence[int],
                 input_size: Sequence[int]) -> Tensor:
    """Turn DetectNet centre/size outputs into an xyxy box.

    Reproduces the official float32 operation sequence
    (``docs/official_conventions.md`` §1.4), not an algebraically equal
    rearrangement, so converted official weights give the official boxes bit
    for bit:

    1. corners ``c - s/2``, ``c + s/2`` in grid units; x scaled as
       ``x / W_grid * W_in``, y as ``y / H_grid * H_in`` (body-input pixels);
    2. xywh with ``w = x2 - x1``, centre ``x1 + w/2``;
    3. if ``aspect_ratio`` is given: ``h = w / a`` where ``w > a·h``,
       ``w = h · a`` where ``w < a·h``;
    4. ``w, h`` times ``extension``, ``x1 = cx - w/2``, ``x2 = w + x1``
       (same for y).

    Steps 2-4 are :func:`set_aspect_ratio`'s sequence (one helper).

    Args:
        center (Tensor): ``(..., 2)`` box centres (x, y), grid units.
        size (Tensor): ``(..., 2)`` box sizes (w, h), grid units.
        aspect_ratio (float, optional): target ``w/h`` or ``None``.
        extension (float): size multiplier.
        grid_size (Sequence[int]): ``(H, W)`` of the grid of ``center`` and
            ``size`` (the body heatmap, ``(64, 48)`` in InterWild).
        input_size (Sequence[int]): ``(H, W)`` of the pixel space of the
            result (the body input, ``(256, 192)`` in InterWild).

    Returns:
        Tensor: ``(..., 4)`` xyxy boxes in ``input_size`` pixels.
    """
    _check_last_dim(center, 2, 'center')
    _check_last_dim(size, 2, 'size')
    if len(grid_size) != 2 or len(input_size) != 2:
        raise ValueError(f'grid_size and input_size must be (H, W), got '
                         f'{tuple(grid_size)} and {tuple(input_size)}.')
    grid_h, grid_w = grid_size
    in_h, in_w = input_size
    half = size / 2.
    x1 = (center[..., 0] - half[..., 0]) / grid_w * in_w
    y1 = (center[..., 1] - half[..., 1]) / grid_h * in_h
    x2 = (center[..., 0] + half[..., 0]) / grid_w * in_w
    y2 = (center[..., 1] + half[..., 1]) / grid_h * in_h
    return _fix_aspect_and_extend(x1, y1, x2, y2, aspect_ratio, extension)


def sanitize_bbox(bbox_xywh: Sequence[float], img_w: int,
                  img_h: int) -> Optional[np.ndarray]:
    """Clip an xywh box to the image (``docs/official_conventions.md §3.1``).

    The top-left corner is clipped to >= 0,
    ``x2 = min(img_w - 1, x1 + max(0, w - 1))`` (``y2`` likewise).

    Args:
        bbox_xywh: box ``(x, y, w, h)`` in pixels.
        img_w (int): image width.
        img_h (int): image height.

    Returns:
        np.ndarray | None: the float32 xywh box ``(x1, y1, x2-x1, y2-y1)``, or
        ``None`` when the box is empty or degenerate after clipping.
    """
    box = np.asarray(bbox_xywh, dtype=np.float64).reshape(-1)
    if box.shape != (4, ):
        raise ValueError(f'bbox_xywh must have 4 values, got {box.shape}.')
    x, y, w, h = box
    x1, y1 = max(0.0, x), max(0.0, y)
    x2 = min(img_w - 1.0, x1 + max(0.0, w - 1.0))
    y2 = min(img_h - 1.0, y1 + max(0.0, h - 1.0))
    if not (w * h > 0 and x2 > x1 and y2 > y1):
        return None
    return np.array([x1, y1, x2 - x1, y2 - y1], dtype=np.float32)


def process_bbox(bbox_xywh: Sequence[float],
                 img_w: int,
                 img_h: int,
                 extend: float = 1.25,
                 aspect: float = 384.0 / 512.0,
                 do_sanitize: bool = True) -> Optional[np.ndarray]:
    """Sanitise, fix the aspect ratio and extend an xywh box.

    ``docs/official_conventions.md §3.1``.

    Args:
        bbox_xywh: box ``(x, y, w, h)`` in pixels.
        img_w (int): image width.
        img_h (int): image height.
        extend (float): size multiplier after the aspect fix (1.25 for COCO
            person boxes and the demo, 1.0 for whole-image body boxes).
        aspect (float): target ``w/h``, default 384/512 = 0.75.
        do_sanitize (bool): run :func:`sanitize_bbox` first.

    Returns:
        np.ndarray | None: float32 xywh box, or ``None`` if sanitising
        rejected the box.
    """
    if do_sanitize:
        box = sanitize_bbox(bbox_xywh, img_w, img_h)
        if box is None:
            return None
        box = box.astype(np.float64)
    else:
        box = np.asarray(bbox_xywh, dtype=np.float64).reshape(-1)
    x, y, w, h = box
    cx, cy = x + w / 2.0, y + h / 2.0
    if w > aspect * h:
        h = w / aspect
    elif w < aspect * h:
        w = h * aspect
    w, h = w * extend, h * extend
    return np.array([cx - w / 2.0, cy - h / 2.0, w, h], dtype=np.float32)


def bbox_from_points(points: ArrayLike,
                     valid: Optional[ArrayLike] = None,
                     extension: float = 1.2,
                     out_format: str = 'xywh') -> ArrayLike:
    """Tight box of the valid points, scaled by ``extension`` about its centre.

    Works on numpy arrays and (batched) torch tensors.

    Args:
        points: ``(..., P, 2+)`` points; only x, y are used.
        valid: ``(..., P)`` or ``(..., P, 1)`` validity (non-zero = valid);
            ``None`` = all valid.
        extension (float): size multiplier (1.2 in InterWild).
        out_format (str): ``'xywh'`` (the official ``get_bbox``) or ``'xyxy'``.

    Returns:
        ``(..., 4)`` boxes in ``out_format``, same array type as ``points``.

    Raises:
        ValueError: if a box has no valid point.
    """
    if out_format not in ('xywh', 'xyxy'):
        raise ValueError(f"out_format must be 'xywh' or 'xyxy', got "
                         f'{out_format!r}.')
    is_torch = isinstance(points, Tensor)
    xy = points[..., :2]
    if not is_torch:
        xy = np.asarray(xy, dtype=np.float64)
    if valid is None:
        lo = xy.amin(dim=-2) if is_torch else xy.min(axis=-2)
        hi = xy.amax(dim=-2) if is_torch else xy.max(axis=-2)
    else:
        if is_torch:
            mask = torch.as_tensor(valid, device=xy.device)
            if mask.dim() == xy.dim():
                mask = mask[..., 0]
            mask = (mask != 0)
            if not bool(mask.any(dim=-1).all()):
                raise ValueError('bbox_from_points: a box has no valid point; '
                                 'filter such samples before calling.')
            m = mask[..., None]
            inf = torch.finfo(xy.dtype).max
            lo = torch.where(m, xy, xy.new_tensor(inf)).amin(dim=-2)
            hi = torch.where(m, xy, xy.new_tensor(-inf)).amax(dim=-2)
        else:
            mask = np.asarray(valid)
            if mask.ndim == xy.ndim:
                mask = mask[..., 0]
            mask = mask != 0
            if not mask.any(axis=-1).all():
                raise ValueError('bbox_from_points: a box has no valid point; '
                                 'filter such samples before calling.')
            m = mask[..., None]
            lo = np.where(m, xy, np.inf).min(axis=-2)
            hi = np.where(m, xy, -np.inf).max(axis=-2)
    center = (lo + hi) / 2
    half = (hi - lo) / 2 * extension
    x1y1, x2y2 = center - half, center + half
    if is_torch:
        box = torch.cat([x1y1, x2y2], dim=-1)
    else:
        box = np.concatenate([x1y1, x2y2], axis=-1).astype(np.float32)
    return box if out_format == 'xyxy' else xyxy_to_xywh(box)


def box_iou(box1: ArrayLike, box2: ArrayLike, eps: float = 1e-5) -> ArrayLike:
    """IoU of xyxy boxes as InterWild computes it: ``inter / (union + eps)``.

    ``docs/official_conventions.md §4``: ``eps = 1e-5``. With ``eps = 0`` a
    pair of empty boxes (union 0) gets IoU 0 instead of 0/0. Numpy inputs
    are computed in float64; torch inputs keep their dtype and device.

    Args:
        box1 (ArrayLike): ``(..., 4)`` boxes ``(x1, y1, x2, y2)``.
        box2 (ArrayLike): ``(..., 4)`` boxes, broadcastable to ``box1``.
        eps (float): added to the union. Defaults to 1e-5.

    Returns:
        ArrayLike: ``(...)`` IoU in [0, 1] (not x100), numpy for numpy
        inputs, a tensor for tensor inputs.
    """
    if isinstance(box1, Tensor) or isinstance(box2, Tensor):
        ref = box1 if isinstance(box1, Tensor) else box2
        b1 = torch.as_tensor(box1, dtype=ref.dtype, device=ref.device)
        b2 = torch.as_tensor(box2, dtype=ref.dtype, device=ref.device)
        lib, maximum, minimum = torch, torch.maximum, torch.minimum
    else:
        b1 = np.asarray(box1, dtype=np.float64)
        b2 = np.asarray(box2, dtype=np.float64)
        lib, maximum, minimum = np, np.maximum, np.minimum
    if b1.shape[-1] != 4 or b2.shape[-1] != 4:
        raise ValueError(f'boxes must be (..., 4) xyxy, got '
                         f'{tuple(b1.shape)} and {tuple(b2.shape)}.')
    zero = b1.new_zeros(()) if lib is torch else 0.0
    iw = maximum(zero, minimum(b1[..., 2], b2[..., 2]) -
                 maximum(b1[..., 0], b2[..., 0]))
    ih = maximum(zero, minimum(b1[..., 3], b2[..., 3]) -
                 maximum(b1[..., 1], b2[..., 1]))
    inter = iw * ih
    area1 = (b1[..., 2] - b1[..., 0]) * (b1[..., 3] - b1[..., 1])
    area2 = (b2[..., 2] - b2[..., 0]) * (b2[..., 3] - b2[..., 1])
    denom = area1 + area2 - inter + eps
    safe = lib.where(denom > 0, denom, lib.ones_like(denom))
    return lib.where(denom > 0, inter / safe, lib.zeros_like(denom))
