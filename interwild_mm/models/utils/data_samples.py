# Copyright (c) interwild_mm contributors.
"""Targets in, predictions out: the data-sample side of the heads.

:func:`gather_targets` is the one place training targets are read from data
samples. Every head declares the targets it reads as ``key -> per-sample
shape`` (its ``TARGET_SPECS``); :class:`InterWild` gathers the union once per
batch and hands the same dict to every head, a head used on its own (e.g.
SHNet in a ``TopdownPoseEstimator``) gathers its own.
:func:`to_instances` packs batched predictions into one ``InstanceData`` per
sample.
"""
from typing import Dict, Iterable, List, Mapping, Sequence

import numpy as np
import torch
from mmengine.structures import InstanceData
from mmpose.utils.typing import OptSampleList
from torch import Tensor

__all__ = ['gather_targets', 'to_instances', 'TargetSpecs']

#: key -> trailing shape of one sample's target (``-1`` allowed once)
TargetSpecs = Mapping[str, Sequence[int]]

_FIELDS = ('gt_instance_labels', 'gt_instances')


def _read(sample, key: str):
    """The target ``key`` of one data sample (labels first), or None."""
    for field in _FIELDS:
        if field in sample and key in sample.get(field):
            return sample.get(field).get(key)
    return None


def gather_targets(data_samples: OptSampleList,
                   specs: TargetSpecs,
                   ref: Tensor,
                   optional: Iterable[str] = (),
                   owner: str = 'InterWild') -> Dict[str, Tensor]:
    """Stack per-sample targets into ``(N, *shape)`` tensors.

    Each key is read from a sample's ``gt_instance_labels``, else its
    ``gt_instances``; a sample holds one instance (the person or the hand),
    so its target is flattened and the batch reshaped to
    ``(N, *specs[key])``.

    Args:
        data_samples (list[PoseDataSample]): the batch.
        specs (Mapping[str, Sequence[int]]): key -> per-sample shape, e.g.
            ``{'joint_img': (-1, 3), 'is_3D': (1, )}``.
        ref (Tensor): the results get its device and dtype.
        optional (Iterable[str]): keys that may be absent from every sample
            (then left out of the result).
        owner (str): who asks, for error messages.

    Returns:
        dict[str, Tensor]: the targets present.

    Raises:
        ValueError: no data samples, a target present in only some samples,
            or samples whose targets differ in size.
        KeyError: a required target missing.
    """
    if not data_samples:
        raise ValueError(f'{owner}.loss needs data_samples with targets.')
    optional = set(optional)
    out: Dict[str, Tensor] = {}
    for key, shape in specs.items():
        values = [_read(ds, key) for ds in data_samples]
        missing = [i for i, v in enumerate(values) if v is None]
        if len(missing) == len(values) and key in optional:
            continue
        if missing and len(missing) < len(values):
            raise ValueError(
                f'{owner}: target "{key}" is present in only some data '
                f'samples (missing in {missing}); give it (with a zero '
                'validity) for every sample of the batch.')
        if missing:
            raise KeyError(
                f'{owner}.loss: target "{key}" missing in every data sample; '
                f'the training pipeline must pack {sorted(specs)} into '
                'gt_instance_labels (InterWildGenerateTarget + '
                'PackInterWildInputs do).')
        out[key] = _stack(values, key, shape, ref, owner)
    return out


def _stack(values: Sequence, key: str, shape: Sequence[int], ref: Tensor,
           owner: str) -> Tensor:
    flat = [
        (v if isinstance(v, Tensor) else torch.as_tensor(np.asarray(v)))
        .reshape(1, -1) for v in values
    ]
    sizes = {f.shape[1] for f in flat}
    if len(sizes) != 1:
        raise ValueError(f'{owner}: target "{key}" has different sizes in '
                         f'the samples of one batch: {sorted(sizes)}.')
    stacked = torch.cat(flat).to(device=ref.device, dtype=ref.dtype)
    try:
        return stacked.reshape((len(values), ) + tuple(shape))
    except RuntimeError as err:
        raise ValueError(
            f'{owner}: target "{key}" with {stacked.shape[1]} values per '
            f'sample does not fit the per-sample shape {tuple(shape)}.'
        ) from err


def to_instances(batched: Mapping[str, Tensor]) -> List[InstanceData]:
    """Split ``(N, ...)`` predictions into N ``InstanceData``.

    Each field becomes a float32 numpy array with a leading instance
    dimension of 1 (one instance per sample, as mmpose packs predictions).

    Args:
        batched (Mapping[str, Tensor]): predictions with a common batch size.

    Returns:
        list[InstanceData]: one per sample.
    """
    arrays = {
        k: v.detach().cpu().numpy().astype(np.float32)
        for k, v in batched.items()
    }
    sizes = {v.shape[0] for v in arrays.values()}
    if len(sizes) > 1:
        raise ValueError(f'to_instances: the predictions disagree on the '
                         f'batch size: {sorted(sizes)}.')
    n = sizes.pop() if sizes else 0
    return [
        InstanceData(**{k: v[i:i + 1] for k, v in arrays.items()})
        for i in range(n)
    ]
