# Copyright (c) interwild_mm contributors.
from .coord_loss import CoordLoss, ParamLoss
from .mano_pose_loss import ManoPoseLoss

#: mmpose's masked L1, the official ``mean(|o - t| · valid)`` over all
#: elements (``docs/official_conventions.md §2``): the default of every plain
#: loss term of the InterWild heads
MASKED_L1 = dict(type='L1Loss', use_target_weight=True)

__all__ = ['CoordLoss', 'ManoPoseLoss', 'ParamLoss', 'MASKED_L1']
