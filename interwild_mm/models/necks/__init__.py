# Copyright (c) interwild_mm contributors.
from .hand_roi import HandRoI

__all__ = ['HandRoI']
