"""Make the configs' top-level variables overridable from the command line.

mmengine resolves a config's top-level variables (``mano_dir``,
``train_batch_size``, data roots…) when the file is parsed, so
``--cfg-options mano_dir=/data/mano`` would only change the variable itself,
not the places that used it.  :func:`sync_shared_variables` re-applies such an
override to every place the variable feeds, found by key name.
"""
import copy
import os.path as osp
from typing import Any, Dict, Iterable, Optional, Tuple

from mmengine.config import Config

# variable -> key names (anywhere in the config tree) that receive its value
SHARED_VARIABLES: Dict[str, Tuple[str, ...]] = {
    'mano_dir': ('model_dir', 'mano_model_dir', 'mano_dir'),
    'train_batch_size': (),  # handled explicitly below
    'val_batch_size': (),
    'train_mix': (),  # picks train_dataloader.sampler from train_samplers
    'ih26m_root': ('data_root', ),
    'coco_root': ('data_root', ),
    'hic_root': ('data_root', ),
    'synthetic_root': ('data_root', ),
}


def _replace(node: Any, keys: Iterable[str], old: Any, new: Any,
             match_old: bool) -> int:
    """Recursively set ``node[k] = new`` for ``k in keys``. Returns the
    number of edits.

    With ``match_old``, only values equal to ``old`` are replaced, and a
    string value that *starts with* the string ``old`` keeps its suffix
    (``root + 'HIC/data/'`` follows an overridden ``root``).
    """
    count = 0
    if isinstance(node, dict):
        for k, v in node.items():
            if k in keys and not match_old:
                node[k] = new
                count += 1
            elif k in keys and v == old:
                node[k] = new
                count += 1
            elif (k in keys and isinstance(v, str) and isinstance(old, str)
                  and isinstance(new, str) and old and v.startswith(old)):
                node[k] = new + v[len(old):]
                count += 1
            else:
                count += _replace(v, keys, old, new, match_old)
    elif isinstance(node, (list, tuple)):
        for v in node:
            count += _replace(v, keys, old, new, match_old)
    return count


def sync_shared_variables(cfg: Config, old_values: Dict[str, Any],
                          overrides: Optional[Dict[str, Any]]) -> None:
    """Propagate overridden top-level variables into the config tree.

    Args:
        cfg (Config): The config after ``merge_from_dict(overrides)``.
        old_values (dict): The variables' values before the override.
        overrides (dict, optional): The ``--cfg-options`` dict.
    """
    if not overrides:
        return
    for name, new in overrides.items():
        if name not in SHARED_VARIABLES or name not in old_values:
            continue
        old = old_values[name]
        if name == 'mano_dir':
            # None is a legal old value, so match by key name only.
            _replace(cfg._cfg_dict, SHARED_VARIABLES[name], old, new, False)
        elif name == 'train_batch_size':
            dl = cfg.get('train_dataloader')
            if dl is not None:
                dl['batch_size'] = new
                if 'batch_size' in dl.get('sampler', {}):
                    dl['sampler']['batch_size'] = new
        elif name == 'train_mix':
            _select_train_sampler(cfg, new)
        elif name == 'val_batch_size':
            for key in ('val_dataloader', 'test_dataloader'):
                if cfg.get(key) is not None:
                    cfg[key]['batch_size'] = new
        else:
            _replace(cfg._cfg_dict, SHARED_VARIABLES[name], old, new, True)


def _select_train_sampler(cfg: Config, mix: str) -> None:
    """``train_dataloader.sampler = train_samplers[mix]`` (with the loader's
    batch size where the sampler takes one)."""
    samplers = cfg.get('train_samplers') or {}
    if mix not in samplers:
        raise ValueError(f'train_mix={mix!r} is not one of '
                         f'{sorted(samplers)} (the `train_samplers` of the '
                         'config).')
    sampler = copy.deepcopy(samplers[mix])
    if 'batch_size' in sampler:
        sampler['batch_size'] = cfg.train_dataloader['batch_size']
    cfg.train_dataloader['sampler'] = sampler


def snapshot_shared_variables(cfg: Config) -> Dict[str, Any]:
    """The current values of the overridable top-level variables."""
    return {k: cfg.get(k) for k in SHARED_VARIABLES if k in cfg}


def merge_cfg_options(cfg: Config, options: Optional[Dict[str, Any]]) -> None:
    """``cfg.merge_from_dict(options)`` that also propagates overridden
    top-level variables (:data:`SHARED_VARIABLES`) to every place they feed.

    This is what ``--cfg-options`` means for the InterWild tools.

    Args:
        cfg (Config): The config, changed in place.
        options (dict, optional): ``key=value`` overrides (dotted keys).
    """
    if not options:
        return
    old_values = snapshot_shared_variables(cfg)
    cfg.merge_from_dict(options)
    sync_shared_variables(cfg, old_values, options)


def set_work_dir(cfg: Config, work_dir: Optional[str],
                 config_path: str) -> None:
    """``--work-dir`` if given, else the config's, else
    ``./work_dirs/<config name>`` (mmpose's convention)."""
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config_path))[0])


def enable_visualization(cfg: Config, show_dir: Optional[str]) -> None:
    """Switch on the ``visualization`` hook, saving into ``show_dir``.

    Raises:
        KeyError: the config has no ``visualization`` default hook.
    """
    if show_dir is None:
        return
    hooks = cfg.default_hooks
    if 'visualization' not in hooks:
        raise KeyError('--show-dir needs a `visualization` hook in '
                       '`default_hooks` of the config.')
    hooks.visualization.enable = True
    hooks.visualization.out_dir = show_dir
