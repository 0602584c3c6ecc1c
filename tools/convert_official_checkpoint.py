# Copyright (c) interwild_mm contributors.
"""Convert an official InterWild ``snapshot_<epoch>.pth`` to mmengine format.

Usage::

    python tools/convert_official_checkpoint.py SRC DST \
        [--config configs/interwild_ih26m_coco.py]

Every key of the snapshot is mapped (MANO-layer keys are dropped) and checked
against the configured model (names and shapes); anything unmapped, missing
or mis-shaped is refused with the list of offending keys. The output
``{'meta': ..., 'state_dict': ...}`` loads with ``strict=True``.
"""
import argparse
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def convert_file(src: str, dst: str, config: str) -> dict:
    """Convert ``src`` to ``dst`` for the model of ``config``.

    Returns:
        dict: the ``meta`` written into ``dst``.
    """
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import interwild_mm.models  # noqa: F401  (registers the modules)
    from interwild_mm.models.utils.official_ckpt import (
        OfficialCheckpointError, convert_official_state_dict,
        model_weight_shapes)

    ckpt = torch.load(src, map_location='cpu', weights_only=True)
    if not isinstance(ckpt, dict) or 'network' not in ckpt:
        raise OfficialCheckpointError(
            f'{src} is not an official InterWild snapshot: expected a dict '
            "with a 'network' entry (keys "
            f"{sorted(ckpt) if isinstance(ckpt, dict) else type(ckpt)}).")
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    shapes = model_weight_shapes(cfg.model)
    state_dict, dropped = convert_official_state_dict(ckpt['network'], shapes)
    meta = dict(
        source=str(src),
        source_format='InterWild official snapshot',
        epoch=ckpt.get('epoch'),
        config=str(config),
        num_keys=len(state_dict),
        dropped_mano_keys=len(dropped))
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    torch.save(dict(meta=meta, state_dict=state_dict), dst)
    return meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='official snapshot_<epoch>.pth')
    parser.add_argument('dst', help='output mmengine checkpoint')
    parser.add_argument(
        '--config',
        default=str(REPO / 'configs' / 'interwild_ih26m_coco.py'),
        help='config whose model the checkpoint must fit')
    args = parser.parse_args()
    from interwild_mm.models.utils.official_ckpt import \
        OfficialCheckpointError
    try:
        meta = convert_file(args.src, args.dst, args.config)
    except OfficialCheckpointError as err:
        sys.exit(f'convert_official_checkpoint: refused {args.src}:\n{err}')
    print(f"Wrote {args.dst}: {meta['num_keys']} tensors from epoch "
          f"{meta['epoch']} ({meta['dropped_mano_keys']} MANO keys dropped).")


if __name__ == '__main__':
    main()
