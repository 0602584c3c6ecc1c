# Copyright (c) interwild_mm contributors.
"""InterWild data transforms (registered in ``mmpose.registry.TRANSFORMS``)."""
from .body_affine import InterWildBodyAffine
from .generate_target import InterWildGenerateTarget
from .hand_flip_normalize import HandFlipNormalize
from .mano_data import get_mano_data
from .pack_inputs import PackInterWildInputs
from .random_augment import InterWildRandomAugment

__all__ = [
    'InterWildRandomAugment', 'InterWildBodyAffine', 'InterWildGenerateTarget',
    'PackInterWildInputs', 'get_mano_data', 'HandFlipNormalize'
]
