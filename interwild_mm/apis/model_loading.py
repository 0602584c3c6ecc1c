# Copyright (c) interwild_mm contributors.
"""Config, MANO folder and checkpoint of the inferencer.

* :func:`load_inference_config`: a config file / object with
  ``--cfg-options`` applied exactly like every tool applies them
  (:func:`interwild_mm.utils.config.merge_cfg_options`: top-level variables
  such as ``mano_dir`` reach every place using them, overrides that would
  have no effect are refused).
* :func:`resolve_mano_in_config`: argument > config > ``$INTERWILD_MANO_DIR``
  > ``data/mano``, written into every MANO entry of the model config.
* :func:`read_checkpoint` / :func:`load_weights`: mmengine's checkpoint
  loader (``weights_only`` with interwild_mm's allow-list) and mmengine's
  ``_load_checkpoint_to_model`` with ``revise_keys`` (the key map that
  strips a ``module.`` prefix), after checks that give clear errors:
  official snapshots are detected (by their ``network`` entry or by the
  official key names, :data:`OFFICIAL_PREFIX_MAP`) and refused with the
  conversion command; missing, unexpected and mis-shaped keys are refused;
  MANO buffers are never taken from a checkpoint (the MANO files the user
  points to are authoritative).
"""
import copy
import functools
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import torch
from mmengine.config import Config, ConfigDict
from mmengine.runner import CheckpointLoader
from mmengine.runner.checkpoint import _load_checkpoint_to_model
from mmengine.utils import import_modules_from_strings

from interwild_mm.models.utils.official_ckpt import (
    OFFICIAL_DROPPED_PREFIXES, OFFICIAL_PREFIX_MAP)
from interwild_mm.utils.checkpoint import (UnsafeCheckpointError,
                                           patch_mmengine_checkpoint_loading)
from interwild_mm.utils.config import merge_cfg_options

__all__ = [
    'CONVERT_HINT', 'REVISE_KEYS', 'load_inference_config',
    'resolve_mano_in_config', 'read_checkpoint', 'load_weights',
    'is_official_state_dict'
]

CONVERT_HINT = (
    'Official InterWild snapshots (snapshot_<epoch>.pth with keys '
    "'epoch', 'network', 'optimizer') must first be converted: "
    'python tools/convert_official_checkpoint.py snapshot_6.pth '
    'interwild_converted.pth')

#: ``revise_keys`` of mmengine's checkpoint loading: (regex, replacement).
REVISE_KEYS: List[Tuple[str, str]] = [(r'^module\.', '')]


def load_inference_config(model: Union[str, os.PathLike, Config, dict],
                          cfg_options: Optional[dict] = None) -> Config:
    """The model config with ``--cfg-options`` applied.

    Raises:
        FileNotFoundError: the config file does not exist.
        TypeError: ``model`` is neither a path nor a config.
        ValueError: no ``model`` entry, or an override with no effect
            (:class:`interwild_mm.utils.config.ConfigOverrideError`).
    """
    if isinstance(model, (str, os.PathLike)):
        if not osp.isfile(model):
            raise FileNotFoundError(f'config file {os.fspath(model)!r} not '
                                    'found.')
        cfg = Config.fromfile(os.fspath(model))
    elif isinstance(model, (Config, ConfigDict)):
        cfg = copy.deepcopy(model)
        cfg = cfg if isinstance(cfg, Config) else Config(cfg.to_dict())
    elif isinstance(model, dict):
        cfg = Config(copy.deepcopy(model))
    else:
        raise TypeError('model must be a config path, Config or dict, '
                        f'got {type(model).__name__}.')
    merge_cfg_options(cfg, cfg_options)
    if 'model' not in cfg:
        raise ValueError('the config has no `model` entry.')
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg['custom_imports'])
    return cfg


def _find_mano_dirs(node: Any, path: str = '') -> List[Tuple[str, Any]]:
    """MANO folder entries of a model config: ``mano_dir`` /
    ``mano_model_dir`` keys anywhere and ``model_dir`` inside a dict whose
    ``type`` or key name mentions MANO (e.g. ``model.mano.model_dir``)."""
    found = []
    if isinstance(node, dict):
        last = path.rsplit('.', 1)[-1].lower()
        is_mano = 'mano' in str(node.get('type', '')).lower() or 'mano' in last
        for key, value in node.items():
            sub = f'{path}.{key}' if path else key
            if (key in ('mano_dir', 'mano_model_dir') or
                (is_mano and key == 'model_dir')) and not isinstance(
                    value, dict):
                found.append((sub, value))
            else:
                found += _find_mano_dirs(value, sub)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            found += _find_mano_dirs(value, f'{path}[{i}]')
    return found


def _set_by_path(cfg: Any, path: str, value: Any) -> None:
    """Set the ``cfg`` entry addressed like ``model.head.mano_dir`` /
    ``[0]``."""
    tokens: List[Union[str, int]] = []
    for part in path.split('.'):
        while '[' in part:
            head, rest = part.split('[', 1)
            if head:
                tokens.append(head)
            idx, part = rest.split(']', 1)
            tokens.append(int(idx))
        if part:
            tokens.append(part)
    node = cfg
    for tok in tokens[:-1]:
        node = node[tok]
    node[tokens[-1]] = value


def resolve_mano_in_config(cfg: Config, mano_dir: Optional[str]) -> str:
    """Resolve the MANO folder (argument > config > env > data/mano) and
    write it into every MANO entry of ``cfg.model``.

    Raises:
        FileNotFoundError: no MANO files there (the message says where to
            put them).
    """
    from interwild_mm.mano.io import resolve_mano_dir
    model_cfg = cfg['model']
    entries = _find_mano_dirs(model_cfg.to_dict() if hasattr(
        model_cfg, 'to_dict') else dict(model_cfg), 'model')
    cfg_dir = next((v for _, v in entries if v), None)
    folder = str(resolve_mano_dir(mano_dir if mano_dir else cfg_dir))
    for path, _ in entries:
        _set_by_path(cfg, path, folder)
    return folder


def read_checkpoint(path: str) -> Dict[str, Any]:
    """Read a checkpoint with mmengine's (safe) loader.

    Raises:
        FileNotFoundError: no such file.
        UnsafeCheckpointError: the file asks for a non-allow-listed global.
        RuntimeError: unreadable, not a dict, or an official snapshot
            (with the conversion command).
    """
    patch_mmengine_checkpoint_loading()
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint {path!r} not found.')
    try:
        ckpt = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    except UnsafeCheckpointError:
        raise
    except Exception as err:
        raise RuntimeError(f'cannot load checkpoint {path!r}: {err}. '
                           f'{CONVERT_HINT}') from err
    if not isinstance(ckpt, dict):
        raise RuntimeError(f'checkpoint {path!r} holds a '
                           f'{type(ckpt).__name__}, not a state dict. '
                           f'{CONVERT_HINT}')
    if 'network' in ckpt and 'state_dict' not in ckpt:
        raise RuntimeError(f'{path!r} is an official InterWild snapshot. '
                           f'{CONVERT_HINT}')
    return ckpt


def _revise(key: str) -> str:
    """``key`` after :data:`REVISE_KEYS` (as mmengine applies them)."""
    return functools.reduce(lambda k, pr: re.sub(pr[0], pr[1], k),
                            REVISE_KEYS, key)


def is_official_state_dict(keys: List[str]) -> bool:
    """The keys are those of an official ``network`` state dict (every
    weight key starts with a prefix of :data:`OFFICIAL_PREFIX_MAP`)."""
    official = tuple(OFFICIAL_PREFIX_MAP) + OFFICIAL_DROPPED_PREFIXES
    names = [_revise(k) for k in keys]
    return bool(names) and all(n.startswith(official) for n in names)


def _mano_prefixes(model: torch.nn.Module) -> Tuple[str, ...]:
    from interwild_mm.mano import layer as mano_layer
    return tuple(name + '.' for name, m in model.named_modules()
                 if isinstance(m, mano_layer.ManoLayer))


def _mismatch(own: Mapping[str, Any], state: Mapping[str, Any]) -> str:
    """Summary of missing / unexpected / mis-shaped keys ('' if none)."""
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong_shape = sorted(
        k for k in set(own) & set(state)
        if tuple(own[k].shape) != tuple(getattr(state[k], 'shape', ())))
    parts = []
    for label, keys in (('missing', missing), ('unexpected', unexpected),
                        ('wrong shape', wrong_shape)):
        if keys:
            parts.append(f'{len(keys)} {label} (e.g. {", ".join(keys[:3])})')
    return '; '.join(parts)


def load_weights(model: torch.nn.Module, checkpoint: Mapping[str, Any],
                 source: str = 'the checkpoint') -> None:
    """Load a checkpoint's weights into ``model``, strictly.

    Args:
        model (torch.nn.Module): the InterWild model.
        checkpoint (Mapping): :func:`read_checkpoint` output (with or
            without a ``state_dict`` entry).
        source (str): how to name the checkpoint in errors.

    Raises:
        RuntimeError: official weights, or keys / shapes that do not match
            the model (MANO buffers excepted).
    """
    state = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state, Mapping):
        raise RuntimeError(f'checkpoint {source!r} has no state dict. '
                           f'{CONVERT_HINT}')
    if is_official_state_dict(list(state)):
        raise RuntimeError(f'{source!r} holds official InterWild weights '
                           f'(official key names). {CONVERT_HINT}')
    mano = _mano_prefixes(model)
    own = OrderedDict(model.state_dict())
    kept = OrderedDict((k, v) for k, v in state.items()
                       if not (mano and _revise(k).startswith(mano)))
    problems = _mismatch(
        {k: v for k, v in own.items() if not (mano and k.startswith(mano))},
        {_revise(k): v for k, v in kept.items()})
    if problems:
        raise RuntimeError(
            f'checkpoint {source!r} does not match the model of this '
            f'config: {problems}. Check that the config matches the '
            f'checkpoint. {CONVERT_HINT}')
    # MANO entries of the model (if any are persistent) load onto themselves
    kept.update((k, v) for k, v in own.items() if mano and k.startswith(mano))
    _load_checkpoint_to_model(model, {'state_dict': kept}, strict=True,
                              revise_keys=REVISE_KEYS)
