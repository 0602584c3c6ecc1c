# Copyright (c) interwild_mm contributors.
"""Utilities shared by the whole package (checkpoint loading, misc).

Importing this package changes nothing outside it. Safe checkpoint loading
is switched on explicitly: :func:`enable_safe_checkpoint_loading` (tools,
scripts) or ``custom_imports`` listing ``interwild_mm.utils.safe_loading``
(configs).
"""
from .checkpoint import (UnsafeCheckpointError, enable_safe_checkpoint_loading,
                         load_from_http_safe, load_from_local_safe,
                         mmengine_safe_globals,
                         patch_mmengine_checkpoint_loading,
                         safe_checkpoint_loading_enabled, safe_torch_load)

__all__ = [
    'UnsafeCheckpointError', 'enable_safe_checkpoint_loading',
    'load_from_http_safe', 'load_from_local_safe', 'mmengine_safe_globals',
    'patch_mmengine_checkpoint_loading', 'safe_checkpoint_loading_enabled',
    'safe_torch_load'
]
