# Copyright (c) interwild_mm contributors.
"""TransNet: relative translation between the two wrists.

See ``docs/official_conventions.md §1.10``.
"""
import copy
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModule
from torch import Tensor

from interwild_mm.geometry.bbox import bbox_from_points, set_aspect_ratio
from interwild_mm.geometry.crop import crop_affine, transform_points
from interwild_mm.geometry.heatmap import sample_features
from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, OptMultiConfig

from .detectnet_head import INTERWILD_HEAD_INIT


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

    Args:
        backbone (dict): ResNet-18 config (mmpose ``ResNet``, depth 18).
        num_joints (int): joints per hand. Default 21.
        hm_shape (Sequence[int]): Gaussian volume ``(D, H, W)``, default
            (64, 64, 64).
        hand_hm_shape (Sequence[int]): SHNet joint grid ``(D, H, W)``,
            default (8, 8, 8).
        crop_size (Sequence[int]): hand crop ``(H, W)``, default (256, 256).
        sigma (float): Gaussian std in grid cells. Default 2.5.
        joint_box_extension (float): per-hand joint box enlargement. 1.2.
        feat_channels (int): first conv output channels. Default 64.
        backbone_channels (int): backbone output channels. Default 512.
        first_conv_impl (str): ``'dense'`` or ``'factorised'``.
        init_cfg (dict | list[dict], optional): init config.
    """

    def __init__(self,
                 backbone: ConfigType,
                 num_joints: int = 21,
                 hm_shape: Sequence[int] = (64, 64, 64),
                 hand_hm_shape: Sequence[int] = (8, 8, 8),
                 crop_size: Sequence[int] = (256, 256),
                 sigma: float = 2.5,
                 joint_box_extension: float = 1.2,
                 feat_channels: int = 64,
                 backbone_channels: int = 512,
                 first_conv_impl: str = 'dense',
                 init_cfg: OptMultiConfig = INTERWILD_HEAD_INIT) -> None:
        super().__init__(init_cfg=init_cfg)
        if first_conv_impl not in ('dense', 'factorised'):
            raise ValueError(f"first_conv_impl must be 'dense' or "
                             f"'factorised', got {first_conv_impl!r}.")
        backbone, self.backbone_pretrained = self._split_pretrained(backbone)
        self.backbone = MODELS.build(backbone)
        self.removed_stem_prefixes = self._remove_stem(self.backbone)
        self.num_joints = num_joints
        self.hm_shape = tuple(int(s) for s in hm_shape)
        self.hand_hm_shape = tuple(int(s) for s in hand_hm_shape)
        self.crop_size = tuple(int(s) for s in crop_size)
        self.sigma = float(sigma)
        self.joint_box_extension = joint_box_extension
        self.first_conv_impl = first_conv_impl
        in_ch = 2 * num_joints * self.hm_shape[0]
        self.conv = nn.Sequential(
            nn.Conv2d(in_ch, feat_channels, kernel_size=3, padding=1),
            nn.BatchNorm2d(feat_channels), nn.ReLU(inplace=True))
        self.fc = nn.Sequential(nn.Linear(2 * (backbone_channels + 2), 3))

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
    # geometry
    def joints_to_volume(self, rjoint_img: Tensor, ljoint_img: Tensor,
                         rhand2orig: Tensor,
                         lhand2orig: Tensor) -> Tuple[Tensor, Tensor]:
        """Map both hands' joints into the shared 64^3 grid.

        Args:
            rjoint_img, ljoint_img (Tensor): ``(N, J, 3)`` un-mirrored SHNet
                joints (x, y in the 8x8 crop grid, z in 8 depth bins).
            rhand2orig, lhand2orig (Tensor): ``(N, 2, 3)`` crop -> input-image
                pixel affines.

        Returns:
            tuple[Tensor, Tensor]: ``coords`` ``(N, 2, J, 3)`` (right, left)
            in 64-grid cells (x, y, z) and the square union box ``(N, 4)``
            xyxy in input-image pixels.
        """
        joints = torch.stack([rjoint_img, ljoint_img], dim=1).detach()
        mats = torch.stack([rhand2orig, lhand2orig], dim=1).detach()
        scale = joints.new_tensor([
            self.crop_size[1] / self.hand_hm_shape[2],
            self.crop_size[0] / self.hand_hm_shape[1]
        ])
        xy_img = transform_points(joints[..., :2] * scale, mats)
        boxes = bbox_from_points(
            xy_img, None, self.joint_box_extension, out_format='xyxy')
        union = torch.cat(
            [boxes[:, :, :2].amin(dim=1), boxes[:, :, 2:].amax(dim=1)], dim=-1)
        union = set_aspect_ratio(union, 1.0)
        to_hm = crop_affine(union, self.hm_shape[1:])
        xy_hm = transform_points(xy_img, to_hm[:, None])
        z_hm = joints[..., 2:] * (self.hm_shape[0] / self.hand_hm_shape[0])
        return torch.cat([xy_hm, z_hm], dim=-1), union

    # ------------------------------------------------------------------
    # dense path
    def render_heatmaps(self, coords: Tensor) -> Tensor:
        """Render ``255 * exp(-d^2 / (2 sigma^2))`` Gaussian volumes.

        Args:
            coords (Tensor): ``(N, 2, J, 3)`` 64-grid coordinates.

        Returns:
            Tensor: ``(N, 2*J*D, H, W)`` with channel
            ``hand*J*D + joint*D + z``.
        """
        d, h, w = self.hm_shape
        n = coords.shape[0]
        c = coords.reshape(n, -1, 3)
        zs = torch.arange(d, dtype=c.dtype, device=c.device)
        ys = torch.arange(h, dtype=c.dtype, device=c.device)
        xs = torch.arange(w, dtype=c.dtype, device=c.device)
        dx2 = (xs - c[..., 0:1])**2  # (N, K, W)
        dy2 = (ys - c[..., 1:2])**2  # (N, K, H)
        dz2 = (zs - c[..., 2:3])**2  # (N, K, D)
        dist2 = (dz2[..., :, None, None] + dy2[..., None, :, None] +
                 dx2[..., None, None, :])
        hm = torch.exp(-dist2 / (2 * self.sigma**2)) * 255
        return hm.reshape(n, -1, h, w)

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
        inv = 1.0 / (2 * self.sigma**2)
        zs = torch.arange(d, dtype=c.dtype, device=c.device)
        gz = torch.exp(-(zs - c[..., 2:3])**2 * inv) * 255  # (N, K, D)
        # profiles with zero padding, then the kh (kw) shifted windows
        ys = torch.arange(-ph, h + ph, dtype=c.dtype, device=c.device)
        xs = torch.arange(-pw, w + pw, dtype=c.dtype, device=c.device)
        inside_y = ((ys >= 0) & (ys < h)).to(c.dtype)
        inside_x = ((xs >= 0) & (xs < w)).to(c.dtype)
        gy = torch.exp(-(ys - c[..., 1:2])**2 * inv) * inside_y
        gx = torch.exp(-(xs - c[..., 0:1])**2 * inv) * inside_x
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
                joints, 8x8x8 grid units.
            rhand2orig, lhand2orig (Tensor): ``(N, 2, 3)`` crop -> input-image
                pixel affines.

        Returns:
            Tensor: ``(N, 3)`` relative translation in metres.
        """
        coords, _ = self.joints_to_volume(rjoint_img, ljoint_img, rhand2orig,
                                          lhand2orig)
        x = self.conv[2](self.conv[1](self.first_conv(coords)))
        feat = self.run_backbone(x)
        stride_x = self.hm_shape[2] / feat.shape[-1]
        stride_y = self.hm_shape[1] / feat.shape[-2]
        wrist = coords[:, :, 0, :2] / coords.new_tensor([stride_x, stride_y])
        wrist_feat = sample_features(feat, wrist)  # (N, 2, C)
        out = torch.cat([wrist_feat, wrist], dim=-1).flatten(1)
        return self.fc(out)
