# Copyright (c) interwild_mm contributors.
"""Conversion of official InterWild snapshots.

An official ``snapshot_<epoch>.pth`` is ``{'epoch', 'network',
'optimizer'}``; ``network`` is the state dict of ``DataParallel(Model)``
(every key prefixed ``module.``; MANO-layer keys normally removed), see
``docs/official_conventions.md §6``. Every key is renamed to this package's
:class:`InterWild` layout by prefix; the optimizer state is ignored.

Two groups of official keys have no counterpart and are dropped by name:
the MANO layers' data and the six stem keys of TransNet's ResNet-18, which
the official forward never uses (``docs/official_conventions.md §1.10``)
and which :class:`TransNet` therefore does not build.
"""
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Tuple

import torch
from torch import Tensor

__all__ = [
    'OFFICIAL_PREFIX_MAP', 'OFFICIAL_DROPPED_PREFIXES',
    'OFFICIAL_UNUSED_KEYS', 'convert_official_state_dict',
    'model_weight_shapes', 'OfficialCheckpointError'
]

#: official prefix (without ``module.``) -> prefix in :class:`InterWild`.
OFFICIAL_PREFIX_MAP: Dict[str, str] = OrderedDict([
    ('body_backbone.', 'detect_net.backbone.'),
    ('body_box_net.', 'detect_net.head.'),
    ('hand_roi_net.backbone.', 'hand_roi.backbone.'),
    ('hand_position_net.', 'shnet.hand_position_net.'),
    ('hand_rotation_net.', 'shnet.hand_rotation_net.'),
    ('hand_trans_net.', 'trans_net.'),
])

#: official prefixes that hold MANO model data, not weights (dropped).
OFFICIAL_DROPPED_PREFIXES: Tuple[str, ...] = ('mano_layer_right.',
                                              'mano_layer_left.')

#: official keys (without ``module.``) that hold weights the official forward
#: never uses: the stem of TransNet's ResNet-18 (dropped by name; any other
#: unknown key is still refused).
OFFICIAL_UNUSED_KEYS: Tuple[str, ...] = (
    'hand_trans_net.backbone.conv1.weight',
    'hand_trans_net.backbone.bn1.weight',
    'hand_trans_net.backbone.bn1.bias',
    'hand_trans_net.backbone.bn1.running_mean',
    'hand_trans_net.backbone.bn1.running_var',
    'hand_trans_net.backbone.bn1.num_batches_tracked',
)

#: sub-modules of :class:`InterWild` that carry all of its weights.
WEIGHT_SUBMODULES: Tuple[str, ...] = ('detect_net', 'hand_roi', 'shnet',
                                      'trans_net')


class OfficialCheckpointError(ValueError):
    """The snapshot does not match the InterWild architecture."""


def _list(keys: List[str], limit: int = 20) -> str:
    shown = '\n  '.join(keys[:limit])
    more = f'\n  ... and {len(keys) - limit} more' if len(keys) > limit \
        else ''
    return f'\n  {shown}{more}'


def model_weight_shapes(model_cfg: Mapping) -> Dict[str, torch.Size]:
    """Key -> shape of the InterWild weights, built from a model config.

    Only the weight-carrying sub-networks are built (no MANO files needed).

    Args:
        model_cfg (Mapping): the ``model`` dict of an InterWild config.

    Returns:
        dict[str, torch.Size]: keys as in ``InterWild.state_dict()``.
    """
    from mmpose.registry import MODELS

    from ..detectors.interwild import sizes_from_model_cfg
    sizes = sizes_from_model_cfg(model_cfg)
    shapes = {}
    for name in WEIGHT_SUBMODULES:
        module = MODELS.build(sizes.into(model_cfg[name], name))
        for key, value in module.state_dict().items():
            shapes[f'{name}.{key}'] = value.shape
    return shapes


def convert_official_state_dict(
    network: Mapping[str, Tensor],
    expected_shapes: Optional[Mapping[str, torch.Size]] = None
) -> Tuple['OrderedDict[str, Tensor]', List[str]]:
    """Rename an official ``network`` state dict to the InterWild layout.

    Args:
        network (Mapping[str, Tensor]): official state dict (keys with or
            without the ``module.`` prefix).
        expected_shapes (Mapping[str, torch.Size], optional): the target
            model's key -> shape (see :func:`model_weight_shapes`). When
            given, every converted key must exist with the same shape and
            every expected key must be provided.

    Returns:
        tuple: the converted ``OrderedDict`` and the list of dropped keys
        (MANO-layer keys and :data:`OFFICIAL_UNUSED_KEYS`, as given).

    Raises:
        OfficialCheckpointError: listing unmapped, unexpected, missing or
            mis-shaped keys.
    """
    converted: 'OrderedDict[str, Tensor]' = OrderedDict()
    dropped, unmapped = [], []
    for key, value in network.items():
        name = key[len('module.'):] if key.startswith('module.') else key
        if name.startswith(OFFICIAL_DROPPED_PREFIXES) or \
                name in OFFICIAL_UNUSED_KEYS:
            dropped.append(key)
            continue
        for src, dst in OFFICIAL_PREFIX_MAP.items():
            if name.startswith(src):
                converted[dst + name[len(src):]] = value
                break
        else:
            unmapped.append(key)
    if unmapped:
        raise OfficialCheckpointError(
            f'{len(unmapped)} key(s) of the official snapshot match no known '
            f'InterWild sub-network {list(OFFICIAL_PREFIX_MAP)}; is this an '
            f'InterWild snapshot?{_list(unmapped)}')
    if expected_shapes is not None:
        unexpected = [k for k in converted if k not in expected_shapes]
        missing = [k for k in expected_shapes if k not in converted]
        wrong = [
            f'{k}: snapshot {tuple(converted[k].shape)} vs model '
            f'{tuple(expected_shapes[k])}' for k in converted
            if k in expected_shapes
            and tuple(converted[k].shape) != tuple(expected_shapes[k])
        ]
        msgs = []
        if unexpected:
            msgs.append(f'{len(unexpected)} converted key(s) do not exist in '
                        f'the model:{_list(unexpected)}')
        if missing:
            msgs.append(f'{len(missing)} model key(s) are absent from the '
                        f'snapshot:{_list(missing)}')
        if wrong:
            msgs.append(f'{len(wrong)} key(s) have mismatched shapes:'
                        f'{_list(wrong)}')
        if msgs:
            raise OfficialCheckpointError(
                'The official snapshot does not fit the configured InterWild '
                'model (check the config: backbones ResNet-50/50/18, '
                '21 joints, 8x8x8 hand grid, 64^3 TransNet volume).\n' +
                '\n'.join(msgs))
    return converted, dropped
