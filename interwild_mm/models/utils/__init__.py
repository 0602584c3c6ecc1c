# Copyright (c) interwild_mm contributors.
from .data_samples import gather_targets, to_instances
from .mano_coords import mano_crop_camera_coords
from .official_ckpt import (OFFICIAL_DROPPED_PREFIXES, OFFICIAL_PREFIX_MAP,
                            OfficialCheckpointError,
                            convert_official_state_dict, model_weight_shapes)

__all__ = [
    'OFFICIAL_PREFIX_MAP', 'OFFICIAL_DROPPED_PREFIXES',
    'OfficialCheckpointError', 'convert_official_state_dict',
    'model_weight_shapes', 'gather_targets', 'to_instances',
    'mano_crop_camera_coords'
]
