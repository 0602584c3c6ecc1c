# Copyright (c) interwild_mm contributors.
from typing import Optional

import torch
import torch.nn as nn
from mmpose.registry import MODELS
from torch import Tensor

from ._utils import apply_weight


@MODELS.register_module()
class CoordLoss(nn.Module):
    """Masked L1 loss on coordinates, optionally gating the z column.

    ``loss = loss_weight · mean(|o - t| · w)`` where the mean runs over **all**
    elements, so invalid (zero-weight) entries count as zeros (spec 2). With
    ``is_3D`` given, the z column (index 2) is additionally multiplied by the
    per-sample flag (used for ``joint_img``: 2D-only datasets supervise x, y
    only). Used for ``joint_img``, ``mano_joint_img``, ``joint_proj``
    (weight 1) and ``joint_cam``, ``mano_mesh_cam`` (weight 10).

    Args:
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

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
        if output.shape != target.shape:
            raise ValueError(f'CoordLoss: output {tuple(output.shape)} and '
                             f'target {tuple(target.shape)} must match.')
        loss = apply_weight((output - target).abs(), target_weight)
        if is_3D is not None:
            if output.dim() < 2 or output.shape[-1] < 3:
                raise ValueError(
                    'CoordLoss: is_3D gating needs coordinates '
                    f'with >= 3 columns, got {tuple(output.shape)}.')
            gate = is_3D.reshape(is_3D.shape[0], *([1] * (loss.dim() - 1)))
            gate = gate.to(loss.dtype)
            loss = torch.cat((loss[..., :2], loss[..., 2:] * gate), dim=-1)
        return loss.mean() * self.loss_weight
