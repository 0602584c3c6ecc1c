# Copyright (c) interwild_mm contributors.
"""Sampling of InterWild's training augmentation.

See docs/official_conventions.md §3.1.
"""
from typing import Dict, Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmpose.registry import TRANSFORMS


@TRANSFORMS.register_module()
class InterWildRandomAugment(BaseTransform):
    """Sample scale, rotation, colour factors and flip of one sample.

    Only samples the parameters; :class:`InterWildBodyAffine` applies them
    (image, 2D/3D joints, boxes, meshes) and
    :class:`InterWildGenerateTarget` applies them to the MANO fits.

    * ``scale = 1 + scale_factor · clip(N(0, 1), -1, 1)``
    * ``rot = rot_factor · clip(N(0, 1), -2, 2)`` degrees with probability
      ``rot_prob``, else 0
    * three colour factors ``U(1 - color_factor, 1 + color_factor)``
    * horizontal flip with probability ``flip_prob``

    Required Keys:
        - (none)

    Added Keys:
        - aug_scale (float)
        - aug_rot (float, degrees)
        - aug_color (np.ndarray, (3,), applied to the image channels)
        - flip (bool)
        - flip_direction (str | None)

    Args:
        scale_factor (float): Defaults to 0.25.
        rot_factor (float): Degrees. Defaults to 30.
        rot_prob (float): Probability of a non-zero rotation. Defaults to 0.6.
        color_factor (float): Defaults to 0.2.
        flip_prob (float): Defaults to 0.5.
    """

    def __init__(self,
                 scale_factor: float = 0.25,
                 rot_factor: float = 30.0,
                 rot_prob: float = 0.6,
                 color_factor: float = 0.2,
                 flip_prob: float = 0.5) -> None:
        for name, p in (('rot_prob', rot_prob), ('flip_prob', flip_prob)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f'{name} must be in [0, 1], got {p}.')
        if not 0.0 <= color_factor < 1.0:
            raise ValueError(
                f'color_factor must be in [0, 1), got {color_factor}.')
        self.scale_factor = scale_factor
        self.rot_factor = rot_factor
        self.rot_prob = rot_prob
        self.color_factor = color_factor
        self.flip_prob = flip_prob

    @cache_randomness
    def _sample(self) -> Dict:
        scale = 1.0 + self.scale_factor * float(
            np.clip(np.random.randn(), -1.0, 1.0))
        rot = 0.0
        if np.random.rand() < self.rot_prob:
            rot = self.rot_factor * float(
                np.clip(np.random.randn(), -2.0, 2.0))
        color = np.random.uniform(1.0 - self.color_factor,
                                  1.0 + self.color_factor,
                                  size=3).astype(np.float32)
        flip = bool(np.random.rand() < self.flip_prob)
        return dict(scale=scale, rot=rot, color=color, flip=flip)

    def transform(self, results: Dict) -> Optional[Dict]:
        params = self._sample()
        results['aug_scale'] = params['scale']
        results['aug_rot'] = params['rot']
        results['aug_color'] = params['color']
        results['flip'] = params['flip']
        results['flip_direction'] = 'horizontal' if params['flip'] else None
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale_factor={self.scale_factor}, '
                f'rot_factor={self.rot_factor}, rot_prob={self.rot_prob}, '
                f'color_factor={self.color_factor}, '
                f'flip_prob={self.flip_prob})')
