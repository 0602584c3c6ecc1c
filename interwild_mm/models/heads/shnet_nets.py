# Copyright (c) interwild_mm contributors.
"""The two networks of SHNet: PositionNet and RotationNet.

``docs/official_conventions.md §1.6-1.7``. Sub-module names follow the
official checkpoint (``conv.0``, ``conv.1``, ``root_pose_out.0``, ...).
"""
from typing import Dict

import torch
import torch.nn as nn
from torch import Tensor

from interwild_mm.geometry.heatmap import sample_features, soft_argmax_3d
from interwild_mm.geometry.rotation import (matrix_to_axis_angle,
                                            rot6d_to_matrix)

__all__ = ['PositionNet', 'RotationNet']


class PositionNet(nn.Module):
    """2.5D joint localisation (``docs/official_conventions.md §1.6``).

    ``conv`` = ``Conv2d(in, J·D, 1)``; channel ``j·D + d`` is joint ``j`` at
    depth bin ``d``. Soft-argmax over all ``D·H·W`` cells.

    Args:
        in_channels (int): feature channels. Defaults to 2048.
        num_joints (int): J. Defaults to 21.
        depth (int): D, depth bins. Defaults to 8.
    """

    def __init__(self,
                 in_channels: int = 2048,
                 num_joints: int = 21,
                 depth: int = 8) -> None:
        super().__init__()
        self.num_joints = num_joints
        self.depth = depth
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, num_joints * depth, kernel_size=1))

    def forward(self, feat: Tensor) -> Tensor:
        """Args: feat (Tensor): ``(M, C, H, W)``.

        Returns:
            Tensor: ``(M, J, 3)`` expected ``(x, y, z)`` in grid cells.
        """
        logits = self.conv(feat)
        m, _, h, w = logits.shape
        logits = logits.reshape(m, self.num_joints, self.depth, h, w)
        return soft_argmax_3d(logits)


class RotationNet(nn.Module):
    """MANO parameters and root translation (§1.7).

    Args:
        in_channels (int): feature channels. Defaults to 2048.
        num_joints (int): J joints sampled for the pose. Defaults to 21.
        pose_channels (int): channels of the sampled pose feature.
            Defaults to 512.
        num_hand_joints (int): MANO hand joints (without root). Defaults
            to 15.
        num_betas (int): MANO shape parameters. Defaults to 10.
        depth_scale (float): k of ``t_z = k · sigmoid(cam_2)``, metres.
            Defaults to 11.71875.
        legacy_axis_angle (bool): use the PyTorch3D <= 0.7.5 axis-angle
            branch (norms may exceed π). Defaults to True.
    """

    def __init__(self,
                 in_channels: int = 2048,
                 num_joints: int = 21,
                 pose_channels: int = 512,
                 num_hand_joints: int = 15,
                 num_betas: int = 10,
                 depth_scale: float = 11.71875,
                 legacy_axis_angle: bool = True) -> None:
        super().__init__()
        self.num_hand_joints = num_hand_joints
        self.depth_scale = depth_scale
        self.legacy_axis_angle = legacy_axis_angle
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, pose_channels, kernel_size=1),
            nn.BatchNorm2d(pose_channels), nn.ReLU(inplace=True))
        flat = num_joints * (pose_channels + 3)
        self.root_pose_out = nn.Sequential(nn.Linear(flat, 6))
        self.pose_out = nn.Sequential(nn.Linear(flat, num_hand_joints * 6))
        self.shape_out = nn.Sequential(nn.Linear(in_channels, num_betas))
        self.cam_out = nn.Sequential(nn.Linear(in_channels, 3))

    def forward(self, feat: Tensor, joint_img: Tensor) -> Dict[str, Tensor]:
        """Predict MANO parameters.

        Args:
            feat (Tensor): ``(M, C, H, W)`` hand feature.
            joint_img (Tensor): ``(M, J, 3)`` grid joints; detached here
                (no gradient flows into PositionNet through this path).

        Returns:
            dict[str, Tensor]: ``mano_root_pose`` (M, 3),
            ``mano_hand_pose`` (M, 45), ``mano_shape`` (M, 10), ``root_cam``
            (M, 3) metres, ``mano_root_rotmat`` (M, 3, 3),
            ``mano_hand_rotmat`` (M, 15, 3, 3).
        """
        m = feat.shape[0]
        joints = joint_img.detach()
        pooled = feat.mean(dim=(2, 3))
        shape = self.shape_out(pooled)
        cam = self.cam_out(pooled)
        root_cam = torch.cat(
            (cam[:, :2], self.depth_scale * torch.sigmoid(cam[:, 2:])), dim=1)

        pose_feat = sample_features(self.conv(feat), joints[..., :2])
        pose_feat = torch.cat((pose_feat, joints), dim=-1).reshape(m, -1)
        root_rotmat = rot6d_to_matrix(self.root_pose_out(pose_feat))
        hand_rotmat = rot6d_to_matrix(
            self.pose_out(pose_feat).reshape(m, self.num_hand_joints, 6))
        root_pose = matrix_to_axis_angle(
            root_rotmat, legacy=self.legacy_axis_angle)
        hand_pose = matrix_to_axis_angle(
            hand_rotmat, legacy=self.legacy_axis_angle).reshape(m, -1)
        return dict(
            mano_root_pose=root_pose, mano_hand_pose=hand_pose,
            mano_shape=shape, root_cam=root_cam,
            mano_root_rotmat=root_rotmat, mano_hand_rotmat=hand_rotmat)
