# Copyright (c) interwild_mm contributors.
"""Check that a checkpoint fits a model before evaluating with it.

mmengine's ``Runner`` loads ``load_from`` with ``strict=False``: a checkpoint
of another model is loaded as far as names and shapes happen to match, a
warning scrolls by and the run goes on with partly random weights.
:func:`check_checkpoint_fits` compares the checkpoint's state dict with the
model's and :class:`CheckpointMismatchError` names what does not fit.
"""
from dataclasses import dataclass, field
from typing import Any, List, Mapping, Optional

import torch

from .checkpoint import load_from_local_safe

__all__ = [
    'CheckpointMismatchError', 'StateDictMismatch', 'compare_state_dicts',
    'checkpoint_state_dict', 'check_checkpoint_fits'
]


class CheckpointMismatchError(RuntimeError):
    """The checkpoint's keys or shapes do not match the model."""


@dataclass
class StateDictMismatch:
    """Keys of a checkpoint that do not fit a model.

    Attributes:
        missing (list[str]): model keys absent from the checkpoint.
        unexpected (list[str]): checkpoint keys the model does not have.
        wrong_shape (list[str]): ``'key: checkpoint (a, b) vs model (c, d)'``.
    """
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    wrong_shape: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.wrong_shape)

    def summary(self, limit: int = 3) -> str:
        """``'<n> missing (e.g. a, b, c); <m> unexpected (...)'``."""
        parts = []
        for label, keys in (('missing', self.missing),
                            ('unexpected', self.unexpected),
                            ('mis-shaped', self.wrong_shape)):
            if keys:
                more = ', ...' if len(keys) > limit else ''
                parts.append(f'{len(keys)} {label} (e.g. '
                             f'{", ".join(keys[:limit])}{more})')
        return '; '.join(parts) if parts else 'all keys match'


def compare_state_dicts(model_state: Mapping[str, Any],
                        ckpt_state: Mapping[str, Any]) -> StateDictMismatch:
    """Compare key sets and tensor shapes of two state dicts.

    Args:
        model_state (Mapping): the model's ``state_dict()``.
        ckpt_state (Mapping): the checkpoint's state dict.

    Returns:
        StateDictMismatch: sorted missing / unexpected / mis-shaped keys.
    """
    missing = sorted(set(model_state) - set(ckpt_state))
    unexpected = sorted(set(ckpt_state) - set(model_state))
    wrong = []
    for k in sorted(set(model_state) & set(ckpt_state)):
        a = tuple(getattr(ckpt_state[k], 'shape', ()))
        b = tuple(getattr(model_state[k], 'shape', ()))
        if a != b:
            wrong.append(f'{k}: checkpoint {a} vs model {b}')
    return StateDictMismatch(missing, unexpected, wrong)


def checkpoint_state_dict(path: str) -> Mapping[str, torch.Tensor]:
    """The state dict of a checkpoint file, read with the project's safe
    loader (``weights_only=True`` + allow-list); a ``module.`` prefix
    (DataParallel) is removed like mmengine does.

    Raises:
        FileNotFoundError: no such file.
        CheckpointMismatchError: the file holds no state dict, or is an
            official snapshot that must be converted first.
        UnsafeCheckpointError: see ``interwild_mm.utils.checkpoint``.
    """
    ckpt = load_from_local_safe(path, map_location='cpu')
    if isinstance(ckpt, dict) and 'network' in ckpt and \
            'state_dict' not in ckpt:
        raise CheckpointMismatchError(
            f'{path} is an official InterWild snapshot; convert it first: '
            f'python tools/convert_official_checkpoint.py {path} '
            'converted.pth --config CONFIG')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, Mapping) or not all(
            isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointMismatchError(
            f'{path} holds no state dict (a dict of tensors, optionally '
            "under 'state_dict').")
    return {(k[7:] if k.startswith('module.') else k): v
            for k, v in state.items()}


def check_checkpoint_fits(model: torch.nn.Module,
                          path: str,
                          strict: bool = True,
                          hint: Optional[str] = None) -> StateDictMismatch:
    """Compare the checkpoint at ``path`` with ``model``.

    Args:
        model (nn.Module): the model (unwrap DDP first).
        path (str): checkpoint file.
        strict (bool): raise on any mismatch. Defaults to True.
        hint (str, optional): appended to the error (e.g. how to override).

    Returns:
        StateDictMismatch: the comparison (empty when the checkpoint fits).

    Raises:
        CheckpointMismatchError: ``strict`` and something does not fit.
    """
    result = compare_state_dicts(model.state_dict(),
                                 checkpoint_state_dict(path))
    if strict and not result.ok:
        raise CheckpointMismatchError(
            f'{path} does not fit the model of this config: '
            f'{result.summary()}. Is it a checkpoint of this config?' +
            (f' {hint}' if hint else ''))
    return result
