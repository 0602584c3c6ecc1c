# Copyright (c) interwild_mm contributors.
"""Placing InterWild hands in the real camera of the original image.

InterWild predicts each hand's wrist ``root_cam`` in a *virtual* camera of
its own 256x256 hand crop (focal 5000 px, principal point (128, 128), spec
1.9): the two hands are not in a common frame, and the virtual camera is not
the camera that took the photo. This module turns the predictions into
metric 3D positions in the real camera ``K = [[fx, 0, cx], [0, fy, cy]]`` of
the ORIGINAL image (pixels of the original image; x right, y down, z
forward, metres).

Derivation (per hand):

1. The crop is an axis-aligned similarity of the original image: a crop
   pixel ``u'`` maps to the original pixel ``u = a * u' + b`` (per axis;
   ``a = crop side in original px / 256``). Substituting the virtual
   projection ``u' = 5000 X / Z + 128`` gives the virtual camera *expressed in
   original pixels*: focal ``f_v = 5000 a`` and principal point
   ``c_v = a * 128 + b`` (the crop centre in the original image),
   :func:`crop_camera_in_image`.
2. A hand of metric size ``S`` at depth ``Z`` spans ``f S / Z`` pixels. For the
   real camera to see the hand at the same pixel size the depth must scale by
   ``f / f_v``: ``Z_real = Z_v * sqrt(fx fy) / sqrt(f_vx f_vy)``.
3. The wrist must land on the same pixel ``u_w = f_v X_v / Z_v + c_v``;
   back-projecting it through ``K`` at depth ``Z_real`` gives
   ``X_real = (u_w - cx) Z_real / fx`` (same for y), :func:`place_root_scale`.
4. (Default, ``method='fit'``) Steps 2-3 only pin the wrist; the other joints
   move by a few pixels because the real camera is usually much closer than
   the virtual one (f = 5000 on 256 px is nearly orthographic), so depth
   offsets inside the hand project differently. :func:`fit_translation`
   therefore refines the translation ``T`` of the rigid, root-relative hand so
   that all its joints project onto their 2D targets (the virtual-camera
   projections of the same joints, mapped to the original image): with
   ``P_j`` root-relative joints and targets ``u_j``, each joint gives two
   equations linear in ``T``:
   ``fx (P_jx + T_x) - (u_jx - cx)(P_jz + T_z) = 0`` (and y), solved by
   least squares, re-weighted by ``1 / (P_jz + T_z)`` to approximate the
   pixel error. The closed form of steps 2-3 is the initial value and the
   fallback (degenerate fits).

Two hands in one frame: the rigid two-hand body is "right joints at ``T``,
left joints at ``T + rel_trans``" (``rel_trans`` = left wrist - right wrist,
TransNet); ``T`` is fitted over all 42 joints at once (the perspective
counterpart of the official demo's orthographic fit over 42 joints).

Degenerate predictions (a hand box of zero size, so the virtual camera has
focal 0; joints at or behind a camera; NaN / inf values) cannot be placed:
:func:`place_hand` raises :class:`PlacementError` naming the cause instead of
returning infinite or NaN positions.
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch

from interwild_mm.geometry.camera import project_points

__all__ = [
    'VIRTUAL_FOCAL', 'VIRTUAL_PRINCPT', 'VIRTUAL_CROP_SIZE', 'MIN_DEPTH',
    'PlacementError', 'default_intrinsics', 'image_intrinsics',
    'hand_crop_box_in_patch',
    'crop_to_image_affine', 'crop_camera_in_image', 'project_perspective',
    'place_root_scale', 'fit_translation', 'check_in_front', 'place_hand'
]

#: Virtual hand-crop camera of InterWild (docs/official_conventions.md §0).
VIRTUAL_FOCAL = 5000.0
VIRTUAL_PRINCPT = 128.0
VIRTUAL_CROP_SIZE = 256.0
#: closest depth (metres) a placed joint may have; nearer is degenerate.
MIN_DEPTH = 1e-3


class PlacementError(ValueError):
    """A hand cannot be placed in the real camera (degenerate prediction).

    The message names the cause (zero-size hand box, joints behind a
    camera, non-finite values).
    """


def default_intrinsics(img_h: int,
                       img_w: int) -> Tuple[np.ndarray, np.ndarray]:
    """Default pinhole intrinsics of an image with unknown calibration.

    ``f = sqrt(W^2 + H^2)`` (the CLIFF convention, about 53 degrees diagonal
    field of view, a normal lens) and the principal point at the image centre
    ``((W - 1) / 2, (H - 1) / 2)`` (pixel centres at integers).

    Args:
        img_h (int): image height in pixels.
        img_w (int): image width in pixels.

    Returns:
        tuple: ``focal (2,)`` and ``princpt (2,)`` float64, original px.
    """
    f = float(np.hypot(img_w, img_h))
    return (np.array([f, f], dtype=np.float64),
            np.array([(img_w - 1) / 2.0, (img_h - 1) / 2.0],
                     dtype=np.float64))


def image_intrinsics(img_h: int, img_w: int,
                     focal: Optional[Sequence[float]] = None,
                     princpt: Optional[Sequence[float]] = None
                     ) -> Tuple[np.ndarray, np.ndarray, str]:
    """The user's intrinsics where given, else :func:`default_intrinsics`.

    Args:
        img_h, img_w (int): image size in pixels.
        focal (Sequence[float], optional): ``fx[, fy]`` in pixels (> 0).
        princpt (Sequence[float], optional): ``cx, cy`` in pixels.

    Returns:
        tuple: ``focal (2,)``, ``princpt (2,)`` float64 and a description
        of their source.
    """
    f, c = default_intrinsics(img_h, img_w)
    src = ['default focal sqrt(W^2+H^2)',
           'default principal point ((W-1)/2, (H-1)/2)']
    if focal is not None:
        f = np.broadcast_to(np.asarray(focal, np.float64).reshape(-1),
                            (2, )).copy()
        if not np.all(f > 0):
            raise ValueError(f'focal must be > 0, got {focal}.')
        src[0] = 'given focal'
    if princpt is not None:
        c = np.asarray(princpt, np.float64).reshape(2)
        src[1] = 'given principal point'
    return f, c, ', '.join(src)


def hand_crop_box_in_patch(hand_bbox_xyxy_img: Sequence[float],
                           bb2img_trans: np.ndarray,
                           extension: float = 2.0) -> np.ndarray:
    """Recover the square hand-crop box (network input pixels) of a hand.

    The network's output hand box is ``restore_bbox(c, s, None, 1.0)`` and its
    crop box ``restore_bbox(c, s, 1.0, 2.0)``
    (docs/official_conventions.md §1.4): same centre, the
    longer side doubled, square. Squaring in the 192x256 body space equals
    squaring in the 384x512 input (both axes x2).

    Args:
        hand_bbox_xyxy_img: ``(4,)`` predicted hand box, xyxy, original px.
        bb2img_trans (np.ndarray): ``(2, 3)`` input-patch -> original affine
            (axis-aligned, no rotation at test time).
        extension (float): crop extension. Defaults to 2.0.

    Returns:
        np.ndarray: ``(4,)`` float64 crop box xyxy in 384x512 input pixels.
    """
    m = np.asarray(bb2img_trans, dtype=np.float64).reshape(2, 3)
    inv = np.linalg.inv(np.vstack([m, [0.0, 0.0, 1.0]]))[:2]
    box = np.asarray(hand_bbox_xyxy_img, dtype=np.float64).reshape(2, 2)
    pts = box @ inv[:, :2].T + inv[:, 2]
    lo, hi = pts.min(0), pts.max(0)
    center = (lo + hi) / 2.0
    side = float((hi - lo).max()) * extension
    return np.concatenate([center - side / 2.0, center + side / 2.0])


def crop_to_image_affine(crop_box_xyxy_patch: Sequence[float],
                         bb2img_trans: np.ndarray,
                         crop_size: float = VIRTUAL_CROP_SIZE) -> np.ndarray:
    """Affine ``(2, 3)`` from hand-crop pixels to original-image pixels.

    Inverse of the crop affine of docs/official_conventions.md §1.5
    (``x' = (x - cx) 256 / w + 128``,
    the ``1e-8`` guard ignored), followed by ``bb2img_trans``.

    Args:
        crop_box_xyxy_patch: ``(4,)`` crop box in input-patch pixels.
        bb2img_trans (np.ndarray): ``(2, 3)`` patch -> original affine.
        crop_size (float): crop side in pixels. Defaults to 256.

    Returns:
        np.ndarray: ``(2, 3)`` float64 affine.
    """
    x1, y1, x2, y2 = np.asarray(crop_box_xyxy_patch, dtype=np.float64)
    sx, sy = (x2 - x1) / crop_size, (y2 - y1) / crop_size
    cx, cy = (x1 + x2) / 2.0, (y1 + y2) / 2.0
    half = crop_size / 2.0
    crop2patch = np.array([[sx, 0.0, cx - half * sx],
                           [0.0, sy, cy - half * sy], [0.0, 0.0, 1.0]])
    m = np.vstack([np.asarray(bb2img_trans, np.float64).reshape(2, 3),
                   [0.0, 0.0, 1.0]])
    return (m @ crop2patch)[:2]


def crop_camera_in_image(crop2img: np.ndarray,
                         focal: float = VIRTUAL_FOCAL,
                         princpt: float = VIRTUAL_PRINCPT
                         ) -> Tuple[np.ndarray, np.ndarray]:
    """The virtual crop camera expressed in original-image pixels.

    Args:
        crop2img (np.ndarray): ``(2, 3)`` axis-aligned crop -> original
            affine (:func:`crop_to_image_affine`).
        focal (float): virtual focal in crop pixels. Defaults to 5000.
        princpt (float): virtual principal point in crop pixels (both axes).
            Defaults to 128.

    Returns:
        tuple: ``focal (2,)`` and ``princpt (2,)`` float64 in original px.

    Raises:
        ValueError: if ``crop2img`` has a rotation/shear component.
        PlacementError: if the crop has zero or non-finite size.
    """
    m = np.asarray(crop2img, dtype=np.float64).reshape(2, 3)
    if abs(m[0, 1]) > 1e-9 * abs(m[0, 0]) or abs(m[1, 0]) > 1e-9 * abs(
            m[1, 1]):
        raise ValueError('crop_camera_in_image needs an axis-aligned crop '
                         f'affine (no rotation), got {m.tolist()}.')
    a = np.array([m[0, 0], m[1, 1]])
    if not (np.all(np.isfinite(m)) and np.all(a > 0)):
        raise PlacementError(
            'the hand box spans no pixels (crop -> image scale '
            f'{a.tolist()}), so its virtual crop camera has no focal length.')
    return focal * a, a * princpt + m[:, 2]


def project_perspective(points: np.ndarray, focal: Sequence[float],
                        princpt: Sequence[float]) -> np.ndarray:
    """Pinhole projection ``u = f X / Z + c`` of ``(..., 3)`` points.

    float64 numpy front end of
    :func:`interwild_mm.geometry.camera.project_points` without the depth
    offset (``eps=0``).

    Args:
        points (np.ndarray): ``(..., 3)`` camera coordinates.
        focal, princpt: ``(2,)`` intrinsics in pixels.

    Returns:
        np.ndarray: ``(..., 2)`` float64 pixel coordinates.
    """
    p = torch.from_numpy(np.asarray(points, dtype=np.float64))
    f = torch.from_numpy(np.asarray(focal, dtype=np.float64))
    c = torch.from_numpy(np.asarray(princpt, dtype=np.float64))
    return project_points(p, f, c, eps=0.0).numpy()


def place_root_scale(root_cam_virtual: Sequence[float],
                     focal_virtual: Sequence[float],
                     princpt_virtual: Sequence[float],
                     focal: Sequence[float],
                     princpt: Sequence[float]) -> np.ndarray:
    """Closed-form wrist position in the real camera (steps 2-3 above).

    Args:
        root_cam_virtual: ``(3,)`` wrist in the virtual crop camera, metres.
        focal_virtual, princpt_virtual: ``(2,)`` virtual camera in original
            px (:func:`crop_camera_in_image`).
        focal, princpt: ``(2,)`` real intrinsics, original px.

    Returns:
        np.ndarray: ``(3,)`` float64 wrist position, metres, real camera.

    Raises:
        PlacementError: if the wrist is not in front of the virtual camera
            or a value is not finite.
    """
    r = np.asarray(root_cam_virtual, dtype=np.float64)
    check_in_front(r[None], 'the wrist in the virtual crop camera')
    fv = np.asarray(focal_virtual, dtype=np.float64)
    f = np.asarray(focal, dtype=np.float64)
    c = np.asarray(princpt, dtype=np.float64)
    uv = project_perspective(r, fv, princpt_virtual)
    z = r[2] * np.sqrt(f[0] * f[1]) / np.sqrt(fv[0] * fv[1])
    return np.array([(uv[0] - c[0]) * z / f[0], (uv[1] - c[1]) * z / f[1], z])


def fit_translation(points_rel: np.ndarray,
                    targets_uv: np.ndarray,
                    focal: Sequence[float],
                    princpt: Sequence[float],
                    init: Optional[Sequence[float]] = None,
                    weights: Optional[np.ndarray] = None,
                    num_iters: int = 3,
                    min_depth: float = 1e-3) -> np.ndarray:
    """Translation ``T`` so that ``points_rel + T`` projects onto the targets.

    Linear least squares on ``f (P + T)_xy - (u - c)(P + T)_z = 0``,
    iteratively re-weighted by ``1 / (P_z + T_z)`` (pixel error).

    Args:
        points_rel (np.ndarray): ``(P, 3)`` rigid points (metres), e.g.
            wrist-relative joints.
        targets_uv (np.ndarray): ``(P, 2)`` target pixels.
        focal, princpt: ``(2,)`` intrinsics in pixels.
        init: ``(3,)`` initial ``T`` (sets the first weights and is returned
            when the fit is degenerate). Defaults to None (unit weights).
        weights (np.ndarray, optional): ``(P,)`` per-point confidence.
        num_iters (int): re-weighting iterations. Defaults to 3.
        min_depth (float): a fit that puts any point closer than this (or
            behind the camera) is rejected. Defaults to 1 mm.

    Returns:
        np.ndarray: ``(3,)`` float64 translation, metres.

    Raises:
        ValueError: on shape mismatch.
        PlacementError: if the fit is degenerate and no ``init`` was
            given.
    """
    p = np.asarray(points_rel, dtype=np.float64).reshape(-1, 3)
    uv = np.asarray(targets_uv, dtype=np.float64).reshape(-1, 2)
    if p.shape[0] != uv.shape[0] or p.shape[0] < 2:
        raise ValueError('fit_translation needs matching (P, 3) points and '
                         f'(P, 2) targets with P >= 2, got {p.shape} and '
                         f'{uv.shape}.')
    f = np.asarray(focal, dtype=np.float64)
    d = uv - np.asarray(princpt, dtype=np.float64)
    w_pts = np.ones(len(p)) if weights is None else np.asarray(
        weights, np.float64).reshape(-1)
    # rows: x: [fx, 0, -dx] T = dx Pz - fx Px ; y: [0, fy, -dy] T = ...
    a = np.zeros((2 * len(p), 3))
    a[0::2, 0] = f[0]
    a[0::2, 2] = -d[:, 0]
    a[1::2, 1] = f[1]
    a[1::2, 2] = -d[:, 1]
    b = np.empty(2 * len(p))
    b[0::2] = d[:, 0] * p[:, 2] - f[0] * p[:, 0]
    b[1::2] = d[:, 1] * p[:, 2] - f[1] * p[:, 1]
    t = None if init is None else np.asarray(init, np.float64).reshape(3)
    result = None
    for _ in range(max(1, num_iters)):
        depth = np.ones(len(p)) if t is None else p[:, 2] + t[2]
        if np.any(depth <= min_depth):
            break
        w = np.repeat(w_pts / depth, 2)
        sol, *_ = np.linalg.lstsq(a * w[:, None], b * w, rcond=None)
        if not np.all(np.isfinite(sol)) or np.any(p[:, 2] + sol[2] <=
                                                   min_depth):
            break
        t = result = sol
    if result is None:
        if init is None:
            raise PlacementError('fit_translation: degenerate fit (points '
                                 'behind the camera) and no init given.')
        return np.asarray(init, np.float64).reshape(3).copy()
    return result


def check_in_front(points: np.ndarray, where: str,
                   min_depth: float = MIN_DEPTH) -> None:
    """Raise :class:`PlacementError` unless all ``(P, 3)`` points (camera
    coordinates, metres; ``where`` names them) are finite and deeper than
    ``min_depth``."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    if not np.all(np.isfinite(p)):
        raise PlacementError(f'{where} has non-finite (NaN or inf) '
                             'coordinates.')
    if np.any(p[:, 2] <= min_depth):
        raise PlacementError(
            f'{where} lies at or behind the camera (smallest depth '
            f'{p[:, 2].min():.4g} m, needs > {min_depth:g} m).')


def place_hand(bbox_xyxy: Sequence[float],
               root_cam_virtual: Sequence[float],
               joints_rel: np.ndarray,
               bb2img_trans: np.ndarray,
               focal: Sequence[float],
               princpt: Sequence[float],
               method: str = 'fit') -> Dict[str, np.ndarray]:
    """Place one hand in the real camera (steps 1-4 of the module doc).

    Args:
        bbox_xyxy: ``(4,)`` predicted hand box, original px.
        root_cam_virtual: ``(3,)`` wrist in the virtual crop camera, metres.
        joints_rel (np.ndarray): ``(J, 3)`` wrist-relative joints, metres.
        bb2img_trans (np.ndarray): ``(2, 3)`` patch -> original affine.
        focal, princpt: ``(2,)`` real intrinsics, original px.
        method (str): ``'fit'`` (least squares over all joints) or
            ``'scale'`` (closed form, wrist only).

    Returns:
        dict: ``virtual_camera`` (``focal``, ``princpt`` in original px),
        ``targets_2d`` ``(J, 2)`` virtual projections of the joints and
        ``wrist_cam`` ``(3,)``, all float64.

    Raises:
        PlacementError: for a degenerate prediction (zero-size box, joints
            behind the virtual or the real camera, NaN / inf values).
    """
    box = np.asarray(bbox_xyxy, dtype=np.float64).reshape(4)
    if not np.all(np.isfinite(box)):
        raise PlacementError('the hand box has non-finite (NaN or inf) '
                             'coordinates.')
    crop = hand_crop_box_in_patch(box, bb2img_trans)
    fv, cv = crop_camera_in_image(crop_to_image_affine(crop, bb2img_trans))
    rel = np.asarray(joints_rel, dtype=np.float64).reshape(-1, 3)
    joints_v = rel + np.asarray(root_cam_virtual, np.float64).reshape(3)
    check_in_front(joints_v, 'a joint in the virtual crop camera')
    targets = project_perspective(joints_v, fv, cv)
    wrist = place_root_scale(root_cam_virtual, fv, cv, focal, princpt)
    if method == 'fit':
        wrist = fit_translation(rel, targets, focal, princpt, init=wrist)
    check_in_front(rel + wrist, 'a placed joint in the real camera')
    return dict(virtual_camera=dict(focal=fv, princpt=cv),
                targets_2d=targets, wrist_cam=wrist)
