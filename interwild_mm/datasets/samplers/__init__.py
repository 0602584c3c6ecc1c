# Copyright (c) interwild_mm contributors.
"""InterWild samplers (registered in ``mmpose.registry.DATA_SAMPLERS``)."""
from .random_mix_sampler import InterWildRandomMixSampler

__all__ = ['InterWildRandomMixSampler']
