# Copyright (c) interwild_mm contributors.
from typing import Optional

import torch.nn as nn
from mmpose.registry import MODELS
from torch import Tensor

from interwild_mm.geometry.rotation import axis_angle_to_matrix
from ._utils import apply_weight


def _to_matrices(x: Tensor, name: str) -> Tensor:
    """Axis-angle ``(N, J*3)`` / ``(N, J, 3)`` or matrices ``(N, J, 3, 3)``
    -> ``(N, J, 3, 3)``."""
    if x.dim() == 4 and x.shape[-2:] == (3, 3):
        return x
    if x.dim() == 2 and x.shape[-1] % 3 == 0:
        x = x.reshape(x.shape[0], -1, 3)
    if x.dim() == 3 and x.shape[-1] == 3:
        return axis_angle_to_matrix(x)
    raise ValueError(
        f'ManoPoseLoss: {name} must be axis-angle (N, J*3) or (N, J, 3), or '
        f'rotation matrices (N, J, 3, 3); got {tuple(x.shape)}.')


@MODELS.register_module()
class ManoPoseLoss(nn.Module):
    """L1 loss between MANO joint rotations compared as 3×3 matrices.

    Axis-angle inputs are converted with Rodrigues' formula
    (:func:`interwild_mm.geometry.axis_angle_to_matrix`); the elementwise
    ``|R - R*|`` of shape ``(N, J, 3, 3)`` is weighted by the per-joint
    validity and averaged over all ``N·J·9`` elements (invalid ones count as
    zeros, ``docs/official_conventions.md §2``). Comparing matrices makes
    the loss independent of the axis-angle branch (legacy norms > π give the
    same value).

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
            output (Tensor): predicted poses, axis-angle ``(N, J*3)`` or
                ``(N, J, 3)``, or rotation matrices ``(N, J, 3, 3)``.
            target (Tensor): target poses in any of the same layouts.
            target_weight (Tensor, optional): ``(N, J)`` per-joint validity
                (``(N,)`` / ``(N, 1)`` per sample also accepted). Defaults to
                None.

        Returns:
            Tensor: scalar loss.
        """
        r_out = _to_matrices(output, 'output')
        r_tgt = _to_matrices(target, 'target').to(r_out.dtype)
        if r_out.shape != r_tgt.shape:
            raise ValueError(f'ManoPoseLoss: output {tuple(r_out.shape)} and '
                             f'target {tuple(r_tgt.shape)} rotations differ '
                             'in shape.')
        loss = apply_weight((r_out - r_tgt).abs(), target_weight)
        return loss.mean() * self.loss_weight
