# Copyright (c) interwild_mm contributors.
"""MANO pseudo-ground-truth of one hand fit, in the official step order.

The official ``get_mano_data`` (``docs/official_conventions.md §3.1``, last
bullet) does not apply one rigid transform to the fit: it places the hand in
the camera with a fixed sequence of steps, and the data targets depend on
that sequence. :func:`place_mano_fit` runs steps 1-6 (camera-frame geometry
of the ORIGINAL, un-rotated camera), :func:`get_mano_data` adds step 7 (the
2D joints: projection with the original camera, then the 2D patch affine)
and the ``Rz(-rot)`` rotation of the 3D targets.

Consequences the tests pin down (all reproduced on purpose):

* with extrinsics the regressed wrist lands on ``R·w' + t`` where ``w'`` is
  the wrist of the mesh posed with the camera-frame root orientation, not
  on ``R·w_world + t``; the two differ by ``R(R - I)(w0 - J0)`` (``w0`` the
  regressed wrist of the posed mesh, ``J0`` MANO's kinematic root);
* a flip moves the hand so that its wrist projects onto the mirrored pixel
  with the original camera; the other joints are off the mirrored pixels
  by ``(W - 1 - 2 c_x)(Z_wrist / Z_j - 1)`` px;
* the rotation lives in the 2D affine only, so the 2D targets are not the
  projections of the rotated 3D targets when ``f_x != f_y``.
"""
from typing import Dict, Optional

import numpy as np
import torch

from interwild_mm.geometry.camera import project_points
from interwild_mm.geometry.patch import apply_affine, rotation_z
from interwild_mm.geometry.rotation import (axis_angle_to_matrix,
                                            matrix_to_axis_angle,
                                            mirror_axis_angle)

__all__ = ['place_mano_fit', 'get_mano_data']

_OTHER_SIDE = {'right': 'left', 'left': 'right'}


def _mano_forward(layer: torch.nn.Module, pose: np.ndarray,
                  betas: np.ndarray,
                  transl: np.ndarray) -> Dict[str, np.ndarray]:
    """One MANO forward (float32 like the official loaders) -> float64."""
    t = (lambda a: torch.as_tensor(a, dtype=torch.float32)[None])
    with torch.no_grad():
        out = layer(t(pose[:3]), t(pose[3:]), t(betas), t(transl))
    return {k: v[0].double().numpy() for k, v in out.items()}


def _rotate_axis_angle(rot: np.ndarray, aa: np.ndarray) -> np.ndarray:
    """Axis-angle of ``rot · R(aa)`` (angle in [0, pi] like cv2.Rodrigues)."""
    mat = rot @ axis_angle_to_matrix(torch.from_numpy(aa)).numpy()
    return matrix_to_axis_angle(torch.from_numpy(mat)).numpy()


def _check_fit(fit: Dict) -> None:
    if fit.get('D') is not None:
        raise NotImplementedError(
            'This MANO fit carries fisheye distortion coefficients "D" '
            '(ReInterHand Ego cameras); the fisheye projection of the '
            'official get_mano_data is not implemented. Use the Mugsy '
            'cameras (pinhole) or drop "D" from the camera.')
    missing = [k for k in ('pose', 'shape', 'trans', 'focal', 'princpt')
               if fit.get(k) is None]
    if missing:
        raise KeyError(f'MANO fit misses {missing}; the datasets build fits '
                       'with interwild_mm.datasets.datasets.base.'
                       'parse_mano_param.')


def place_mano_fit(fit: Dict, layers: Dict, src_side: str, do_flip: bool,
                   img_w: int) -> Dict[str, np.ndarray]:
    """Steps 1-6 of the official ``get_mano_data`` (camera frame, metres).

    ``docs/official_conventions.md §3.1``: (1) with ``R`` the root
    orientation becomes ``R · root``; (2) flip: every axis-angle
    ``(a, b, c) <- (a, -b, -c)``, ``trans_x <- -trans_x`` and the other
    hand's model; (3) MANO with ``transl = trans``, joints by the 21-joint
    regressor; (4) flip: x shifted by ``-2 X_root``; (5) with ``R`` and
    ``t``: ``P <- P - root + R root + t``; (6) flip: x shifted by
    ``2 ((W_img - 1)/2 - c_x) / f_x · Z_root - 2 X_root``. ``root`` is the
    regressed wrist (joint 0) of the geometry at that step.

    Args:
        fit (dict): ``pose`` (48,) axis-angles [root, 15 joints], ``shape``
            (10,), ``trans`` (3,) metres, ``focal`` (2,) / ``princpt`` (2,)
            pixels of the original image, ``R`` (3, 3) world->camera and
            ``t`` (3,) metres (each ``None`` for camera-frame fits).
        layers (dict): ``{'right': ManoLayer, 'left': ManoLayer}``.
        src_side (str): ``'right'`` or ``'left'``, the side of the fit.
        do_flip (bool): horizontal flip of the image.
        img_w (int): width of the original image (pixels).

    Returns:
        dict: ``mesh`` (778, 3) and ``joints`` (21, 3) in the original
        camera frame (metres; after a flip the mirrored hand placed as
        described), ``pose`` (48,) the transformed axis-angles, ``shape``
        (10,) and ``side`` (str) of the model used.
    """
    _check_fit(fit)
    pose = np.asarray(fit['pose'], np.float64).reshape(16, 3).copy()
    betas = np.asarray(fit['shape'], np.float64).reshape(10)
    trans = np.asarray(fit['trans'], np.float64).reshape(3).copy()
    R = None if fit.get('R') is None else np.asarray(fit['R'], np.float64)
    t = None if fit.get('t') is None else np.asarray(fit['t'], np.float64)
    side = src_side
    if R is not None:  # (1)
        pose[0] = _rotate_axis_angle(R, pose[0])
    if do_flip:  # (2)
        pose = mirror_axis_angle(torch.from_numpy(pose)).numpy()
        trans[0] = -trans[0]
        side = _OTHER_SIDE[src_side]
    out = _mano_forward(layers[side], pose.reshape(48), betas, trans)  # (3)
    mesh, joints = out['vertices'], out['joints']
    if do_flip:  # (4)
        shift = -2.0 * joints[0, 0]
        mesh[:, 0] += shift
        joints[:, 0] += shift
    if R is not None and t is not None:  # (5)
        root = joints[0].copy()
        offset = R @ root + t - root
        mesh = mesh + offset
        joints = joints + offset
    if do_flip:  # (6)
        fx, cx = float(fit['focal'][0]), float(fit['princpt'][0])
        shift = (2.0 * ((img_w - 1) / 2.0 - cx) / fx * joints[0, 2] -
                 2.0 * joints[0, 0])
        mesh[:, 0] += shift
        joints[:, 0] += shift
    return dict(mesh=mesh, joints=joints, pose=pose.reshape(48),
                shape=betas, side=side)


def get_mano_data(fit: Dict,
                  layers: Dict,
                  src_side: str,
                  do_flip: bool,
                  rot: float,
                  img_w: int,
                  img2bb_trans: np.ndarray,
                  placed: Optional[Dict] = None) -> Dict[str, np.ndarray]:
    """MANO targets of one hand fit after the data augmentation.

    Steps 1-6 are :func:`place_mano_fit`; then (7) the joints are projected
    with the fit's ORIGINAL ``focal``/``princpt`` (``u = X/Z·f + c``) and
    moved by ``img2bb_trans`` (the patch affine of the, possibly mirrored,
    original image; it carries scale and rotation). The 3D geometry and the
    root orientation are then rotated by ``Rz(-rot)``
    (``docs/official_conventions.md §3.1``).

    Args:
        fit (dict): see :func:`place_mano_fit`.
        layers (dict): ``{'right': ManoLayer, 'left': ManoLayer}``.
        src_side (str): side of the fit (before the flip).
        do_flip (bool): horizontal flip.
        rot (float): augmentation rotation in degrees.
        img_w (int): original image width (pixels).
        img2bb_trans (np.ndarray): (2, 3) patch affine.
        placed (dict, optional): a precomputed :func:`place_mano_fit`
            result for the same arguments.

    The targets only use the wrist-relative 3D geometry. The absolute
    ``mesh``/``joints`` returned (used for the evaluation GT mesh) are put in
    the frame of the other 3D annotations: for a flip, step 6's x shift is
    replaced by the pure mirror (the wrist at ``-X`` of step 5, i.e. minus
    the constant ``(W_img - 1 - 2 c_x) Z_root / f_x``), like
    ``joint_cam`` under :class:`InterWildBodyAffine`.

    Returns:
        dict: ``mesh`` (778, 3) and ``joints`` (21, 3) (metres, the frame
        described above, rotated about the camera centre by ``Rz(-rot)``),
        ``joints_2d`` (21, 2) patch pixels, ``pose`` (48,) [root, hand]
        axis-angles of the output side (root rotated by ``Rz(-rot)``),
        ``shape`` (10,).
    """
    if placed is None:
        placed = place_mano_fit(fit, layers, src_side, do_flip, img_w)
    focal = np.asarray(fit['focal'], np.float64).reshape(2)
    princpt = np.asarray(fit['princpt'], np.float64).reshape(2)
    joints, mesh = placed['joints'], placed['mesh']
    uv = project_points(
        torch.from_numpy(joints), torch.from_numpy(focal),
        torch.from_numpy(princpt), eps=0.0).numpy()
    joints_2d = apply_affine(uv, img2bb_trans)
    if do_flip:
        back = np.array([(img_w - 1 - 2.0 * princpt[0]) / focal[0] *
                         joints[0, 2], 0.0, 0.0])
        joints, mesh = joints - back, mesh - back
    rz = rotation_z(-float(rot))
    pose = placed['pose'].copy()
    pose[:3] = _rotate_axis_angle(rz, pose[:3])
    return dict(
        mesh=mesh @ rz.T,
        joints=joints @ rz.T,
        joints_2d=joints_2d,
        pose=pose,
        shape=placed['shape'].copy())
