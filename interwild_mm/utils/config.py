"""Config loading and ``--cfg-options`` shared by every tool.

mmengine resolves a config's top-level variables (``mano_dir``,
``train_batch_size``, data roots…) when the file is parsed, so
``--cfg-options mano_dir=/data/mano`` would only change the variable itself,
not the places that used it.  :func:`sync_shared_variables` re-applies such an
override to every place the variable feeds, found by key name.

:func:`merge_cfg_options` is what ``--cfg-options`` means for every tool
(``tools/*.py``; demo scripts can use it too): it merges the overrides,
propagates the variables of :data:`SHARED_VARIABLES`, applies the
``pretrained`` switch (:func:`apply_pretrained_switch`) and refuses, with an
error naming the cause, any override that would otherwise be silently
ignored (see :func:`check_cfg_options`). :func:`load_config` is
``Config.fromfile`` followed by it, and :func:`add_cfg_options_argument` adds
the option to an ``argparse`` parser.
"""
import argparse
import copy
import difflib
import os.path as osp
from typing import Any, Dict, Iterable, List, Optional, Tuple

from mmengine.config import Config, DictAction

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
    'num_workers': ('num_workers', ),
}

#: top-level variables that are read as they are (no propagation needed).
SWITCH_VARIABLES: Tuple[str, ...] = ('pretrained', 'find_unused_parameters')

#: top-level keys consumed by mmengine's Runner (``Runner.from_cfg`` and
#: the loops/hooks reading ``runner.cfg``), by the tools, or by mmengine's
#: ``Config`` itself. Overriding them (or entries under them) always has an
#: effect.
RUNNER_KEYS: Tuple[str, ...] = (
    'model', 'work_dir', 'train_dataloader', 'val_dataloader',
    'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg', 'auto_scale_lr',
    'optim_wrapper', 'param_scheduler', 'val_evaluator', 'test_evaluator',
    'default_hooks', 'custom_hooks', 'data_preprocessor', 'load_from',
    'resume', 'launcher', 'env_cfg', 'log_processor', 'log_level',
    'visualizer', 'default_scope', 'randomness', 'experiment_name',
    'model_wrapper_cfg', 'compile', 'strategy', 'activation_checkpointing',
    'efficient_conv_bn_eval', 'resource_limit', 'custom_imports')


class ConfigOverrideError(ValueError):
    """A ``--cfg-options`` entry would have no effect on the run."""


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


def _paths_with_value(node: Any, value: Any, path: str = '',
                      limit: int = 6) -> List[str]:
    """Dotted paths below ``node`` (list items by index) whose value equals
    ``value``, at most ``limit``."""
    found: List[str] = []
    if isinstance(node, dict):
        items = list(node.items())
    elif isinstance(node, (list, tuple)):
        items = list(enumerate(node))
    else:
        return found
    for k, v in items:
        sub = f'{path}.{k}' if path else str(k)
        if not isinstance(v, (dict, list)) and v == value:
            found.append(sub)
        elif isinstance(v, (dict, list, tuple)):
            found += _paths_with_value(v, value, sub, limit - len(found))
        if len(found) >= limit:
            break
    return found[:limit]


def _variable_error(cfg: Config, key: str, value: Any) -> str:
    """Why overriding the config variable ``key`` would change nothing."""
    old = cfg[key]
    used = []
    if old is not None and not isinstance(old, bool):
        for top in RUNNER_KEYS:
            if top in cfg:
                used += _paths_with_value(cfg[top], old, top)
    where = (' Its value appears at ' + ', '.join(used[:6]) +
             '; override those entries instead.') if used else ''
    return (f'--cfg-options {key}={value} would have no effect: `{key}` is '
            'a variable of the config file whose value was copied into the '
            'entries that use it when the file was read.' + where)


def check_cfg_options(cfg: Config, options: Dict[str, Any]) -> None:
    """Refuse ``--cfg-options`` entries that would be silently ignored.

    Accepted: entries of the keys the Runner and the tools read
    (:data:`RUNNER_KEYS`, e.g. ``train_dataloader.num_workers=2``), the
    switches (:data:`SWITCH_VARIABLES`) and, when the config defines them,
    plain overrides of the propagated variables (:data:`SHARED_VARIABLES`).
    Anything else raises: another top-level variable of the config file
    (``max_epochs``, ``input_size``…), whose value was copied into its users
    when the file was read; an entry inside a variable; a propagated
    variable this config does not use; a key the config does not have.

    Args:
        cfg (Config): The config before the overrides.
        options (dict): The overrides (dotted keys).

    Raises:
        ConfigOverrideError: naming the key, why it would have no effect and
            what to override instead.
    """
    variables = tuple(SHARED_VARIABLES) + SWITCH_VARIABLES
    for key, value in options.items():
        top = key.split('.')[0]
        if top in RUNNER_KEYS or key in SWITCH_VARIABLES or (
                key in SHARED_VARIABLES and key in cfg):
            continue
        if key in SHARED_VARIABLES:
            raise ConfigOverrideError(
                f'--cfg-options {key}={value}: this config does not use the '
                f'variable `{key}`; override the entries it should change '
                '(e.g. train_dataloader.dataset.data_root=...).')
        if top in variables or top in cfg:
            msg = _variable_error(cfg, top, value) if key == top else (
                f'--cfg-options {key}={value} would have no effect: `{top}` '
                'is a variable of the config file.')
            raise ConfigOverrideError(
                msg + ' Variables that can be overridden as a whole: ' +
                ', '.join(v for v in variables
                          if v in cfg or v in SWITCH_VARIABLES) + '.')
        close = difflib.get_close_matches(
            top, list(cfg.keys()) + list(variables) + list(RUNNER_KEYS), n=3)
        hint = f' Did you mean {" / ".join(close)}?' if close else ''
        raise ConfigOverrideError(
            f'--cfg-options {key}={value}: `{top}` is not a key of this '
            'config and nothing reads it.' + hint)


def _strip_pretrained(node: Any) -> int:
    """Remove ``Pretrained`` entries from every ``init_cfg`` below
    ``node``. Returns the number removed."""
    count = 0
    if isinstance(node, dict):
        init = node.get('init_cfg')
        if isinstance(init, dict) and init.get('type') == 'Pretrained':
            node['init_cfg'] = None
            count += 1
        elif isinstance(init, list):
            kept = [c for c in init if not (
                isinstance(c, dict) and c.get('type') == 'Pretrained')]
            count += len(init) - len(kept)
            node['init_cfg'] = kept or None
        for k, v in node.items():
            if k != 'init_cfg':
                count += _strip_pretrained(v)
    elif isinstance(node, (list, tuple)):
        for v in node:
            count += _strip_pretrained(v)
    return count


def _has_pretrained(node: Any) -> bool:
    if isinstance(node, dict):
        if node.get('type') == 'Pretrained':
            return True
        return any(_has_pretrained(v) for v in node.values())
    if isinstance(node, (list, tuple)):
        return any(_has_pretrained(v) for v in node)
    return False


def apply_pretrained_switch(cfg: Config,
                            overridden: bool = False) -> Optional[bool]:
    """Honour the top-level ``pretrained`` variable.

    ``pretrained = False`` removes every ``Pretrained`` ``init_cfg`` from
    the model (the backbones then start from their random initialisation;
    nothing is downloaded). ``True`` keeps the configured ImageNet
    checkpoints.

    Args:
        cfg (Config): The config, changed in place.
        overridden (bool): ``pretrained`` came from ``--cfg-options``.

    Returns:
        bool | None: the switch, or None if the config has no ``pretrained``.

    Raises:
        ConfigOverrideError: ``pretrained=True`` was asked for a config
            whose model names no ``Pretrained`` checkpoint.
    """
    if 'pretrained' not in cfg:
        return None
    switch = cfg.pretrained
    if not isinstance(switch, bool):
        raise ConfigOverrideError(
            f'`pretrained` must be True or False, got {switch!r}.')
    if switch is False:
        _strip_pretrained(cfg.get('model'))
    elif overridden and not _has_pretrained(cfg.get('model')):
        raise ConfigOverrideError(
            'pretrained=True has no effect: no backbone of this config names '
            "a pretrained checkpoint (init_cfg=dict(type='Pretrained', "
            "checkpoint=...)); add one to the model's backbones.")
    return switch


def merge_cfg_options(cfg: Config, options: Optional[Dict[str, Any]]) -> None:
    """What ``--cfg-options`` means for every InterWild tool.

    ``cfg.merge_from_dict(options)``, then: overridden top-level variables
    (:data:`SHARED_VARIABLES`) reach every place they feed
    (``num_workers=0`` also turns ``persistent_workers`` off, which
    PyTorch requires); the ``pretrained`` switch is applied
    (:func:`apply_pretrained_switch`, also when it comes from the file).
    Overrides that would have no effect are refused before anything is
    changed (:func:`check_cfg_options`).

    Args:
        cfg (Config): The config, changed in place.
        options (dict, optional): ``key=value`` overrides (dotted keys).

    Raises:
        ConfigOverrideError: see :func:`check_cfg_options`.
    """
    options = dict(options or {})
    if options:
        check_cfg_options(cfg, options)
        old_values = snapshot_shared_variables(cfg)
        cfg.merge_from_dict(options)
        sync_shared_variables(cfg, old_values, options)
        if options.get('num_workers') == 0:
            for key in ('train_dataloader', 'val_dataloader',
                        'test_dataloader'):
                if cfg.get(key) is not None and cfg[key].get(
                        'persistent_workers'):
                    cfg[key]['persistent_workers'] = False
    apply_pretrained_switch(cfg, overridden='pretrained' in options)


def load_config(path: str,
                cfg_options: Optional[Dict[str, Any]] = None) -> Config:
    """``Config.fromfile(path)`` with ``--cfg-options`` applied the way
    every tool applies them (:func:`merge_cfg_options`)."""
    cfg = Config.fromfile(path)
    merge_cfg_options(cfg, cfg_options)
    return cfg


def add_cfg_options_argument(parser: argparse.ArgumentParser) -> None:
    """Add the ``--cfg-options`` option every tool shares."""
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. '
        'train_dataloader.batch_size=8 or a top-level variable that reaches '
        'every place using it: ' + ', '.join(
            tuple(SHARED_VARIABLES) + SWITCH_VARIABLES) +
        '. An override that would have no effect is refused.')


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
