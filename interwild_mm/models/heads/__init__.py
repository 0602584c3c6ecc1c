# Copyright (c) interwild_mm contributors.
from .detectnet_head import DetectNetHead
from .shnet_head import SHNetHead
from .transnet_head import TransNet

__all__ = ['DetectNetHead', 'SHNetHead', 'TransNet']
