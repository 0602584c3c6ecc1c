# Copyright (c) interwild_mm contributors.
"""TransNet: relative translation between the two wrists.

See ``docs/official_conventions.md §1.10``.
"""
import copy
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmpose.registry import MODELS
from mmpose.utils.typing import (ConfigType, InstanceList, OptConfigType,
                                 OptMultiConfig, OptSampleList)
from torch import Tensor

from interwild_mm.geometry.bbox import bbox_from_points, set_aspect_ratio
from interwild_mm.geometry.crop import crop_affine_composed, transform_points
from interwild_mm.geometry.heatmap import sample_features
from interwild_mm.geometry.sizes import InterWildSizes, SizesLike
from ..losses import MASKED_L1
from ..utils.data_samples import gather_targets, to_instances
from .detectnet_head import INTERWILD_HEAD_INIT

#: the four inputs of TransNet: right / left joints, right / left hand2orig
TransNetInputs = Tuple[Tensor, Tensor, Tensor, Tensor]


@MODELS.register_module()
class TransNet(BaseModule):
    """Relative translation (left wrist - right wrist, metres) of InterWild.

    Both hands' 2.5D joints are brought into one square box around both
    hands, rendered as 3D Gaussian heatmaps on a ``64^3`` grid (channels =
    ``joint * 64 + z``, right hand then left hand), convolved (3x3,
    2688 -> 64, BN, ReLU), passed through ``layer1-4`` of a ResNet-18,
    sampled at the two wrists and regressed by a linear layer. All inputs are
    detached.

    The backbone's stem (``conv1``/``bn1``, or ``stem`` of a deep-stem
    ResNet) is never used: the official forward skips it too
    (``docs/official_conventions.md §1.10``). It is replaced by
    ``nn.Identity`` right after the backbone is built, so the model has no
    parameter that receives no gradient (DistributedDataParallel requires
    that) and the state dict has no stem keys (the official checkpoint's six
    stem keys are dropped by the converter, see
    ``interwild_mm/models/utils/official_ckpt.py``). A ``Pretrained``
    ``init_cfg`` of the backbone (ImageNet ResNet-18) is honoured by
    :meth:`init_weights`, which loads ``layer1-4`` and skips the stem and
    the ImageNet classifier (``fc``) of the checkpoint on purpose.

    The first convolution can be evaluated in two mathematically equivalent
    ways (``first_conv_impl``):

    - ``'dense'``: render the ``(N, 2688, 64, 64)`` volume and convolve it
      (the official computation);
    - ``'factorised'``: each channel is ``255 * gz * (gy outer gx)`` with
      1-D Gaussians ``gx, gy, gz``, so the 3x3 convolution reduces to
      contracting the weights with the per-joint 1-D profiles; no volume is
      materialised (about 200x fewer multiply-adds).

    Every step of the geometry follows the official float32 order
    (``docs/official_conventions.md §1.10``), see :meth:`joints_to_volume`
    and :meth:`render_heatmaps`. Loss (§2): ``loss_rel_trans``, masked by
    ``rel_trans_valid``.

    Args:
        backbone (dict): ResNet-18 config (mmpose ``ResNet``, depth 18).
        num_joints (int): joints per hand. Default 21.
        hm_shape (Sequence[int], optional): Gaussian volume ``(D, H, W)``,
            default (64, 64, 64). The volume is TransNet's own size: inside
            :class:`InterWild` it is the model's ``sizes.trans_grid_dhw``.
        sizes (InterWildSizes | dict, optional): the model's sizes (crop,
            hand grid, volume). Defaults to the official sizes.
        hand_hm_shape (Sequence[int], optional): SHNet joint grid
            ``(D, H, W)`` of a TransNet built on its own; must agree with
            ``sizes`` when both are given.
        crop_size (Sequence[int], optional): hand crop ``(H, W)``, likewise.
        sigma (float): Gaussian std in grid cells. Default 2.5.
        joint_box_extension (float): per-hand joint box enlargement. 1.2.
        feat_channels (int): first conv output channels. Default 64.
        backbone_channels (int): backbone output channels. Default 512.
        first_conv_impl (str): ``'dense'`` or ``'factorised'``.
        loss_rel_trans (dict): loss of ``rel_trans`` (metres). Defaults to
            mmpose's ``L1Loss(use_target_weight=True)``.
        init_cfg (dict | list[dict], optional): init config.
    """

    #: targets of :meth:`loss_by_feat`: key -> per-sample shape
    TARGET_SPECS = dict(rel_trans=(3, ), rel_trans_valid=(1, ))

    def __init__(self,
                 backbone: ConfigType,
                 num_joints: int = 21,
                 hm_shape: Optional[Sequence[int]] = None,
                 sizes: SizesLike = None,
                 hand_hm_shape: Optional[Sequence[int]] = None,
                 crop_size: Optional[Sequence[int]] = None,
                 sigma: float = 2.5,
                 joint_box_extension: float = 1.2,
                 feat_channels: int = 64,
                 backbone_channels: int = 512,
                 first_conv_impl: str = 'dense',
                 loss_rel_trans: ConfigType = MASKED_L1,
                 init_cfg: OptMultiConfig = INTERWILD_HEAD_INIT) -> None:
        super().__init__(init_cfg=init_cfg)
        if first_conv_impl not in ('dense', 'factorised'):
            raise ValueError(f"first_conv_impl must be 'dense' or "
                             f"'factorised', got {first_conv_impl!r}.")
        self.sizes = InterWildSizes.resolve(
            'TransNet', sizes, trans_grid_dhw=hm_shape,
            hand_grid_dhw=hand_hm_shape, crop_hw=crop_size)
        backbone, self.backbone_pretrained = self._split_pretrained(backbone)
        self.backbone = MODELS.build(backbone)
        self.removed_stem_prefixes = self._remove_stem(self.backbone)
        self.num_joints = num_joints
        self.sigma = float(sigma)
        self.joint_box_extension = joint_box_extension
        self.first_conv_impl = first_conv_impl
        in_ch = 2 * num_joints * self.sizes.trans_grid_dhw[0]
        self.conv = nn.Sequential(
            nn.Conv2d(in_ch, feat_channels, kernel_size=3, padding=1),
            nn.BatchNorm2d(feat_channels), nn.ReLU(inplace=True))
        self.fc = nn.Sequential(nn.Linear(2 * (backbone_channels + 2), 3))
        self.loss_rel_trans = MODELS.build(loss_rel_trans)

    @property
    def hm_shape(self) -> Tuple[int, int, int]:
        """``(D, H, W)`` of the Gaussian volume."""
        return self.sizes.trans_grid_dhw

    # ------------------------------------------------------------------
    # construction / initialisation
    @staticmethod
    def _split_pretrained(backbone: ConfigType) -> Tuple[dict, Optional[dict]]:
        """Take a ``Pretrained`` ``init_cfg`` off the backbone config.

        Returns:
            tuple: the backbone config (a copy, ``init_cfg=None`` if it was
            ``Pretrained``) and the ``Pretrained`` dict (or None).
        """
        backbone = copy.deepcopy(dict(backbone))
        init_cfg = backbone.get('init_cfg')
        if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
            backbone['init_cfg'] = None
            return backbone, dict(init_cfg)
        return backbone, None

    @staticmethod
    def _remove_stem(backbone: nn.Module) -> Tuple[str, ...]:
        """Replace the unused stem of a ResNet by ``nn.Identity``.

        Returns:
            tuple[str, ...]: the state-dict prefixes the stem had (e.g.
            ``('conv1.', 'bn1.')``); checkpoints written for a full ResNet
            carry these keys.
        """
        if not hasattr(backbone, 'res_layers'):
            raise TypeError(
                'TransNet needs a ResNet-style backbone with `res_layers` '
                f'(mmpose ResNet), got {type(backbone).__name__}.')
        names = ['stem'] if getattr(backbone, 'deep_stem', False) else [
            'conv1', getattr(backbone, 'norm1_name', 'bn1')
        ]
        for name in names:
            setattr(backbone, name, nn.Identity())
        return tuple(f'{name}.' for name in names)

    def init_weights(self) -> None:
        """Initialise the layers, then load the backbone's ``Pretrained``
        weights (``layer1-4`` only) if its config asked for them."""
        first_call = not self.is_init
        super().init_weights()
        if first_call and self.backbone_pretrained is not None:
            self._load_backbone_pretrained(self.backbone_pretrained)

    def _load_backbone_pretrained(self, init_cfg: dict) -> None:
        """Load an ImageNet ResNet checkpoint into ``layer1-4``.

        The checkpoint's stem and ``fc`` keys are skipped silently (they have
        no counterpart here); any other mismatch is reported by mmengine's
        ``load_state_dict`` as usual.
        """
        from mmengine.runner.checkpoint import (CheckpointLoader,
                                                load_state_dict)
        ckpt_name = init_cfg['checkpoint']
        ckpt = CheckpointLoader.load_checkpoint(
            ckpt_name,
            map_location=init_cfg.get('map_location', 'cpu'),
            logger='current')
        state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else {}
        prefix = init_cfg.get('prefix')
        if prefix:
            prefix = prefix if prefix.endswith('.') else prefix + '.'
            state = {
                k[len(prefix):]: v
                for k, v in state.items() if k.startswith(prefix)
            }
        skipped = self.removed_stem_prefixes + ('fc.', )
        state = {k: v for k, v in state.items() if not k.startswith(skipped)}
        load_state_dict(self.backbone, state, strict=False, logger='current')
        print_log(
            f'TransNet: backbone layer1-4 loaded from {ckpt_name} (its stem '
            'and fc are not part of TransNet).',
            logger='current')

    # ------------------------------------------------------------------
    # geometry (official float32 order, §1.10)
    def joints_to_volume(self, rjoint_img: Tensor, ljoint_img: Tensor,
                         rhand2orig: Tensor,
                         lhand2orig: Tensor) -> Tuple[Tensor, Tensor]:
        """Map both hands' joints into the shared volume.

        In the official float32 order (§1.10):

        1. hand grid -> image: ``x / 8 * 256`` (``y`` alike), then the
           batched matmul of ``hand2orig`` with ``(x, y, 1)``;
        2. per hand the box of the joints, ``x1 = cx - 0.5 * w * 1.2``,
           ``x2 = cx + 0.5 * w * 1.2`` (:func:`bbox_from_points`);
        3. union of both boxes, made square by the step sequence of the box
           restoration (:func:`set_aspect_ratio`, aspect 1);
        4. image -> volume by the crop affine of the union box
           (:func:`crop_affine_composed`, translation ``(32, 32) - c``,
           scale ``64 / (x2 - x1 + 1e-8)``) applied as a batched matmul;
           depth ``z / 8 * 64``.

        Args:
            rjoint_img, ljoint_img (Tensor): ``(N, J, 3)`` un-mirrored SHNet
                joints (x, y on the hand grid, z in its depth bins).
            rhand2orig, lhand2orig (Tensor): ``(N, 2, 3)`` crop -> input-image
                pixel affines.

        Returns:
            tuple[Tensor, Tensor]: ``coords`` ``(N, 2, J, 3)`` (right, left)
            in volume cells (x, y, z) and the square union box ``(N, 4)``
            xyxy in input-image pixels.
        """
        sizes = self.sizes
        joints = [j.detach() for j in (rjoint_img, ljoint_img)]
        mats = [m.detach() for m in (rhand2orig, lhand2orig)]
        xy_img = [
            sizes.hand_grid_to_image(j[..., :2], m)
            for j, m in zip(joints, mats)
        ]
        boxes = [
            bbox_from_points(xy, None, self.joint_box_extension, 'xyxy')
            for xy in xy_img
        ]
        union = torch.cat([
            torch.minimum(boxes[0][:, :2], boxes[1][:, :2]),
            torch.maximum(boxes[0][:, 2:], boxes[1][:, 2:])
        ], dim=-1)
        union = set_aspect_ratio(union, 1.0)
        to_volume = crop_affine_composed(union, sizes.trans_grid_hw)[:, :2]
        coords = [
            torch.cat([
                transform_points(xy, to_volume),
                sizes.hand_depth_to_trans_depth(j[..., 2:])
            ], dim=-1) for xy, j in zip(xy_img, joints)
        ]
        return torch.stack(coords, dim=1), union

    # ------------------------------------------------------------------
    # dense path
    def render_heatmaps(self, coords: Tensor) -> Tensor:
        """Render the Gaussian volumes in the official float32 order.

        ``exp(-((X - x)/σ)²/2 - ((Y - y)/σ)²/2 - ((Z - z)/σ)²/2) · 255`` on
        the integer grid, subtracted in this order (§1.10). Each term depends
        on one axis only, so it is computed on that axis and broadcast: the
        same values as on the full grid.

        Args:
            coords (Tensor): ``(N, 2, J, 3)`` volume coordinates.

        Returns:
            Tensor: ``(N, 2*J*D, H, W)`` with channel
            ``hand*J*D + joint*D + z``.
        """
        d, h, w = self.hm_shape
        n = coords.shape[0]
        c = coords.reshape(n, -1, 3)
        tx = self._half_square(c[..., 0:1], 0, w)
        ty = self._half_square(c[..., 1:2], 0, h)
        tz = self._half_square(c[..., 2:3], 0, d)
        expo = (-tx[..., None, None, :] - ty[..., None, :, None] -
                tz[..., :, None, None])
        return (torch.exp(expo) * 255).reshape(n, -1, h, w)

    def _half_square(self, center: Tensor, start: int, stop: int) -> Tensor:
        """``((g - c) / σ)² / 2`` on the integer grid ``g = start … stop-1``
        for ``(..., 1)`` centres; shape ``(..., stop - start)``."""
        grid = torch.arange(
            start, stop, dtype=center.dtype, device=center.device)
        return ((grid - center) / self.sigma)**2 / 2

    def first_conv_dense(self, coords: Tensor) -> Tensor:
        """The 3x3 first convolution (before BN) on the rendered volume."""
        return self.conv[0](self.render_heatmaps(coords))

    # ------------------------------------------------------------------
    # factorised path
    def first_conv_factorised(self, coords: Tensor) -> Tensor:
        """Same as :meth:`first_conv_dense` without rendering the volume.

        With ``H[(k, z), y, x] = 255 * gz[k, z] * gy[k, y] * gx[k, x]``,
        ``conv(H)[o, y, x] = b[o] + sum_{k, dy, dx} W'[o, k, dy, dx]
        * gy[k, y + dy - 1] * gx[k, x + dx - 1]`` with
        ``W'[o, k] = 255 * sum_z W[o, (k, z)] gz[k, z]`` (zero padding
        = profiles are zero outside the grid).
        """
        conv = self.conv[0]
        d, h, w = self.hm_shape
        n = coords.shape[0]
        c = coords.reshape(n, -1, 3)
        k = c.shape[1]
        kh, kw = conv.kernel_size
        ph, pw = conv.padding
        gz = torch.exp(-self._half_square(c[..., 2:3], 0, d)) * 255
        # profiles with zero padding, then the kh (kw) shifted windows
        inside_y = c.new_zeros(h + 2 * ph)
        inside_y[ph:ph + h] = 1
        inside_x = c.new_zeros(w + 2 * pw)
        inside_x[pw:pw + w] = 1
        gy = torch.exp(-self._half_square(c[..., 1:2], -ph, h + ph)) * inside_y
        gx = torch.exp(-self._half_square(c[..., 0:1], -pw, w + pw)) * inside_x
        gy = gy.unfold(-1, h, 1)  # (N, K, kh, H): window dy starts at dy
        gx = gx.unfold(-1, w, 1)  # (N, K, kw, W)
        weight = conv.weight.reshape(conv.out_channels, k, d, kh, kw)
        w_eff = torch.einsum('okzab,nkz->nokab', weight, gz)
        tmp = torch.einsum('nokab,nkbx->nokax', w_eff, gx)
        out = torch.einsum('nkay,nokax->noyx', gy, tmp)
        if conv.bias is not None:
            out = out + conv.bias[None, :, None, None]
        return out

    # ------------------------------------------------------------------
    def first_conv(self, coords: Tensor) -> Tensor:
        """Dispatch to the configured first-conv implementation."""
        if self.first_conv_impl == 'dense':
            return self.first_conv_dense(coords)
        return self.first_conv_factorised(coords)

    def run_backbone(self, x: Tensor) -> Tensor:
        """``layer1``-``layer4`` of the backbone (it has no stem)."""
        for name in self.backbone.res_layers:
            x = getattr(self.backbone, name)(x)
        return x

    def forward(self, rjoint_img: Tensor, ljoint_img: Tensor,
                rhand2orig: Tensor, lhand2orig: Tensor) -> Tensor:
        """Predict ``rel_trans`` (left wrist - right wrist).

        Args:
            rjoint_img, ljoint_img (Tensor): ``(N, J, 3)`` un-mirrored SHNet
                joints, hand-grid units.
            rhand2orig, lhand2orig (Tensor): ``(N, 2, 3)`` crop -> input-image
                pixel affines.

        Returns:
            Tensor: ``(N, 3)`` relative translation in metres.
        """
        coords, _ = self.joints_to_volume(rjoint_img, ljoint_img, rhand2orig,
                                          lhand2orig)
        x = self.conv[2](self.conv[1](self.first_conv(coords)))
        feat = self.run_backbone(x)
        # volume -> feature cells: x / 8, y / 8 (the feature stride), §1.10
        wrist = coords[:, :, 0, :2]
        wrist = torch.stack([
            wrist[..., 0] / (self.hm_shape[2] / feat.shape[-1]),
            wrist[..., 1] / (self.hm_shape[1] / feat.shape[-2])
        ], dim=-1)
        wrist_feat = sample_features(feat, wrist)  # (N, 2, C)
        out = torch.cat([wrist_feat, wrist], dim=-1).flatten(1)
        return self.fc(out)

    # ------------------------------------------------------------------
    # mmpose head API
    def loss(self,
             feats: TransNetInputs,
             batch_data_samples: OptSampleList,
             train_cfg: OptConfigType = {}) -> Dict[str, Tensor]:
        """``rel_trans`` loss of a batch.

        Args:
            feats (tuple[Tensor]): the :meth:`forward` inputs
                ``(rjoint_img, ljoint_img, rhand2orig, lhand2orig)``.
            batch_data_samples (list[PoseDataSample]): with ``rel_trans``
                (3,) and ``rel_trans_valid`` (1,) in ``gt_instance_labels``.
            train_cfg (dict): unused.

        Returns:
            dict[str, Tensor]: ``loss_rel_trans``.
        """
        rel_trans = self.forward(*feats)
        targets = gather_targets(batch_data_samples, self.TARGET_SPECS,
                                 rel_trans, owner='TransNet')
        return self.loss_by_feat(rel_trans, targets)

    def loss_by_feat(self, rel_trans: Tensor,
                     targets: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """``loss_rel_trans`` = masked L1 of ``(N, 3)`` metres (§2)."""
        return dict(
            loss_rel_trans=self.loss_rel_trans(rel_trans, targets['rel_trans'],
                                               targets['rel_trans_valid']))

    def predict(self,
                feats: TransNetInputs,
                batch_data_samples: OptSampleList = None,
                test_cfg: OptConfigType = {}) -> InstanceList:
        """Per sample ``rel_trans`` ``(1, 3)`` metres (numpy)."""
        return to_instances(dict(rel_trans=self.forward(*feats)))
