# Copyright (c) interwild_mm contributors.
"""Body-patch affine warps of the data pipeline, numpy/OpenCV.

``docs/official_conventions.md §3.1``.

The network input is a ``512 x 384`` (H x W) patch cut out of the original
image around the body box. The patch affine maps

* the box centre                       -> the patch centre ``(W/2, H/2)``,
* centre + ``R(rot) · (0, h/2)``       -> ``(W/2, H)`` (bottom middle),
* centre + ``R(rot) · (w/2, 0)``       -> ``(W, H/2)`` (right middle),

with ``R(θ) = [[cos θ, -sin θ], [sin θ, cos θ]]`` and ``(w, h)`` the box
size multiplied by the augmentation ``scale``. Pixel centres are at integer
coordinates (OpenCV convention).
"""
from typing import Sequence, Tuple

import cv2
import numpy as np

__all__ = [
    'get_patch_affine', 'generate_patch_image', 'apply_affine',
    'patch_camera', 'rotation_z'
]


def _rotate_2d(vec: np.ndarray, rot_rad: float) -> np.ndarray:
    """Rotate a 2D vector by ``rot_rad`` (x right, y down)."""
    c, s = np.cos(rot_rad), np.sin(rot_rad)
    return np.array([c * vec[0] - s * vec[1], s * vec[0] + c * vec[1]],
                    dtype=np.float64)


def _affine_from_3_points(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Exact (float64) 2x3 affine with ``A @ [src_i, 1] = dst_i``."""
    src_h = np.concatenate([src, np.ones((3, 1))], axis=1)  # (3, 3)
    # Solve src_h @ A.T = dst for the (3, 2) matrix A.T.
    return np.linalg.solve(src_h, dst).T


def get_patch_affine(center_xy: Sequence[float],
                     size_wh: Sequence[float],
                     scale: float,
                     rot_deg: float,
                     out_size_wh: Sequence[int],
                     inverse: bool = False) -> np.ndarray:
    """2x3 affine from the original image to the body patch.

    ``docs/official_conventions.md §3.1``.

    Args:
        center_xy (Sequence[float]): box centre ``(cx, cy)`` in source pixels.
        size_wh (Sequence[float]): box size ``(w, h)`` in source pixels.
        scale (float): augmentation scale; the source box is ``scale`` times
            larger (so the content shrinks for ``scale > 1``).
        rot_deg (float): augmentation rotation in degrees.
        out_size_wh (Sequence[int]): patch size ``(W, H)``, e.g. (384, 512).
        inverse (bool): return the patch -> source affine instead.

    Returns:
        np.ndarray: ``(2, 3)`` float64 affine matrix.
    """
    cx, cy = float(center_xy[0]), float(center_xy[1])
    src_w, src_h = float(size_wh[0]) * scale, float(size_wh[1]) * scale
    if src_w <= 0 or src_h <= 0:
        raise ValueError(f'get_patch_affine needs a positive box size, got '
                         f'size_wh={tuple(size_wh)} and scale={scale}.')
    dst_w, dst_h = float(out_size_wh[0]), float(out_size_wh[1])
    rot_rad = np.deg2rad(float(rot_deg))
    center = np.array([cx, cy], dtype=np.float64)
    src = np.stack([
        center,
        center + _rotate_2d(np.array([0.0, src_h * 0.5]), rot_rad),
        center + _rotate_2d(np.array([src_w * 0.5, 0.0]), rot_rad),
    ])
    dst_c = np.array([dst_w * 0.5, dst_h * 0.5])
    dst = np.stack([
        dst_c,
        dst_c + np.array([0.0, dst_h * 0.5]),
        dst_c + np.array([dst_w * 0.5, 0.0]),
    ])
    if inverse:
        return _affine_from_3_points(dst, src)
    return _affine_from_3_points(src, dst)


def apply_affine(points: np.ndarray, mat: np.ndarray) -> np.ndarray:
    """Apply a ``(2, 3)`` affine to ``(..., 2)`` points (float64 result)."""
    pts = np.asarray(points, dtype=np.float64)
    mat = np.asarray(mat, dtype=np.float64)
    return pts @ mat[:, :2].T + mat[:, 2]


def generate_patch_image(
        img: np.ndarray, bbox_xywh: Sequence[float], scale: float, rot: float,
        do_flip: bool, out_size_wh: Sequence[int]
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Warp the body box of ``img`` into a patch.

    ``docs/official_conventions.md §3.1``.

    When ``do_flip`` is set the image is mirrored first and the box centre
    moves to ``W_img - cx - 1``; both returned affines then refer to the
    MIRRORED original image (2D points must be mirrored with
    ``x <- W_img - 1 - x`` before ``img2bb_trans`` is applied).

    Args:
        img (np.ndarray): ``(H, W, C)`` or ``(H, W)`` image.
        bbox_xywh (Sequence[float]): body box ``(x, y, w, h)``.
        scale (float): augmentation scale (1 at test time).
        rot (float): augmentation rotation in degrees (0 at test time).
        do_flip (bool): mirror the image horizontally.
        out_size_wh (Sequence[int]): patch size ``(W, H)``.

    Returns:
        tuple: ``patch`` (``(H_out, W_out, C)``, same dtype as ``img``),
        ``img2bb_trans`` and ``bb2img_trans`` (both ``(2, 3)`` float32).
    """
    if img is None or not isinstance(img, np.ndarray) or img.ndim not in (2,
                                                                          3):
        raise ValueError('generate_patch_image expects an (H, W[, C]) numpy '
                         f'image, got {type(img).__name__}.')
    img_w = img.shape[1]
    if do_flip:
        img = np.ascontiguousarray(img[:, ::-1])
    x, y, w, h = [float(v) for v in bbox_xywh]
    cx, cy = x + 0.5 * w, y + 0.5 * h
    if do_flip:
        cx = img_w - cx - 1
    out_w, out_h = int(out_size_wh[0]), int(out_size_wh[1])
    img2bb = get_patch_affine((cx, cy), (w, h), scale, rot, (out_w, out_h))
    bb2img = get_patch_affine((cx, cy), (w, h),
                              scale,
                              rot, (out_w, out_h),
                              inverse=True)
    patch = cv2.warpAffine(
        img,
        img2bb, (out_w, out_h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0)
    return patch, img2bb.astype(np.float32), bb2img.astype(np.float32)


def patch_camera(focal: Sequence[float], princpt: Sequence[float],
                 img_w: int, do_flip: bool,
                 img2bb_trans: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Pinhole camera of the body patch for a camera of the original image.

    The patch affine is a similarity (isotropic scale ``s`` and rotation
    ``R2`` by ``-rot``) after an optional mirror. A 3D point ``X`` of the
    original camera frame, mirrored (``x <- -x``) and rotated with
    ``Rz(-rot)`` like the 3D targets, projects into the patch with focal
    ``s·f`` and principal point ``A·(c')``, where ``c' = (W_img-1-c_x, c_y)``
    if flipped. Exact for ``f_x = f_y``; the error grows with
    ``|f_x - f_y|`` (sub-pixel for real cameras). This camera only
    describes the packed 3D annotations (metainfo ``focal``/``princpt``,
    e.g. for visualisation); no training target is projected with it: the
    official order (``docs/official_conventions.md §3.1``) projects with the
    original camera and then applies the patch affine.

    Args:
        focal (Sequence[float]): ``(fx, fy)`` of the original image.
        princpt (Sequence[float]): ``(cx, cy)`` of the original image.
        img_w (int): original image width.
        do_flip (bool): whether the patch was mirrored.
        img2bb_trans (np.ndarray): ``(2, 3)`` affine from
            :func:`generate_patch_image`.

    Returns:
        tuple[np.ndarray, np.ndarray]: patch ``focal`` and ``princpt``
        (float32, shape (2,)).
    """
    mat = np.asarray(img2bb_trans, dtype=np.float64)
    s = float(np.sqrt(abs(np.linalg.det(mat[:, :2]))))
    c = np.asarray(princpt, dtype=np.float64).copy()
    if do_flip:
        c[0] = img_w - 1 - c[0]
    new_c = apply_affine(c, mat)
    new_f = np.asarray(focal, dtype=np.float64) * s
    return new_f.astype(np.float32), new_c.astype(np.float32)


def rotation_z(rot_deg: float) -> np.ndarray:
    """``Rz(θ)`` (3, 3) float64 with ``θ = rot_deg`` in degrees (x right,
    y down camera frame; ``Rz(-rot)`` matches the patch rotation)."""
    t = np.deg2rad(float(rot_deg))
    c, s = np.cos(t), np.sin(t)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
