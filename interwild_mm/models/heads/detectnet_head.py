# Copyright (c) interwild_mm contributors.
"""DetectNet head: hand-box regression from the body feature.

``docs/official_conventions.md §1.3-1.4`` (forward, box restoration) and §2
(box losses).
"""
from typing import Dict, Sequence

import torch.nn as nn
from mmengine.model import BaseModule
from mmpose.registry import MODELS
from mmpose.utils.typing import (ConfigType, InstanceList, OptConfigType,
                                 OptMultiConfig, OptSampleList)
from torch import Tensor

from interwild_mm.geometry.heatmap import sample_features, soft_argmax_2d
from interwild_mm.geometry.sizes import InterWildSizes, SizesLike
from ..losses import MASKED_L1
from ..utils.data_samples import gather_targets, to_instances

# Weight init of the InterWild heads (normal std 1e-3 for convolutions,
# 1e-2 for linear layers, zero biases, unit BN).
INTERWILD_HEAD_INIT = [
    dict(type='Normal', layer=['Conv2d', 'ConvTranspose2d'], std=0.001,
         bias=0.0),
    dict(type='Normal', layer='Linear', std=0.01, bias=0.0),
    dict(type='Constant', layer=['BatchNorm2d', '_BatchNorm'], val=1.0,
         bias=0.0),
]

_HANDS = ('rhand', 'lhand')


@MODELS.register_module()
class DetectNetHead(BaseModule):
    """Hand-box head of DetectNet (the official ``BoxNet``).

    Three ``ConvTranspose2d(k4, s2, p1, no bias) -> BN -> ReLU`` stages
    upsample the body feature x8, a 1x1 conv gives one centre heatmap per
    hand (channel 0 = right, 1 = left), soft-argmax gives the centres, the
    deconv feature sampled at the DETACHED centres feeds one MLP per hand that
    regresses the box size, and the softmaxed heatmap sampled at each centre
    is the box confidence.

    Losses (§2): ``loss_{r,l}hand_bbox_center`` and ``_size``, masked by the
    hand's ``bbox_valid``. Predictions: boxes restored in body-input pixels
    (§1.4, no aspect fix, extension 1).

    Args:
        in_channels (int): body feature channels. Defaults to 2048.
        deconv_channels (Sequence[int]): output channels of the deconvolution
            stages. Defaults to (256, 256, 256).
        sizes (InterWildSizes | dict, optional): the model's sizes (body
            grid = the heatmap, body input = the box pixels). Defaults to
            the official sizes.
        loss_center (dict): loss of the box centres (grid units). Defaults
            to mmpose's ``L1Loss(use_target_weight=True)``.
        loss_size (dict): loss of the box sizes. Same default.
        init_cfg (dict | list[dict], optional): weight init config.

    Sub-module names follow the official checkpoint (``deconv``,
    ``bbox_center.0``, ``rhand_size.{0,2}``, ``lhand_size.{0,2}``).
    """

    #: targets of :meth:`loss_by_feat`: key -> per-sample shape
    TARGET_SPECS = {
        **{f'{h}_bbox_center': (2, ) for h in _HANDS},
        **{f'{h}_bbox_size': (2, ) for h in _HANDS},
        **{f'{h}_bbox_valid': (1, ) for h in _HANDS},
    }

    def __init__(self,
                 in_channels: int = 2048,
                 deconv_channels: Sequence[int] = (256, 256, 256),
                 sizes: SizesLike = None,
                 loss_center: ConfigType = MASKED_L1,
                 loss_size: ConfigType = MASKED_L1,
                 init_cfg: OptMultiConfig = INTERWILD_HEAD_INIT) -> None:
        super().__init__(init_cfg=init_cfg)
        self.sizes = InterWildSizes.build(sizes)
        layers = []
        prev = in_channels
        for ch in deconv_channels:
            layers += [
                nn.ConvTranspose2d(
                    prev, ch, kernel_size=4, stride=2, padding=1,
                    output_padding=0, bias=False),
                nn.BatchNorm2d(ch),
                nn.ReLU(inplace=True),
            ]
            prev = ch
        self.deconv = nn.Sequential(*layers)
        self.bbox_center = nn.Sequential(nn.Conv2d(prev, 2, kernel_size=1))
        self.rhand_size = self._size_mlp(prev)
        self.lhand_size = self._size_mlp(prev)
        self.loss_center = MODELS.build(loss_center)
        self.loss_size = MODELS.build(loss_size)

    @staticmethod
    def _size_mlp(channels: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Linear(channels, channels), nn.ReLU(inplace=True),
            nn.Linear(channels, 2))

    def forward(self, feat: Tensor) -> Dict[str, Tensor]:
        """Regress both hand boxes.

        Args:
            feat (Tensor): ``(N, C, h, w)`` body feature (8x6 for a 256x192
                body input); ``(8h, 8w)`` must be the body grid of
                ``sizes``.

        Returns:
            dict[str, Tensor]: in body-grid units (48x64 for InterWild):

            - ``rhand_center``, ``lhand_center``: ``(N, 2)`` box centres xy.
            - ``rhand_size``, ``lhand_size``: ``(N, 2)`` box sizes wh.
            - ``rhand_conf``, ``lhand_conf``: ``(N,)`` softmax mass at the
              centre (bilinear).
            - ``center_prob``: ``(N, 2, 8h, 8w)`` softmaxed centre heatmaps.
        """
        x = self.deconv(feat)
        if tuple(x.shape[-2:]) != self.sizes.body_grid_hw:
            raise ValueError(
                f'DetectNetHead: the body feature {tuple(feat.shape[-2:])} '
                f'gives a {tuple(x.shape[-2:])} grid, the sizes say '
                f'{self.sizes.body_grid_hw}; set body_hm_shape to 8x the '
                'body feature (body input / 32 x 8).')
        centers, prob = soft_argmax_2d(self.bbox_center(x))
        rc, lc = centers[:, 0], centers[:, 1]
        r_feat = sample_features(x, rc.detach()[:, None])[:, 0]
        l_feat = sample_features(x, lc.detach()[:, None])[:, 0]
        r_conf = sample_features(prob[:, 0:1], rc.detach()[:, None])[:, 0, 0]
        l_conf = sample_features(prob[:, 1:2], lc.detach()[:, None])[:, 0, 0]
        return dict(
            rhand_center=rc,
            lhand_center=lc,
            rhand_size=self.rhand_size(r_feat),
            lhand_size=self.lhand_size(l_feat),
            rhand_conf=r_conf,
            lhand_conf=l_conf,
            center_prob=prob)

    # ------------------------------------------------------------------
    def loss(self,
             feats: Tensor,
             batch_data_samples: OptSampleList,
             train_cfg: OptConfigType = {}) -> Dict[str, Tensor]:
        """Box losses of a batch (mmpose head API).

        Args:
            feats (Tensor): ``(N, C, h, w)`` body feature.
            batch_data_samples (list[PoseDataSample]): with the
                :attr:`TARGET_SPECS` targets in ``gt_instance_labels``.
            train_cfg (dict): unused.

        Returns:
            dict[str, Tensor]: see :meth:`loss_by_feat`.
        """
        outputs = self.forward(feats)
        targets = gather_targets(
            batch_data_samples,
            self.TARGET_SPECS,
            outputs['rhand_center'],
            owner='DetectNetHead')
        return self.loss_by_feat(outputs, targets)

    def loss_by_feat(self, outputs: Dict[str, Tensor],
                     targets: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Box losses from the forward outputs (§2).

        Args:
            outputs (dict[str, Tensor]): :meth:`forward` outputs (more keys
                allowed).
            targets (dict[str, Tensor]): ``{r,l}hand_bbox_center`` /
                ``_size`` ``(N, 2)`` body-grid units, ``_valid`` ``(N, 1)``.

        Returns:
            dict[str, Tensor]: ``loss_rhand_bbox_center``,
            ``loss_rhand_bbox_size``, ``loss_lhand_bbox_center``,
            ``loss_lhand_bbox_size``.
        """
        losses = {}
        for h in _HANDS:
            valid = targets[f'{h}_bbox_valid']
            losses[f'loss_{h}_bbox_center'] = self.loss_center(
                outputs[f'{h}_center'], targets[f'{h}_bbox_center'], valid)
            losses[f'loss_{h}_bbox_size'] = self.loss_size(
                outputs[f'{h}_size'], targets[f'{h}_bbox_size'], valid)
        return losses

    # ------------------------------------------------------------------
    def predict(self,
                feats: Tensor,
                batch_data_samples: OptSampleList = None,
                test_cfg: OptConfigType = {}) -> InstanceList:
        """Hand boxes of a batch (mmpose head API).

        Returns:
            list[InstanceData]: per sample ``rhand_bbox``, ``lhand_bbox``
            ``(1, 4)`` xyxy body-input pixels and ``rhand_bbox_score``,
            ``lhand_bbox_score`` ``(1,)`` (numpy).
        """
        boxes = self.predict_by_feat(self.forward(feats))
        return to_instances({
            k.replace('_conf', '_score'): v
            for k, v in boxes.items()
        })

    def predict_by_feat(self,
                        outputs: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Reported boxes from the forward outputs (§1.4, §1.11).

        Returns:
            dict[str, Tensor]: ``rhand_bbox``, ``lhand_bbox`` ``(N, 4)`` xyxy
            in body-input pixels (no aspect fix, extension 1) and
            ``rhand_bbox_conf``, ``lhand_bbox_conf`` ``(N,)``.
        """
        out = {}
        for h in _HANDS:
            out[f'{h}_bbox'] = self.sizes.restore_bbox(
                outputs[f'{h}_center'], outputs[f'{h}_size'], None, 1.0)
            out[f'{h}_bbox_conf'] = outputs[f'{h}_conf']
        return out
