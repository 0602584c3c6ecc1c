# Copyright (c) interwild_mm contributors.
"""Data preprocessor producing InterWild's input: RGB in [0, 1].

``docs/official_conventions.md §1.1``.
"""
from typing import List, Optional

from mmpose.models.data_preprocessors import PoseDataPreprocessor
from mmpose.registry import MODELS


@MODELS.register_module()
class InterWildDataPreprocessor(PoseDataPreprocessor):
    """:class:`PoseDataPreprocessor` fixed to ``x / 255`` (no mean/std).

    InterWild feeds ``uint8 RGB / 255`` to every backbone; this is the same
    as mean 0 / std 255 normalisation, which is fixed here so that configs
    cannot drift to ImageNet statistics.

    Args:
        bgr_to_rgb (bool): swap channels (set True when the pipeline loads
            BGR images, as mmpose's ``LoadImage`` does). Defaults to False.
        non_blocking (bool): non-blocking device transfer.
        batch_augments (list[dict], optional): batch augmentations.
    """

    def __init__(self,
                 bgr_to_rgb: bool = False,
                 non_blocking: Optional[bool] = False,
                 batch_augments: Optional[List[dict]] = None) -> None:
        super().__init__(
            mean=(0.0, 0.0, 0.0),
            std=(255.0, 255.0, 255.0),
            pad_size_divisor=1,
            pad_value=0,
            bgr_to_rgb=bgr_to_rgb,
            non_blocking=non_blocking,
            batch_augments=batch_augments)
