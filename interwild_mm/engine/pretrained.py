# Copyright (c) interwild_mm contributors.
"""ImageNet (torchvision) weights: loading with a clear message offline.

The InterWild backbones start from torchvision's ImageNet weights
(``init_cfg=dict(type='Pretrained', checkpoint='torchvision://...')``,
``docs/official_conventions.md §0``). mmengine downloads them once into the
torch hub cache; without internet that download ends in a bare ``URLError``
deep inside ``Runner.train``. :func:`load_torchvision_checkpoint` replaces
mmengine's ``torchvision://`` (and ``modelzoo://``) loader: it resolves the
name through mmengine's table of torchvision URLs (so
``torchvision://resnet50.imagenet1k_v2`` names the V2 weights), loads through
the project's safe HTTP loader (``weights_only=True``, see
``interwild_mm/utils/checkpoint.py``) and turns a failed download into a
:class:`PretrainedWeightsError` that says what failed, where the file is
expected and how to pre-fetch it or switch pretrained weights off
(``--cfg-options pretrained=False``).

The loader is registered by the explicit safe-loading step
(:func:`interwild_mm.utils.enable_safe_checkpoint_loading`, run by the tools
and by configs through ``custom_imports``), never on import.
"""
import http.client
import os.path as osp
from typing import Any, Optional
from urllib.parse import urlparse

__all__ = [
    'PretrainedWeightsError', 'resolve_torchvision_url', 'hub_cache_file',
    'load_torchvision_checkpoint', 'register_torchvision_loader'
]

PREFIXES = ('torchvision://', 'modelzoo://')


class PretrainedWeightsError(RuntimeError):
    """The ImageNet weights of a backbone could not be obtained."""


def resolve_torchvision_url(name: str) -> str:
    """URL of torchvision weights named like mmengine's table.

    Args:
        name (str): e.g. ``'resnet18'`` (torchvision's V1 weights),
            ``'resnet50.imagenet1k_v2'``; a ``torchvision://`` prefix is
            accepted.

    Returns:
        str: the download URL.

    Raises:
        KeyError: unknown name (the message lists close names).
    """
    from mmengine.runner.checkpoint import get_torchvision_models
    for prefix in PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix):]
    urls = get_torchvision_models()
    if name not in urls:
        import difflib
        close = difflib.get_close_matches(name, list(urls), n=4)
        raise KeyError(f'torchvision://{name} names no torchvision weights '
                       f'(close: {close}).')
    return urls[name]


def hub_cache_file(url: str, model_dir: Optional[str] = None) -> str:
    """Where ``torch.hub`` keeps (and first looks for) the file of ``url``."""
    import torch
    folder = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    return osp.join(folder, osp.basename(urlparse(url).path))


def _offline_message(filename: str, url: str, err: BaseException) -> str:
    cached = hub_cache_file(url)
    return (
        f'Could not download the ImageNet weights {filename} ({url}): '
        f'{type(err).__name__}: {err}.\n'
        'The backbones start from torchvision ImageNet weights (the '
        'official initialisation), downloaded once into the torch hub '
        'cache. Either\n'
        f'  * put the file at {cached}: on a machine with internet access '
        'run\n'
        f'      python -c "import torch; torch.hub.load_state_dict_from_url('
        f"'{url}')\"\n"
        '    and copy ~/.cache/torch/hub/checkpoints/'
        f'{osp.basename(cached)} there (or point $TORCH_HOME to a folder '
        'whose hub/checkpoints/ holds it), or\n'
        '  * start the backbones from random weights: '
        '--cfg-options pretrained=False (all backbones; or set '
        '`pretrained = False` in the config).')


def load_torchvision_checkpoint(filename: str,
                                map_location: Any = None) -> Any:
    """mmengine ``CheckpointLoader`` backend for ``torchvision://NAME``.

    Same result as mmengine's ``load_from_torchvision``: the checkpoint
    (a state dict), read from the torch hub cache or downloaded into it.

    Raises:
        PretrainedWeightsError: the file is not cached and cannot be
            downloaded (no network, proxy, HTTP error).
        KeyError: ``NAME`` names no torchvision weights.
    """
    from interwild_mm.utils.checkpoint import load_from_http_safe
    url = resolve_torchvision_url(filename)
    try:
        return load_from_http_safe(url, map_location=map_location)
    except (OSError, http.client.HTTPException) as err:  # URLError: OSError
        raise PretrainedWeightsError(_offline_message(filename, url,
                                                      err)) from err


def register_torchvision_loader() -> None:
    """Register :func:`load_torchvision_checkpoint` for ``torchvision://``
    and ``modelzoo://`` in mmengine's ``CheckpointLoader`` (idempotent).

    Part of :func:`interwild_mm.utils.enable_safe_checkpoint_loading`; call
    that instead (it also makes the download itself safe).
    """
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(
        prefixes=PREFIXES, loader=load_torchvision_checkpoint, force=True)
