# Copyright (c) interwild_mm contributors.
"""DetectNet: body backbone + hand-box head (spec 1.2-1.3)."""
from typing import Dict, Sequence

import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, OptMultiConfig


@MODELS.register_module()
class DetectNet(BaseModule):
    """DetectNet of InterWild: finds both hands in the whole-body image.

    The input image is resized (bilinear, ``align_corners=False``) to
    ``input_size``, passed through ``backbone`` (last stage output) and
    :class:`DetectNetHead`.

    Args:
        backbone (dict): backbone config (ResNet-50 in InterWild).
        head (dict): head config (``DetectNetHead``).
        input_size (Sequence[int]): body input ``(H, W)``, default (256, 192).
        init_cfg (dict, optional): init config.
    """

    def __init__(self,
                 backbone: ConfigType,
                 head: ConfigType,
                 input_size: Sequence[int] = (256, 192),
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.head = MODELS.build(head)
        self.input_size = tuple(int(s) for s in input_size)

    def extract_feat(self, img: Tensor) -> Tensor:
        """Resize ``img`` to the body input size and run the backbone.

        Args:
            img (Tensor): ``(N, 3, H, W)`` RGB in [0, 1].

        Returns:
            Tensor: ``(N, C, h, w)`` last-stage feature.
        """
        body_img = F.interpolate(
            img, self.input_size, mode='bilinear', align_corners=False)
        feats = self.backbone(body_img)
        if isinstance(feats, (tuple, list)):
            feats = feats[-1]
        return feats

    def forward(self, img: Tensor) -> Dict[str, Tensor]:
        """Return the :class:`DetectNetHead` outputs (48x64 heatmap units)."""
        return self.head(self.extract_feat(img))
