# Copyright (c) interwild_mm contributors.
"""DetectNet head: hand-box regression from the body feature (spec 1.3)."""
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from interwild_mm.geometry.heatmap import sample_features, soft_argmax_2d
from mmpose.registry import MODELS
from mmpose.utils.typing import OptMultiConfig

# Weight init of the InterWild heads (normal std 1e-3 for convolutions,
# 1e-2 for linear layers, zero biases, unit BN).
INTERWILD_HEAD_INIT = [
    dict(type='Normal', layer=['Conv2d', 'ConvTranspose2d'], std=0.001,
         bias=0.0),
    dict(type='Normal', layer='Linear', std=0.01, bias=0.0),
    dict(type='Constant', layer=['BatchNorm2d', '_BatchNorm'], val=1.0,
         bias=0.0),
]


@MODELS.register_module()
class DetectNetHead(BaseModule):
    """Hand-box head of DetectNet (the official ``BoxNet``).

    Three ``ConvTranspose2d(k4, s2, p1, no bias) -> BN -> ReLU`` stages
    upsample the body feature x8, a 1x1 conv gives one centre heatmap per
    hand (channel 0 = right, 1 = left), soft-argmax gives the centres, the
    deconv feature sampled at the DETACHED centres feeds one MLP per hand that
    regresses the box size, and the softmaxed heatmap sampled at each centre
    is the box confidence.

    Args:
        in_channels (int): body feature channels. Defaults to 2048.
        deconv_channels (Sequence[int]): output channels of the deconvolution
            stages. Defaults to (256, 256, 256).
        init_cfg (dict | list[dict], optional): weight init config.

    Sub-module names follow the official checkpoint (``deconv``,
    ``bbox_center.0``, ``rhand_size.{0,2}``, ``lhand_size.{0,2}``).
    """

    def __init__(self,
                 in_channels: int = 2048,
                 deconv_channels: Sequence[int] = (256, 256, 256),
                 init_cfg: OptMultiConfig = INTERWILD_HEAD_INIT) -> None:
        super().__init__(init_cfg=init_cfg)
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

    @staticmethod
    def _size_mlp(channels: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Linear(channels, channels), nn.ReLU(inplace=True),
            nn.Linear(channels, 2))

    def forward(self, feat: Tensor) -> Dict[str, Tensor]:
        """Regress both hand boxes.

        Args:
            feat (Tensor): ``(N, C, h, w)`` body feature (8x6 for a 256x192
                body input).

        Returns:
            dict[str, Tensor]: in heatmap units of the ``(8h, 8w)`` grid
            (48x64 for InterWild):

            - ``rhand_center``, ``lhand_center``: ``(N, 2)`` box centres xy.
            - ``rhand_size``, ``lhand_size``: ``(N, 2)`` box sizes wh.
            - ``rhand_conf``, ``lhand_conf``: ``(N,)`` softmax mass at the
              centre (bilinear).
            - ``center_prob``: ``(N, 2, 8h, 8w)`` softmaxed centre heatmaps.
        """
        x = self.deconv(feat)
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
