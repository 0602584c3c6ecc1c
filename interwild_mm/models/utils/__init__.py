# Copyright (c) interwild_mm contributors.
from .official_ckpt import (OFFICIAL_DROPPED_PREFIXES, OFFICIAL_PREFIX_MAP,
                            OfficialCheckpointError,
                            convert_official_state_dict, model_weight_shapes)

__all__ = [
    'OFFICIAL_PREFIX_MAP', 'OFFICIAL_DROPPED_PREFIXES',
    'OfficialCheckpointError', 'convert_official_state_dict',
    'model_weight_shapes'
]
