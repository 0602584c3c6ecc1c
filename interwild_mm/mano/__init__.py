# Copyright (c) interwild_mm contributors.
"""MANO hand model: joint sets, safe model-file loading, ``ManoLayer``."""
from . import constants
from .constants import *  # noqa: F401,F403
from .io import load_mano_pickle, resolve_mano_dir
from .layer import ManoLayer, build_sh_joint_regressor, fix_left_shapedirs

__all__ = [
    'ManoLayer', 'resolve_mano_dir', 'load_mano_pickle', 'fix_left_shapedirs',
    'build_sh_joint_regressor', 'constants'
] + list(constants.__all__)
