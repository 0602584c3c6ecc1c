# Copyright (c) interwild_mm contributors.
"""Importing this module switches on safe checkpoint loading.

It exists for configs, which can only ask for imports::

    custom_imports = dict(
        imports=['interwild_mm', 'interwild_mm.utils.safe_loading'],
        allow_failed_imports=False)

``mmengine.config.Config.fromfile`` imports the modules of
``custom_imports`` when it reads the config, so every Runner, tool or mmpose
API (``init_model``, ``MMPoseInferencer``) that loads such a config loads
checkpoints with ``weights_only=True`` and the exact allow-list of
:mod:`interwild_mm.utils.checkpoint`, and gets the clear offline message for
``torchvision://`` weights. In Python code, call
:func:`interwild_mm.utils.enable_safe_checkpoint_loading` instead.

``import interwild_mm`` alone never does this: it only registers the
project's components.
"""
from .checkpoint import enable_safe_checkpoint_loading

enable_safe_checkpoint_loading()
