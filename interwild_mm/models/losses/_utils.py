# Copyright (c) interwild_mm contributors.
"""Helpers shared by the InterWild loss modules."""
from typing import Optional

from torch import Tensor


def apply_weight(loss: Tensor, weight: Optional[Tensor]) -> Tensor:
    """Multiply an elementwise loss by a validity weight.

    The weight is aligned with the loss' **leading** dimensions: trailing
    singleton dims are appended until the ranks match, e.g. ``(N, K)``
    against ``(N, K, 3)`` or ``(N, J)`` against ``(N, J, 3, 3)``.

    Args:
        loss (Tensor): elementwise loss.
        weight (Tensor, optional): validity weight (bool or float).

    Returns:
        Tensor: the weighted elementwise loss (same shape as ``loss``).
    """
    if weight is None:
        return loss
    w = weight.to(device=loss.device, dtype=loss.dtype)
    if w.dim() > loss.dim():
        raise ValueError(f'target_weight {tuple(w.shape)} has more dims than '
                         f'the loss {tuple(loss.shape)}.')
    w = w.reshape(tuple(w.shape) + (1, ) * (loss.dim() - w.dim()))
    try:
        return loss * w
    except RuntimeError as err:
        raise ValueError(
            f'target_weight {tuple(weight.shape)} cannot be broadcast to the '
            f'loss {tuple(loss.shape)}; give one weight per leading entry, '
            'e.g. (N, K) or (N, K, 1).') from err
