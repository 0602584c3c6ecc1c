# Copyright (c) interwild_mm contributors.
from .detectnet import DetectNet
from .interwild import InterWild

__all__ = ['DetectNet', 'InterWild']
