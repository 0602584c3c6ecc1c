# Copyright (c) interwild_mm contributors.
"""The official MANO pseudo-GT step list, written out in float64 for tests.

Independent of ``interwild_mm.datasets.transforms.mano_data``: rotations via
scipy, the patch affine in closed form, MANO through float64 copies of the
synthetic ``ManoLayer``s (docs/official_conventions.md §3.1).
"""
import copy

import numpy as np
import torch
from scipy.spatial.transform import Rotation

MIRROR = np.diag([-1.0, 1.0, 1.0])
OTHER = {'right': 'left', 'left': 'right'}


def float64_layers(mano_dir):
    """float64 ManoLayers of both sides."""
    from interwild_mm.mano.layer import ManoLayer
    return {
        s: copy.deepcopy(ManoLayer(mano_dir, side=s)).double().eval()
        for s in ('right', 'left')
    }


def mano64(layer, pose, shape, trans):
    """(778, 3) vertices and (21, 3) regressed joints, float64."""
    pose = np.asarray(pose, np.float64).reshape(48)
    args = [pose[None, :3], pose[None, 3:],
            np.asarray(shape, np.float64)[None],
            np.asarray(trans, np.float64)[None]]
    with torch.no_grad():
        out = layer(*[torch.tensor(a, dtype=torch.float64) for a in args])
    return out['vertices'][0].numpy(), out['joints'][0].numpy()


def rotz(deg):
    t = np.deg2rad(deg)
    return np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t),
                                                  np.cos(t), 0], [0, 0, 1]])


def official_place(layers, fit, side, flip, img_w):
    """Steps 1-6: mesh (778, 3), joints (21, 3), pose (16, 3), side."""
    pose = np.asarray(fit['pose'], np.float64).reshape(16, 3).copy()
    trans = np.asarray(fit['trans'], np.float64).reshape(3).copy()
    R = fit.get('R')
    t = fit.get('t')
    if R is not None:
        R = np.asarray(R, np.float64)
        pose[0] = Rotation.from_matrix(
            R @ Rotation.from_rotvec(pose[0]).as_matrix()).as_rotvec()
    if flip:
        pose[:, 1:] *= -1
        trans[0] *= -1
        side = OTHER[side]
    V, J = mano64(layers[side], pose, fit['shape'], trans)
    if flip:
        dx = -2 * J[0, 0]
        V[:, 0] += dx
        J[:, 0] += dx
    if R is not None and t is not None:
        root = J[0].copy()
        V = V - root + R @ root + np.asarray(t, np.float64)
        J = J - root + R @ root + np.asarray(t, np.float64)
    if flip:
        fx, cx = fit['focal'][0], fit['princpt'][0]
        dx = 2 * ((img_w - 1) / 2 - cx) / fx * J[0, 2] - 2 * J[0, 0]
        V[:, 0] += dx
        J[:, 0] += dx
    return V, J, pose, side


def patch_affine(body_xywh, img_w, scale, rot, flip, out_wh=(384, 512)):
    """Closed-form 2x3 patch affine: x' = diag(W/(w s), H/(h s)) R(-rot)
    (x - c) + (W/2, H/2), c the (mirrored) body-box centre."""
    x, y, w, h = [float(v) for v in body_xywh]
    c = np.array([x + w / 2, y + h / 2])
    if flip:
        c[0] = img_w - c[0] - 1
    A = np.diag([out_wh[0] / (w * scale), out_wh[1] /
                 (h * scale)]) @ rotz(-rot)[:2, :2]
    return np.concatenate([A, (np.array(out_wh) / 2 - A @ c)[:, None]], 1)


def official_targets(layers, fit, side, flip, rot, img_w, affine):
    """Per-hand MANO targets of the official loader.

    Returns:
        dict: ``joint_img`` (21, 3) on the 48x64x8 grid, ``trunc`` (21,),
        ``joint_cam`` / ``mesh_cam`` wrist-relative and rotated by Rz(-rot),
        ``root_mat`` (3, 3) the root rotation target, ``side``.
    """
    V, J, pose, out_side = official_place(layers, fit, side, flip, img_w)
    f = np.asarray(fit['focal'], np.float64)
    c = np.asarray(fit['princpt'], np.float64)
    uv = J[:, :2] / J[:, 2:] * f + c
    xy = uv @ affine[:, :2].T + affine[:, 2]
    z = (J[:, 2] - J[0, 2]) / 0.15
    grid = np.stack([xy[:, 0] * 48 / 384, xy[:, 1] * 64 / 512,
                     (z + 1) / 2 * 8], 1)
    inside = ((grid >= 0) & (grid < [48, 64, 8])).all(1)
    rz = rotz(-rot)
    return dict(
        joint_img=grid,
        trunc=inside.astype(np.float64),
        joint_cam=(J - J[0]) @ rz.T,
        mesh_cam=(V - J[0]) @ rz.T,
        root_mat=rz @ Rotation.from_rotvec(pose[0]).as_matrix(),
        side=out_side)
