# Copyright (c) interwild_mm contributors.
"""Utilities shared by the whole package (checkpoint loading, misc)."""
from .checkpoint import (UnsafeCheckpointError, load_from_http_safe,
                         load_from_local_safe, mmengine_safe_globals,
                         patch_mmengine_checkpoint_loading, safe_torch_load)

__all__ = [
    'UnsafeCheckpointError', 'load_from_http_safe', 'load_from_local_safe',
    'mmengine_safe_globals', 'patch_mmengine_checkpoint_loading',
    'safe_torch_load'
]
