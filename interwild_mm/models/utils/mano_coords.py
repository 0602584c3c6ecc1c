# Copyright (c) interwild_mm contributors.
"""MANO in the virtual crop camera: the one helper for MANO geometry.

``docs/official_conventions.md §1.9``: MANO forward with ``transl = 0``,
joints by the 21-joint regressor, placement ``P - J0 + t`` in the crop's
virtual camera, projection ``X / (Z + 1e-4) · f + c`` and
``x / W_crop · W_grid`` onto the hand grid, wrist-relative outputs.
"""
from typing import Dict, Sequence

from torch import Tensor, nn

from interwild_mm.geometry.camera import project_points
from interwild_mm.geometry.sizes import InterWildSizes

__all__ = ['mano_crop_camera_coords']


def mano_crop_camera_coords(layer: nn.Module, root_pose: Tensor,
                            hand_pose: Tensor, shape: Tensor,
                            root_trans: Tensor, focal: Sequence[float],
                            princpt: Sequence[float],
                            sizes: InterWildSizes) -> Dict[str, Tensor]:
    """MANO -> crop-camera coordinates of one hand (official ``get_coord``).

    Args:
        layer (nn.Module): the hand's ``ManoLayer`` (``vertices`` and the
            21 ``joints``).
        root_pose (Tensor): ``(N, 3)`` axis-angle.
        hand_pose (Tensor): ``(N, 45)`` axis-angle offsets from the mean.
        shape (Tensor): ``(N, 10)`` betas.
        root_trans (Tensor): ``(N, 3)`` wrist position (metres) in the
            hand's virtual crop camera.
        focal (Sequence[float]): crop-camera focal ``(fx, fy)``, pixels.
        princpt (Sequence[float]): crop-camera principal point, pixels.
        sizes (InterWildSizes): crop and hand-grid sizes.

    Returns:
        dict[str, Tensor]: ``joint_cam`` ``(N, 21, 3)`` and ``mesh_cam``
        ``(N, 778, 3)`` wrist-relative (m), ``root_cam`` ``(N, 3)`` and
        ``joint_proj`` ``(N, 21, 2)`` in hand-grid units.
    """
    out = layer(root_pose, hand_pose, shape)
    root = out['joints'][:, :1]
    trans = root_trans[:, None]
    joint_cam = out['joints'] - root + trans
    mesh_cam = out['vertices'] - root + trans
    proj = sizes.crop_to_hand_grid(project_points(joint_cam, focal, princpt))
    root_cam = joint_cam[:, 0]
    return dict(
        joint_cam=joint_cam - root_cam[:, None],
        mesh_cam=mesh_cam - root_cam[:, None],
        root_cam=root_cam,
        joint_proj=proj)
