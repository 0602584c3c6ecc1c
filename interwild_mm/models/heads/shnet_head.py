# Copyright (c) interwild_mm contributors.
"""SHNet head: PositionNet (2.5D joints) + RotationNet (MANO, root depth).

Spec sections 1.6-1.8. The head consumes the hand backbone feature of
flip-normalised single-hand crops (every crop looks like a RIGHT hand; left
crops were mirrored horizontally) and predicts, per crop:

* ``joint_img`` (M, 21, 3): soft-argmax 2.5D joints on the 8×8×8 grid
  (x, y in 8×8 feature cells of the 256×256 crop, z in 8 depth bins);
* MANO ``root_pose`` (M, 3), ``hand_pose`` (M, 45) axis-angles (hand pose
  is an offset from MANO's ``hands_mean``), ``shape`` (M, 10);
* ``root_cam`` (M, 3): the wrist in the crop's virtual camera
  (f = 5000 px, principal point at the crop centre), metres.

Outputs of mirrored (left) crops are brought back to the left-hand frame by
:func:`unmirror_hand_outputs`.
"""
import math
from functools import partial
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.structures import InstanceData
from mmpose.models.heads.base_head import BaseHead
from mmpose.registry import MODELS
from mmpose.utils.typing import (ConfigType, OptConfigType, OptSampleList,
                                 Predictions)
from torch import Tensor

from interwild_mm.geometry.heatmap import sample_features, soft_argmax_3d
from interwild_mm.geometry.rotation import (matrix_to_axis_angle,
                                            mirror_axis_angle, rot6d_to_matrix)

FeatsType = Union[Tensor, Sequence[Tensor]]

#: Official checkpoint prefix -> prefix inside this head. The sub-module
#: names mirror the official ones (``conv.0``, ``conv.1``, ``root_pose_out.0``
#: ...), so only the owner prefix changes: an official key
#: ``module.hand_position_net.conv.0.weight`` becomes
#: ``<head attribute>.hand_position_net.conv.0.weight``.
OFFICIAL_KEY_MAP: Dict[str, str] = {
    'hand_position_net.': 'hand_position_net.',
    'hand_rotation_net.': 'hand_rotation_net.',
}

#: Keys of the raw head output that :func:`unmirror_hand_outputs` changes.
MIRRORED_OUTPUT_KEYS = ('joint_img', 'mano_root_pose', 'mano_hand_pose',
                        'root_cam', 'mano_root_rotmat', 'mano_hand_rotmat')


def flip_joint_img_x(joint_img: Tensor, crop_width: int,
                     heatmap_width: int) -> Tensor:
    """Mirror heatmap-grid x coordinates of a horizontally flipped crop.

    A crop pixel x maps to ``x_px = x · s`` with ``s = crop_width /
    heatmap_width``; the horizontal image flip sends ``x_px`` to
    ``crop_width - 1 - x_px`` (pixel-centre convention), so on the grid
    ``x ← (crop_width - 1)/s - x`` (256 crop, 8-grid: ``7.96875 - x``).

    Args:
        joint_img (Tensor): ``(..., 2 or 3)`` grid coordinates, x first.
        crop_width (int): width of the crop in pixels.
        heatmap_width (int): width of the heatmap grid in cells.

    Returns:
        Tensor: the coordinates with x mirrored (y, z unchanged).
    """
    scale = crop_width / heatmap_width
    x = (crop_width - 1) / scale - joint_img[..., :1]
    return torch.cat((x, joint_img[..., 1:]), dim=-1)


def _mirror_rotmat(rotmat: Tensor) -> Tensor:
    """``M R M`` with ``M = diag(-1, 1, 1)``: negate entries (0,1), (0,2),
    (1,0), (2,0)."""
    sign = rotmat.new_tensor([[1., -1., -1.], [-1., 1., 1.], [-1., 1., 1.]])
    return rotmat * sign


def unmirror_hand_outputs(outputs: Dict[str, Tensor],
                          flip_mask: Union[Tensor, Sequence[bool]],
                          crop_width: int = 256,
                          heatmap_width: int = 8) -> Dict[str, Tensor]:
    """Undo the horizontal mirroring of flipped (left-hand) crops (spec 1.8).

    For rows where ``flip_mask`` is True: ``joint_img`` x ←
    ``(crop_width-1)/s - x``; axis-angles ``(a_x, a_y, a_z) ← (a_x, -a_y,
    -a_z)`` for the root and each hand-pose joint; rotation matrices
    ``R ← M R M``; ``root_cam`` ``t_x ← -t_x``. Shape and unknown keys are
    passed through. The operation is an involution (applying it twice is the
    identity), so it also *mirrors* right-hand outputs into the flipped
    frame.

    Args:
        outputs (dict[str, Tensor]): raw head outputs with ``M`` rows (see
            :meth:`SHNetHead.forward`); any subset of
            :data:`MIRRORED_OUTPUT_KEYS` may be present.
        flip_mask (Tensor | Sequence[bool]): ``(M,)`` rows to un-mirror. In
            InterWild the first N rows are right hands, the last N left.
        crop_width (int): crop width in pixels. Defaults to 256.
        heatmap_width (int): heatmap width in cells. Defaults to 8.

    Returns:
        dict[str, Tensor]: a new dict with the same keys.
    """
    out = dict(outputs)
    ref = next(iter(outputs.values()))
    mask = torch.as_tensor(flip_mask, dtype=torch.bool, device=ref.device)
    if mask.dim() != 1 or mask.shape[0] != ref.shape[0]:
        raise ValueError(f'flip_mask must have shape (M,)=({ref.shape[0]},) '
                         f'to match the outputs, got {tuple(mask.shape)}.')

    def _where(key: str, flipped: Tensor) -> None:
        m = mask.reshape((-1, ) + (1, ) * (flipped.dim() - 1))
        out[key] = torch.where(m, flipped, outputs[key])

    if 'joint_img' in outputs:
        _where(
            'joint_img',
            flip_joint_img_x(outputs['joint_img'], crop_width, heatmap_width))
    if 'mano_root_pose' in outputs:
        _where('mano_root_pose', mirror_axis_angle(outputs['mano_root_pose']))
    if 'mano_hand_pose' in outputs:
        hp = outputs['mano_hand_pose']
        _where(
            'mano_hand_pose',
            mirror_axis_angle(hp.reshape(hp.shape[0], -1,
                                         3)).reshape(hp.shape))
    if 'root_cam' in outputs:
        rc = outputs['root_cam']
        _where('root_cam', torch.cat((-rc[..., :1], rc[..., 1:]), dim=-1))
    for key in ('mano_root_rotmat', 'mano_hand_rotmat'):
        if key in outputs:
            _where(key, _mirror_rotmat(outputs[key]))
    return out


class PositionNet(nn.Module):
    """2.5D joint localisation (spec 1.6).

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
    """MANO parameters and root translation (spec 1.7).

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
            mano_root_pose=root_pose,
            mano_hand_pose=hand_pose,
            mano_shape=shape,
            root_cam=root_cam,
            mano_root_rotmat=root_rotmat,
            mano_hand_rotmat=hand_rotmat)


@MODELS.register_module()
class SHNetHead(BaseHead):
    """SHNet head of InterWild: PositionNet + RotationNet on hand features.

    See `InterWild`_ (Moon, CVPR 2023) and spec sections 1.6-1.8.

    Used two ways:

    * inside the InterWild model, which calls :meth:`forward` on the
      ``(2N, 2048, 8, 8)`` feature of ``[right crops, mirrored left crops]``,
      then :func:`unmirror_hand_outputs` and its own two-hand losses;
    * as a ``TopdownPoseEstimator`` head on single-hand 256×256 crops, where
      left-hand crops are mirrored by ``HandFlipNormalize`` (metainfo
      ``flip_normalized=True``) and :meth:`predict` un-mirrors them.

    Args:
        in_channels (int): backbone channels. Defaults to 2048.
        num_joints (int): joints of the single-hand set. Defaults to 21.
        heatmap_size (Sequence[int]): ``(D, H, W)`` of the joint heatmap;
            ``H, W`` must equal the feature size. Defaults to (8, 8, 8).
        pose_channels (int): channels of the sampled pose feature.
            Defaults to 512.
        num_hand_joints (int): MANO joints without root. Defaults to 15.
        num_betas (int): MANO shape size. Defaults to 10.
        input_size (Sequence[int]): crop ``(W, H)`` in pixels. Defaults to
            (256, 256).
        focal (Sequence[float]): virtual focal ``(fx, fy)`` of the crop
            camera, pixels. Defaults to (5000, 5000).
        camera_3d_size (float): metres; ``k = sqrt(fx·fy·s²/(W·H))``.
            Defaults to 0.6.
        legacy_axis_angle (bool): reproduce the official (PyTorch3D <=
            0.7.5) axis-angle values. Defaults to True.
        loss_joint_img (dict): loss on ``joint_img``. Defaults to
            ``dict(type='CoordLoss')``.
        loss_mano_pose (dict): loss on root + hand pose. Defaults to
            ``dict(type='ManoPoseLoss')``.
        loss_mano_shape (dict): loss on betas. Defaults to
            ``dict(type='ParamLoss')``.
        init_cfg (dict | list, optional): Defaults to
            :attr:`default_init_cfg`.

    .. _`InterWild`: https://arxiv.org/abs/2303.13652
    """

    def __init__(self,
                 in_channels: int = 2048,
                 num_joints: int = 21,
                 heatmap_size: Sequence[int] = (8, 8, 8),
                 pose_channels: int = 512,
                 num_hand_joints: int = 15,
                 num_betas: int = 10,
                 input_size: Sequence[int] = (256, 256),
                 focal: Sequence[float] = (5000., 5000.),
                 camera_3d_size: float = 0.6,
                 legacy_axis_angle: bool = True,
                 loss_joint_img: ConfigType = dict(type='CoordLoss'),
                 loss_mano_pose: ConfigType = dict(type='ManoPoseLoss'),
                 loss_mano_shape: ConfigType = dict(type='ParamLoss'),
                 init_cfg: OptConfigType = None) -> None:
        if init_cfg is None:
            init_cfg = self.default_init_cfg
        super().__init__(init_cfg)
        if len(heatmap_size) != 3 or len(input_size) != 2 or len(focal) != 2:
            raise ValueError('heatmap_size must be (D, H, W), input_size '
                             '(W, H) and focal (fx, fy); got '
                             f'{heatmap_size}, {input_size}, {focal}.')
        self.num_joints = num_joints
        self.heatmap_size = tuple(int(v) for v in heatmap_size)
        self.input_size = tuple(int(v) for v in input_size)
        self.depth_scale = math.sqrt(focal[0] * focal[1] * camera_3d_size**2 /
                                     (self.input_size[0] * self.input_size[1]))
        self.hand_position_net = PositionNet(in_channels, num_joints,
                                             self.heatmap_size[0])
        self.hand_rotation_net = RotationNet(
            in_channels,
            num_joints,
            pose_channels,
            num_hand_joints,
            num_betas,
            depth_scale=self.depth_scale,
            legacy_axis_angle=legacy_axis_angle)
        self.loss_joint_img = MODELS.build(loss_joint_img)
        self.loss_mano_pose = MODELS.build(loss_mano_pose)
        self.loss_mano_shape = MODELS.build(loss_mano_shape)

    @property
    def default_init_cfg(self) -> List[dict]:
        return [
            dict(type='Normal', layer='Conv2d', std=0.001, bias=0),
            dict(type='Normal', layer='Linear', std=0.01, bias=0),
            dict(type='Constant', layer='BatchNorm2d', val=1, bias=0)
        ]

    @property
    def legacy_axis_angle(self) -> bool:
        """Whether poses use the legacy (PyTorch3D <= 0.7.5) branch."""
        return self.hand_rotation_net.legacy_axis_angle

    @legacy_axis_angle.setter
    def legacy_axis_angle(self, value: bool) -> None:
        self.hand_rotation_net.legacy_axis_angle = bool(value)

    def forward(self, feats: FeatsType) -> Dict[str, Tensor]:
        """Run PositionNet and RotationNet.

        Args:
            feats (Tensor | Sequence[Tensor]): ``(M, C, H, W)`` hand feature,
                or a backbone tuple whose last element is that feature.

        Returns:
            dict[str, Tensor]: raw outputs in the (possibly mirrored) crop
            frame: ``joint_img`` (M, J, 3) grid units, ``mano_root_pose``
            (M, 3), ``mano_hand_pose`` (M, 45), ``mano_shape`` (M, 10),
            ``root_cam`` (M, 3) metres, ``mano_root_rotmat`` (M, 3, 3),
            ``mano_hand_rotmat`` (M, 15, 3, 3).
        """
        feat = feats[-1] if isinstance(feats, (list, tuple)) else feats
        if feat.dim() != 4:
            raise ValueError('SHNetHead expects a (M, C, H, W) feature, got '
                             f'{tuple(feat.shape)}.')
        if tuple(feat.shape[2:]) != self.heatmap_size[1:]:
            raise ValueError(
                f'SHNetHead: feature size {tuple(feat.shape[2:])} must equal '
                f'heatmap (H, W) {self.heatmap_size[1:]}; for a '
                f'{self.input_size} crop a stride-32 backbone gives '
                f'{(self.input_size[1] // 32, self.input_size[0] // 32)}. '
                'Fix input_size/heatmap_size in the config.')
        joint_img = self.hand_position_net(feat)
        outputs = dict(joint_img=joint_img)
        outputs.update(self.hand_rotation_net(feat, joint_img))
        return outputs

    def unmirror(
            self, outputs: Dict[str, Tensor],
            flip_mask: Union[Tensor, Sequence[bool]]) -> Dict[str, Tensor]:
        """:func:`unmirror_hand_outputs` with this head's crop/grid sizes."""
        return unmirror_hand_outputs(outputs, flip_mask, self.input_size[0],
                                     self.heatmap_size[2])

    # ------------------------------------------------------------------
    # standalone (single-hand crop) prediction and loss
    # ------------------------------------------------------------------
    @staticmethod
    def _flip_flags(batch_data_samples: OptSampleList, m: int) -> List[bool]:
        if batch_data_samples is None:
            return [False] * m
        if len(batch_data_samples) != m:
            raise ValueError(f'{len(batch_data_samples)} data samples for '
                             f'{m} feature rows.')
        return [
            bool(d.metainfo.get('flip_normalized', False))
            for d in batch_data_samples
        ]

    def predict(self,
                feats: FeatsType,
                batch_data_samples: OptSampleList,
                test_cfg: OptConfigType = {}) -> Predictions:
        """Predict single-hand results, un-mirroring flip-normalised crops.

        Args:
            feats (Tensor | Sequence[Tensor]): backbone output for the
                ``(M, 3, 256, 256)`` crops.
            batch_data_samples (list[PoseDataSample]): samples; metainfo
                ``flip_normalized`` (bool, set by ``HandFlipNormalize``)
                marks mirrored left-hand crops.
            test_cfg (dict): ``flip_test`` is not supported.

        Returns:
            list[InstanceData]: one instance per sample with ``keypoints``
            (1, J, 2) in crop-input pixels (mapped to the image by
            ``TopdownPoseEstimator``), ``keypoint_scores`` (1, J) ones,
            ``joint_img`` (1, J, 3) grid units, ``mano_root_pose`` (1, 3),
            ``mano_hand_pose`` (1, 45), ``mano_shape`` (1, 10), ``root_cam``
            (1, 3); all numpy, in the un-mirrored (true hand) frame.
        """
        if test_cfg and test_cfg.get('flip_test', False):
            raise NotImplementedError(
                'SHNetHead does not support flip_test (averaging axis-angles '
                'is ill-defined); set test_cfg.flip_test=False.')
        outputs = self.forward(feats)
        m = outputs['joint_img'].shape[0]
        outputs = self.unmirror(outputs,
                                self._flip_flags(batch_data_samples, m))
        scale = outputs['joint_img'].new_tensor([
            self.input_size[0] / self.heatmap_size[2],
            self.input_size[1] / self.heatmap_size[1]
        ])
        keypoints = outputs['joint_img'][..., :2] * scale
        to_np = {
            k: v.detach().cpu().numpy()
            for k, v in outputs.items() if not k.endswith('rotmat')
        }
        keypoints = keypoints.detach().cpu().numpy()
        preds = []
        for i in range(m):
            inst = InstanceData(
                keypoints=keypoints[i:i + 1],
                keypoint_scores=np.ones((1, self.num_joints),
                                        dtype=np.float32))
            for k, v in to_np.items():
                inst.set_field(v[i:i + 1], k)
            preds.append(inst)
        return preds

    def _gather(self, batch_data_samples: OptSampleList, key: str,
                ref: Tensor) -> Optional[Tensor]:
        """Concatenate a target over the batch from ``gt_instance_labels``
        (or ``gt_instances``); None if no sample has it."""
        values = []
        for d in batch_data_samples:
            v = None
            for field in ('gt_instance_labels', 'gt_instances'):
                if field in d and key in d.get(field):
                    v = d.get(field).get(key)
                    break
            values.append(v)
        present = [v is not None for v in values]
        if not any(present):
            return None
        if not all(present):
            raise ValueError(f'Target "{key}" is present in only some data '
                             'samples; give it (with a zero validity) for '
                             'every sample of the batch.')
        tensors = []
        for v in values:
            t = torch.as_tensor(v).to(device=ref.device, dtype=ref.dtype)
            # one instance per sample: add the instance dim if it is missing
            tensors.append(t[None] if t.dim() == 0 or t.shape[0] != 1 else t)
        return torch.cat(tensors)

    def loss(self,
             feats: FeatsType,
             batch_data_samples: OptSampleList,
             train_cfg: OptConfigType = {}) -> dict:
        """Single-hand-crop losses in the flip-normalised (right-hand) frame.

        Targets (per sample, first dim 1, already mirrored for left hands by
        ``HandFlipNormalize``), read from ``gt_instance_labels`` or
        ``gt_instances``:

        * ``joint_img`` (1, J, 3) grid units with ``joint_trunc`` (1, J, 1)
          and ``is_3D`` (1, 1) gating z; if absent, ``transformed_keypoints``
          (1, J, >=2) crop pixels with ``keypoints_visible`` (1, J) are used
          (x, y only);
        * optional ``mano_pose`` (1, 48) = root + hand axis-angle with
          ``mano_pose_valid`` (1, 16);
        * optional ``mano_shape`` (1, 10) with ``mano_shape_valid`` (1, 10).

        Returns:
            dict: ``loss_joint_img`` and, where targets exist,
            ``loss_mano_pose``, ``loss_mano_shape``.
        """
        if batch_data_samples is None:
            raise ValueError('SHNetHead.loss needs data samples with targets.')
        out = self.forward(feats)
        ref = out['joint_img']
        m, j = ref.shape[:2]
        g = partial(self._gather, batch_data_samples, ref=ref)

        joint_img = g('joint_img')
        if joint_img is not None:
            weight = g('joint_trunc')
            is_3d = g('is_3D')
            if weight is None:
                weight = ref.new_ones(m, j, 1)
            if is_3d is None:
                is_3d = ref.new_ones(m, 1)
        else:
            kpts = g('transformed_keypoints')
            if kpts is None:
                raise ValueError(
                    'SHNetHead.loss needs "joint_img" (grid units) in '
                    'gt_instance_labels, or "transformed_keypoints" in '
                    'gt_instances (PackPoseInputs(pack_transformed=True)).')
            scale = ref.new_tensor([
                self.input_size[0] / self.heatmap_size[2],
                self.input_size[1] / self.heatmap_size[1]
            ])
            xy = kpts.reshape(m, j, -1)[..., :2] / scale
            joint_img = torch.cat((xy, torch.zeros_like(xy[..., :1])), -1)
            vis = g('keypoints_visible')
            weight = (
                vis.reshape(m, j, 1) if vis is not None else ref.new_ones(
                    m, j, 1))
            is_3d = ref.new_zeros(m, 1)
        losses = dict(
            loss_joint_img=self.loss_joint_img(ref, joint_img.reshape(
                m, j, 3), weight.reshape(m, j, -1), is_3d.reshape(m, 1)))

        mano_pose = g('mano_pose')
        if mano_pose is not None:
            pred = torch.cat((out['mano_root_pose'], out['mano_hand_pose']),
                             dim=1)
            valid = g('mano_pose_valid')
            losses['loss_mano_pose'] = self.loss_mano_pose(
                pred.reshape(m, -1, 3), mano_pose.reshape(m, -1, 3),
                None if valid is None else valid.reshape(m, -1))
        mano_shape = g('mano_shape')
        if mano_shape is not None:
            valid = g('mano_shape_valid')
            losses['loss_mano_shape'] = self.loss_mano_shape(
                out['mano_shape'], mano_shape.reshape(m, -1),
                None if valid is None else valid.reshape(m, -1))
        return losses
