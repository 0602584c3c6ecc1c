# Copyright (c) interwild_mm contributors.
"""MANO pseudo-ground-truth of one hand in the augmented camera frame.

The ``get_mano_data`` step of spec 3.1, written as one rigid(+mirror)
transform of the fit:

    world/fit frame --R, t--> camera --M (mirror if flipped)--> --Rz(-rot)-->

with ``Q = Rz(-rot) · M · R`` and ``b = Rz(-rot) · M · t``. The mesh is
evaluated with the model of the *output* side on the transformed parameters
(root orientation ``Q_rot = Rz(-rot) · M R R0 M`` i.e. mirrored axis-angles
``(x, -y, -z)`` on flip; finger poses mirrored on flip), then translated so
that its regressed wrist lands on ``Q · wrist_world + b``, where
``wrist_world`` is the regressed wrist of the original fit. For a mirror
symmetric MANO pair (true for the official files after the shapedirs fix)
this is exactly the mirrored/rotated original mesh; in every case the mesh
target equals the MANO mesh of the pose/shape targets. Unlike the official
code the flipped geometry is not re-shifted for its original principal
point: the patch camera of :func:`interwild_mm.geometry.patch.patch_camera`
(mirrored principal point) projects it exactly.
"""
from typing import Dict, Optional

import numpy as np
import torch

from interwild_mm.geometry.camera import project_points
from interwild_mm.geometry.rotation import (axis_angle_to_matrix,
                                            matrix_to_axis_angle,
                                            mirror_axis_angle)


def _forward(layer, root: np.ndarray, hand: np.ndarray, betas: np.ndarray,
             transl: Optional[np.ndarray]) -> Dict[str, np.ndarray]:
    t = (lambda a: torch.as_tensor(a, dtype=torch.float32)[None])
    with torch.no_grad():
        out = layer(
            t(root), t(hand), t(betas),
            None if transl is None else t(transl))
    return {k: v[0].double().numpy() for k, v in out.items()}


def get_mano_data(fit: Dict, layers: Dict, src_side: str, do_flip: bool,
                  aug_rot_mat: np.ndarray, img_w: int,
                  img2bb_trans: np.ndarray) -> Dict[str, np.ndarray]:
    """MANO targets of one hand fit after the data augmentation.

    Args:
        fit (dict): ``pose`` (48,), ``shape`` (10,), ``trans`` (3,) metres,
            ``focal`` (2,), ``princpt`` (2,) of the original image, ``R``
            (3, 3) / ``t`` (3,) metres world->camera or ``None``.
        layers (dict): ``{'right': ManoLayer, 'left': ManoLayer}``.
        src_side (str): side of the fit (before the flip).
        do_flip (bool): horizontal flip.
        aug_rot_mat (np.ndarray): ``Rz(-rot) · M`` (3, 3).
        img_w (int): original image width.
        img2bb_trans (np.ndarray): (2, 3) patch affine.

    Returns:
        dict: ``mesh`` (778, 3) and ``joints`` (21, 3) in the augmented
        camera frame (metres, absolute), ``joints_2d`` (21, 2) patch pixels,
        ``pose`` (48,) [root, hand] axis-angles of the output side,
        ``shape`` (10,).
    """
    from interwild_mm.geometry.patch import patch_camera

    pose = np.asarray(fit['pose'], np.float64).reshape(16, 3)
    betas = np.asarray(fit['shape'], np.float64).reshape(10)
    trans = np.asarray(fit['trans'], np.float64).reshape(3)
    R = np.eye(3) if fit.get('R') is None else np.asarray(fit['R'], np.float64)
    t = np.zeros(3) if fit.get('t') is None else np.asarray(
        fit['t'], np.float64)
    dst_side = {'right': 'left', 'left': 'right'}[src_side] if do_flip \
        else src_side

    # wrist of the original fit, in its own (world) frame
    src = _forward(layers[src_side], pose[0], pose[1:].reshape(45), betas,
                   trans)
    wrist_world = src['joints'][0]

    rot = np.asarray(aug_rot_mat, np.float64)  # Rz(-rot) · M
    root_mat = axis_angle_to_matrix(torch.from_numpy(pose[0])).numpy()
    root_cam = R @ root_mat
    hand = torch.from_numpy(pose[1:])
    if do_flip:
        mirror = np.diag([-1.0, 1.0, 1.0])
        # M (R R0) M is the mirrored rotation; Rz(-rot) M (R R0) M
        root_new = rot @ root_cam @ mirror
        hand = mirror_axis_angle(hand)
    else:
        root_new = rot @ root_cam
    root_aa = matrix_to_axis_angle(torch.from_numpy(root_new)).numpy()
    hand_aa = hand.numpy().reshape(45)

    out = _forward(layers[dst_side], root_aa, hand_aa, betas, None)
    wrist_new = rot @ (R @ wrist_world + t)
    offset = wrist_new - out['joints'][0]
    mesh = out['vertices'] + offset
    joints = out['joints'] + offset

    focal, princpt = patch_camera(fit['focal'], fit['princpt'], img_w,
                                  do_flip, img2bb_trans)
    joints_2d = project_points(
        torch.from_numpy(joints), torch.from_numpy(focal.astype(np.float64)),
        torch.from_numpy(princpt.astype(np.float64)), eps=0.0).numpy()
    return dict(
        mesh=mesh,
        joints=joints,
        joints_2d=joints_2d,
        pose=np.concatenate([root_aa, hand_aa]),
        shape=betas)
