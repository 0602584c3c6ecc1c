# Copyright (c) interwild_mm contributors.
"""SHNet head: PositionNet (2.5D joints) + RotationNet (MANO, root depth).

``docs/official_conventions.md §1.6-1.8`` (forward, un-mirroring) and §2
(the joint and MANO loss terms). The head consumes the hand backbone feature
of flip-normalised single-hand crops (every crop looks like a RIGHT hand;
left crops were mirrored horizontally) and predicts, per crop:

* ``joint_img`` (M, 21, 3): soft-argmax 2.5D joints on the hand grid
  (x, y in feature cells of the crop, z in depth bins);
* MANO ``root_pose`` (M, 3), ``hand_pose`` (M, 45) axis-angles (hand pose
  is an offset from MANO's ``hands_mean``), ``shape`` (M, 10);
* ``root_cam`` (M, 3): the wrist in the crop's virtual camera
  (f = 5000 px, principal point at the crop centre), metres.

Outputs of mirrored (left) crops are brought back to the left-hand frame by
:func:`unmirror_hand_outputs`.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmpose.models.heads.base_head import BaseHead
from mmpose.registry import MODELS
from mmpose.utils.typing import (ConfigType, OptConfigType, OptSampleList,
                                 Predictions)
from torch import Tensor

from interwild_mm.geometry.rotation import mirror_axis_angle
from interwild_mm.geometry.sizes import (InterWildSizes, SizesLike,
                                         mirror_grid_x)
from ..losses import MASKED_L1
from ..utils.data_samples import gather_targets, to_instances
from .shnet_nets import PositionNet, RotationNet

__all__ = [
    'SHNetHead', 'PositionNet', 'RotationNet', 'flip_joint_img_x',
    'unmirror_hand_outputs', 'OFFICIAL_KEY_MAP', 'MIRRORED_OUTPUT_KEYS'
]

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

    In the official order (:func:`interwild_mm.geometry.mirror_grid_x`):
    to crop pixels ``x / W_grid · W_crop``, mirror ``W_crop - 1 - x``
    (pixel-centre convention), back ``x / W_crop · W_grid`` (256 crop,
    8-grid: ``7.96875 - x``).

    Args:
        joint_img (Tensor): ``(..., 2 or 3)`` grid coordinates, x first.
        crop_width (int): width of the crop in pixels.
        heatmap_width (int): width of the heatmap grid in cells.

    Returns:
        Tensor: the coordinates with x mirrored (y, z unchanged).
    """
    x = mirror_grid_x(joint_img[..., :1], heatmap_width, crop_width)
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
    """Undo the horizontal mirroring of flipped (left-hand) crops.

    ``docs/official_conventions.md §1.8``.

    For rows where ``flip_mask`` is True: ``joint_img`` x mirrored by
    :func:`flip_joint_img_x`; axis-angles ``(a_x, a_y, a_z) ← (a_x, -a_y,
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


@MODELS.register_module()
class SHNetHead(BaseHead):
    """SHNet head of InterWild: PositionNet + RotationNet on hand features.

    See `InterWild`_ (Moon, CVPR 2023) and
    ``docs/official_conventions.md §1.6-1.8, §2``.

    Used two ways:

    * inside the InterWild model, which calls :meth:`forward` on the
      ``(2N, C, h, w)`` feature of ``[right crops, mirrored left crops]``,
      :meth:`unmirror`, places MANO in the crop cameras and hands the
      two-hand predictions and targets to :meth:`loss_by_feat`;
    * as a ``TopdownPoseEstimator`` head on single-hand crops, where
      left-hand crops are mirrored by ``HandFlipNormalize`` (metainfo
      ``flip_normalized=True``): :meth:`loss` and :meth:`predict` (which
      un-mirrors them).

    Loss terms (each built from its own config key, §2): ``joint_img``
    (PositionNet vs dataset joints, z gated by ``is_3D``), ``mano_joint_img``
    (vs the MANO fit's joints), ``joint_proj`` (projected MANO joints vs
    dataset joints), ``joint_cam`` (x10, gated by ``is_3D``),
    ``mano_mesh_cam`` (x10), ``mano_pose`` (rotation matrices),
    ``mano_shape``. A term is computed when its prediction and target exist.

    Args:
        in_channels (int): backbone channels. Defaults to 2048.
        num_joints (int): joints of the single-hand set. Defaults to 21.
        heatmap_size (Sequence[int], optional): ``(D, H, W)`` joint grid of a
            head built on its own (``H, W`` = the feature size); must agree
            with ``sizes`` when both are given.
        pose_channels (int): channels of the sampled pose feature.
            Defaults to 512.
        num_hand_joints (int): MANO joints without root. Defaults to 15.
        num_betas (int): MANO shape size. Defaults to 10.
        input_size (Sequence[int], optional): crop ``(W, H)`` of a head built
            on its own (mmpose's ``TopdownAffine`` order); must agree with
            ``sizes.crop_hw`` (``(H, W)``) when both are given.
        focal (Sequence[float]): virtual focal ``(fx, fy)`` of the crop
            camera, pixels. Defaults to (5000, 5000).
        camera_3d_size (float): metres; ``k = sqrt(fx·fy·s²/(W·H))``.
            Defaults to 0.6.
        legacy_axis_angle (bool): reproduce the official (PyTorch3D <=
            0.7.5) axis-angle values. Defaults to True.
        sizes (InterWildSizes | dict, optional): the model's sizes (crop,
            hand grid, body grid for the two-hand targets). Defaults to the
            official sizes.
        loss_joint_img (dict): Defaults to ``dict(type='CoordLoss')`` (the
            masked L1 with the z gate).
        loss_mano_joint_img, loss_joint_proj, loss_mano_shape (dict):
            Default to mmpose's ``L1Loss(use_target_weight=True)``.
        loss_joint_cam, loss_mano_mesh_cam (dict): the same with
            ``loss_weight=10``.
        loss_mano_pose (dict): Defaults to ``dict(type='ManoPoseLoss')``.
        init_cfg (dict | list, optional): Defaults to
            :attr:`default_init_cfg`.

    .. _`InterWild`: https://arxiv.org/abs/2303.13652
    """

    #: targets of the two-hand losses in InterWild: key -> per-sample shape
    TARGET_SPECS = dict(
        joint_img=(-1, 3), joint_trunc=(-1, 1), mano_joint_img=(-1, 3),
        mano_joint_trunc=(-1, 1), joint_cam=(-1, 3), joint_valid=(-1, 1),
        is_3D=(1, ), mano_mesh_cam=(-1, 3), mano_mesh_valid=(-1, 1),
        mano_pose=(-1, ), mano_pose_valid=(-1, ), mano_shape=(-1, ),
        mano_shape_valid=(-1, ))

    def __init__(
            self,
            in_channels: int = 2048,
            num_joints: int = 21,
            heatmap_size: Optional[Sequence[int]] = None,
            pose_channels: int = 512,
            num_hand_joints: int = 15,
            num_betas: int = 10,
            input_size: Optional[Sequence[int]] = None,
            focal: Sequence[float] = (5000., 5000.),
            camera_3d_size: float = 0.6,
            legacy_axis_angle: bool = True,
            sizes: SizesLike = None,
            loss_joint_img: ConfigType = dict(type='CoordLoss'),
            loss_mano_joint_img: ConfigType = MASKED_L1,
            loss_joint_proj: ConfigType = MASKED_L1,
            loss_joint_cam: ConfigType = dict(MASKED_L1, loss_weight=10.),
            loss_mano_mesh_cam: ConfigType = dict(MASKED_L1, loss_weight=10.),
            loss_mano_pose: ConfigType = dict(type='ManoPoseLoss'),
            loss_mano_shape: ConfigType = MASKED_L1,
            init_cfg: OptConfigType = None) -> None:
        if init_cfg is None:
            init_cfg = self.default_init_cfg
        super().__init__(init_cfg)
        if (heatmap_size is not None and len(heatmap_size) != 3) or (
                input_size is not None and len(input_size) != 2) or len(
                    focal) != 2:
            raise ValueError('heatmap_size must be (D, H, W), input_size '
                             '(W, H) and focal (fx, fy); got '
                             f'{heatmap_size}, {input_size}, {focal}.')
        self.sizes = InterWildSizes.resolve(
            'SHNetHead', sizes, hand_grid_dhw=heatmap_size,
            crop_hw=None if input_size is None else tuple(input_size)[::-1])
        self.num_joints = num_joints
        self.focal = tuple(float(f) for f in focal)
        self.depth_scale = self.sizes.depth_scale(self.focal, camera_3d_size)
        self.hand_position_net = PositionNet(in_channels, num_joints,
                                             self.sizes.hand_grid_dhw[0])
        self.hand_rotation_net = RotationNet(
            in_channels,
            num_joints,
            pose_channels,
            num_hand_joints,
            num_betas,
            depth_scale=self.depth_scale,
            legacy_axis_angle=legacy_axis_angle)
        self.loss_joint_img = MODELS.build(loss_joint_img)
        self.loss_mano_joint_img = MODELS.build(loss_mano_joint_img)
        self.loss_joint_proj = MODELS.build(loss_joint_proj)
        self.loss_joint_cam = MODELS.build(loss_joint_cam)
        self.loss_mano_mesh_cam = MODELS.build(loss_mano_mesh_cam)
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
        grid_hw = self.sizes.hand_grid_hw
        if tuple(feat.shape[2:]) != grid_hw:
            crop_h, crop_w = self.sizes.crop_hw
            raise ValueError(
                f'SHNetHead: feature size {tuple(feat.shape[2:])} must equal '
                f'the hand grid (H, W) {grid_hw}; for a {crop_h}x{crop_w} '
                f'crop a stride-32 backbone gives '
                f'{(crop_h // 32, crop_w // 32)}. Fix the crop/hand grid '
                'sizes in the config.')
        joint_img = self.hand_position_net(feat)
        outputs = dict(joint_img=joint_img)
        outputs.update(self.hand_rotation_net(feat, joint_img))
        return outputs

    def unmirror(
            self, outputs: Dict[str, Tensor],
            flip_mask: Union[Tensor, Sequence[bool]]) -> Dict[str, Tensor]:
        """:func:`unmirror_hand_outputs` with this head's crop/grid sizes."""
        return unmirror_hand_outputs(outputs, flip_mask,
                                     self.sizes.crop_hw[1],
                                     self.sizes.hand_grid_dhw[2])

    # ------------------------------------------------------------------
    # losses
    def targets_to_crop_grid(self, coords: Tensor, trunc: Tensor,
                             orig2hand: Tensor) -> Tuple[Tensor, Tensor]:
        """Body-grid joint targets -> one hand's crop grid (§2).

        Args:
            coords (Tensor): ``(N, J, 3)`` in the body grid.
            trunc (Tensor): ``(N, J, 1)`` validity.
            orig2hand (Tensor): ``(N, 2, 3)`` input-image -> crop pixels of
                the PREDICTED crop box (left not mirrored).

        Returns:
            tuple[Tensor, Tensor]: coordinates ``(N, J, 3)`` in the hand grid
            and the re-evaluated truncation ``(N, J, 1)`` (valid only inside
            ``[0, W) x [0, H)`` of the hand grid).
        """
        xyz = self.sizes.body_grid_to_hand_grid(coords, orig2hand)
        inside = self.sizes.inside_hand_grid(xyz[..., :2])
        return xyz, trunc * inside[..., None].to(trunc.dtype)

    def crop_targets(self, targets: Dict[str, Tensor],
                     orig2hand: Tensor) -> Dict[str, Tensor]:
        """Move the 2.5D targets of every hand into its predicted crop.

        Args:
            targets (dict[str, Tensor]): with ``joint_img`` /
                ``mano_joint_img`` ``(N, H·J, 3)`` on the body grid and
                their truncations ``(N, H·J, 1)``.
            orig2hand (Tensor): ``(N, H, 2, 3)`` per-hand image -> crop
                affines (H hands, right first).

        Returns:
            dict[str, Tensor]: a copy with those four entries replaced.
        """
        out = dict(targets)
        j = self.num_joints
        for name, trunc_name in (('joint_img', 'joint_trunc'),
                                 ('mano_joint_img', 'mano_joint_trunc')):
            if name not in targets:
                continue
            parts = [
                self.targets_to_crop_grid(
                    targets[name][:, h * j:(h + 1) * j],
                    targets[trunc_name][:, h * j:(h + 1) * j],
                    orig2hand[:, h]) for h in range(orig2hand.shape[1])
            ]
            out[name] = torch.cat([p[0] for p in parts], dim=1)
            out[trunc_name] = torch.cat([p[1] for p in parts], dim=1)
        return out

    def loss_by_feat(self,
                     outputs: Dict[str, Tensor],
                     targets: Dict[str, Tensor],
                     orig2hand: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """The joint and MANO loss terms (§2) from predictions and targets.

        Args:
            outputs (dict[str, Tensor]): predictions, hands concatenated
                along the joint axis (un-mirrored): ``joint_img``
                ``(N, K, 3)`` hand-grid units, ``mano_pose`` ``(N, 48·H)``,
                ``mano_shape`` ``(N, 10·H)`` and, from MANO in the crop
                cameras, ``joint_proj`` ``(N, K, 2)``, ``mano_joint_cam``
                ``(N, K, 3)``, ``mano_mesh_cam`` ``(N, V, 3)`` (metres).
            targets (dict[str, Tensor]): same names (``joint_cam`` for the
                3D joints) with the validities of :attr:`TARGET_SPECS`.
            orig2hand (Tensor, optional): ``(N, H, 2, 3)``; when given, the
                2.5D targets are on the body grid and are first moved into
                each hand's predicted crop (:meth:`crop_targets`).

        Returns:
            dict[str, Tensor]: ``loss_<term>`` for every term whose
            prediction and target are present.
        """
        t = targets if orig2hand is None else self.crop_targets(
            targets, orig2hand)
        n = outputs['joint_img'].shape[0]
        is_3d = t.get('is_3D')
        losses = {}
        if 'mano_pose' in t:
            losses['loss_mano_pose'] = self.loss_mano_pose(
                outputs['mano_pose'].reshape(n, -1, 3),
                t['mano_pose'].reshape(n, -1, 3), t['mano_pose_valid'])
        if 'mano_shape' in t:
            losses['loss_mano_shape'] = self.loss_mano_shape(
                outputs['mano_shape'], t['mano_shape'], t['mano_shape_valid'])
        if 'mano_joint_cam' in outputs and 'joint_cam' in t:
            losses['loss_joint_cam'] = self.loss_joint_cam(
                outputs['mano_joint_cam'], t['joint_cam'],
                t['joint_valid'] * is_3d[:, :, None])
        if 'mano_mesh_cam' in outputs and 'mano_mesh_cam' in t:
            losses['loss_mano_mesh_cam'] = self.loss_mano_mesh_cam(
                outputs['mano_mesh_cam'], t['mano_mesh_cam'],
                t['mano_mesh_valid'])
        losses['loss_joint_img'] = self.loss_joint_img(
            outputs['joint_img'], t['joint_img'], t['joint_trunc'], is_3d)
        if 'mano_joint_img' in t:
            losses['loss_mano_joint_img'] = self.loss_mano_joint_img(
                outputs['joint_img'], t['mano_joint_img'],
                t['mano_joint_trunc'])
        if 'joint_proj' in outputs:
            losses['loss_joint_proj'] = self.loss_joint_proj(
                outputs['joint_proj'], t['joint_img'][..., :2],
                t['joint_trunc'])
        return losses

    def loss(self,
             feats: FeatsType,
             batch_data_samples: OptSampleList,
             train_cfg: OptConfigType = {}) -> dict:
        """Single-hand-crop losses in the flip-normalised (right-hand) frame.

        Targets (per sample, first dim 1, already mirrored for left hands by
        ``HandFlipNormalize``), read from ``gt_instance_labels`` or
        ``gt_instances``:

        * ``joint_img`` (1, J, 3) hand-grid units with ``joint_trunc``
          (1, J, 1) and ``is_3D`` (1, 1) gating z (both default to 1); if
          absent, ``transformed_keypoints`` (1, J, >=2) crop pixels with
          ``keypoints_visible`` (1, J) are used (x, y only);
        * optional ``mano_pose`` (1, 48) = root + hand axis-angle with
          ``mano_pose_valid`` (1, 16);
        * optional ``mano_shape`` (1, 10) with ``mano_shape_valid`` (1, 10).

        Returns:
            dict: ``loss_joint_img`` and, where targets exist,
            ``loss_mano_pose``, ``loss_mano_shape``.
        """
        out = self.forward(feats)
        targets = self._single_hand_targets(batch_data_samples,
                                            out['joint_img'])
        preds = dict(
            joint_img=out['joint_img'],
            mano_pose=torch.cat((out['mano_root_pose'], out['mano_hand_pose']),
                                dim=1),
            mano_shape=out['mano_shape'])
        return self.loss_by_feat(preds, targets)

    def _single_hand_targets(self, batch_data_samples: OptSampleList,
                             joint_img: Tensor) -> Dict[str, Tensor]:
        """Targets of :meth:`loss`, with the default validities filled in."""
        if batch_data_samples is None:
            raise ValueError('SHNetHead.loss needs data samples with targets.')
        m, j = joint_img.shape[:2]
        specs = dict(
            joint_img=(j, 3), joint_trunc=(j, 1), is_3D=(1, ),
            transformed_keypoints=(j, -1), keypoints_visible=(j, 1),
            mano_pose=(-1, ), mano_pose_valid=(-1, ), mano_shape=(-1, ),
            mano_shape_valid=(-1, ))
        t = gather_targets(batch_data_samples, specs, joint_img,
                           optional=specs, owner='SHNetHead')
        ones = joint_img.new_ones
        if 'joint_img' in t:
            t.setdefault('joint_trunc', ones(m, j, 1))
            t.setdefault('is_3D', ones(m, 1))
        elif 'transformed_keypoints' in t:
            xy = self.sizes.crop_to_hand_grid(
                t['transformed_keypoints'][..., :2])
            t['joint_img'] = torch.cat((xy, torch.zeros_like(xy[..., :1])),
                                       dim=-1)
            t['joint_trunc'] = t.get('keypoints_visible', ones(m, j, 1))
            t['is_3D'] = joint_img.new_zeros(m, 1)
        else:
            raise ValueError(
                'SHNetHead.loss needs "joint_img" (grid units) in '
                'gt_instance_labels, or "transformed_keypoints" in '
                'gt_instances (PackPoseInputs(pack_transformed=True)).')
        for key in ('mano_pose', 'mano_shape'):
            if key in t and f'{key}_valid' not in t:
                width = t[key].shape[1] // (3 if key == 'mano_pose' else 1)
                t[f'{key}_valid'] = ones(m, width)
        return t

    # ------------------------------------------------------------------
    # prediction
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
                ``(M, 3, H, W)`` crops.
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
        preds = dict(
            keypoints=self.sizes.hand_grid_to_crop(
                outputs['joint_img'][..., :2]),
            keypoint_scores=outputs['joint_img'].new_ones(m, self.num_joints))
        preds.update(
            (k, v) for k, v in outputs.items() if not k.endswith('rotmat'))
        return to_instances(preds)
