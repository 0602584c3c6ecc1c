# Copyright (c) interwild_mm contributors.
"""Reading one evaluated data sample for :class:`InterWildMetric`.

The metric receives ``PoseDataSample`` objects or their ``to_dict()`` dicts
(what mmengine's evaluator passes); these helpers turn their fields into
float64 numpy arrays and parse the sample id and GT hand type, raising
errors that name the missing field and the fix. :class:`SampleGeometry`
carries one sample's arrays between the metric's scoring steps.
"""
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
import torch
from mmengine.structures import BaseDataElement

HAND_TYPES = ('right', 'left', 'interacting')
NUM_SH = 21  # joints per hand in the single-hand set


def to_numpy(x: Any) -> np.ndarray:
    """Tensor / array / scalar / list -> float64 numpy array."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().to(torch.float64).numpy()
    return np.asarray(x, dtype=np.float64)


def as_dict(sample: Any) -> dict:
    """A ``PoseDataSample`` (or its ``to_dict()``) as a plain dict."""
    if isinstance(sample, BaseDataElement):
        return sample.to_dict()
    if isinstance(sample, dict):
        return sample
    raise TypeError('InterWildMetric.process expects PoseDataSample '
                    f'objects or their to_dict() dicts, got '
                    f'{type(sample).__name__}.')


def fetch(container: Optional[dict], name: str, shape: tuple, where: str,
          protocol: str) -> np.ndarray:
    """``container[name]`` as a float64 array of ``shape``.

    Args:
        container (dict, optional): ``pred_instances`` / ``gt_instances``.
        name (str): field name.
        shape (tuple): expected shape; a leading instance dimension of 1 is
            accepted (only the element count is checked).
        where (str): container name for the error message.
        protocol (str): the metric's protocol, for the error message.

    Returns:
        np.ndarray: the field reshaped to ``shape``.
    """
    if container is None or name not in container:
        raise KeyError(
            f"InterWildMetric(protocol='{protocol}') needs '{name}' in "
            f'data_sample.{where}; add it in the dataset (and to '
            'PackPoseInputs mapping tables) or pick another protocol.')
    arr = to_numpy(container[name])
    if arr.size != int(np.prod(shape)):
        raise ValueError(f'data_sample.{where}.{name} has shape '
                         f'{arr.shape}; expected {shape} (optionally with a '
                         'leading instance dimension of 1).')
    return arr.reshape(shape)


def sample_id(d: dict) -> Any:
    """Hashable sample id from the metainfo ``id`` (else ``img_id``)."""
    for key in ('id', 'img_id'):
        if key in d and d[key] is not None:
            sid = d[key]
            if isinstance(sid, torch.Tensor):
                sid = sid.detach().cpu().numpy()
            if isinstance(sid, np.ndarray):
                sid = sid.reshape(-1).tolist()
                sid = sid[0] if len(sid) == 1 else tuple(sid)
            if isinstance(sid, np.generic):
                sid = sid.item()
            if isinstance(sid, list):
                sid = tuple(sid)
            return sid
    raise KeyError("InterWildMetric needs a sample id in the metainfo "
                   "('id' or 'img_id', e.g. via PackPoseInputs meta_keys) to "
                   'count each sample once.')


def hand_type_of(d: dict) -> Optional[str]:
    """GT hand type ``'right' | 'left' | 'interacting'`` (or ``None``).

    Accepts a string (possibly wrapped in a one-element list / array) or
    ``(right, left)`` presence flags.
    """
    ht = d.get('hand_type', None)
    if ht is None:
        return None
    if isinstance(ht, np.ndarray) and ht.dtype.kind in 'USO' \
            and ht.size == 1:
        ht = ht.reshape(-1)[0]
    if isinstance(ht, (list, tuple)) and len(ht) == 1 \
            and isinstance(ht[0], (str, bytes)):
        ht = ht[0]
    if isinstance(ht, bytes):
        ht = ht.decode()
    if isinstance(ht, str):
        if ht not in HAND_TYPES:
            raise ValueError(f'hand_type must be one of {HAND_TYPES}, '
                             f'got {ht!r}.')
        return ht
    flags = to_numpy(ht).reshape(-1)
    if flags.size != 2:
        raise ValueError('hand_type must be a string or (right, left) '
                         f'flags, got {ht!r}.')
    r, l_ = bool(flags[0] > 0), bool(flags[1] > 0)
    if r and l_:
        return 'interacting'
    if r or l_:
        return 'right' if r else 'left'
    raise ValueError(f'hand_type flags {ht!r} mark no hand.')


@dataclass
class SampleGeometry:
    """One sample's arrays shared by the scoring steps (millimetres).

    ``gt_mesh`` / ``pred_mesh`` ``(2, V, 3)`` camera / wrist-relative meshes
    and their root-aligned copies; ``mesh_fit`` ``(2,)`` GT mesh presence;
    ``rel_pred`` ``(3,)`` predicted left-minus-right wrist; ``gt_joint``
    ``(42, 3)`` and ``joint_valid`` ``(42,)`` only for protocols with GT
    joints.
    """
    hand_type: Optional[str]
    gt_mesh: np.ndarray
    pred_mesh: np.ndarray
    gt_mesh_al: np.ndarray
    pred_mesh_al: np.ndarray
    mesh_fit: np.ndarray
    rel_pred: np.ndarray
    gt_joint: Optional[np.ndarray] = None
    joint_valid: Optional[np.ndarray] = None

    @property
    def is_inter(self) -> bool:
        return self.hand_type == 'interacting'

    @property
    def both_fits(self) -> bool:
        return bool(self.mesh_fit.all())

    @property
    def wrists_ok(self) -> bool:
        v = self.joint_valid
        return v is not None and bool(v[0] and v[NUM_SH])
