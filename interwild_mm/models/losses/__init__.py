# Copyright (c) interwild_mm contributors.
from .coord_loss import CoordLoss, ParamLoss
from .mano_pose_loss import ManoPoseLoss

__all__ = ['CoordLoss', 'ManoPoseLoss', 'ParamLoss']
