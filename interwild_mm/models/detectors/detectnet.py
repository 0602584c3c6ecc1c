# Copyright (c) interwild_mm contributors.
"""DetectNet: body backbone + hand-box head.

``docs/official_conventions.md §1.2-1.3``.
"""
from typing import Dict, Optional, Sequence

import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, OptMultiConfig
from torch import Tensor

from interwild_mm.geometry.sizes import InterWildSizes, SizesLike


@MODELS.register_module()
class DetectNet(BaseModule):
    """DetectNet of InterWild: finds both hands in the whole-body image.

    The input image is resized (bilinear, ``align_corners=False``) to the
    body input size, passed through ``backbone`` (last stage output) and
    :class:`DetectNetHead`, which gets the same ``sizes``.

    Args:
        backbone (dict): backbone config (ResNet-50 in InterWild).
        head (dict): head config (``DetectNetHead``).
        sizes (InterWildSizes | dict, optional): the model's sizes; the body
            input is ``sizes.body_input_hw``. Defaults to the official sizes.
        input_size (Sequence[int], optional): body input ``(H, W)`` for a
            DetectNet built on its own; must agree with ``sizes`` when both
            are given.
        init_cfg (dict, optional): init config.
    """

    def __init__(self,
                 backbone: ConfigType,
                 head: ConfigType,
                 sizes: SizesLike = None,
                 input_size: Optional[Sequence[int]] = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.sizes = InterWildSizes.resolve(
            'DetectNet', sizes, body_input_hw=input_size)
        self.backbone = MODELS.build(backbone)
        self.head = MODELS.build(self.sizes.into(head, 'DetectNet.head'))

    def extract_feat(self, img: Tensor) -> Tensor:
        """Resize ``img`` to the body input size and run the backbone.

        Args:
            img (Tensor): ``(N, 3, H, W)`` RGB in [0, 1].

        Returns:
            Tensor: ``(N, C, h, w)`` last-stage feature.
        """
        body_img = F.interpolate(
            img,
            self.sizes.body_input_hw,
            mode='bilinear',
            align_corners=False)
        feats = self.backbone(body_img)
        if isinstance(feats, (tuple, list)):
            feats = feats[-1]
        return feats

    def forward(self, img: Tensor) -> Dict[str, Tensor]:
        """Return the :class:`DetectNetHead` outputs (body-grid units)."""
        return self.head(self.extract_feat(img))
