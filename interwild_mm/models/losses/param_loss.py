# Copyright (c) interwild_mm contributors.
from typing import Optional

import torch.nn as nn
from mmpose.registry import MODELS
from torch import Tensor

from ._utils import apply_weight


@MODELS.register_module()
class ParamLoss(nn.Module):
    """Masked L1 loss on parameter vectors (MANO shape, ``rel_trans``, box
    centre/size).

    ``loss = loss_weight · mean(|o - t| · w)`` over all elements; invalid
    entries count as zeros in the mean (spec 2).

    Args:
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self,
                output: Tensor,
                target: Tensor,
                target_weight: Optional[Tensor] = None) -> Tensor:
        """Compute the loss.

        Args:
            output (Tensor): ``(N, D)`` predictions.
            target (Tensor): ``(N, D)`` targets.
            target_weight (Tensor, optional): ``(N,)``, ``(N, 1)`` or
                ``(N, D)`` validity. Defaults to None (all valid).

        Returns:
            Tensor: scalar loss.
        """
        if output.shape != target.shape:
            raise ValueError(f'ParamLoss: output {tuple(output.shape)} and '
                             f'target {tuple(target.shape)} must match.')
        loss = apply_weight((output - target).abs(), target_weight)
        return loss.mean() * self.loss_weight
