# Copyright (c) interwild_mm contributors.
"""Convert an official InterWild ``snapshot_<epoch>.pth`` to mmengine format.

Usage::

    python tools/convert_official_checkpoint.py SRC DST \
        [--config configs/interwild_ih26m_coco.py] [--cfg-options KEY=VALUE]

Every key of the snapshot is mapped and checked against the configured model
(names and shapes); anything unmapped, missing or mis-shaped is refused with
the list of offending keys. Dropped by name: the MANO-layer keys and the six
stem keys of TransNet's ResNet-18, which the official forward never uses.
The output ``{'meta': ..., 'state_dict': ...}`` loads with ``strict=True``.
``--cfg-options`` changes the config's model the same way as in
``tools/train.py`` (e.g. ``model.trans_net.hm_shape=[32,32,32]``).
The snapshot is read with ``weights_only=True`` and the project's exact
allow-list (``interwild_mm/utils/checkpoint.py``, switched on by the tool): a
snapshot that carries code is refused before anything in it runs.
"""
import argparse
import sys
from pathlib import Path
from typing import Any, Dict, Optional

import torch

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def convert_file(src: str,
                 dst: str,
                 config: str,
                 cfg_options: Optional[Dict[str, Any]] = None) -> dict:
    """Convert ``src`` to ``dst`` for the model of ``config``.

    Args:
        src (str): official ``snapshot_<epoch>.pth``.
        dst (str): output mmengine checkpoint.
        config (str): config whose model the checkpoint must fit.
        cfg_options (dict, optional): ``--cfg-options`` overrides.

    Returns:
        dict: the ``meta`` written into ``dst``.
    """
    from mmengine.registry import init_default_scope

    import interwild_mm.models  # noqa: F401  (registers the modules)
    from interwild_mm.models.utils.official_ckpt import (
        OFFICIAL_DROPPED_PREFIXES, OfficialCheckpointError,
        convert_official_state_dict, model_weight_shapes)
    from interwild_mm.utils.checkpoint import safe_torch_load
    from interwild_mm.utils.config import load_config

    ckpt = safe_torch_load(src, map_location='cpu')
    if not isinstance(ckpt, dict) or 'network' not in ckpt:
        raise OfficialCheckpointError(
            f'{src} is not an official InterWild snapshot: expected a dict '
            "with a 'network' entry (keys "
            f"{sorted(ckpt) if isinstance(ckpt, dict) else type(ckpt)}).")
    cfg = load_config(config, cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    shapes = model_weight_shapes(cfg.model)
    state_dict, dropped = convert_official_state_dict(ckpt['network'], shapes)
    mano = [k for k in dropped
            if k.replace('module.', '', 1).startswith(
                OFFICIAL_DROPPED_PREFIXES)]
    meta = dict(
        source=str(src),
        source_format='InterWild official snapshot',
        epoch=ckpt.get('epoch'),
        config=str(config),
        num_keys=len(state_dict),
        dropped_mano_keys=len(mano),
        dropped_unused_keys=len(dropped) - len(mano))
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    torch.save(dict(meta=meta, state_dict=state_dict), dst)
    return meta


def main() -> None:
    from interwild_mm.utils.checkpoint import (UnsafeCheckpointError,
                                               enable_safe_checkpoint_loading)
    from interwild_mm.utils.config import add_cfg_options_argument
    enable_safe_checkpoint_loading()
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='official snapshot_<epoch>.pth')
    parser.add_argument('dst', help='output mmengine checkpoint')
    parser.add_argument(
        '--config',
        default=str(REPO / 'configs' / 'interwild_ih26m_coco.py'),
        help='config whose model the checkpoint must fit')
    add_cfg_options_argument(parser)
    args = parser.parse_args()
    from interwild_mm.models.utils.official_ckpt import \
        OfficialCheckpointError
    from interwild_mm.utils.config import ConfigOverrideError
    try:
        meta = convert_file(args.src, args.dst, args.config,
                            args.cfg_options)
    except (OfficialCheckpointError, UnsafeCheckpointError) as err:
        sys.exit(f'convert_official_checkpoint: refused {args.src}:\n{err}')
    except ConfigOverrideError as err:
        sys.exit(f'convert_official_checkpoint: {err}')
    print(f"Wrote {args.dst}: {meta['num_keys']} tensors from epoch "
          f"{meta['epoch']} (dropped: {meta['dropped_mano_keys']} MANO keys, "
          f"{meta['dropped_unused_keys']} unused TransNet stem keys).")


if __name__ == '__main__':
    main()
