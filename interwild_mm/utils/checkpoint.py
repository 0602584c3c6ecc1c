# Copyright (c) interwild_mm contributors.
"""Safe checkpoint loading for mmengine 0.10.7 under torch >= 2.6.

Since torch 2.6, :func:`torch.load` defaults to ``weights_only=True``. The
restricted unpickler it then uses refuses every global that is not on an
allow-list, and mmengine/mmpose checkpoints contain a few such globals:

* ``mmengine.logging.history_buffer.HistoryBuffer`` (in ``message_hub``),
  whose pickled state refers to its statistics methods through
  ``getattr(HistoryBuffer, 'min')`` and friends;
* numpy arrays, scalars and dtypes (``message_hub`` runtime info and the
  ``dataset_meta`` mmpose writes into ``meta``).

mmengine's own loaders call ``torch.load`` without ``weights_only``, so
``Runner(resume=True)``, ``Runner.load_checkpoint`` and
``mmengine.runner.load_checkpoint`` fail on checkpoints mmengine itself wrote.
Worse, mmengine's HTTP loader goes through
``torch.hub.load_state_dict_from_url`` whose default is
``weights_only=False``: it runs any code a downloaded pickle asks for.

:func:`enable_safe_checkpoint_loading` (the explicit opt-in step; the older
name :func:`patch_mmengine_checkpoint_loading` does the same) replaces the
local-path (prefix ``''``) and ``http://``/``https://`` loaders of
:class:`mmengine.runner.CheckpointLoader` with loaders that always call
``torch.load(..., weights_only=True)`` inside a context that allow-lists
exactly the types listed above (see :func:`mmengine_safe_globals`), and the
``torchvision://`` loader with one that says how to get the ImageNet weights
offline (``interwild_mm/engine/pretrained.py``). Any other global is refused
before anything is executed, with :class:`UnsafeCheckpointError` naming it.
The loaders never fall back to ``weights_only=False``.

``import interwild_mm`` does not switch this on (importing the plugin only
registers components). The project's configs switch it on through
``custom_imports`` (``interwild_mm.utils.safe_loading``, whose import is the
switch), and the tools call :func:`enable_safe_checkpoint_loading` before
they build a Runner or load weights.
"""
import contextlib
import os
import os.path as osp
import pickle
import re
from typing import (IO, Any, Callable, Dict, Iterator, List, Optional, Tuple,
                    Union)

import numpy as np
import torch

SafeGlobal = Union[Callable, Tuple[Callable, str]]
FileLike = Union[str, os.PathLike, IO[bytes]]
MapLocation = Optional[Union[Callable, torch.device, str, Dict[str, str]]]

__all__ = [
    'UnsafeCheckpointError', 'mmengine_safe_globals', 'safe_torch_load',
    'load_from_local_safe', 'load_from_http_safe',
    'enable_safe_checkpoint_loading', 'safe_checkpoint_loading_enabled',
    'patch_mmengine_checkpoint_loading'
]


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint asked for a global that is not on the allow-list.

    Nothing from the file was executed when this is raised: the restricted
    unpickler stops at the first global it does not know.
    """


# Names the statistics methods of HistoryBuffer are pickled under. Their
# pickled form is ``getattr(HistoryBuffer, name)`` (pickle protocol 2).
_HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """Restricted ``getattr`` used in place of ``builtins.getattr``.

    Only ``getattr(HistoryBuffer, <statistics method>)`` is allowed; this is
    the single use mmengine checkpoints make of ``getattr`` (statistics added
    with ``HistoryBuffer.register_statistics`` are not supported).

    Raises:
        UnsafeCheckpointError: For any other object or attribute.
    """
    from mmengine.logging import HistoryBuffer
    if obj is HistoryBuffer and name in _HISTORY_BUFFER_METHODS:
        return getattr(HistoryBuffer, name)
    raise UnsafeCheckpointError(
        f'Refused getattr({obj!r}, {name!r}) while loading a checkpoint: '
        'only getattr(HistoryBuffer, '
        f'{"|".join(_HISTORY_BUFFER_METHODS)}) is allowed.')


def _numpy_multiarray_names() -> List[str]:
    """Module paths under which numpy's ``_reconstruct``/``scalar`` appear.

    numpy >= 2 pickles them as ``numpy._core.multiarray``; checkpoints written
    with numpy 1.x say ``numpy.core.multiarray``. Both must load.
    """
    return ['numpy._core.multiarray', 'numpy.core.multiarray']


def _numpy_dtype_classes() -> List[type]:
    """All concrete numpy dtype classes (``type(np.dtype('f4'))`` etc.).

    The unpickler only calls ``__setstate__`` on objects whose *type* is
    allow-listed, and the type of ``np.dtype('f4')`` is
    ``numpy.dtypes.Float32DType`` (numpy >= 1.25), not ``np.dtype``.
    """
    classes = set()
    for scalar_type in set(np.sctypeDict.values()):
        try:
            classes.add(type(np.dtype(scalar_type)))
        except TypeError:  # pragma: no cover - exotic scalar types
            continue
    return sorted(classes, key=lambda c: c.__name__)


def mmengine_safe_globals() -> List[SafeGlobal]:
    """The exact allow-list for mmengine/mmpose checkpoints.

    On top of torch's defaults (tensors, storages, builtin containers,
    ``OrderedDict``): ``HistoryBuffer``; ``np.ndarray``, ``np.dtype`` and the
    concrete dtype classes; ``_reconstruct``/``scalar`` from numpy's
    ``multiarray`` under its numpy 2 and numpy 1 names; and
    ``builtins.getattr`` mapped to :func:`_history_buffer_getattr`.

    Returns:
        list: entries accepted by :func:`torch.serialization.safe_globals`:
        callables/classes, or ``(callable, 'pickled.full.name')`` tuples.
    """
    from mmengine.logging import HistoryBuffer

    # numpy >= 2 keeps the implementation in numpy._core; importing
    # numpy.core there only emits a DeprecationWarning.
    multiarray = getattr(np, '_core', None)
    multiarray = (multiarray.multiarray
                  if multiarray is not None else np.core.multiarray)
    safe: List[SafeGlobal] = [HistoryBuffer, np.ndarray, np.dtype]
    for module_name in _numpy_multiarray_names():
        safe.append((multiarray._reconstruct, f'{module_name}._reconstruct'))
        safe.append((multiarray.scalar, f'{module_name}.scalar'))
    safe.extend(_numpy_dtype_classes())
    # ``builtins.getattr`` is pickled (protocol 2) as ``__builtin__.getattr``;
    # map both spellings to the restricted version, never to getattr itself.
    safe.append((_history_buffer_getattr, '__builtin__.getattr'))
    safe.append((_history_buffer_getattr, 'builtins.getattr'))
    return safe


_GLOBAL_RE = re.compile(r'GLOBAL\s+(\S+)')
_OWN_RE = re.compile(r'Refused (getattr\(.*?\)) while loading')
_REDUCE_RE = re.compile(r'unrecognized function (.+?)(?: which|$)', re.M)
_CLASS_RE = re.compile(r'but got (<class .+?>)')


def _refused_global(message: str) -> str:
    """Extract what the restricted unpickler refused from torch's message."""
    match = _OWN_RE.search(message)
    if match:
        return match.group(1)
    match = _GLOBAL_RE.search(message)
    if match:
        return f'the global {match.group(1)}'
    for regex in (_REDUCE_RE, _CLASS_RE):
        match = regex.search(message)
        if match:
            return match.group(1)
    detail = message.split('WeightsUnpickler error:', 1)[-1].strip()
    return detail.splitlines()[0] if detail else 'a disallowed object'


@contextlib.contextmanager
def _allow_listed() -> Iterator[None]:
    """Temporarily add :func:`mmengine_safe_globals` to torch's allow-list.

    Only the entries that are not already allow-listed are added and later
    removed, so globals a user registered with
    :func:`torch.serialization.add_safe_globals` stay in place.
    """
    present = set(torch.serialization.get_safe_globals())
    missing = [g for g in mmengine_safe_globals() if g not in present]
    with torch.serialization.safe_globals(missing):
        yield


def _describe_source(f: FileLike) -> str:
    if isinstance(f, (str, os.PathLike)):
        return repr(osp.expanduser(str(f)))
    return 'file object ' + repr(getattr(f, 'name', f))


def safe_torch_load(f: FileLike,
                    map_location: MapLocation = None,
                    source: Optional[str] = None) -> Any:
    """``torch.load(f, weights_only=True)`` with the mmengine allow-list.

    Args:
        f (str | PathLike | file-like): The checkpoint.
        map_location: Same as :func:`torch.load`.
        source (str, optional): How to name the checkpoint in errors
            (e.g. its URL). Defaults to the path / file name.

    Returns:
        Any: The unpickled object (usually a dict).

    Raises:
        UnsafeCheckpointError: The file refers to a global (class, function)
            outside the allow-list. Nothing was executed.
    """
    try:
        with _allow_listed():
            return torch.load(f, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        if isinstance(err, UnsafeCheckpointError):
            raise
        where = source if source is not None else _describe_source(f)
        raise UnsafeCheckpointError(
            f'Refused to load checkpoint {where}: it refers to '
            f'{_refused_global(str(err))}, which is not on interwild_mm\'s '
            'allow-list for checkpoints (torch tensors, mmengine '
            'HistoryBuffer, numpy arrays/scalars/dtypes). Nothing from the '
            'file was executed. If you trust the file and the type is plain '
            'data, allow-list it with torch.serialization.add_safe_globals('
            '[...]) before loading; otherwise re-save the checkpoint with '
            'only tensors and builtin containers. interwild_mm never loads '
            'with weights_only=False.') from err


def load_from_local_safe(filename: str,
                         map_location: MapLocation = None) -> Any:
    """mmengine ``CheckpointLoader`` backend for local paths (prefix '').

    Same contract as ``mmengine.runner.checkpoint.load_from_local`` but loads
    with :func:`safe_torch_load`.

    Raises:
        FileNotFoundError: ``filename`` is not a file.
        UnsafeCheckpointError: See :func:`safe_torch_load`.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return safe_torch_load(filename, map_location=map_location)


def load_from_http_safe(filename: str,
                        map_location: MapLocation = None,
                        model_dir: Optional[str] = None,
                        progress: bool = False) -> Any:
    """mmengine ``CheckpointLoader`` backend for ``http://`` / ``https://``.

    Downloads once into ``model_dir`` (default ``$TORCH_HOME/hub/checkpoints``)
    on local rank 0, then loads with the allow-list. mmengine's own HTTP
    loader uses ``torch.hub.load_state_dict_from_url`` with its default
    ``weights_only=False``; this one never does.

    Raises:
        UnsafeCheckpointError: See :func:`safe_torch_load`.
    """
    from mmengine.dist import get_dist_info

    def _load() -> Any:
        try:
            with _allow_listed():
                return torch.hub.load_state_dict_from_url(
                    filename,
                    model_dir=model_dir,
                    map_location=map_location,
                    progress=progress,
                    weights_only=True)
        except pickle.UnpicklingError as err:
            if isinstance(err, UnsafeCheckpointError):
                raise
            # Re-run on the cached download to get the uniform message.
            cached = osp.join(
                model_dir or osp.join(torch.hub.get_dir(), 'checkpoints'),
                osp.basename(filename.split('?')[0]))
            if osp.isfile(cached):
                return safe_torch_load(cached, map_location, source=filename)
            raise

    rank, world_size = get_dist_info()
    if rank == 0:
        checkpoint = _load()
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            checkpoint = _load()
    return checkpoint


#: mmengine ``CheckpointLoader`` prefixes served by the local / HTTP loaders.
_LOCAL_PREFIX = ''
_HTTP_PREFIXES = ('http://', 'https://')


def enable_safe_checkpoint_loading() -> None:
    """Make mmengine load checkpoints safely (the explicit opt-in step).

    Registers (``force=True``) in :class:`mmengine.runner.CheckpointLoader`:
    :func:`load_from_local_safe` for local paths, :func:`load_from_http_safe`
    for ``http://``/``https://`` and
    :func:`interwild_mm.engine.pretrained.load_torchvision_checkpoint` for
    ``torchvision://``/``modelzoo://`` (safe HTTP download, clear offline
    message). This covers ``Runner.load_checkpoint``, ``Runner.resume``
    (both go through ``_load_checkpoint`` -> ``CheckpointLoader``),
    ``mmengine.runner.load_checkpoint`` and
    ``init_cfg=dict(type='Pretrained')``. It also rebinds
    ``mmengine.runner.checkpoint.load_from_http``, which the
    ``open-mmlab://`` and ``mmcls://`` loaders call directly.

    Process-wide and idempotent. Called by the tools before they build a
    Runner; configs switch it on by listing
    ``interwild_mm.utils.safe_loading`` in ``custom_imports``.
    """
    from mmengine.runner import checkpoint as mm_ckpt

    from interwild_mm.engine.pretrained import register_torchvision_loader
    mm_ckpt.CheckpointLoader.register_scheme(
        prefixes=_LOCAL_PREFIX, loader=load_from_local_safe, force=True)
    mm_ckpt.CheckpointLoader.register_scheme(
        prefixes=_HTTP_PREFIXES, loader=load_from_http_safe, force=True)
    mm_ckpt.load_from_http = load_from_http_safe
    register_torchvision_loader()


def safe_checkpoint_loading_enabled() -> bool:
    """Whether :func:`enable_safe_checkpoint_loading` is in effect (all of
    its loaders are the ones mmengine uses now)."""
    from mmengine.runner import checkpoint as mm_ckpt

    from interwild_mm.engine.pretrained import (PREFIXES,
                                                load_torchvision_checkpoint)
    expected = {_LOCAL_PREFIX: load_from_local_safe}
    expected.update({p: load_from_http_safe for p in _HTTP_PREFIXES})
    expected.update({p: load_torchvision_checkpoint for p in PREFIXES})
    schemes = mm_ckpt.CheckpointLoader._schemes
    return (all(schemes.get(p) is f for p, f in expected.items())
            and mm_ckpt.load_from_http is load_from_http_safe)


def patch_mmengine_checkpoint_loading() -> None:
    """Same as :func:`enable_safe_checkpoint_loading` (the older name)."""
    enable_safe_checkpoint_loading()
