# Copyright (c) interwild_mm contributors.
"""Datasets and data transforms of InterWild."""
from .datasets import *  # noqa: F401,F403
from .samplers import *  # noqa: F401,F403
from .transforms import *  # noqa: F401,F403
