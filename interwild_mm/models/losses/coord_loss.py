# Copyright (c) interwild_mm contributors.
from typing import Optional

import torch
from mmpose.models.losses.regression_loss import L1Loss
from mmpose.registry import MODELS
from torch import Tensor

from ._utils import apply_weight


@MODELS.register_module()
class CoordLoss(L1Loss):
    """mmpose's masked L1 loss plus an optional per-sample z-column gate.

    ``loss = loss_weight · mean(|o·w - t·w|)`` over **all** elements
    (mmpose's ``L1Loss`` with ``use_target_weight=True``), where ``w`` is the
    validity broadcast to the coordinates and, with ``is_3D`` given, its z
    column (index 2) multiplied by the per-sample flag. For 0/1 validities
    this is ``mean(|o - t| · valid)`` of ``docs/official_conventions.md §2``
    bit for bit (invalid entries count as zeros in the mean). InterWild uses
    it for ``joint_img`` (2D-only datasets supervise x, y only); every other
    masked L1 term is mmpose's ``L1Loss`` itself.

    Args:
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__(
            reduction='mean', use_target_weight=True, loss_weight=loss_weight)

    def forward(self,
                output: Tensor,
                target: Tensor,
                target_weight: Optional[Tensor] = None,
                is_3D: Optional[Tensor] = None) -> Tensor:
        """Compute the loss.

        Args:
            output (Tensor): ``(N, K, C)`` predicted coordinates.
            target (Tensor): ``(N, K, C)`` target coordinates (same units).
            target_weight (Tensor, optional): validity, broadcastable to
                ``output`` once trailing singleton dims are added, e.g.
                ``(N, K)``, ``(N, K, 1)`` or ``(N, K, C)``. Defaults to None
                (all valid).
            is_3D (Tensor, optional): ``(N,)`` or ``(N, 1)`` per-sample flag
                gating the z column; requires ``C >= 3``. Defaults to None.

        Returns:
            Tensor: scalar loss.
        """
        name = type(self).__name__
        if output.shape != target.shape:
            raise ValueError(f'{name}: output {tuple(output.shape)} and '
                             f'target {tuple(target.shape)} must match.')
        weight = apply_weight(torch.ones_like(output), target_weight)
        if is_3D is not None:
            if output.dim() < 2 or output.shape[-1] < 3:
                raise ValueError(
                    f'{name}: is_3D gating needs coordinates with >= 3 '
                    f'columns, got {tuple(output.shape)}.')
            gate = is_3D.reshape(is_3D.shape[0], *([1] * (weight.dim() - 1)))
            weight = torch.cat(
                (weight[..., :2], weight[..., 2:] * gate.to(weight.dtype)),
                dim=-1)
        return super().forward(output, target, weight)


@MODELS.register_module()
class ParamLoss(CoordLoss):
    """Masked L1 on parameter vectors; the name of configs written before
    the losses moved into the heads.

    The same computation as mmpose's ``L1Loss(use_target_weight=True)`` (and
    :class:`CoordLoss` without ``is_3D``), which new configs use.

    Args:
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    def forward(self,
                output: Tensor,
                target: Tensor,
                target_weight: Optional[Tensor] = None) -> Tensor:
        """Masked L1 of ``(N, D)`` parameters with an ``(N,)``, ``(N, 1)`` or
        ``(N, D)`` validity (None = all valid)."""
        return super().forward(output, target, target_weight)
