# Copyright (c) interwild_mm contributors.
"""Pure numpy helpers of the InterWild evaluation protocol
(docs/official_conventions.md §4).

Every function works on ``float64`` numpy arrays; units are whatever the
caller passes (the metric converts metres to millimetres before calling).

Contents:

* root alignment: :func:`regress_joints`, :func:`root_align_mesh`,
  :func:`root_align_joints`;
* point errors: :func:`point_errors`;
* aggregation: :func:`per_joint_means`, :func:`mean_of_per_joint_means`;
* boxes: :func:`box_iou_xyxy` (:func:`interwild_mm.geometry.box_iou`,
  ``inter / (union + 1e-5)``), :func:`mesh_bbox_xyxy`;
* optional protocols: :func:`procrustes_align` (wraps mmpose's
  ``compute_similarity_transform``) and :func:`intaghand_align`.
"""
from typing import Sequence, Tuple

import numpy as np
import torch

from interwild_mm.geometry.bbox import bbox_from_points
from interwild_mm.geometry.bbox import box_iou as box_iou_xyxy
from interwild_mm.geometry.camera import project_points

__all__ = [
    'regress_joints', 'root_align_mesh', 'root_align_joints', 'point_errors',
    'per_joint_means', 'mean_of_per_joint_means', 'box_iou_xyxy',
    'mesh_bbox_xyxy', 'procrustes_align', 'intaghand_align'
]


def _check_points(x: np.ndarray, name: str) -> None:
    if x.ndim < 2 or x.shape[-1] != 3:
        raise ValueError(f'{name} must have shape (..., P, 3), got '
                         f'{tuple(x.shape)}.')


def regress_joints(mesh: np.ndarray,
                   joint_regressor: np.ndarray) -> np.ndarray:
    """Apply a ``(J, V)`` joint regressor to meshes.

    Args:
        mesh (np.ndarray): ``(..., V, 3)`` vertices.
        joint_regressor (np.ndarray): ``(J, V)`` regressor (rows are vertex
            weights; row 0 of the SH regressor is the wrist).

    Returns:
        np.ndarray: ``(..., J, 3)`` joints.
    """
    _check_points(mesh, 'mesh')
    if joint_regressor.ndim != 2 or joint_regressor.shape[1] != mesh.shape[-2]:
        raise ValueError(
            f'joint_regressor must be (J, V) with V = {mesh.shape[-2]} '
            f'(the mesh vertex count), got {tuple(joint_regressor.shape)}.')
    return np.einsum('jv,...vc->...jc', joint_regressor, mesh)


def root_align_mesh(mesh: np.ndarray,
                    joint_regressor: np.ndarray,
                    root_idx: int = 0) -> np.ndarray:
    """Subtract the regressed root joint (wrist: ``root_idx=0``) from a mesh.

    This is InterWild's mesh root alignment: the wrist is
    ``joint_regressor[root_idx] @ mesh``, for GT and predicted meshes alike.

    Args:
        mesh (np.ndarray): ``(..., V, 3)`` one hand's vertices.
        joint_regressor (np.ndarray): ``(J, V)`` joint regressor.
        root_idx (int): regressor row of the root joint.

    Returns:
        np.ndarray: ``(..., V, 3)`` root-relative vertices.
    """
    _check_points(mesh, 'mesh')
    root = np.einsum('v,...vc->...c', joint_regressor[root_idx], mesh)
    return mesh - root[..., None, :]


def root_align_joints(joints: np.ndarray, root_idx: int = 0) -> np.ndarray:
    """Subtract joint ``root_idx`` from a ``(..., J, 3)`` joint set."""
    _check_points(joints, 'joints')
    return joints - joints[..., root_idx:root_idx + 1, :]


def point_errors(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Euclidean distance per point, ``(..., P, 3) -> (..., P)``."""
    _check_points(pred, 'pred')
    if pred.shape != gt.shape:
        raise ValueError(f'pred and gt shapes differ: {tuple(pred.shape)} vs '
                         f'{tuple(gt.shape)}.')
    return np.sqrt(np.sum((pred - gt)**2, axis=-1))


def per_joint_means(errors: np.ndarray,
                    valid: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Mean error of each joint over the samples where it is valid.

    Args:
        errors (np.ndarray): ``(N, J)`` per-sample per-joint errors.
        valid (np.ndarray): ``(N, J)`` validity (non-zero = counted).

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(J,)`` per-joint means (NaN for a
        joint with no valid sample) and ``(J,)`` sample counts.
    """
    errors = np.asarray(errors, dtype=np.float64)
    mask = np.asarray(valid) != 0
    if errors.ndim != 2 or errors.shape != mask.shape:
        raise ValueError(f'errors and valid must both be (N, J), got '
                         f'{errors.shape} and {mask.shape}.')
    counts = mask.sum(axis=0)
    sums = np.where(mask, errors, 0.0).sum(axis=0)
    with np.errstate(invalid='ignore', divide='ignore'):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return means, counts


def mean_of_per_joint_means(*per_joint: np.ndarray) -> float:
    """Mean of per-joint means, pooled over several lists (skips NaN joints).

    ``mean_of_per_joint_means(single, interacting)`` is InterWild's
    "MPJPE all" (mean of the 84 per-joint means). Joints without any valid
    sample (NaN) are left out; the official code would print NaN instead.

    Returns:
        float: the mean, or NaN if no joint has a valid sample.
    """
    values = np.concatenate(
        [np.asarray(p, dtype=np.float64).reshape(-1)
         for p in per_joint]) if per_joint else np.zeros(0)
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else float('nan')


def mesh_bbox_xyxy(mesh: np.ndarray,
                   focal: Sequence[float],
                   princpt: Sequence[float],
                   extension: float = 1.2) -> np.ndarray:
    """Box of a camera-space mesh projected with a pinhole camera.

    HIC's GT hand box (docs/official_conventions.md §4): project every
    vertex with ``x/z·f + c`` (no depth epsilon), take the tight box, scale
    it by ``extension`` about its centre.

    Args:
        mesh (np.ndarray): ``(V, 3)`` camera-space vertices (any length unit;
            the projection is scale-free).
        focal (Sequence[float]): ``(fx, fy)`` in pixels.
        princpt (Sequence[float]): ``(cx, cy)`` in pixels.
        extension (float): size multiplier (1.2).

    Returns:
        np.ndarray: ``(4,)`` xyxy box in pixels (float64).
    """
    mesh = np.asarray(mesh, dtype=np.float64)
    _check_points(mesh, 'mesh')
    # torch float64 path (the numpy path of bbox_from_points rounds to
    # float32)
    uv = project_points(
        torch.from_numpy(mesh),
        torch.tensor(focal, dtype=torch.float64),
        torch.tensor(princpt, dtype=torch.float64),
        eps=0.0)
    box = bbox_from_points(
        uv, valid=None, extension=extension, out_format='xyxy')
    return box.numpy()


def procrustes_align(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Similarity-align ``source`` to ``target`` (scale, rotation, shift).

    Thin batched wrapper around mmpose's
    ``mmpose.evaluation.functional.mesh_eval.compute_similarity_transform``
    (which takes one ``(P, 3)`` pair at a time).

    Args:
        source (np.ndarray): ``(..., P, 3)`` points to align (P >= 3).
        target (np.ndarray): ``(..., P, 3)`` reference points.

    Returns:
        np.ndarray: ``(..., P, 3)`` aligned ``source``.
    """
    from mmpose.evaluation.functional.mesh_eval import \
        compute_similarity_transform

    source = np.asarray(source, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    _check_points(source, 'source')
    if source.shape != target.shape:
        raise ValueError(f'source and target shapes differ: {source.shape} '
                         f'vs {target.shape}.')
    if source.shape[-2] < 3:
        raise ValueError('procrustes_align needs at least 3 points per set, '
                         f'got {source.shape[-2]}.')
    flat_s = source.reshape(-1, *source.shape[-2:])
    flat_t = target.reshape(-1, *target.shape[-2:])
    out = np.stack([
        compute_similarity_transform(s, t) for s, t in zip(flat_s, flat_t)
    ]) if len(flat_s) else np.zeros_like(flat_s)
    return out.reshape(source.shape)


def intaghand_align(
    pred_verts: np.ndarray,
    gt_verts: np.ndarray,
    joint_regressor: np.ndarray,
    root_idx: int = 9,
    wrist_idx: int = 0,
    eps: float = 1e-12
) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """IntagHand-style alignment of one hand (middle-MCP root, bone scale).

    Definition (IntagHand, Li et al. CVPR 2022, ``apps/eval_interhand.py``):
    joints are regressed from the meshes (GT and predicted) with the 21-joint
    regressor; the root is joint 9 (``Middle_1`` = middle-finger MCP in the
    SH order); the prediction is scaled by
    ``s = |J9 - J0|_gt / |J9 - J0|_pred`` (wrist-to-middle-MCP bone):

    * ``gt'   = gt   - J9_gt``
    * ``pred' = (pred - J9_pred) * s``

    for both joints and vertices.

    Args:
        pred_verts (np.ndarray): ``(..., V, 3)`` predicted mesh.
        gt_verts (np.ndarray): ``(..., V, 3)`` GT mesh.
        joint_regressor (np.ndarray): ``(21, V)`` SH joint regressor.
        root_idx (int): root joint (9 = middle MCP).
        wrist_idx (int): other end of the scale bone (0 = wrist).
        eps (float): guard against a zero-length predicted bone.

    Returns:
        tuple: aligned ``pred_joints`` ``(..., 21, 3)``, ``gt_joints``,
        ``pred_verts`` ``(..., V, 3)``, ``gt_verts``.
    """
    pred_verts = np.asarray(pred_verts, dtype=np.float64)
    gt_verts = np.asarray(gt_verts, dtype=np.float64)
    pj = regress_joints(pred_verts, joint_regressor)
    gj = regress_joints(gt_verts, joint_regressor)
    bone_gt = np.linalg.norm(
        gj[..., root_idx, :] - gj[..., wrist_idx, :], axis=-1)
    bone_pred = np.linalg.norm(
        pj[..., root_idx, :] - pj[..., wrist_idx, :], axis=-1)
    scale = (bone_gt / np.maximum(bone_pred, eps))[..., None, None]
    p_root = pj[..., root_idx:root_idx + 1, :]
    g_root = gj[..., root_idx:root_idx + 1, :]
    return ((pj - p_root) * scale, gj - g_root, (pred_verts - p_root) * scale,
            gt_verts - g_root)
