# Copyright (c) interwild_mm contributors.
from .coord_loss import CoordLoss
from .mano_pose_loss import ManoPoseLoss
from .param_loss import ParamLoss

__all__ = ['CoordLoss', 'ManoPoseLoss', 'ParamLoss']
